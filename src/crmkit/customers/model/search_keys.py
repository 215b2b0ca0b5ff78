"""Finding customers by pinyin: search keys, the A–Z letter index and the search filter.

Chinese sales staff look a customer up by typing pinyin: ``bjhw``, ``beijing``,
``huawei``, ``北京`` or a mix such as ``bjhuawei`` all find "北京华为科技有限公司".
To keep that an indexed query on a million customers, the keys are computed when a
customer is written and stored in indexed columns; a search is then a handful of
``startswith`` conditions on them (code-point ranges in SQL, which B-tree indexes
answer).

Keys (:class:`SearchKeys`), all lower case ASCII except ``name_key``:

- ``name_key``: the normalised name (see :func:`crmkit.customers.model.dedup.normalize_name`);
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
spelled out or by its initial, in any mix (``cqca``, ``chongqca``, ``bjhuawei``); see
:func:`search_readings`. The work is bounded: at most :data:`MAX_READINGS` readings of
at most :data:`MAX_SEGMENTED_LETTERS` letters, and a text longer than
:data:`MAX_SEARCH_TEXT` characters is refused.

**Speed.** pypinyin converts about 15,000 names a second; the builder here caches a
character -> reading table and goes to pypinyin's phrase segmentation only for runs of
text that hold a character with several readings, and caches those runs too.
"""

from __future__ import annotations

import functools
import heapq
import operator
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, cast

import attrs

from crmkit.customers.model.dedup import fold_text, normalize_name, split_region
from crmkit.customers.model.phones import caller_id_query
from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import FALSE, TRUE, And, Expr, F, Or, Order, Query, and_, or_
from crmkit.ports import Repository

