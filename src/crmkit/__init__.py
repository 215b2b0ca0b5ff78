"""crmkit: an embeddable CRM domain library.

Importing crmkit has no side effects: no engine, no environment read, no logging
set-up beyond a ``NullHandler``.
"""

from __future__ import annotations

import logging

from crmkit.connect import connect
from crmkit.crm import Crm
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    CrmError,
    ImportRejected,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ValidationError,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ConcurrencyConflict",
    "Crm",
    "CrmError",
    "ImportRejected",
    "InvalidTransition",
    "LimitExceeded",
    "NotFound",
    "PermissionDenied",
    "ValidationError",
    "connect",
]
__version__ = "0.1.0"
