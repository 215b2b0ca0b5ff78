"""The one error tree of crmkit.

Every error has a stable machine-readable ``code``, keeps the values it was raised
with as attributes (``entity``, ``field``, ``operation``, ...) and builds a message
from a translatable template. ``str(error)`` is English; ``error.message("zh_CN")``
or ``error.message()`` inside ``use_locale(...)`` renders it for the user.
"""

from __future__ import annotations

from typing import Any, ClassVar

from crmkit.kernel.i18n import N_, translate

__all__ = [
    "ConcurrencyConflict",
    "ConnectionLost",
    "CrmError",
    "CurrencyMismatch",
    "GuardFailed",
    "IdempotencyConflict",
    "ImportRejected",
    "InvalidTransition",
    "LazyText",
    "LimitExceeded",
    "NotFound",
    "PermissionDenied",
    "RateNotFound",
    "SerializationFailure",
    "StorageError",
    "TenantMismatch",
    "TransientStorageError",
    "ValidationError",
    "reason",
]


# Fields whose values are codes ("customer", "credit_limit", "claim") shown through their
# translated labels; areas mark the labels for extraction with N_ where they define them.
_LABELLED = frozenset({"entity", "field", "operation", "resource", "limit"})


class CrmError(Exception):
    """Root of every error crmkit raises on purpose."""

    code: ClassVar[str] = "crm_error"
    template: ClassVar[str] = N_("A CRM error occurred.")

    def __init__(self, **fields: Any) -> None:
        self.fields: dict[str, Any] = fields
        for name, value in fields.items():
            setattr(self, name, value)
        super().__init__(self.message("en"))

    def message(self, locale: str | None = None) -> str:
        """Render the message in ``locale`` (default: the current context's locale)."""
        params = {name: self._render(name, value, locale) for name, value in self.fields.items()}
        return translate(self.template, locale).format(**params)

    @staticmethod
    def _render(name: str, value: Any, locale: str | None) -> Any:
        if isinstance(value, LazyText):
            return value.render(locale)
        if name in _LABELLED and isinstance(value, str):
            # Entity, field and operation names are codes; their labels live in the catalogs.
            return translate(value, locale)
        return value

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        """A JSON-friendly view for APIs: code, message and the structured fields."""
        plain = {k: self._render(k, v, locale) for k, v in self.fields.items()}
        return {
            "code": self.code,
            "message": self.message(locale),
            **{
                k: v if isinstance(v, str | int | float | bool | type(None)) else str(v)
                for k, v in plain.items()
            },
        }


