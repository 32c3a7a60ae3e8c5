"""Keep PII, tokens and secrets out of every log line, whoever logs it.

Cobro's own code logs ids, never customer data; this is the net under it. Installed once per
process, a log-record factory rewrites each record's message (with its arguments merged in)
so that e-mail addresses, phone numbers, bearer tokens/JWTs and ``key=value`` secrets are
masked before any handler, formatter or test capture sees them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt]"),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/-]+=*"), "Bearer [redacted]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # A phone number as people write one: a leading + or digit groups with separators. A bare
    # run of digits is left alone: provider payment ids (Mercado Pago, PayU) look like that.
    (re.compile(r"(?<![\w./:=])(?:\+\d[\d ()-]{6,}\d|\d{2,4}(?:[ ()-]+\d{2,4}){2,})(?![\w./])"),
     "[phone]"),
    (re.compile(r"(?i)\b(api[_-]?key|secret|password|token|authorization)(\"?\s*[:=]\s*\"?)[^\s\",}]+"),
     r"\1\2[redacted]"),
]
_installed = False
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def install_redaction() -> None:
    """Mask PII in every log record created from now on in this process (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for logging to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the traceback is masked once, here.
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