__all__ = [
    "DENSE_ROUTE",
    "MAX_INITIALS_RANGES",
    "MAX_READINGS",
    "MAX_SEARCH_TEXT",
    "MAX_SEGMENTED_LETTERS",
    "SURNAME_READINGS",
    "SearchKeys",
    "SearchRoute",
    "check_search_text",
    "find_by_routes",
    "letter_of",
    "pinyin_query",
    "search_customers_query",
    "search_keys",
    "search_readings",
    "search_routes",
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
        text: text already folded with :func:`~crmkit.customers.model.dedup.fold_text` or
            :func:`~crmkit.customers.model.dedup.normalize_name`.
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


#: The longest search text, in characters, once runs of whitespace count as one. No
#: customer name is longer (200 characters), so a longer text is refused with a
#: ``ValidationError`` on ``text`` rather than searched.
MAX_SEARCH_TEXT = 200

#: The most readings of a Latin search text that are tried (see :func:`search_readings`).
MAX_READINGS = 48

#: Latin search texts longer than this many letters are read two ways only: spelled out
#: and as initials (a person types pinyin mixes of a few characters, not of forty).
MAX_SEGMENTED_LETTERS = 60

#: The most ranges of an initials key one search reads for the readings of its text,
#: each as narrow as a reading's initials (a reading whose initials open with another's
#: shares its range). Readings that would need more are left out, least likely first.
MAX_INITIALS_RANGES = 12

# Partial readings explored at most while looking for MAX_READINGS whole ones: the
# search's work stays bounded whatever the text.
_MAX_STEPS = 20_000

# No pinyin syllable opens with i, u or v, so they never stand for a character's initial.
_NO_INITIAL = frozenset("iuv")

# A reading's cost: each initial weighs more than any number of spelled syllables, so
# readings come fewest initials first, then fewest units.
_INITIAL_COST = 1_000


def check_search_text(text: str) -> str:
    """What a search box holds, made safe to search: a text a person may have pasted.

    Runs of whitespace count as one space, and control characters and lone surrogates
    (which no stored name holds, and which some databases refuse) are dropped.

    Args:
        text: what was typed or pasted.

    Returns:
        The text to search for, stripped.

    Raises:
        ValidationError: on ``text``, when it is longer than :data:`MAX_SEARCH_TEXT`.
    """
    typed = " ".join(text.split())
    if len(typed) > MAX_SEARCH_TEXT:
        raise ValidationError(
            entity="search",
            field="text",
            reason=reason(N_("is longer than {maximum} characters"), maximum=MAX_SEARCH_TEXT),
        )
    if typed.isascii() and typed.isprintable():
        return typed
    return "".join(ch for ch in typed if unicodedata.category(ch) not in ("Cc", "Cs")).strip()


@functools.cache
def _syllables() -> tuple[frozenset[str], frozenset[str]]:
    """Spelled syllables of two letters or more, and their proper openings (``zho``)."""
    syllables = frozenset(s for s in _tables()[2] if s.isascii() and len(s) > 1)
    openings = frozenset(s[:n] for s in syllables for n in range(2, len(s)))
    return syllables, openings


def search_readings(letters: str, limit: int = MAX_READINGS) -> list[tuple[str, ...]]:
    """The ways a Latin search text reads as pinyin, fewest initials first.

    A person types each character of a name either spelled out (``chong``) or by its
    initial (``c``), and the last one perhaps half-typed (``zho``): ``cqca`` is four
    initials (重庆长安) or ``c q ca``; ``chongqca`` is ``chong q c a``. Each reading is a
    tuple of units: one letter stands for a character's initial, more letters spell a
    syllable (the last unit may be the opening of one).

    The readings are found best first (fewest initials, then fewest units) by a search
    over the text's positions, without recursion, and at most ``limit`` are returned:
    the work is bounded however long the text. Letters that no syllable opens with (i,
    u, v) are never initials, so a text such as ``ibm`` has no reading (it is matched
    as a Latin word).

    Args:
        letters: lower-case ASCII letters.
        limit: the most readings to return.

    Returns:
        The readings, e.g. ``[("c", "q", "ca"), ("c", "q", "c", "a")]`` for ``cqca``.

    Examples:
        >>> search_readings("cqca")
        [('c', 'q', 'ca'), ('c', 'q', 'c', 'a')]
    """
    if not (letters.isascii() and letters.isalpha()) or limit < 1:
        return []
    letters = letters.lower()
    syllables, openings = _syllables()
    end = len(letters)
    # steps[pos]: (next position, unit, cost) for every unit that can start at pos.
    steps: list[list[tuple[int, str, int]]] = []
    for pos in range(end):
        here: list[tuple[int, str, int]] = []
        for stop in range(min(end, pos + 6), pos + 1, -1):
            unit = letters[pos:stop]
            if unit in syllables or (stop == end and unit in openings):
                here.append((stop, unit, 1))
        if letters[pos] not in _NO_INITIAL:
            here.append((pos + 1, letters[pos], _INITIAL_COST + 1))
        steps.append(here)
    # rest[pos]: the least cost of reading letters[pos:] (exact, so the search below
    # never follows a partial reading that cannot be finished).
    unreadable = _INITIAL_COST * (end + 1) ** 2
    rest = [unreadable] * end + [0]
    for pos in range(end - 1, -1, -1):
        rest[pos] = min((cost + rest[stop] for stop, _, cost in steps[pos]), default=unreadable)
    if rest[0] >= unreadable:
        return []
    found: list[tuple[str, ...]] = []
    frontier: list[tuple[int, int, int, int, tuple[str, ...]]] = [(rest[0], 0, 0, 0, ())]
    pushed = 0
    while frontier and len(found) < limit and pushed < _MAX_STEPS:
        _, _, _, cost, units = heapq.heappop(frontier)
        pos = sum(map(len, units))
        if pos == end:
            found.append(units)
            continue
        for stop, unit, step in steps[pos]:
            if rest[stop] < unreadable:
                pushed += 1
                total = cost + step
                heapq.heappush(frontier, (total + rest[stop], -stop, pushed, total, (*units, unit)))
    return found


def _parse_latin(text: str) -> list[str] | None:
    """The best reading of Latin letters, a lone letter standing for an initial.

    ``bjhuawei`` -> ``["b", "j", "hua", "wei"]``; ``None`` for text that is not letters
    or that no reading covers.
    """
    readings = search_readings(text, 1)
    return list(readings[0]) if readings else None


@attrs.frozen
class SearchRoute:
    """One way a search text can match: a filter a store answers from one index range.

    Attributes:
        where: the filter.
        walk: a coarser condition on ``pinyin_full`` that every match of ``where`` meets
            too, or ``None``. When ``where`` matches a large share of the customers
            (``wh`` matches every 武汉 and 王 company), reading ``pinyin_full``'s index in
            order and keeping the matches finds the first page without sorting them all.
        behind_region: the route matches the name behind its region (``huawei`` in
            北京华为); such matches rank after those of the whole name.
        ordered: ``where`` is a prefix of ``pinyin_full`` itself, so its index range is
            already in the order results are shown in.
    """

    where: Expr
    walk: Expr | None = None
    behind_region: bool = False
    ordered: bool = False


def _routes(full: str, initials: str, contains: list[tuple[str, str]]) -> list[SearchRoute]:
    routes: list[SearchRoute] = []
    for full_field, initials_field in (
        ("pinyin_full", "pinyin_initials"),
        ("short_full", "short_initials"),
    ):
        extra = [F(full_field if f == "full" else f).contains(v) for f, v in contains]
        behind = full_field == "short_full"
        if full:
            where = and_(F(full_field).startswith(full), *extra)
            routes.append(SearchRoute(where, behind_region=behind, ordered=not behind))
        if initials:
            # A name's full pinyin opens with the letter its initials open with.
            walk = None if behind else F("pinyin_full").startswith(initials[0])
            where = and_(F(initials_field).startswith(initials), *extra)
            routes.append(SearchRoute(where, walk, behind_region=behind))
    return routes


def search_customers_query(text: str, *, phone_field: str | None = "phone_key") -> Expr:
    """The filter that finds customers matching a search box entry.

    Every branch is a prefix match on an indexed key, so a store answers it from its
    indexes: the branches are the :func:`search_routes` of the text.

    Args:
        text: what the user typed; case, width and traditional characters do not matter.
        phone_field: the stored caller-ID key to match digits against, or ``None``.

    Returns:
        A filter expression; ``TRUE`` for blank text (no filter), ``FALSE`` for text
        that can match nothing (only punctuation).

    Raises:
        ValidationError: on ``text``, when it is longer than :data:`MAX_SEARCH_TEXT`.
    """
    return or_(*(route.where for route in search_routes(text, phone_field=phone_field)))


def search_routes(text: str, *, phone_field: str | None = "phone_key") -> tuple[SearchRoute, ...]:
    """The ways a search box entry can match a customer, each one indexed prefix match.

    ``bjhw`` (initials), ``beijing`` / ``huawei`` (full pinyin of the name or of the
    name behind its region), ``北京`` / ``華為`` (characters, matched literally),
    ``bjhuawei`` / ``北京hw`` (mixes: initials prefix plus the spelled-out part) and, with
    ``phone_field``, six or more digits of a phone number all work.

    Routes are chosen by the shape of the text, because each one is one more index
    range a store must read: characters search the name key and, behind a region, the
    short pinyin; a phone number only the phone key; Latin letters the full keys when
    they spell syllables out and the initials keys for every reading with initials in
    it (:func:`search_readings`): one route for the full key and one for at most
    :data:`MAX_INITIALS_RANGES` ranges of the initials key (an OR of ranges), on the
    whole name and as many behind its region.

    Args:
        text: what the user typed; case, width and traditional characters do not matter.
        phone_field: the stored caller-ID key to match digits against, or ``None``.

    Returns:
        The routes; one matching everything for blank text, none for text that can
        match nothing (only punctuation).

    Raises:
        ValidationError: on ``text``, when it is longer than :data:`MAX_SEARCH_TEXT`.
    """
    typed = check_search_text(text)
    if not text.strip():
        return (SearchRoute(TRUE),)
    return _routes_of(typed, phone_field)


@functools.lru_cache(maxsize=4096)
def _routes_of(text: str, phone_field: str | None) -> tuple[SearchRoute, ...]:
    # A search box sends the same few texts again and again (each keystroke, each page):
    # reading them is kept.
    folded = fold_text(text)
    if not folded:
        return ()
    if phone_field is not None and _looks_like_phone(text):
        return (SearchRoute(caller_id_query(text, field=phone_field)),)
    folded = normalize_name(text) or folded  # "华为有限公司" searches like "华为"
    units = _units(folded)
    if all(han for _, han in units):
        return _han_routes(folded, _join(units)[0])
    if not any(han for _, han in units):
        return _latin_routes(folded, units)
    return _mixed_routes(folded, units)


def pinyin_query(text: str) -> Expr:
    """Records by the pinyin keys of their name: every reading of Latin letters.

    For records keeping ``pinyin_full`` and ``pinyin_initials`` of their name (contacts,
    leads, opportunities): ``zhangwei``, ``zw``, ``zwei`` and ``zhangw`` all find 张伟,
    and a Latin name is kept whole in both keys (``johnsmith``).

    Args:
        text: Latin letters or digits as typed (case and width do not matter).

    Returns:
        The filter; ``FALSE`` when the text holds no letter or digit.

    Raises:
        ValidationError: on ``text``, when it is longer than :data:`MAX_SEARCH_TEXT`.
    """
    return _pinyin_filter(fold_text(check_search_text(text)))


@functools.lru_cache(maxsize=4096)
def _pinyin_filter(folded: str) -> Expr:
    # Reading the letters every way takes about 2 ms for a spelled-out name such as
    # "zhangwei", and the global search asks for contacts, leads and deals: kept per
    # text, as the customers' routes are (the same filter object also lets a store
    # reuse its statement and values at once).
    if not folded:
        return FALSE
    routes = _latin_routes(folded, [(folded, False)])
    return or_(*(route.where for route in routes if not route.behind_region))


#: A route matching at least this many customers is read in ``pinyin_full`` order
#: (through its ``walk``) instead of being read whole and sorted.
DENSE_ROUTE = 1_000


def find_by_routes(
    repository: Repository[Any],
    scope: Expr,
    routes: Iterable[SearchRoute],
    *,
    limit: int,
    dense: int = DENSE_ROUTE,
) -> list[Any]:
    """The first ``limit`` records matching any route, within ``scope``.

    Records whose whole name matches come first, then those matching behind their
    region (``huawei`` finds 华为云 before 北京华为); each group in pinyin order.

    One query per route, each with its own limit, merged here: a single query with all
    routes OR-ed together makes a store read every match of every route and sort them
    before it can stop, which for a broad entry (``wh``, ``beijing``, ``北京``) is tens of
    thousands of rows at a million customers. Each route instead reads its matches from
    its own index range and sorts them (``Query.selective``) or, when a bounded count
    says it is dense, walks the ``pinyin_full`` index in order and stops after ``limit``
    matches. The routes behind the region are read only when the whole-name ones leave
    the page short.

    Args:
        repository: customers (or any records with ``pinyin_full`` and ``id``).
        scope: what else every hit must meet (not in the recycle bin, the actor's view).
        routes: from :func:`search_routes`.
        limit: the most records to return.
        dense: how many matches make a route walk the pinyin index instead.
    """
    order = (Order("pinyin_full"), Order("id"))
    page: list[Any] = []
    for behind in (False, True):
        wanted = limit - len(page)
        # Behind the region, what the whole name found is left out here rather than in
        # the filter (``id NOT IN page``): the statement then keeps one shape whatever the
        # page holds, so it is kept and run straight on the driver (an IN list is
        # rendered per execution), for at most ``len(page)`` more rows read.
        most = wanted + len(page)
        seen = {r.id for r in page}
        found: dict[Any, Any] = {}
        for route in routes:
            if route.behind_region != behind:
                continue
            # Several narrow ranges are each read from their index with the scope
            # beside them (see _within).
            query = Query(_within(scope, route.where), order, most, selective=not route.ordered)
            if route.walk is None:
                records = repository.query(query)
            else:
                walk = Query(and_(scope, route.walk, route.where), order, most)
                records = repository.query_by_count(route.where, dense, query, walk)
            for record in records:
                if record.id not in seen:
                    found[record.id] = record
        page += sorted(found.values(), key=lambda r: (r.pinyin_full, r.id))[:wanted]
        if len(page) >= limit:
            break
    return page


def _within(scope: Expr, where: Expr) -> Expr:
    """``scope`` and ``where``, with ``scope`` inside each branch when ``where`` is an OR.

    Each branch of a route's OR is a narrow range of one index; with the scope repeated
    in every branch, a store reads each range from its index and unites them (SQLite
    does so only for an OR at the top of the filter) instead of scanning the tenant.

    The filter made is kept for the same parts (see :data:`_WITHIN`).
    """
    parts = (*(scope.items if isinstance(scope, And) else (scope,)), where)
    key = tuple(map(id, parts))
    kept = _WITHIN.get(key)
    if kept is not None and all(map(operator.is_, kept[0], parts)):
        return kept[1]
    if isinstance(where, Or):
        made = or_(*(and_(scope, branch) for branch in where.items))
    else:
        made = and_(scope, where)
    if len(_WITHIN) >= _WITHIN_KEPT:
        _WITHIN.clear()
    _WITHIN[key] = (parts, made)
    return made


# The filters _within made, by the identity of their parts: the route's filter (kept
# per text, see _routes_of) and the parts of the scope (the actor's compiled grants and
# the service's base condition, the same objects from one search to the next). Handing
# a store the very filter it saw before lets it find the statement and the values at
# once (see crmkit.adapters.sql.compile.parameterize) instead of walking a hundred
# conditions again. An entry holds its parts, so their ids are not reused while it lives.
_WITHIN: dict[tuple[int, ...], tuple[tuple[Expr, ...], Expr]] = {}
_WITHIN_KEPT = 1024


def _looks_like_phone(text: str) -> bool:
    # Six or more digits and nothing but phone punctuation: a number, not a name.
    return len(re.sub(r"\D", "", text)) >= 6 and not re.sub(r"[\d\s\-+()]", "", text)


def _han_routes(key: str, full: str) -> tuple[SearchRoute, ...]:
    """Characters only: the name opens with them, or the name behind its region does.

    Typed characters must be in the name, not merely sound like it (北京 vs 背景): the
    region-less route goes through ``short_full``'s index and checks the characters.
    """
    # Characters with one reading, that are no surname read otherwise, spell the same
    # pinyin in every name opening with them, so that pinyin prefix bounds the walk.
    several = _tables()[1]
    fixed = several.isdisjoint(key) and not any(ch in SURNAME_READINGS for ch in key)
    return (
        SearchRoute(
            F("name_key").startswith(key), F("pinyin_full").startswith(full) if fixed else None
        ),
        SearchRoute(
            and_(F("short_full").startswith(full), F("name_key").contains(key)),
            behind_region=True,
        ),
    )


def _latin_routes(text: str, units: list[_Unit]) -> tuple[SearchRoute, ...]:
    """Latin letters (and digits): pinyin keys only, every way the letters read.

    The text spelled out is one prefix of the full keys (one route); every reading with
    initials in it (``cqca``, ``c q ca``, ``chong q c a``) is a prefix of the initials
    keys, with the spelled-out syllables checked in the full keys, and all of them are
    one route: an OR of at most :data:`MAX_INITIALS_RANGES` ranges of the initials key.
    The same two for the name behind its region.
    """
    if len(units) != 1 or not text.isalpha():
        # Digits or other kept text ("360", "3m"): try both spellings.
        return (*_routes(text, "", []), *_routes("", text, []))
    readings = search_readings(text) if len(text) <= MAX_SEGMENTED_LETTERS else []
    # The full keys can open with the text when it spells syllables out, or when it is
    # not read as pinyin (a Latin word such as "ibm", kept whole in both keys; a text
    # too long to be read every way).
    spelled = not readings or all(len(unit) > 1 for unit in readings[0])
    # Reading every letter as an initial is always tried: "bjhw", and "ibm" for IBM中国
    # (a Latin word is kept whole in the initials keys too).
    members = [_Member(text, None, ())]
    members += [_Member.of(r) for r in readings if any(len(unit) == 1 for unit in r)]
    groups = _initials_groups(members)
    routes: list[SearchRoute] = []
    for full_field, initials_field in (
        ("pinyin_full", "pinyin_initials"),
        ("short_full", "short_initials"),
    ):
        behind = full_field == "short_full"
        if spelled:
            where: Expr = F(full_field).startswith(text)
            routes.append(SearchRoute(where, behind_region=behind, ordered=not behind))
        if groups:
            # One route for every range: a store reads each from the initials index
            # (SQL: one statement, an OR of ranges) and sorts the few matches.
            where = or_(
                *(
                    and_(
                        F(initials_field).startswith(prefix),
                        or_(*(m.where(prefix, full_field, initials_field) for m in group)),
                    )
                    for prefix, group in groups
                )
            )
            # A name's full pinyin opens with the letter its initials open with: one
            # short range ("wh", every 武汉 and 王) may be dense, so it may be walked in
            # pinyin order. Several ranges are each as narrow as a reading's initials.
            narrow = isinstance(where, Or)
            walk = None if behind or narrow else F("pinyin_full").startswith(text[0])
            routes.append(SearchRoute(where, walk, behind_region=behind))
    return tuple(routes)


@attrs.frozen
class _Member:
    """What one reading of a Latin text asks of a name's keys.

    Attributes:
        initials: the prefix the initials key opens with (one letter per unit).
        leading: the spelled-out syllables the text opens with (the full key opens
            with them; checked as held); ``None`` when the text opens with an initial.
        runs: the other runs of spelled-out syllables, each found in the full key.
    """

    initials: str
    leading: str | None
    runs: tuple[str, ...]

    @classmethod
    def of(cls, reading: tuple[str, ...]) -> _Member:
        runs = _spelled_runs([(unit, True) for unit in reading])
        leading = runs[0] if len(reading[0]) > 1 else None
        return cls(
            "".join(unit[0] for unit in reading),
            leading,
            tuple(runs[1:] if leading else runs),
        )

    @property
    def spelled(self) -> tuple[str, ...]:
        """Every spelled-out run, the leading one first."""
        return (self.leading, *self.runs) if self.leading else self.runs

    def where(self, prefix: str, full_field: str, initials_field: str) -> Expr:
        """The filter on one pair of keys, within a range of initials opening ``prefix``.

        The spelled-out runs are checked with ``contains``, the leading one too: a
        second prefix condition would offer a store's planner the full key's index,
        whose range (``zhang``) is far wider than the initials' (``zwe``).
        """
        return and_(
            F(initials_field).startswith(self.initials) if self.initials != prefix else TRUE,
            *(F(full_field).contains(run) for run in self.spelled),
        )


def _weakest(members: list[_Member]) -> list[_Member]:
    """The members, in order, without those another member's filter already covers.

    A member whose initials open with another's and whose spelled runs each hold all of
    that one's runs matches only names that one matches too: it adds nothing.
    """
    unique = list(dict.fromkeys(members))
    return [
        member
        for member in unique
        if not any(
            other is not member
            and member.initials.startswith(other.initials)
            and all(any(run in mine for mine in member.spelled) for run in other.spelled)
            and (other.initials, other.spelled) != (member.initials, member.spelled)
            for other in unique
        )
    ]


def _initials_groups(members: list[_Member]) -> list[tuple[str, list[_Member]]]:
    """Members, best first, gathered into at most MAX_INITIALS_RANGES narrow ranges.

    A member whose initials open with a range's prefix is read inside that range, and a
    range whose prefix opens with a member's initials widens to them, for free (the
    wider range holds the narrower). A member that would open a range beyond the limit
    is left out: readings come best first, so the least likely ones are.
    """
    groups: list[tuple[str, list[_Member]]] = []
    for member in _weakest(members):
        inside = [i for i, (prefix, _) in enumerate(groups) if member.initials.startswith(prefix)]
        if inside:
            groups[inside[0]][1].append(member)
            continue
        holding = [i for i, (prefix, _) in enumerate(groups) if prefix.startswith(member.initials)]
        if holding or len(groups) < MAX_INITIALS_RANGES:
            absorbed = [m for i in holding for m in groups[i][1]]
            groups = [g for i, g in enumerate(groups) if i not in holding]
            groups.append((member.initials, [*absorbed, member]))
    return groups


def _mixed_routes(text: str, units: list[_Unit]) -> tuple[SearchRoute, ...]:
    """Characters and letters together ("北京hw"): initials keys plus the characters."""
    contains = [("name_key", run) for run in _HAN_RUN.findall(text) if _is_han(run[0])]
    full, initials = _join(units)
    # Latin letters read as initials: "北京hw".
    routes = _routes(full, "", contains) + _routes("", initials, contains)
    parsed: list[_Unit] = []
    spelled_latin = False
    for unit, han in units:
        syllables = None if han else _parse_latin(unit)
        if syllables:
            spelled_latin = spelled_latin or any(len(s) > 1 for s in syllables)
            parsed.extend((s, True) for s in syllables)
        else:
            parsed.append((unit, han))
    if spelled_latin and any(han and len(unit) == 1 for unit, han in parsed):
        # "北京huaw": initials prefix, and the spelled-out part in the full pinyin.
        spelled = [("full", run) for run in _spelled_runs(parsed)]
        routes += _routes("", _join(parsed)[1], [*contains, *spelled])
    return tuple(routes)


def _spelled_runs(parsed: list[_Unit]) -> list[str]:
    """Runs of spelled-out syllables in a parsed query (``bjhuawei`` -> ``["huawei"]``)."""
    runs: list[str] = []
    current: list[str] = []
    for unit, han in parsed:
        if han and len(unit) > 1:
            current.append(unit)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs
