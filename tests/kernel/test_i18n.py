"""Every user-visible string is translated in zh_CN, zh_TW and en, and the locale is per context."""

from __future__ import annotations

import re
import string
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_, SUPPORTED_LOCALES, current_locale, translate, use_locale

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from catalogs import LOCALE_DIR, extract, glossary, glossary_slips  # noqa: E402

MESSAGES = sorted({message.id for message in extract() if message.id})


def _po(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "crmkit.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {m.id: m.string for m in catalog if m.id and not m.fuzzy}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_has_a_translation(locale: str) -> None:
    catalog = _po(locale)
    missing = [m for m in MESSAGES if not catalog.get(m)]
    assert missing == [], f"run `make locale-update` and translate these for {locale}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_translations_keep_the_placeholders(locale: str) -> None:
    catalog = _po(locale)
    wrong = {
        m: catalog[m] for m in MESSAGES if catalog.get(m) and _fields(catalog[m]) != _fields(m)
    }
    assert wrong == {}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_shipped_mo_files_match_the_catalogs(locale: str) -> None:
    compiled = Translations.load(str(LOCALE_DIR), [locale], domain="crmkit")
    stale = {m: s for m, s in _po(locale).items() if compiled.ugettext(m) != s}
    assert stale == {}, "run `make locale-compile`"


@pytest.mark.parametrize("locale", ["zh_CN", "zh_TW"])
def test_chinese_catalogs_really_are_chinese(locale: str) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    catalog = _po(locale)
    # Labels such as "CNY" or "URL" may stay as they are; sentences may not.
    sentences = [m for m in MESSAGES if len(m.split()) > 2]
    untranslated = [m for m in sentences if not han.search(catalog.get(m, ""))]
    assert untranslated == []


def test_zh_tw_translations_use_taiwan_terms() -> None:
    # The glossary rules out mainland usage and OpenCC's conversion slips
    # (幣種程式碼 for 幣別代碼); `make locale-update` fails on the same check.
    assert "程式碼" in glossary("zh_TW")
    assert [(msgid, wrong) for msgid, _, wrong, _ in glossary_slips("zh_TW", _po("zh_TW"))] == []


def test_the_glossary_check_catches_a_slip() -> None:
    slips = glossary_slips("zh_TW", {"currency code": "幣種程式碼"})
    assert [(wrong, right) for _, _, wrong, right in slips] == [
        ("程式碼", "代碼"),
        ("幣種", "幣別"),
    ]


def test_an_error_renders_in_the_callers_locale() -> None:
    error = ValidationError(entity="customer", field="name", reason=reason(N_("is required")))
    english = error.message("en")
    assert english == str(error)
    assert error.message("zh_CN") != english
    assert error.message("zh_TW") != english
    with use_locale("zh-Hant-TW"):
        assert error.message() == error.message("zh_TW")


def test_the_locale_belongs_to_the_context_not_the_process() -> None:
    seen: dict[str, str] = {}
    ready = threading.Barrier(2)

    def worker(name: str, locale: str) -> None:
        with use_locale(locale):
            ready.wait(timeout=5)
            seen[name] = current_locale()

    threads = [
        threading.Thread(target=worker, args=(n, loc))
        for n, loc in (("a", "zh_CN"), ("b", "zh_TW"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "zh_CN", "b": "zh_TW"}
    assert current_locale() == "en"


def test_an_unknown_locale_falls_back_to_english() -> None:
    assert translate("is required", "fr_FR") == "is required"
