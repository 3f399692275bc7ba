"""No CPR number in any log record, whichever library emits it.

zeep dumps whole envelopes at DEBUG and signxml logs every canonicalised string it digests: both contain the CPR
numbers of citizens in treatment. A filter on a logger does not apply to records of its child loggers, so the
library attaches :class:`ScrubCpr` to every logger known to see envelopes, and the ``smdb`` command also attaches
it to the handlers it installs, which catches records of any logger in that process.
"""

from __future__ import annotations

import logging

from smdb.cpr import scrub

#: Loggers that can see an envelope or a canonicalised part of one.
ENVELOPE_LOGGERS = (
    "smdb",
    "zeep",
    "zeep.transports",
    "zeep.wsdl.bindings.soap",
    "signxml",
    "signxml.processor",
    "signxml.signer",
    "signxml.verifier",
    "urllib3.connectionpool",
)


class ScrubCpr(logging.Filter):
    """Render the record once and mask every CPR-like number in it (and in an attached traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, bytes):
            record.msg = record.msg.decode("utf-8", "replace")
        if not isinstance(record.msg, str):
            record.msg = str(record.msg)
        record.msg = scrub(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def install_log_scrubbing() -> None:
    """Idempotent: attach the CPR filter to every logger that can see an envelope."""
    for name in ENVELOPE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubCpr) for f in logger.filters):
            logger.addFilter(ScrubCpr())


def scrub_handlers(logger: logging.Logger | None = None) -> None:
    """Attach the CPR filter to the handlers of ``logger`` (the root logger by default): every record that reaches
    them is masked, whichever logger emitted it."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, ScrubCpr) for f in handler.filters):
            handler.addFilter(ScrubCpr())
