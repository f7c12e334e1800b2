"""Envelope labels: the recipient's address block per letter, as a CSV for mail merge
(LibreOffice or Word read it; one row per letter, one column per address line).

Every cell is made formula-safe: a member's name or a registry address starting with
'=' stays text in a spreadsheet instead of running.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from .files import write_private
from .safety import csv_cell

LINES = 6  # a French postal address has six lines at most (AFNOR NF Z10-011)
HEADER = ("reference", "member", *(f"line_{n}" for n in range(1, LINES + 1)))


def address_lines(block: str) -> list[str]:
    """The block's lines, the seventh and later joined to the sixth so nothing is lost."""
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    return [*lines[: LINES - 1], ", ".join(lines[LINES - 1 :])] if len(lines) > LINES else lines


def write(path: Path, labels: Iterable[tuple[str, str, str]]) -> None:
    """labels: (reference, member, address block) per letter; ';' as French Calc expects."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for reference, member, block in labels:
        lines = address_lines(block)
        cells = [reference, member, *lines, *[""] * (LINES - len(lines))]
        writer.writerow([csv_cell(c) for c in cells])
    write_private(path, "\ufeff" + out.getvalue(), overwrite=True)  # BOM: Excel reads UTF-8
