"""Credentials never leave the process: userinfo in URLs is masked wherever text is formatted.

`redact_credentials` is for messages we build ourselves (health reports, configuration errors);
`RedactingFormatter` masks every log line, tracebacks included, whoever wrote it.
"""

from __future__ import annotations

import logging
import re

# scheme://user:password@host → scheme://***@host, masking up to the last "@" of the address, so
# a password holding "@", "/" or ":" is masked whole (an "@" later in a query string is masked too:
# the safe side).
URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^\s'\"<>]*)@")


def redact_credentials(text: str) -> str:
    return URL_USERINFO.sub(lambda match: f"{match['scheme']}***@", str(text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_credentials(super().format(record))