class LazyText:
    """A translatable fragment (a reason inside a message) rendered with the message."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def render(self, locale: str | None = None) -> str:
        return translate(self.msgid, locale).format(**self.params)

    def __str__(self) -> str:
        return self.render("en")

    def __repr__(self) -> str:
        return f"LazyText({self.msgid!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyText):
            return (self.msgid, self.params) == (other.msgid, other.params)
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.msgid)


def reason(msgid: str, **params: Any) -> LazyText:
    """A translatable reason for a ``ValidationError`` (mark the literal with ``N_``)."""
    return LazyText(msgid, **params)


class ValidationError(CrmError, ValueError):
    """Input that breaks a rule; names the entity, the field and (for imports) the row."""

    code = "validation_error"
    template = N_("{entity}.{field}: {reason}")

    def __init__(
        self, *, entity: str, field: str, reason: LazyText | str, row: int | None = None
    ) -> None:
        super().__init__(entity=entity, field=field, reason=reason, row=row)

    def message(self, locale: str | None = None) -> str:
        base = super().message(locale)
        if self.fields.get("row") is None:
            return base
        return translate(N_("Row {row}: {message}"), locale).format(
            row=self.fields["row"], message=base
        )


class CurrencyMismatch(CrmError, TypeError):
    """Arithmetic or comparison between amounts in different currencies."""

    code = "currency_mismatch"
    template = N_("Cannot combine {left} and {right} amounts; convert one first.")

    def __init__(self, *, left: str, right: str) -> None:
        super().__init__(left=left, right=right)


class NotFound(CrmError, LookupError):
    """No record of that kind with that id is visible in this tenant."""

    code = "not_found"
    template = N_("No {entity} with id {id}.")

    def __init__(self, *, entity: str, id: object) -> None:
        super().__init__(entity=entity, id=id)


class RateNotFound(NotFound):
    """No exchange rate on or before the date asked for."""

    code = "rate_not_found"
    template = N_("No {base}/{quote} exchange rate on or before {on}.")

    def __init__(self, *, base: str, quote: str, on: object) -> None:
        CrmError.__init__(
            self, entity="exchange_rate", id=f"{base}/{quote}", base=base, quote=quote, on=on
        )


class PermissionDenied(CrmError, PermissionError):
    """The actor may not do this; ``decision`` (when given) says why."""

    code = "permission_denied"
    template = N_("{actor} may not {operation} {resource}.")

    def __init__(
        self,
        *,
        actor: object,
        operation: str,
        resource: str,
        field: str | None = None,
        decision: object | None = None,
    ) -> None:
        super().__init__(
            actor=actor, operation=operation, resource=resource, field=field, decision=decision
        )

    def message(self, locale: str | None = None) -> str:
        if self.fields.get("field") is None:
            return super().message(locale)
        params = {k: self._render(k, v, locale) for k, v in self.fields.items()}
        return translate(
            N_("{actor} may not {operation} field {field} of {resource}."), locale
        ).format(**params)


class TenantMismatch(PermissionDenied):
    """A record of another tenant reached a unit of work bound to this one."""

    code = "tenant_mismatch"
    template = N_("Tenant {actor} may not {operation} a record of another tenant ({resource}).")


class InvalidTransition(CrmError):
    """A state machine was asked for a move its declaration does not allow."""

    code = "invalid_transition"
    template = N_("{machine}: cannot {trigger} from state {state}.")

    def __init__(self, *, machine: str, state: str, trigger: str, **extra: Any) -> None:
        super().__init__(machine=machine, state=state, trigger=trigger, **extra)


class GuardFailed(InvalidTransition):
    """The move exists but its guard said no."""

    code = "guard_failed"
    template = N_("{machine}: cannot {trigger} from state {state}: guard {guard} failed.")

    def __init__(self, *, machine: str, state: str, trigger: str, guard: str) -> None:
        super().__init__(machine=machine, state=state, trigger=trigger, guard=guard)


class ConcurrencyConflict(CrmError):
    """Someone else changed the record since it was read; reload and retry."""

    code = "concurrency_conflict"
    template = N_("{entity} {id} was changed by someone else (expected version {version}).")

    def __init__(self, *, entity: str, id: object, version: int) -> None:
        super().__init__(entity=entity, id=id, version=version)


class LimitExceeded(CrmError):
    """A configured limit (holding limit, credit limit, file size, ...) would be exceeded."""

    code = "limit_exceeded"
    template = N_("{limit} exceeded: {value} is over the limit of {maximum}.")

    def __init__(self, *, limit: str, value: object, maximum: object) -> None:
        super().__init__(limit=limit, value=value, maximum=maximum)


class ImportRejected(CrmError):
    """An import was refused as a whole; ``problems`` lists every bad row."""

    code = "import_rejected"
    template = N_("Import rejected: {count} problem(s) found; nothing was changed.")

    def __init__(self, *, problems: list[ValidationError]) -> None:
        super().__init__(count=len(problems))
        self.problems = problems


class IdempotencyConflict(CrmError):
    """The same idempotency key was reused with a different request."""

    code = "idempotency_conflict"
    template = N_("Idempotency key {key} was already used for a different request.")

    def __init__(self, *, key: str) -> None:
        super().__init__(key=key)


class StorageError(CrmError):
    """The storage failed in a way the caller cannot fix by changing input."""

    code = "storage_error"
    template = N_("Storage failure: {detail}. Nothing was saved.")

    def __init__(self, *, detail: str) -> None:
        super().__init__(detail=detail)


class TransientStorageError(StorageError):
    """A serialization failure or deadlock that outlived every retry."""

    code = "transient_storage_error"
    template = N_("The database kept reporting conflicts ({detail}) after {attempts} attempts.")

    def __init__(self, *, detail: str, attempts: int) -> None:
        CrmError.__init__(self, detail=detail, attempts=attempts)


class SerializationFailure(StorageError):
    """A serialization failure or deadlock: the whole use case may be retried."""

    code = "serialization_failure"
    template = N_("The database aborted the transaction to resolve a conflict ({detail}).")


class ConnectionLost(StorageError):
    """The database connection died mid-transaction; the transaction did not commit."""

    code = "connection_lost"
    template = N_("The database connection was lost ({detail}); nothing was saved.")
