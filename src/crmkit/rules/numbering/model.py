"""Numbering rules: how a tenant's documents get their human-readable numbers.

Every business document a CRM prints or quotes on the phone — a contract
``HT-202603-0042``, a customer code ``KH000318``, a quote, an invoice request —
carries a number from a rule the tenant configures per document type. A rule is
a *pattern* of literal text, date tokens and one sequence token, plus how often
the sequence starts again at 1:

======================  ===================================================
token                   renders
======================  ===================================================
``{yyyy}`` / ``{yy}``   the year (4 or 2 digits) of the issue date
``{mm}`` / ``{dd}``     month / day, 2 digits
``{seq}`` / ``{seq:4}`` the sequence, zero-padded to the width (default 1)
``{{`` / ``}}``         a literal brace
======================  ===================================================

Resets: ``never``, ``yearly``, ``monthly``, ``daily``. The date is taken in the
rule's time zone (a Shanghai office starts a new month at local midnight, not at
08:00 the next day). Numbers must be unique, so a rule is refused when its reset
is finer than its date tokens can tell apart: ``KH{seq:6}`` resetting yearly
would issue ``KH000001`` every January. When a sequence outgrows its width it
keeps counting with more digits (``{seq:4}`` goes ``9999``, ``10000``): numbers
stay unique and in order, only longer; pick a width with room.

Gap-free: the counter lives in the database and moves in the same transaction
as the document that takes the number (see :mod:`crmkit.rules.numbering.services`).
"""

from __future__ import annotations

import enum
import functools
import re
import uuid
from datetime import datetime
from typing import Any

import attrs
import pendulum

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid

__all__ = [
    "NumberCounter",
    "NumberPattern",
    "NumberingRule",
    "Reset",
    "counter_id",
    "local_time",
    "numbering_rule_id",
]

_ENTITY = "numbering_rule"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_SEQ = re.compile(r"seq(?::(\d+))?")
_DATE_TOKENS = {"yyyy", "yy", "mm", "dd"}
_MAX_WIDTH = 18
_NS = uuid.UUID("6f1d7c3e-2b7a-5d35-9a56-6c1f0f4b8e21")


class Reset(enum.Enum):
    """When a rule's sequence starts again at 1."""

    NEVER = "never"
    YEARLY = "yearly"
    MONTHLY = "monthly"
    DAILY = "daily"

    def period(self, local: datetime) -> str:
        """The key of the period ``local`` falls in (``"2026"``, ``"2026-03"``, ...).

        The reset kind is part of the key, so changing a rule's reset never resumes
        an unrelated counter.
        """
        if self is Reset.NEVER:
            return "never"
        if self is Reset.YEARLY:
            return f"y{local.year:04d}"
        if self is Reset.MONTHLY:
            return f"m{local.year:04d}-{local.month:02d}"
        return f"d{local.year:04d}-{local.month:02d}-{local.day:02d}"


# The date tokens a pattern must contain for each reset to keep numbers unique.
_NEEDS: dict[Reset, tuple[frozenset[str], ...]] = {
    Reset.NEVER: (),
    Reset.YEARLY: (frozenset({"yyyy", "yy"}),),
    Reset.MONTHLY: (frozenset({"yyyy", "yy"}), frozenset({"mm"})),
    Reset.DAILY: (frozenset({"yyyy", "yy"}), frozenset({"mm"}), frozenset({"dd"})),
}


_invalid = functools.partial(invalid, _ENTITY)


@attrs.frozen
class NumberPattern:
    """A parsed, validated pattern such as ``HT-{yyyy}{mm}-{seq:4}``.

    Attributes:
        text: the pattern as the administrator typed it.
        parts: literal strings and token names (``"yyyy"``, ``"seq"``) in order.
        width: the zero-padding width of ``{seq}``.
    """

    text: str
    parts: tuple[tuple[bool, str], ...] = attrs.field(repr=False)
    width: int

    @classmethod
    def parse(cls, text: str) -> NumberPattern:
        """Parse and validate ``text``.

        Raises:
            ValidationError: an unknown token, a stray brace, no ``{seq}`` or more than
                one, or a width outside 1-18.
        """
        parts: list[tuple[bool, str]] = []
        width: int | None = None
        position = 0
        for match in _TOKEN.finditer(text):
            if match.start() > position:
                parts.append((False, text[position : match.start()]))
            position = match.end()
            raw = match.group(0)
            if raw in ("{{", "}}"):
                parts.append((False, raw[0]))
                continue
            if raw in ("{", "}"):
                raise _invalid("pattern", N_("unmatched brace in {pattern}"), pattern=text)
            token = match.group(1).strip()
            seq = _SEQ.fullmatch(token)
            if seq is not None:
                if width is not None:
                    raise _invalid(
                        "pattern", N_("{pattern} has more than one {{seq}}"), pattern=text
                    )
                width = int(seq.group(1) or 1)
                if not 1 <= width <= _MAX_WIDTH:
                    raise _invalid(
                        "pattern", N_("sequence width must be 1 to {maximum}"), maximum=_MAX_WIDTH
                    )
                parts.append((True, "seq"))
            elif token in _DATE_TOKENS:
                parts.append((True, token))
            else:
                raise _invalid(
                    "pattern",
                    N_("unknown token {{{token}}}; use yyyy, yy, mm, dd or seq:N"),
                    token=token,
                )
        if position < len(text):
            parts.append((False, text[position:]))
        if width is None:
            raise _invalid("pattern", N_("{pattern} has no {{seq}} token"), pattern=text)
        merged: list[tuple[bool, str]] = []
        for is_token, value in parts:
            if merged and not is_token and not merged[-1][0]:
                merged[-1] = (False, merged[-1][1] + value)
            else:
                merged.append((is_token, value))
        return cls(text=text, parts=tuple(merged), width=width)

    @property
    def date_tokens(self) -> frozenset[str]:
        """The date tokens the pattern uses."""
        return frozenset(value for is_token, value in self.parts if is_token and value != "seq")

    def check_reset(self, reset: Reset) -> None:
        """Refuse a reset the date tokens cannot tell apart (numbers would repeat).

        Raises:
            ValidationError: e.g. a monthly reset without ``{mm}``.
        """
        used = self.date_tokens
        for alternatives in _NEEDS[reset]:
            if not used & alternatives:
                raise _invalid(
                    "reset",
                    N_("a {reset} reset needs {{{token}}} in the pattern, or numbers repeat"),
                    reset=reset.value,
                    token=max(alternatives, key=len),
                )

    def render(self, local: datetime, seq: int) -> str:
        """The number for sequence value ``seq`` issued at local date-time ``local``."""
        values = {
            "yyyy": f"{local.year:04d}",
            "yy": f"{local.year % 100:02d}",
            "mm": f"{local.month:02d}",
            "dd": f"{local.day:02d}",
            "seq": f"{seq:0{self.width}d}",
        }
        return "".join(values[value] if is_token else value for is_token, value in self.parts)


