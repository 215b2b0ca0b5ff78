"""Template rendering: variables by dotted path, clear errors naming what is missing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from crmkit.kernel.errors import ValidationError
from crmkit.rules.notifications import Subscription, Template, render_template


@attrs.frozen
class Contract:
    number: str
    end_date: dt.date


def test_variables_come_from_dicts_and_attributes_with_format_specs() -> None:
    variables = {
        "customer": {"name": "上海华贸"},
        "contract": Contract("HT-7", dt.date(2026, 4, 1)),
        "amount": Decimal("120000.5"),
    }
    text = render_template(
        "{customer.name}: {contract.number} ends {contract.end_date:%Y年%m月%d日}, {amount:,.2f} {{CNY}}",
        variables,
    )
    assert text == "上海华贸: HT-7 ends 2026年04月01日, 120,000.50 {CNY}"


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("Dear {customer.name}", "customer.name"),
        ("Dear {customer.title}", "customer.title"),
        ("{contract.__class__}", "contract.__class__"),
        ("{customer[name]}", "customer[name]"),
        ("{customer!r}", "customer"),
    ],
)
def test_missing_or_unsafe_variables_raise_a_validation_error_naming_them(
    template: str, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        render_template(template, {"contract": Contract("HT", dt.date(2026, 1, 1)), "customer": {}})
    assert raised.value.fields["field"] == field


def test_a_malformed_template_is_refused_when_created() -> None:
    with pytest.raises(ValidationError, match="malformed"):
        Template(body="Dear {customer.name")


def test_a_subscription_needs_a_recipient() -> None:
    with pytest.raises(ValidationError, match="recipient"):
        Subscription(event_type="X", channel="email")
