"""Bolt's own log lines, kept short and free of what Slack and members sent.

slack_bolt writes request bodies on several paths: a failed signature check (the whole
body, verification token included, at INFO), a request no listener handles (the payload's
ids, and for dialogs what was typed, plus a many-line code suggestion), a global
middleware that answers nothing (the whole body), and its default error handlers (the
error's text, which may quote a payload). The adapter checks signatures before Bolt runs
(Bolt's own check is off) and its error handler logs the error's type only; every Bolt
logger is filtered as well: lines below WARNING are dropped, the others keep their first
words (up to the first bracket or line break), the payload type they name, and the type
of the exception instead of its traceback.
"""

from __future__ import annotations

import logging
import re

LOGGER = "studybot.slack_bolt"
_CUT = re.compile(r"[({\[\n]")
_TYPE = re.compile(r"'type': '([a-z_]{1,40})'")
_EVENT_TYPE = re.compile(r"'event': \{'type': '([a-z_]{1,40})'")


class BoltLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        message = record.getMessage()
        line = _CUT.split(message, maxsplit=1)[0].strip()[:120]
        kinds = [m.group(1) for m in (_TYPE.search(message), _EVENT_TYPE.search(message)) if m]
        if kinds:
            line += f" (type {'/'.join(kinds)})"
        if record.exc_info and record.exc_info[0] is not None:
            line += f" [{record.exc_info[0].__name__}]"
        record.msg, record.args = line, None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def bolt_logger() -> logging.Logger:
    """The logger to hand ``AsyncApp``: Bolt copies its level and filter to the loggers of
    its middleware, listeners and error handlers."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, BoltLogFilter) for f in logger.filters):
        logger.addFilter(BoltLogFilter())
    return logger
