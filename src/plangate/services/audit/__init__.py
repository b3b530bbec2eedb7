"""The audit log: every operator action, with who, what, on what, and the state before and
after. This package is the only writer of ``audit_log``."""

from plangate.services.audit.log import AuditRecord, list_entries, record_action

__all__ = ["AuditRecord", "list_entries", "record_action"]
