"""The kernel: values and mechanisms every crmkit area builds on.

Money and exchange rates, ids and the clock, periods and recurrence, the error
tree, domain events, filter expressions, the state-machine engine, i18n and the
shared converter. Pure Python: nothing here touches storage or the wall clock.
"""

from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import Clock, FixedClock, SystemClock
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    CrmError,
    CurrencyMismatch,
    GuardFailed,
    IdempotencyConflict,
    ImportRejected,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    RateNotFound,
    StorageError,
    ValidationError,
)
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import current_locale, translate, use_locale
from crmkit.kernel.ids import IdGenerator, RandomIdGenerator, TenantId, UserId, uuid7
from crmkit.kernel.machine import ANY, Guard, Machine, Transition
from crmkit.kernel.money import HALF_EVEN, HALF_UP, ROUNDING, Money, round_figure
from crmkit.kernel.periods import Period, PeriodKind, periods_between
from crmkit.kernel.query import F, Order, Query
from crmkit.kernel.rates import ExchangeRate, ExchangeRates
from crmkit.kernel.recurrence import Frequency, Recurrence, WeekDay, at_time

__all__ = [
    "ANY",
    "HALF_EVEN",
    "HALF_UP",
    "ROUNDING",
    "Actor",
    "Clock",
    "ConcurrencyConflict",
    "CrmError",
    "CurrencyMismatch",
    "DomainEvent",
    "ExchangeRate",
    "ExchangeRates",
    "F",
    "FixedClock",
    "Frequency",
    "Guard",
    "GuardFailed",
    "IdGenerator",
    "IdempotencyConflict",
    "ImportRejected",
    "InvalidTransition",
    "LimitExceeded",
    "Machine",
    "Money",
    "NotFound",
    "Order",
    "Period",
    "PeriodKind",
    "PermissionDenied",
    "Query",
    "RandomIdGenerator",
    "RateNotFound",
    "Recurrence",
    "StorageError",
    "SystemClock",
    "TenantId",
    "Transition",
    "UserId",
    "ValidationError",
    "WeekDay",
    "at_time",
    "current_locale",
    "periods_between",
    "round_figure",
    "translate",
    "use_locale",
    "uuid7",
]
