"""Identifiers a customer record carries, checked by well-kept libraries.

Hand-written rules for these go stale or wrong at the edges, so crmkit leans on the
libraries that track them:

- **emails** through ``email-validator`` (syntax of the local part and the domain,
  internationalised domains; no DNS lookup, a CRM must accept an address offline);
- **tax ids** through ``python-stdnum``: China's 18-character unified social credit
  code (统一社会信用代码, ``stdnum.cn.uscc``, with its check character) by default, and
  the VAT number or taxpayer id of another country when the customer says which
  (``tax_country="DE"``);
- **phone numbers** through ``phonenumbers`` (see :mod:`crmkit.customers.model.phones`).

Values are stored compact (no spaces or dashes, upper case), so an indexed equality
finds a customer by its tax id however it was typed.
"""

from __future__ import annotations

import re
from typing import Any

import stdnum
from email_validator import EmailNotValidError, validate_email
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = ["DEFAULT_TAX_COUNTRY", "check_email", "check_tax_id", "compact_tax_id"]

#: The country a tax id belongs to when the record does not say.
DEFAULT_TAX_COUNTRY = "CN"

_SEPARATORS = re.compile(r"[\s\-./]")


def check_email(value: str | None, *, entity: str, field: str = "email") -> None:
    """Refuse ``value`` unless it is an email address (``None`` passes).

    Raises:
        ValidationError: naming ``entity`` and ``field``.
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise invalid(entity, field, N_("must be text"))
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise invalid(entity, field, N_("is not an email address")) from None


def compact_tax_id(
    value: str | None, *, entity: str = "customer", field: str = "tax_id"
) -> str | None:
    """The stored form of a tax id: no spaces, dashes, dots or slashes; upper case.

    Raises:
        ValidationError: ``value`` is not text (a number loses its leading zeros).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(entity, field, N_("must be text"))
    compact = _SEPARATORS.sub("", value).upper()
    return compact or None


def _rules(country: str) -> Any:
    if country == "CN":
        return uscc
    for kind in ("vat", "tin"):
        module = stdnum.get_cc_module(country.lower(), kind)
        if module is not None:
            return module
    return None


def check_tax_id(value: str | None, country: str | None, *, entity: str) -> None:
    """Refuse a tax id that is not valid in ``country`` (China when ``None``).

    A country python-stdnum has no rules for (Hong Kong's business registration number,
    say) is accepted as typed: refusing would keep such customers out of the CRM.

    Raises:
        ValidationError: on ``tax_id`` when the id fails its country's rules (length,
            characters, check digit); on ``tax_country`` when it is not a two-letter
            country code.
    """
    if value is None:
        return
    code = (country or DEFAULT_TAX_COUNTRY).upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise invalid(entity, "tax_country", N_("must be a two-letter country code such as CN"))
    rules = _rules(code)
    if rules is None:
        return
    try:
        rules.validate(value)
    except StdnumError:
        raise invalid(
            entity,
            "tax_id",
            N_("{value} is not a valid tax id in {country}"),
            value=value,
            country=code,
        ) from None
