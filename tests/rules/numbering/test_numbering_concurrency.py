"""Concurrent writers: numbers stay unique and gap-free (8 threads, 2,000 documents)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.ports import UnitOfWork
from crmkit.rules.numbering import define_numbering_rule, next_number
from tests.rules.numbering.documents import NumberedDoc, ensure_table, numbers_in

WRITERS = 8


class Rollback(Exception):
    """A use case that fails after taking its number."""


def _hammer(make_crm: Callable[[], Crm], actor: Actor, per_writer: int) -> list[str]:
    barrier = threading.Barrier(WRITERS)
    issued: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        crm = make_crm()
        barrier.wait()
        committed = 0
        n = 0
        try:
            while committed < per_writer:
                n += 1

                def work(uow: UnitOfWork, rolls_back: bool = (index + n) % 7 == 0) -> str:
                    number = next_number(uow, "contract", crm.now())
                    if rolls_back:  # every seventh attempt rolls back its number
                        raise Rollback(number)
                    uow.repository(NumberedDoc).add(
                        NumberedDoc(id=crm.new_id(), tenant_id=actor.tenant_id, number=number)
                    )
                    return number

                try:
                    number = crm.run(actor.tenant_id, work)
                except Rollback:
                    continue
                committed += 1
                with lock:
                    issued.append(number)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return issued


@pytest.mark.parametrize(
    ("backend", "per_writer"),
    [("postgresql", 2000 // WRITERS), ("sqlite", 40), ("mariadb", 800 // WRITERS)],
    indirect=["backend"],
)
def test_concurrent_writers_get_unique_gap_free_numbers(
    make_crm: Callable[[], Crm], actor: Actor, per_writer: int
) -> None:
    crm = make_crm()
    ensure_table(crm)
    define_numbering_rule(crm, actor, "contract", "HT{seq:6}")
    issued = _hammer(make_crm, actor, per_writer)
    stored = numbers_in(crm, actor.tenant_id)
    assert len(stored) == len(set(stored)) == len(issued)
    assert stored == [f"HT{n:06d}" for n in range(1, len(stored) + 1)]
    assert len(stored) == per_writer * WRITERS
