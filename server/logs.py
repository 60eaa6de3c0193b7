"""Log output of the `sitedesk` command and the server: text (default) or one JSON object per line.

`SITEDESK_LOG_FORMAT=json` writes each record as one JSON object: `time`, `level`, `logger`,
`message`, and for GraphQL requests (server/observe.py) `request_id`, `operation`, `outcome`,
`status`, `viewer_kind`, `account_id`, `duration_ms`, `sql_statements`, `sql_ms`; uvicorn's access
lines add `method`, `path`, `status` and `client`.

Both formats scrub every line, whatever logged it: the signature of a signed download URL (ours
and an S3 presigned one) never reaches a log, the access log included. Libraries that narrate
routine work at INFO (fontTools subsetting fonts, Tortoise, boto) log at WARNING and above only.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# `signature=…` of /files URLs; `X-Amz-Signature=…` and `X-Amz-Credential=…` of presigned URLs.
SECRET_PARAMETERS = re.compile(
    r"((?:signature|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&\s\"']+", re.I
)
REDACTED = "[redacted]"
QUIET_LOGGERS = ("fontTools", "tortoise", "aiosqlite", "asyncio", "botocore", "boto3", "s3transfer", "urllib3", "PIL")


def scrub(text: str) -> str:
    return SECRET_PARAMETERS.sub(lambda m: m.group(1) + REDACTED, text)


class ScrubAccessLog(logging.Filter):
    """Scrubs uvicorn's access-log arguments at the logger, so the signature stays out even under a
    logging configuration that is not ours (e.g. `uvicorn server.app:create_app --factory`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        return True


def scrub_access_log() -> None:
    """Install `ScrubAccessLog` on uvicorn's access logger once (server/observe.py does, per app)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, ScrubAccessLog) for f in access.filters):
        access.addFilter(ScrubAccessLog())


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        fields = getattr(record, "sitedesk", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _, status = record.args
            entry.update({"client": str(client), "method": str(method), "path": scrub(str(path)), "status": status})
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the command and for uvicorn (also in each worker process)."""
    formatter = "server.logs.JsonFormatter" if log_format == "json" else "server.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "level": level,
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "INFO", "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET_LOGGERS},
        },
    }


def configure(log_format: str = "text") -> None:
    import logging.config

    logging.config.dictConfig(logging_config(log_format))
