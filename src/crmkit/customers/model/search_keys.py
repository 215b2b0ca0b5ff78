"""Finding customers by pinyin: the search keys and the A–Z letter index stored with a name.

Chinese sales staff look a customer up by typing pinyin: ``bjhw``, ``beijing``,
``huawei``, ``北京`` or a mix such as ``bjhuawei`` all find "北京华为科技有限公司".
To keep that an indexed query on a million customers, the keys are computed when a
customer is written and stored in indexed columns; a search is then a handful of
``startswith`` conditions on them (code-point ranges in SQL, which B-tree indexes
answer).

Keys (:class:`SearchKeys`), all lower case ASCII except ``name_key``:

- ``name_key``: the normalised name (see :func:`crmkit.customers.model.names.normalize_name`);
- ``pinyin_full`` / ``pinyin_initials``: the key's pinyin, ``beijinghuaweikeji`` / ``bjhwkj``;
- ``short_full`` / ``short_initials``: the same for the name behind its region
  (``huaweikeji`` / ``hwkj``), so ``huawei`` finds "北京华为科技"; ``None`` when the name
  does not open with a region;
- ``letter``: the A–Z index letter, or ``#`` for names opening with a digit or symbol.

Latin words and digits inside a name are kept whole in both pinyin keys ("IBM中国" ->
``ibmzhongguo`` / ``ibmzg``).

**Polyphonic characters.** Readings come from pypinyin's phrase dictionary, so 重庆
reads *chongqing*, 银行 *yinhang* and 长沙 *changsha*. Traditional characters are mapped
to simplified ones first, so 華為 and 銀行 read like 华为 and 银行 (pypinyin's phrase
dictionary is simplified). **Surnames** read differently from the same character in a
word: 曾 is *zeng*, 单 *shan*, 解 *xie*, 仇 *qiu*, 区 *ou*, 朴 *piao*, 查 *zha*, 盖 *ge*,
尉迟 *yuchi*. The surname reading is applied to the first character(s) of a **person's**
name only (``person=True``), never to company names, which open with a place or a
word ("解放汽车" reads *jiefang*, as pypinyin's phrase dictionary says). So 曾国藩 files under Z and 单雄信 under S, while 重庆银行
files under C; 乜 reads *nie*, 佴 *nai*, 么 *yao*, 六 *lu*, 不 *fou* at the head of a
person's name (:data:`SURNAME_READINGS`).

**Typing.** Letters are read every way a person may have typed them: each character
spelled out or by its initial, in any mix (``cqca``, ``chongqca``, ``bjhuawei``); the
search side — reading the typed text, the index routes it becomes and the first page
they find — is in :mod:`crmkit.customers.queries` (``search_text``, ``search_routes``,
``search_ranking``).

**Speed.** pypinyin converts about 15,000 names a second; the builder here caches a
character -> reading table and goes to pypinyin's phrase segmentation only for runs of
text that hold a character with several readings, and caches those runs too.
"""

from __future__ import annotations

import functools
import re
from typing import Any, cast

import attrs

from crmkit.customers.model.names import normalize_name, split_region

__all__ = [
    "SURNAME_READINGS",
    "SearchKeys",
    "letter_of",
    "search_keys",
    "to_pinyin",
]

