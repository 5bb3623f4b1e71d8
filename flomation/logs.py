"""Log formatting: `LOG_FORMAT=json` writes one JSON object per line for log collectors.

Each line has `time` (UTC, ISO 8601), `level`, `logger`, `pid`, `message`, the exception's traceback when
there is one, and the execution and organisation ids when the call passed them
(`logger.warning(..., extra={"execution_id": ..., "organisation_id": ...})`). Messages are written as the
code formats them: the code never puts a secret in a log message, and this adds nothing else.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

CONTEXT_FIELDS = ("execution_id", "organisation_id", "trigger_id", "runner_id", "node_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value not in (None, ""):
                line[name] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
