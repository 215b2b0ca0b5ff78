"""Caller ID: one key per phone number, however it was written, for an indexed lookup.

When a call comes in, the softphone or PBX hands over a number in whatever shape the
carrier used: ``+8613800138000``, ``013800138000``, ``010-12345678`` or just the local
``12345678`` of a landline. The CRM wrote the same number down as "138 0013 8000",
"(010) 1234 5678 转 801" or "+86 10 1234-5678". Both sides go through
:func:`normalize_phone` (Google's libphonenumber rules via ``phonenumbers``), which
yields a :class:`PhoneNumberKey`; its :attr:`~PhoneNumberKey.lookup_key` is stored in an
indexed column.

The lookup key is the number's digits **reversed** (``+86 10 12345678`` ->
``876543210168``). Reversing turns "ends with these digits"
into "starts with these digits", which a B-tree index answers: an incoming local
``12345678`` finds the stored ``010-12345678`` with one prefix scan, and an incoming
full number finds a stored local number by a few equality probes. Extensions
(``转 801``, ``ext. 801``, a trailing ``-801``) are kept apart: callers ring the main
number, so the key ignores them.
"""

from __future__ import annotations

import re
import unicodedata

import attrs
import phonenumbers

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import FALSE, Expr, F, or_

__all__ = [
    "MIN_TAIL",
    "PHONE_DIGITS_MAX",
    "PHONE_MAX",
    "PhoneNumberKey",
    "caller_id_query",
    "check_phone",
    "normalize_phone",
    "phone_key",
]

#: The fewest trailing digits an incoming number must have to be matched by its tail:
#: Chinese local landline numbers have seven or eight digits.
MIN_TAIL = 7

#: The longest phone field as written (number, separators and an extension).
PHONE_MAX = 40
#: The most digits a number may have: 15 for E.164 plus an international prefix (00).
PHONE_DIGITS_MAX = 17
_MIN_DIGITS = 3

_SEPARATORS = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"(?:\+?86|0086|0)?(1[3-9]\d{9})")
_EXTENSION_WORDS = re.compile(r"\s*(?:转|分机|ext\.?|extension|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_DASH_EXTENSION = re.compile(r"^(.*\d)\s*-\s*(\d{1,5})$")


@attrs.frozen
class PhoneNumberKey:
    """A phone number reduced to what identifies it.

    Attributes:
        e164: ``+8613800138000`` for a number valid in its region; ``None`` when the
            number is incomplete (a local number without area code, a short code).
        digits: the national digits as written, without prefixes (``13800138000``,
            ``1012345678``, ``12345678``).
        extension: the extension, if one was written.
    """

    e164: str | None
    digits: str
    extension: str | None = None

    @property
    def lookup_key(self) -> str:
        """The reversed digits stored in the indexed column (see the module docs)."""
        return (self.e164[1:] if self.e164 else self.digits)[::-1]


def _split_extension(text: str) -> tuple[str, str | None]:
    match = _EXTENSION_WORDS.search(text)
    if match:
        return text[: match.start()], match.group(1)
    return text, None


def normalize_phone(raw: str, region: str = "CN") -> PhoneNumberKey | None:
    """Parse a phone number written any usual way.

    Args:
        raw: the number as written or received: spaces, dashes, brackets, full-width
            digits, ``+86`` / ``0086`` / ``86`` / trunk ``0`` prefixes and extensions
            (``转``, ``分机``, ``ext``, ``x``, ``#``, a trailing ``-801`` after a complete
            landline) are all understood.
        region: the ISO country whose conventions apply to numbers without ``+``.

    Returns:
        The key, or ``None`` when the text holds fewer than three digits.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text, extension = _split_extension(text)
    compact = _SEPARATORS.sub("", text)
    if region == "CN":
        # Mobile numbers are most of a Chinese CRM's phones; skip the full parser for them.
        mobile = _CN_MOBILE.fullmatch(compact)
        if mobile:
            return PhoneNumberKey("+86" + mobile.group(1), mobile.group(1), extension)
    digits = re.sub(r"\D", "", compact)
    if len(digits) < 3:
        return None
    parsed = _parse(text, region)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        dashed = _DASH_EXTENSION.match(text) if extension is None else None
        retry = _parse(dashed.group(1), region) if dashed else None
        if dashed and retry is not None and phonenumbers.is_valid_number(retry):
            parsed, extension = retry, dashed.group(2)
        else:
            national = str(parsed.national_number) if parsed is not None else digits
            return PhoneNumberKey(None, national, extension)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumberKey(e164, str(parsed.national_number), extension or parsed.extension)


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def check_phone(raw: str, *, entity: str, field: str) -> None:
    """Refuse text that is no phone number; a number is otherwise kept as written.

    A phone field holds what the user wrote, in any usual layout (see
    :func:`normalize_phone`), and is not checked against a numbering plan: a local
    landline without its area code or an extension line is a fine thing to write
    down. What is refused is text that cannot be a number at all: letters (other than
    an extension word such as ``转`` or ``ext``), symbols, fewer than three or more
    than :data:`PHONE_DIGITS_MAX` digits, or more than :data:`PHONE_MAX` characters.

    Raises:
        ValidationError: naming ``entity`` and ``field``.
    """
    if not isinstance(raw, str):
        raise invalid(entity, field, N_("must be text"))
    if len(raw) <= PHONE_MAX:
        text = unicodedata.normalize("NFKC", raw).strip()
        number, _extension = _split_extension(text)
        compact = _SEPARATORS.sub("", number)
        digits = compact[1:] if compact.startswith("+") else compact
        if digits.isascii() and digits.isdigit() and _MIN_DIGITS <= len(digits) <= PHONE_DIGITS_MAX:
            return
    shown = raw if len(raw) <= PHONE_MAX else raw[:PHONE_MAX] + "…"
    raise invalid(entity, field, N_("{number} is not a phone number"), number=shown)


def phone_key(raw: str | None, region: str = "CN") -> str | None:
    """The lookup key to store for a phone field, or ``None`` for no usable number."""
    if not raw:
        return None
    key = normalize_phone(raw, region)
    return None if key is None else key.lookup_key


def caller_id_query(raw: str, *, field: str = "phone_key", region: str = "CN") -> Expr:
    """The filter that finds records whose stored phone matches an incoming number.

    A complete number matches the same number stored in any format, and a stored local
    number (no area code) with the same last seven or more digits. An incomplete number
    (``12345678`` from a PBX) matches every stored number ending with it, provided it
    has at least :data:`MIN_TAIL` digits.

    Args:
        raw: the incoming number.
        field: the stored lookup-key field (``phone_key`` on customers).
        region: the region for numbers without ``+``.

    Returns:
        A filter of indexed equality / prefix conditions; ``FALSE`` when nothing can match.
    """
    key = normalize_phone(raw, region)
    if key is None:
        return FALSE
    lookup = key.lookup_key
    if key.e164 is None:
        return F(field).startswith(lookup) if len(lookup) >= MIN_TAIL else F(field).eq(lookup)
    national = key.digits[::-1]
    tails = {national[:n] for n in range(MIN_TAIL, len(national) + 1)}
    return or_(F(field).eq(lookup), F(field).is_in(sorted(tails)))
