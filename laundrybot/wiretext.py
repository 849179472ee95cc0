"""Text from outside that the rest of the program can store, log and send again.

JSON may carry a lone UTF-16 surrogate as an escape (``"\\ud800"``): Python decodes it into a
``str`` that cannot be encoded as UTF-8, so SQLite, sockets and log files refuse it later, far
from where it came in. Every protocol boundary checks its strings with ``is_storable``.
"""

from __future__ import annotations


def is_storable(text: str) -> bool:
    """True when ``text`` encodes as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
