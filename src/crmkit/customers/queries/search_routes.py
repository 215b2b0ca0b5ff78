"""From a search box entry to the filters that find it: one route per index range.

A text's shape (characters, digits, Latin letters or a mix) decides which stored keys it is
matched against (see :mod:`crmkit.customers.model.search_keys` for the keys and
:mod:`crmkit.customers.queries.search_text` for reading Latin letters as pinyin).
"""

from __future__ import annotations

import functools
import re

import attrs

from crmkit.customers.model.names import fold_text, normalize_name
from crmkit.customers.model.phones import caller_id_query
from crmkit.customers.model.search_keys import (
    _HAN_RUN,
    SURNAME_READINGS,
    _is_han,
    _join,
    _tables,
    _Unit,
    _units,
)
from crmkit.customers.queries.search_text import (
    MAX_INITIALS_RANGES,
    MAX_SEGMENTED_LETTERS,
    _parse_latin,
    check_search_text,
    search_readings,
)
from crmkit.kernel.query import FALSE, TRUE, Expr, F, Or, and_, or_

__all__ = [
    "SearchRoute",
    "pinyin_query",
    "search_customers_query",
    "search_routes",
]


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