#: Readings of surnames that differ from the character's most common reading, checked
#: against the published surname lists (百家姓 and the surname heteronym lists of
#: dictionaries and pinyin tools): 乜 nie, 佴 nai, 么 yao, 六 lu, 不 fou, 浣 wan ... A few
#: entries equal pypinyin's default reading (沈, 任, 华) and pin it should that change.
#: Compound surnames are matched before single ones; a traditional form (貟) is folded to
#: its simplified one (贠) before the lookup, and kept for keys built from unfolded text.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "单于": ("chan", "yu"),
    "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"),
    "曾": ("zeng",),
    "单": ("shan",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "朴": ("piao",),
    "查": ("zha",),
    "盖": ("ge",),
    "覃": ("qin",),
    "缪": ("miao",),
    "翟": ("zhai",),
    "乐": ("yue",),
    "尉": ("wei",),
    "秘": ("bi",),
    "种": ("chong",),
    "召": ("shao",),
    "员": ("yun",),
    "折": ("she",),
    "宿": ("su",),
    "莘": ("shen",),
    "藏": ("zang",),
    "祭": ("zhai",),
    "沈": ("shen",),
    "句": ("gou",),
    "隗": ("wei",),
    "黑": ("he",),
    "薄": ("bo",),
    "柏": ("bai",),
    "重": ("chong",),
    "长": ("chang",),
    "都": ("du",),
    "阚": ("kan",),
    "繁": ("po",),
    "臧": ("zang",),
    "任": ("ren",),
    "华": ("hua",),
    "纪": ("ji",),
    "乜": ("nie",),
    "佴": ("nai",),
    "么": ("yao",),
    "六": ("lu",),
    "卜": ("bu",),
    "粘": ("nian",),
    "扎": ("za",),
    "不": ("fou",),
    "浣": ("wan",),
    "贠": ("yun",),
    "貟": ("yun",),
    "蔚": ("yu",),
    "宓": ("fu",),
    "能": ("nai",),
    "炅": ("gui",),
    "洗": ("xian",),
    "便": ("pian",),
    "番": ("pan",),
    "颉": ("xie",),
    "角": ("jue",),
    "蕃": ("pi",),
}
_COMPOUND_SURNAMES = tuple(s for s in SURNAME_READINGS if len(s) > 1)


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0x20000 <= code <= 0x2FA1F or 0xF900 <= code <= 0xFAFF


@functools.cache
def _tables() -> tuple[dict[str, str], frozenset[str], frozenset[str]]:
    """Char -> default reading, the characters with several readings, and all syllables."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    default: dict[str, str] = {}
    several: set[str] = set()
    syllables: set[str] = set()
    for code, readings in pinyin_dict.items():
        plain = [to_normal(r) for r in readings.split(",")]
        default[chr(code)] = plain[0]
        syllables.update(plain)
        if len(set(plain)) > 1:
            several.add(chr(code))
    return default, frozenset(several), frozenset(s for s in syllables if s.isalpha())


@functools.lru_cache(maxsize=200_000)
def _phrase_readings(window: str) -> tuple[str, ...]:
    # pypinyin's phrase segmentation decides a polyphonic character from its neighbours
    # (银行 -> hang, 行业 -> hang, 发行 -> xing). Windows repeat a lot across names.
    from pypinyin import Style, lazy_pinyin

    # One item per character, also for characters pypinyin has no reading for.
    keep_each: Any = list
    return tuple(lazy_pinyin(window, style=Style.NORMAL, errors=keep_each))


_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")

# A unit of pinyin: its text and whether it is the reading of a Han character (whose
# initial is its first letter) or a Latin word / digit run kept whole.
_Unit = tuple[str, bool]

# Context each side of a polyphonic character handed to pypinyin. Company-name phrases
# that decide a reading (银行, 重庆, 长沙, 发行, 音乐) are two or three characters long.
_CONTEXT = 2


@functools.cache
def _triggers() -> dict[str, frozenset[str]]:
    """For each polyphonic character, the two-character neighbourhoods that can change it.

    A character reads differently from its default only inside a phrase of pypinyin's
    phrase dictionary that gives it another reading (银行 for 行). Any such phrase holds
    the character together with its left or right neighbour, so checking the two
    two-character windows around it against this table tells when pypinyin must decide.
    """
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.phrases_dict import phrases_dict

    default, several, _ = _tables()
    found: dict[str, set[str]] = {}
    for phrase, readings in phrases_dict.items():
        for j, ch in enumerate(phrase):
            if ch not in several or j >= len(readings):
                continue
            if to_normal(readings[j][0]) != default.get(ch):
                bucket = found.setdefault(ch, set())
                if j > 0:
                    bucket.add(phrase[j - 1 : j + 1])
                if j + 1 < len(phrase):
                    bucket.add(phrase[j : j + 2])
    return {ch: frozenset(pairs) for ch, pairs in found.items()}


def _han_readings(run: str) -> list[str]:
    default, several, _ = _tables()
    readings = [default.get(ch, ch) for ch in run]
    if not several.isdisjoint(run):
        _fix_polyphonic(run, readings)
    return readings


def _fix_polyphonic(run: str, readings: list[str]) -> None:
    triggers = _triggers()
    for i, ch in enumerate(run):
        pairs = triggers.get(ch)
        if pairs and (run[max(0, i - 1) : i + 1] in pairs or run[i : i + 2] in pairs):
            low = max(0, i - _CONTEXT)
            readings[i] = _phrase_readings(run[low : i + _CONTEXT + 1])[i - low]


def _units(text: str) -> list[_Unit]:
    """Pinyin units of folded text: one per Han character, one per Latin/digit run."""
    units: list[_Unit] = []
    for run in _HAN_RUN.findall(text):
        if _is_han(run[0]):
            units.extend([(reading, True) for reading in _han_readings(run)])
        else:
            units.append((run, False))
    return units


def to_pinyin(text: str, *, person: bool = False) -> list[str]:
    """The toneless pinyin of a (folded) text, one unit per Han character.

    Args:
        text: text already folded with :func:`~crmkit.customers.model.names.fold_text` or
            :func:`~crmkit.customers.model.names.normalize_name`.
        person: read the opening character(s) as a surname (曾 -> zeng).

    Returns:
        Units such as ``["bei", "jing", "hua", "wei"]``; Latin words and digit runs are
        single units.
    """
    return (
        [unit for unit, _ in _person_units(text) if unit]
        if person
        else [unit for unit, _ in _units(text)]
    )


def _person_units(text: str) -> list[_Unit]:
    for surname in (*_COMPOUND_SURNAMES, text[:1]):
        if surname and text.startswith(surname) and surname in SURNAME_READINGS:
            rest = text[len(surname) :]
            return [(r, True) for r in SURNAME_READINGS[surname]] + (_units(rest) if rest else [])
    return _units(text)


def letter_of(pinyin_full: str) -> str:
    """The A–Z index letter of a name from its full pinyin; ``#`` for anything else."""
    first = pinyin_full[:1]
    return first.upper() if "a" <= first <= "z" else "#"


