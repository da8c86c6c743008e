"""Logging for the entry points (CLI, worker, API). Never called at import of a workflow module.

One pipeline for everything: our structlog loggers and the stdlib ones (uvicorn, asyncpg,
temporalio, including `workflow.logger` and `activity.logger`) go through the same processors,
so every line carries the bound context (request id, actor, product id, workflow id) and every
line passes the redactor, which keeps tokens, passwords and keys out of the logs whatever
the call site logged.
"""

import logging
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog

LogFormat = Literal["auto", "json", "console"]
REDACTED = "[redacted]"

# Keys whose values are never logged, whatever they hold.
_SECRET_KEY = re.compile(
    r"(authorization|token|password|passwd|secret|api[_-]?key|cookie|credential|private[_-]?key)",
    re.IGNORECASE,
)
# Secrets inside free text: bearer credentials, our API tokens, passwords in connection URLs.
_SECRET_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"\blc_[A-Za-z0-9_-]{8,}"), "lc_" + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),  # JWTs
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1" + REDACTED + "@"),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key) and value not in (None, "", 0, False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The last processor before rendering: no token, password or key reaches the output."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _redact_value(key, value)
    return event_dict


class Deferred:
    """A context value known only later in the unit of work (the actor, once the request has
    authenticated), bound at its start and resolved whenever a line is logged; None: left out."""

    def __init__(self, resolve: Callable[[], Any]) -> None:
        self._resolve = resolve

    def __call__(self) -> Any:
        return self._resolve()

    def __repr__(self) -> str:
        """Where logging was not configured by us (a test, a library's own setup), renderers
        fall back to repr: show the value, not the wrapper."""
        return repr(self._resolve())


def resolve_deferred(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, Deferred):
            resolved = value()
            if resolved is None:
                del event_dict[key]
            else:
                event_dict[key] = resolved
    return event_dict


def drop_foreign_noise(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Extras other libraries attach that repeat the message: Temporal's forwarded core lines
    carry a raw `temporal_log` object (not JSON), uvicorn an ANSI-coloured `color_message`."""
    event_dict.pop("temporal_log", None)
    event_dict.pop("color_message", None)
    return event_dict


def shared_processors() -> list[structlog.types.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        resolve_deferred,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(
    level: str = "INFO",
    *,
    fmt: LogFormat = "auto",
    stream: TextIO | None = None,
    cache: bool = True,
) -> None:
    """JSON lines when not on a terminal, readable console output when on one (or as `fmt`
    says); to stderr by default, so stdout stays for data. `cache=False` keeps loggers
    re-configurable (tests that configure and then restore logging)."""
    out = stream if stream is not None else sys.stderr
    console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    shared = shared_processors()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=cache,
    )
    finishing: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta
    ]
    if not console:  # the console renderer prints tracebacks itself; JSON needs them as text
        finishing.append(structlog.processors.format_exc_info)
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), drop_foreign_noise],
            processors=[*finishing, redact_secrets, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log would be a second line per request; api.request_log writes the one.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request's URL at INFO; a webhook URL may carry a token in its query.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
