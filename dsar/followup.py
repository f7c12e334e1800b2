"""After the first letter: reminders, the answer to an ID demand, the CNIL complaint."""

from __future__ import annotations

import dataclasses
import html
from datetime import date

import jinja2

from . import deadlines, letters
from .errors import DsarError
from .journal import Entry, Journal
from .models import Broker, Letter, Request
from .render import assemble
from .vocabulary import ANSWERED, NOT_YET_DUE, REMINDABLE


def first_request(journal: Journal, entry: Entry, on: date) -> dict:
    """The facts of the first request that follow-up letters cite, as of `on`."""
    answered = [
        e["what"].split(":", 1)[1]
        for e in journal.events(entry.reference)
        if e["what"].startswith("answer:")
    ]
    facts = entry.as_dict(on)
    facts.update(
        reference=entry.reference,
        right=entry.right,
        sent_on=entry.sent_on,
        received_on=entry.received_on,
        deadline=entry.deadline,
        # a late extension did not move the deadline: letters must not say it did
        extended_on=entry.extended_on if entry.extension_counts else None,
        late_extension_on=None if entry.extension_counts else entry.extended_on,
        reminded_on=entry.reminded_on,
        final_deadline=entry.final_deadline,
        answered_on=entry.answered_on,
        lrar_number=entry.lrar_number,
        message_id=entry.message_id,
        answered_state=answered[-1] if answered and answered[-1] in ANSWERED else None,
    )
    return facts


def _sent(entry: Entry) -> None:
    if entry.sent_on is None:
        raise DsarError(
            f"{entry.reference} has no sending date: record it first with "
            f"dsar sent {entry.reference} --on YYYY-MM-DD [--lrar NUMBER] [--received DATE]"
        )


def _follow_up(request: Request, kind: str, on: date, lang: str | None, **changes) -> Request:
    return dataclasses.replace(
        request,
        reference=letters.reference_for(request.reference, kind, on.isoformat()),
        letter_date=on,
        lang=lang or request.lang,
        **changes,
    )


def reminder(
    journal: Journal, reference: str, env: jinja2.Environment, *, on: date, lang: str | None = None
) -> tuple[Letter, dict]:
    entry = journal.entry(reference)
    _sent(entry)
    if entry.state(on) not in REMINDABLE:
        raise DsarError(
            f"{reference} is {entry.state(on)}: its deadline ({entry.deadline}) has not passed; "
            "a reminder before then has no legal weight"
        )
    first = first_request(journal, entry, on)
    extra = {"first": first, "final_deadline": deadlines.final_deadline(on)}
    request = _follow_up(
        journal.request(reference), "reminder", on, lang, lrar=entry.lrar_number is not None
    )
    return letters.render(request, env, kind="reminder", extra=extra), extra


def reply_id(
    journal: Journal, reference: str, env: jinja2.Environment, *, on: date, lang: str | None = None
) -> tuple[Letter, dict]:
    entry = journal.entry(reference)
    _sent(entry)
    extra = {"first": first_request(journal, entry, on)}
    request = _follow_up(journal.request(reference), "reply-id", on, lang)
    return letters.render(request, env, kind="reply-id", extra=extra), extra


def complaint(
    journal: Journal, reference: str, env: jinja2.Environment, cnil: Broker, *, on: date
) -> tuple[Letter, dict]:
    """Always in French: the CNIL's language."""
    entry = journal.entry(reference)
    _sent(entry)
    if entry.state(on) in NOT_YET_DUE:
        raise DsarError(
            f"{reference} is {entry.state(on)}: the recipient still has until {entry.deadline} "
            "to answer; complain after that"
        )
    original = journal.request(reference)
    replies = [path.name for role, path, _ in journal.files(reference, "reply")]
    extra = {
        "first": first_request(journal, entry, on),
        "organisation": original.broker,
        "replies": replies,
    }
    request = _follow_up(
        original, "complaint", on, "fr", broker=cnil, to_email=None, to_address=None, lrar=False
    )
    return letters.render(request, env, kind="complaint", extra=extra), extra


def proofs_html(journal: Journal, reference: str) -> str:
    """A last page listing every recorded step: dates, registered numbers, Message-IDs."""
    rows = "".join(
        f"<tr><td>{html.escape(e['on_date'] or '')}</td><td>{html.escape(e['what'])}</td>"
        f"<td>{html.escape(e['detail'] or '')}</td><td>{html.escape(e['at'])}</td></tr>"
        for e in journal.events(reference)
    )
    files = "".join(
        f"<li>{html.escape(role)} : {html.escape(path.name)} (SHA-256 {sha[:16]}…)</li>"
        for role, path, sha in journal.files(reference)
    )
    return (
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><style>"
        "@page{size:A4;margin:20mm} body{font-family:'DejaVu Sans';font-size:9pt}"
        "td,th{border:0.3mm solid #999;padding:1mm 2mm;text-align:left}"
        "table{border-collapse:collapse;width:100%}</style></head><body>"
        f"<h2>Journal de la demande {html.escape(reference)}</h2>"
        "<table><tr><th>date</th><th>étape</th><th>détail</th><th>enregistré le (UTC)</th></tr>"
        f"{rows}</table><h3>Fichiers</h3><ul>{files}</ul></body></html>"
    )


def dossier(
    journal: Journal, reference: str, complaint_pdf: bytes, renderer, reminder_refs: list[str]
) -> tuple[bytes, list[str]]:
    """One PDF: the complaint, the request, reminders, PDF replies, then the proofs page.
    Also returns the reply files left out because they are not readable PDFs (the
    proofs page still lists them with their checksum)."""
    parts = [("the complaint", complaint_pdf)]
    for ref in [reference, *reminder_refs]:
        page = journal.page_html(ref)
        if page:
            parts.append((f"the letter {ref}", renderer.render_html(page)))
    left_out = []
    for _role, path, _sha in journal.files(reference, "reply"):
        if path.suffix.lower() == ".pdf" and path.is_file():
            data = path.read_bytes()
            if assemble.readable(data):
                parts.append((f"the reply {path.name}", data))
            else:
                left_out.append(path.name)
    parts.append(("the proofs page", renderer.render_html(proofs_html(journal, reference))))
    return assemble.join(parts), left_out


def reminders_of(journal: Journal, reference: str) -> list[str]:
    return [e["detail"] for e in journal.events(reference) if e["what"] == "reminded"]