def _check_pattern(instance: NumberingRule, _attribute: Any, value: str) -> None:
    NumberPattern.parse(value).check_reset(instance.reset)


def _check_reset(instance: NumberingRule, _attribute: Any, value: Reset) -> None:
    # Also on assignment: a finer reset must still suit the stored pattern.
    pattern = getattr(instance, "pattern", None)
    if pattern is not None:
        NumberPattern.parse(pattern).check_reset(value)


def local_time(now: datetime, timezone: str) -> pendulum.DateTime:
    """``now`` on the calendar of ``timezone`` (an IANA name such as ``Asia/Shanghai``).

    Raises:
        ValidationError: the time zone is unknown.
    """
    try:
        zone = pendulum.timezone(timezone)
    except Exception:
        raise _invalid("timezone", N_("unknown time zone {zone}"), zone=timezone) from None
    return pendulum.instance(now).in_timezone(zone)


def _check_timezone(_instance: NumberingRule, _attribute: Any, value: str) -> None:
    local_time(pendulum.datetime(2000, 1, 1), value)


def _check_doc_type(_instance: NumberingRule, _attribute: Any, value: str) -> None:
    if not value.strip() or len(value) > 64:
        raise _invalid("doc_type", N_("must be 1 to 64 characters"))


def numbering_rule_id(tenant_id: TenantId, doc_type: str) -> uuid.UUID:
    """The id of a tenant's rule for ``doc_type``: one rule per document type."""
    return uuid.uuid5(_NS, f"rule/{tenant_id}/{doc_type}")


def counter_id(tenant_id: TenantId, doc_type: str, period: str) -> uuid.UUID:
    """The id of the counter of one document type in one period."""
    return uuid.uuid5(_NS, f"counter/{tenant_id}/{doc_type}/{period}")


@attrs.define(eq=False)
class NumberingRule(Entity):
    """A tenant's numbering rule for one document type (``contract``, ``customer``, ...).

    Attributes:
        doc_type: the document type the rule numbers.
        pattern: e.g. ``HT-{yyyy}{mm}-{seq:4}``; validated with the reset.
        reset: when the sequence starts again at 1.
        timezone: the zone whose calendar decides dates and period boundaries.
    """

    entity_name = N_("numbering_rule")

    id: uuid.UUID
    tenant_id: TenantId
    doc_type: str = attrs.field(validator=_check_doc_type)
    reset: Reset = attrs.field(converter=Reset, validator=_check_reset)
    pattern: str = attrs.field(validator=_check_pattern)
    timezone: str = attrs.field(default="UTC", validator=_check_timezone)
    version: int = 0

    @property
    def parsed(self) -> NumberPattern:
        """The parsed pattern."""
        return NumberPattern.parse(self.pattern)

    def local(self, now: datetime) -> pendulum.DateTime:
        """``now`` on the rule's calendar."""
        return local_time(now, self.timezone)

    def period(self, now: datetime) -> str:
        """The counter period ``now`` falls in."""
        return self.reset.period(self.local(now))

    def render(self, now: datetime, seq: int) -> str:
        """The number for sequence value ``seq`` issued at instant ``now``."""
        return self.parsed.render(self.local(now), seq)


@attrs.define(eq=False)
class NumberCounter(Entity):
    """The last sequence value issued for one document type in one period.

    Stored one row per (tenant, document type, period); the row is locked from the
    increment to the commit, which is what makes numbers gap-free and unique.
    """

    entity_name = N_("number_counter")

    id: uuid.UUID
    tenant_id: TenantId
    doc_type: str
    period: str
    value: int = 0
    version: int = 0
