"""The one clock: every 'today' in dsar comes from here, so tests and --as-of move it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

_fixed: date | None = None


def today() -> date:
    """The day dsar works on: the real date unless a caller fixed one."""
    return _fixed or date.today()


@contextmanager
def fixed(day: date | None) -> Iterator[None]:
    """Work as if it were `day` (None: the real date) inside the block."""
    global _fixed
    before, _fixed = _fixed, day
    try:
        yield
    finally:
        _fixed = before
