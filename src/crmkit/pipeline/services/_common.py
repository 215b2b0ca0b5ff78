"""Helpers the pipeline's use cases share."""

from __future__ import annotations

import uuid

from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import Member

__all__ = [
    "department_of",
]


def department_of(uow: UnitOfWork, user_id: uuid.UUID | None) -> uuid.UUID | None:
    """The owner's department, which records carry for department-scoped permissions."""
    member = None if user_id is None else uow.repository(Member).find(user_id)
    return None if member is None else member.department_id
