"""Logs: plain text (the default) or one JSON object per line (``PLANGATE_LOG_FORMAT=json``).

Each record says what it is about: the HTTP request (``request_id``, the ``X-Request-Id`` the
answer carries) or the Stripe event being handled (``event_id``), taken from context
variables the API's edge and the worker set, so no log call has to pass them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.config
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("plangate_request_id", default=None)
EVENT_ID: ContextVar[str | None] = ContextVar("plangate_event_id", default=None)
LOG_FORMATS = ("text", "json")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def about_event(event_id: str) -> Iterator[None]:
    """Log records inside the block carry ``event_id``."""
    token = EVENT_ID.set(event_id)
    try:
        yield
    finally:
        EVENT_ID.reset(token)


class ContextFilter(logging.Filter):
    """Puts the current request and event ids on each record (None outside them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "event_id", None) is None:
            record.event_id = EVENT_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "event_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in line and key not in (
                "request_id", "event_id", "color_message"
            ):
                line[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger message`` and the ids, when there are any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = [
            f"{key}={value}"
            for key in ("request_id", "event_id")
            if (value := getattr(record, key, None)) is not None
        ]
        return f"{text} [{' '.join(ids)}]" if ids else text


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record is emitted, not as it was when logging
    was configured: a process that replaces its stderr later (a supervisor, a test runner's
    capture) keeps its logs, and a thread that logs after the old stream was closed does not
    fail with "I/O operation on closed file"."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """The stream is always the current ``sys.stderr``; what is set is ignored."""


def _level(level: str) -> int:
    return 5 if level == "trace" else int(logging.getLevelName(level.upper()))


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for plangate's and uvicorn's loggers (uvicorn takes
    it as ``log_config``, so every process it starts logs the same way)."""
    formatter = "json" if log_format == "json" else "text"
    handler = {
        "class": f"{__name__}.StderrHandler",
        "formatter": formatter,
        "filters": ["context"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"()": TextFormatter},
        },
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": _level(level)},
        "loggers": {
            # uvicorn's own handlers are replaced: its records go through the root's.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
            # /healthz checks the schema through alembic, which says so at info each time.
            "alembic": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: str, level: str) -> None:
    logging.config.dictConfig(logging_config(log_format, level))
