"""An association's complaint to the CNIL about one recipient, for all the members
whose requests to it ran out unanswered, were refused or answered in part.

Art. 80(1) GDPR is claimed only when the association qualifies on the letter's day
(Association.art80_on: declared five years or more, data protection in its purpose,
LIL art. 37): then one complaint, an annex with a row per member and the mandates
enclosed. Otherwise the members' own complaints (followup.complaint, under the
ordinary mandate) go together under one cover letter that claims nothing of Art. 80.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import findings
from .errors import DsarError
from .followup import ANSWERS_FR, first_request, missing_proofs
from .i18n import _
from .journal import Journal
from .models import Association, Broker
from .render import outside

WHY_FR = {
    "no-answer": "aucune réponse dans le délai",
    "refused": "refus",
    "partial": "réponse partielle",
}


@dataclass
class Case:
    """One member's request in the complaint: the facts the annex prints."""

    reference: str
    mandate_ref: str
    why: str  # no-answer, refused, partial
    facts: dict  # followup.first_request: dates, proofs of sending, what is missing
    proofs: list[str]  # the proofs held, by file name
    to_add: list[str]  # the proofs not held: « pièce non jointe »
    files: list[str] = field(default_factory=list)  # its own complaint's files (no Art. 80)

    @property
    def why_fr(self) -> str:
        return WHY_FR[self.why]


def cases(journal: Journal, association: Association, slug: str, on: date) -> list[Case]:
    """The members' requests to `slug` under this association's mandate that a
    complaint may name on `on`; none is an error saying why."""
    found = []
    for entry in journal.entries(broker=slug):
        request = journal.request(entry.reference)
        if request.mandate is None or request.mandate.association.name != association.name:
            continue
        why = findings.complainable(journal, entry, on)
        if why is None:
            continue
        found.append(
            Case(
                reference=entry.reference,
                mandate_ref=request.mandate.reference,
                why=why,
                facts=first_request(journal, entry, on),
                proofs=[p.name for _r, p, _s in journal.files(entry.reference, "proof")],
                to_add=[m["what"] for m in missing_proofs(journal, entry.reference)],
            )
        )
    if not found:
        raise DsarError(
            _(
                "no request of {association}'s members to {recipient} ran out unanswered, was "
                "refused or answered in part as of {day}: nothing to complain about yet "
                "(see dsar status --broker {recipient})"
            ).format(association=association.name, recipient=slug, day=on)
        )
    return sorted(found, key=lambda c: (c.mandate_ref, c.reference))


def file_name(slug: str, on: date, *, cover: bool = False) -> str:
    kind = "cover-letter" if cover else "collective-complaint"
    return f"{kind}-{slug}-{on.isoformat()}.pdf"


def _context(association, organisation, cases_, on, scans, cnil) -> dict:
    return {
        "lang": "fr",
        "cnil": cnil,
        "association": association,
        "organisation": organisation,
        "cases": cases_,
        "on": on,
        "answers_fr": ANSWERS_FR,
        "enclosed": {ref for ref, path in scans.items() if path is not None},
        "why_counts": {
            w: sum(c.why == w for c in cases_) for w in WHY_FR if any(c.why == w for c in cases_)
        },
        "why_fr": WHY_FR,
    }


def letter(
    env, association: Association, organisation: Broker, cases_, on: date, scans, cnil: Broker
) -> str:
    """The one complaint under Art. 80(1): only for an association that qualifies."""
    if not association.art80_on(on):
        raise DsarError("Art. 80(1) is claimed only by an association that qualifies")
    context = _context(association, organisation, cases_, on, scans, cnil)
    return env.get_template("collective/complaint.html.j2").render(**context)


def cover(
    env, association: Association, organisation: Broker, cases_, on: date, scans, cnil: Broker
) -> str:
    """The cover letter of the members' own complaints: no Art. 80(1) claim."""
    context = _context(association, organisation, cases_, on, scans, cnil)
    return env.get_template("collective/cover.html.j2").render(**context)


def enclose(complaint_pdf: bytes, scans: dict[str, Path | None], work: Path) -> bytes:
    """The complaint, then each signed mandate found, as copies vetted by outside.vet and
    joined by its limited child (the annex lists the rest as « pièce non jointe »)."""
    parts: list[bytes | Path] = [complaint_pdf]
    parts += [path for _ref, path in sorted(scans.items()) if path is not None]
    return outside.join(parts, work)
