"""Translation of user-visible strings through babel/gettext catalogs.

The host chooses the locale per call (``translate(msg, locale="zh_CN")``) or for a
block of code (``with use_locale("zh_TW"): ...``). The choice lives in a
``ContextVar``, so threads and asyncio tasks never see each other's locale and
importing crmkit sets nothing global.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from babel.support import NullTranslations, Translations

__all__ = [
    "DEFAULT_LOCALE",
    "N_",
    "SUPPORTED_LOCALES",
    "current_locale",
    "translate",
    "use_locale",
]

DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "zh_CN", "zh_TW")
_DOMAIN = "crmkit"
_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_current: ContextVar[str] = ContextVar("crmkit_locale", default=DEFAULT_LOCALE)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


def current_locale() -> str:
    """Return the locale chosen for the current context (``en`` unless set)."""
    return _current.get()


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Render crmkit's messages in ``locale`` inside the ``with`` block.

    Args:
        locale: a babel locale name such as ``zh_CN``; ``zh-Hans-CN`` style tags are
            accepted and normalised.

    Yields:
        The normalised locale name.
    """
    token = _current.set(_normalise(locale))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def translate(message: str, locale: str | None = None) -> str:
    """Translate a message id into ``locale`` (or the current context's locale).

    Unknown locales and untranslated ids fall back to the English message id.
    """
    return _catalog(_normalise(locale or _current.get())).ugettext(message)


def _normalise(locale: str) -> str:
    tag = locale.replace("-", "_")
    lowered = tag.lower()
    if lowered.startswith("zh"):
        if any(part in lowered for part in ("_tw", "_hk", "_mo", "hant")):
            return "zh_TW"
        return "zh_CN"
    return tag.split("_")[0] if tag.split("_")[0] == "en" else tag


@functools.cache
def _catalog(locale: str) -> NullTranslations:
    if locale not in SUPPORTED_LOCALES:
        return NullTranslations()
    return Translations.load(str(_LOCALE_DIR), [locale], domain=_DOMAIN)
