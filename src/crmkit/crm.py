"""``Crm``: the handle a host application holds.

It bundles the storage, the clock and the id generator every use case needs, and
runs use cases as one transaction each: ``crm.run(tenant_id, work)`` opens a unit
of work, calls ``work(uow)``, commits, and — when the database aborted the
transaction to resolve a serialization failure or deadlock — runs the whole
thing again, a bounded number of times with jittered exponential backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

import attrs
import pendulum

from crmkit.kernel.clock import Clock, SystemClock
from crmkit.kernel.errors import SerializationFailure, TransientStorageError
from crmkit.kernel.ids import IdGenerator, RandomIdGenerator, TenantId
from crmkit.ports import Storage, UnitOfWork

__all__ = ["Crm"]

R = TypeVar("R")


@attrs.define
class Crm:
    """Storage + clock + ids: what every service receives.

    Attributes:
        storage: a memory or SQL storage (see :func:`crmkit.connect`).
        clock: where "now" comes from; a ``FixedClock`` in tests.
        ids: makes new ids from the clock's instant.
        max_attempts: how often ``run`` tries a use case the database keeps aborting.
        backoff: base delay in seconds between attempts (doubled each time, jittered).
    """

    storage: Storage
    clock: Clock = attrs.field(factory=SystemClock)
    ids: IdGenerator = attrs.field(factory=RandomIdGenerator)
    max_attempts: int = 5
    backoff: float = 0.02
    sleep: Callable[[float], None] = time.sleep
    _jitter: random.Random = attrs.field(factory=random.Random, alias="jitter")

    def now(self) -> pendulum.DateTime:
        """The current instant from the clock."""
        return self.clock.now()

    def new_id(self) -> UUID:
        """A new time-sortable id for the current instant."""
        return self.ids.new(self.clock.now())

    def unit_of_work(self, tenant_id: TenantId) -> UnitOfWork:
        """Open a raw unit of work (prefer :meth:`run`, which also retries)."""
        return self.storage.unit_of_work(tenant_id)

    def read(self, tenant_id: TenantId, work: Callable[[UnitOfWork], R]) -> R:
        """Run ``work``, which only reads, in a read-only unit of work for ``tenant_id``.

        Cheaper than :meth:`run` for searches and lists (no write lock on SQLite, no
        BEGIN/COMMIT on PostgreSQL); a write inside ``work`` raises ``StorageError``.
        Retried like :meth:`run`.
        """
        return self._attempts(tenant_id, work, read_only=True)

    def run(self, tenant_id: TenantId, work: Callable[[UnitOfWork], R]) -> R:
        """Run ``work`` in one transaction for ``tenant_id`` and commit it.

        ``work`` must be safe to run again from the start: it is repeated whole when
        the database reports a serialization failure or deadlock.

        Raises:
            TransientStorageError: the database aborted every attempt.
        """
        return self._attempts(tenant_id, work, read_only=False)

    def _attempts(
        self, tenant_id: TenantId, work: Callable[[UnitOfWork], R], *, read_only: bool
    ) -> R:
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.storage.unit_of_work(tenant_id, read_only=read_only) as uow:
                    result = work(uow)
                    if not read_only:
                        uow.commit()
                    return result
            except SerializationFailure as failure:
                if attempt == self.max_attempts:
                    raise TransientStorageError(
                        detail=failure.fields["detail"], attempts=attempt
                    ) from failure
                delay = self.backoff * (2 ** (attempt - 1))
                self.sleep(delay * (0.5 + self._jitter.random()))
        raise AssertionError("unreachable")  # pragma: no cover
