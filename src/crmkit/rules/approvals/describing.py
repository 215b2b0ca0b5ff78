"""Describe a stored document for its approval request, the same way in every area.

An area that registers a document type with
:func:`~crmkit.rules.approvals.register_approvable` tells approvals how to read a
stored document (``describe``, see :class:`~crmkit.rules.approvals.ApprovalSubject`).
For almost every document that reading is the same four steps: find the document by
id in its repository, answer ``None`` when the area stores none by that id (a host's
own document submitted under the same type), take the facts the flow's conditions
read from the document itself, and name its permission resource and its owner. Only
what differs is declared per document, so a new approvable document cannot forget
the ``None`` case or name its owner from the wrong field.

For example, the refunds of billing::

    describe_stored(Refund, "refund", lambda refund: {"amount": refund.amount},
                    owner_field="requested_by")

A document whose facts need more than the document itself (a resubmitted credit
override reads the held order it is about) writes its own ``describe``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

from crmkit.ports import Entity, UnitOfWork
from crmkit.rules.approvals import ApprovalSubject, Describe

__all__ = ["describe_stored"]

D = TypeVar("D", bound=Entity)


def describe_stored(
    entity: type[D],
    resource: str,
    facts: Callable[[D], Mapping[str, Any]],
    *,
    owner_field: str,
) -> Describe:
    """A ``describe`` that reads a document of ``entity`` as stored.

    Args:
        entity: the class the area stores the documents as (``Refund``).
        resource: the permission resource of such a document (``"refund"``).
        facts: what the flow's conditions read, from the stored document; the same
            function the area routes a fresh submission with, so both agree.
        owner_field: the document's attribute naming who owns it (drew it up, asked
            for it), e.g. ``"owner_id"`` or ``"requested_by"``.

    Returns:
        ``describe(uow, document_id)`` for :func:`register_approvable`: the
        :class:`ApprovalSubject`, or ``None`` when no such document is stored.
    """

    def describe(uow: UnitOfWork, document_id: UUID) -> ApprovalSubject | None:
        document = uow.repository(entity).find(document_id)
        if document is None:
            return None
        owner: UUID | None = getattr(document, owner_field)
        return ApprovalSubject(facts(document), resource, document, owner)

    return describe
