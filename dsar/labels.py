"""Envelope labels: the recipient's address block per letter, as a CSV for mail merge
(LibreOffice or Word read it; one row per letter, one column per address line).

Every cell is made formula-safe: a member's name or a registry address starting with
'=' stays text in a spreadsheet instead of running.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import sheets
from .i18n import N_, _

LINES = 6  # a French postal address has six lines at most (AFNOR NF Z10-011)
HEADER = (N_("reference"), N_("member"), *(f"line_{n}" for n in range(1, LINES + 1)))


def address_lines(block: str) -> list[str]:
    """The block's lines, the seventh and later joined to the sixth so nothing is lost."""
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    return [*lines[: LINES - 1], ", ".join(lines[LINES - 1 :])] if len(lines) > LINES else lines


def write(path: Path, labels: Iterable[tuple[str, str, str]]) -> None:
    """labels: (reference, member, address block) per letter, in dsar's one CSV dialect."""
    sheets.write(path, [_(h) for h in HEADER], (_label(*label) for label in labels))


def _label(reference: str, member: str, block: str) -> list[str]:
    lines = address_lines(block)
    return [reference, member, *lines, *[""] * (LINES - len(lines))]
