"""The mandate forms dsar writes, as a batch meets them again: the form's own mark (an
unsigned form is never enclosed as if signed) and the organisations it names (a letter
goes only to one of them).

`dsar mandate` marks each PDF it writes in its document information (/DsarMandateForm,
with the mandate's number) and records in the journal which organisations the form
names. A scan of the printed, signed form is a new PDF without the mark; a form signed
on screen gains a signature field or a drawn annotation. What carries the mark and
neither is the form as dsar wrote it: unsigned.
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf

from .i18n import _
from .render import outside

MARK = "/DsarMandateForm"


def mark_unsigned(pdf: bytes, mandate_ref: str) -> bytes:
    """The form's PDF with dsar's mark, naming the mandate it is the form of."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.docinfo[MARK] = mandate_ref or "blank"
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


def form_reader() -> outside.FormReader:
    """Tells the forms `dsar mandate` wrote, as it wrote them (not signed), from other
    files. A file in the scans folder came back from outside: read by a limited child,
    never here (a protected or hostile PDF made this check raise or crash); one child
    for the many files of a run (a batch's scans, the forms dsar mandate finds)."""
    return outside.FormReader(MARK)


def unsigned_problem(mandate_ref: str, path: Path) -> str:
    return _(
        "{file} is the unsigned form dsar mandate wrote for {ref}, not a signed scan: have "
        "it signed, then put the scan (or the form signed on screen) in the --mandates folder"
    ).format(file=path.name, ref=mandate_ref)


def scan_in_the_way(mandate_ref: str, path: Path) -> str:
    return _(
        "{file} is not the form dsar mandate wrote (perhaps the member's signed scan): kept "
        "as it is; to write {ref}'s form again, move that file to your scans folder as "
        "{ref}.pdf first"
    ).format(file=path.name, ref=mandate_ref)


def scope_problem(mandate_ref: str, scope: list[str], recipient: str) -> str | None:
    """Why a letter to `recipient` may not go under this mandate, or None. `scope` is the
    organisations the form dsar mandate wrote names (journal.mandate_form)."""
    if recipient in scope:
        return None
    return _(
        "the mandate {ref} names only {named}, not {recipient} (as recorded when dsar mandate "
        "wrote its form): write the form again with --broker {recipient} --force, have it "
        "signed, then run the batch again"
    ).format(ref=mandate_ref, named=", ".join(scope) or "-", recipient=recipient)