@attrs.frozen
class SearchKeys:
    """The stored keys a customer is found by (see the module docs)."""

    name_key: str
    pinyin_full: str
    pinyin_initials: str
    short_full: str | None
    short_initials: str | None
    letter: str


def _join(units: list[_Unit]) -> tuple[str, str]:
    full = "".join([unit for unit, _ in units])
    initials = "".join([unit[:1] if han else unit for unit, han in units])
    return full, initials


@functools.lru_cache(maxsize=65536)
def search_keys(name: str, *, person: bool = False) -> SearchKeys:
    """Compute the search keys of a customer name.

    Args:
        name: the name as entered (any width, simplified or traditional).
        person: the name is a person's (surname readings apply, no region split).

    Returns:
        The keys to store.
    """
    key = normalize_name(name)
    if person:
        full, initials = _join(_person_units(key))
        return SearchKeys(key, full, initials, None, None, letter_of(full))
    default, several, _ = _tables()
    region, _rest = split_region(key)
    short_full = short_initials = None
    found = list(map(default.get, key))
    if None in found:  # Latin letters, digits or rare characters: the general path
        units = _units(key)
        full, initials = _join(units)
        if region:
            # Regions are Han characters, one unit each; the rest keeps the readings it
            # has in the whole name.
            short_full, short_initials = _join(units[len(region) :])
        return SearchKeys(key, full, initials, short_full, short_initials, letter_of(full))
    # Only Han characters, by far the most common case: one reading per character, so
    # the keys are plain joins (this path is the key builder's hot loop).
    readings = cast(list[str], found)
    if not several.isdisjoint(key):
        _fix_polyphonic(key, readings)
    full = "".join(readings)
    # Every reading is a non-empty syllable: zip's first row holds their first letters.
    initials = "".join(next(zip(*readings, strict=False), ()))
    if region:
        short_full = "".join(readings[len(region) :])
        short_initials = initials[len(region) :]
    return SearchKeys(key, full, initials, short_full, short_initials, letter_of(full))
