"""Reading what was typed in a search box: the text made safe, Latin letters read as pinyin.

A person types each character of a name spelled out or by its initial, in any mix; the
readings are found best first, and the work is bounded however long the text.
"""

from __future__ import annotations

import functools
import heapq
import unicodedata

from crmkit.customers.model.search_keys import _tables
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import expect_type

__all__ = [
    "MAX_INITIALS_RANGES",
    "MAX_READINGS",
    "MAX_SEARCH_TEXT",
    "MAX_SEGMENTED_LETTERS",
    "check_search_text",
    "search_readings",
]

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
        TypeError: ``text`` is no text (a programmer's mistake; a form sends text).
    """
    typed = " ".join(expect_type(text, str, field="text").split())
    if len(typed) > MAX_SEARCH_TEXT:
        raise invalid(
            "search", "text", N_("is longer than {maximum} characters"), maximum=MAX_SEARCH_TEXT
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
