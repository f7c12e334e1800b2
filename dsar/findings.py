"""What a campaign of requests found: per recipient, how the requests ended; which
sources the answers named, for how many members; the flow from the message's sender
to the source. The figures are computed once here; the HTML page, the PDF, the CSV
and the pictures (render/charts.py) all show these same figures.

No member's name, phone or address leaves this module unless with_members is asked:
members are counted, never named.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import compose, lifecycle, sheets
from .files import check_free, publish, stage_private
from .i18n import N_, _
from .journal import Entry, Journal
from .models import Association
from .registry import fold
from .render import charts

# one outcome per request, in the order the chart stacks them
OUTCOMES = ("in-time", "late", "refused", "no-answer", "waiting", "undelivered", "unsent")
OUTCOME_NAMES = {
    "in-time": N_("answered in time"),
    "late": N_("answered late"),
    "refused": N_("refused"),
    "no-answer": N_("no answer"),
    "waiting": N_("waiting"),
    "undelivered": N_("undelivered"),
    "unsent": N_("not sent"),
}
# the per-recipient table, its CSV header and the HTML's, in this order
COLUMNS = {
    "recipient": N_("recipient"),
    "requests": N_("requests"),
    "in-time": N_("answered in time"),
    "late": N_("answered late"),
    "extended": N_("extended"),
    "refused": N_("refused"),
    "no-answer": N_("no answer"),
    "waiting": N_("waiting"),
    "complaints": N_("complaints"),
    "median_days": N_("median days to answer"),
}
SOURCE_COLUMNS = {
    "source": N_("source named"),
    "named_by": N_("named by"),
    "answers": N_("answers"),
    "members": N_("members"),
}
MEMBER_COLUMNS = {
    "member": N_("member"),
    "reference": N_("reference"),
    "recipient": N_("recipient"),
    "outcome": N_("outcome"),
}
FLOW_COLUMNS = (N_("message sender"), N_("party"), N_("broker"), N_("source"))
# an answer that is one: an ID demand does not stop the deadline (LEGAL.md)
ANSWERS = ("answered", "partial", "closed", "refused")


@dataclass
class Recipient:
    slug: str
    name: str
    outcomes: Counter = field(default_factory=Counter)
    extended: int = 0
    complaints: int = 0
    days: list[int] = field(default_factory=list)  # receipt to answer, for the median

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    def cells(self) -> list:
        median = self.median_days
        return [
            self.name,
            self.requests,
            *(self.outcomes[o] for o in ("in-time", "late")),
            self.extended,
            *(self.outcomes[o] for o in ("refused", "no-answer", "waiting")),
            self.complaints,
            "" if median is None else (int(median) if median == int(median) else median),
        ]


@dataclass
class Source:
    name: str
    named_by: set[str] = field(default_factory=set)
    answers: int = 0
    members: set[str] = field(default_factory=set)  # counted, never shown

    def cells(self) -> list:
        return [self.name, ", ".join(sorted(self.named_by)), self.answers, len(self.members)]


@dataclass
class Findings:
    title: str
    as_of: date
    recipients: list[Recipient]
    sources: list[Source]
    flow: Counter  # (column, from, to) -> requests
    members: int  # how many members (or people) the requests were for
    requests: int
    # (member, reference, recipient, outcome): only with --with-members
    member_rows: list[list[str]] | None = None

    def header(self, columns: dict) -> list[str]:
        return [_(words) for words in columns.values()]


def outcome(entry: Entry, last_answer: str | None, as_of: date) -> str:
    """How a request ended, one word: an answer in or after the deadline in force when
    it came (extended or not), a refusal, no answer once the deadline passed."""
    if entry.sent_on is None:
        return "unsent"
    if last_answer == "undelivered":
        return "undelivered"
    if last_answer == "refused":
        return "refused"
    due = entry.dates.due
    if last_answer in ANSWERS and entry.answered_on:
        return "in-time" if due is None or entry.answered_on <= due else "late"
    return "no-answer" if due and as_of > due else "waiting"


def last_answers(journal: Journal, entry: Entry) -> str | None:
    answers = [
        e["what"] for e in journal.events(entry.reference) if e["what"].startswith("answer:")
    ]
    return answers[-1].split(":", 1)[1] if answers else None


def named_sources(journal: Journal) -> dict[str, list[str]]:
    """The sources the inbox's confirmed answers named, by request: the inbox's own
    table (dsar/inbox/store.py), read here because the inbox sits above this layer."""
    have = journal.db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='inbox_messages'"
    ).fetchone()
    found: dict[str, list[str]] = defaultdict(list)
    if not have:
        return found
    rows = journal.db.execute(
        "SELECT reference, facts FROM inbox_messages WHERE kind = 'source-named'"
        " AND status IN ('applied', 'confirmed') AND reference IS NOT NULL ORDER BY id"
    )
    for reference, facts in rows:
        name = (json.loads(facts) or {}).get("organisation")
        if isinstance(name, str) and name.strip():
            found[reference].append(" ".join(name.split())[:80])
    return found


def gather(
    journal: Journal,
    registry,
    as_of: date,
    *,
    association: Association | None = None,
    references: set[str] | None = None,
    with_members: bool = False,
) -> Findings:
    """The figures of the requests: an association's (those under its mandates), or
    all of the journal's (a person's own requests), optionally those of one batch."""
    sources_of = named_sources(journal)
    complained = {e.follows for e in journal.entries(kind="complaint")}
    recipients: dict[str, Recipient] = {}
    sources: dict[str, Source] = {}
    flow: Counter = Counter()
    people: set[str] = set()
    member_rows = []
    count = 0
    party_cache: dict[tuple[str, str], list] = {}  # a batch's members share one message
    for entry in journal.entries():
        if references is not None and entry.reference not in references:
            continue
        request = journal.request(entry.reference)
        if association is not None and (
            request.mandate is None or request.mandate.association.name != association.name
        ):
            continue
        count += 1
        person = fold(request.requester.name)
        people.add(person)
        broker = request.broker
        row = recipients.setdefault(broker.slug, Recipient(broker.slug, broker.name))
        state = last_answers(journal, entry)
        found = outcome(entry, state, as_of)
        row.outcomes[found] += 1
        row.extended += entry.extended_on is not None
        row.complaints += entry.reference in complained or entry.stored_state == "complained"
        if found in ("in-time", "late", "refused") and entry.receipt and entry.answered_on:
            row.days.append((entry.answered_on - entry.receipt).days)
        named = sources_of.get(entry.reference, [])
        for name in dict.fromkeys(named):
            source = sources.setdefault(fold(name), Source(name))
            source.named_by.add(broker.name)
            source.answers += 1
            source.members.add(person)
        # the party: confirmed, or the recipient itself, or the one the message names
        key = (request.evidence.sender, request.evidence.text)
        if key not in party_cache:
            party_cache[key] = compose.party_behind(registry, request.evidence)
        named_parties = party_cache[key]
        party = (
            request.campaign_party
            or (broker if broker.kind == "party" else None)
            or (named_parties[0] if named_parties else None)
        )
        path = (
            request.evidence.sender.strip()[:40] or _("unknown"),
            party.name if party else _("not known"),
            broker.name if broker.kind != "party" else _("(the party itself)"),
            # one name per source however each reply cased it (the sources table's)
            sources[fold(named[0])].name if named else _("not named"),
        )
        for column in range(3):
            flow[(column, path[column], path[column + 1])] += 1
        if with_members:
            member_rows.append(
                [
                    request.requester.name,
                    entry.reference,
                    broker.name,
                    _(OUTCOME_NAMES[found]),
                ]
            )
    title = (
        _("Requests of {association}").format(association=association.name)
        if association
        else _("Requests in the journal")
    )
    return Findings(
        title=title,
        as_of=as_of,
        recipients=sorted(recipients.values(), key=lambda r: (-r.requests, r.name)),
        sources=sorted(sources.values(), key=lambda s: (-len(s.members), s.name)),
        flow=flow,
        members=len(people),
        requests=count,
        member_rows=sorted(member_rows) if with_members else None,
    )


def complainable(journal: Journal, entry: Entry, as_of: date) -> str | None:
    """Why a member's request belongs in a complaint as of a day, or None: no answer
    once the deadline (or the reminder's final date) ran out, a refusal, a partial
    answer; the lifecycle must allow a complaint now."""
    if not lifecycle.allowed("complain", entry, as_of) or entry.stored_state == "complained":
        return None
    state = last_answers(journal, entry)
    if state in ("refused", "partial"):
        return state
    if state in (None, "id-requested") and outcome(entry, state, as_of) == "no-answer":
        return "no-answer"
    return None


# ------------------------------------------------------------------ the files

FILES = {
    "html": "report.html",
    "pdf": "report.pdf",
    "recipients": "report-recipients.csv",
    "sources": "report-sources.csv",
    "outcomes": "report-outcomes.svg",
    "flow": "report-flow.svg",
    "members": "report-members.csv",
}


def pictures(found: Findings) -> dict[str, str]:
    """The two pictures, as SVG text."""
    names = [r.name for r in found.recipients]
    series = [
        (_(OUTCOME_NAMES[o]), [r.outcomes[o] for r in found.recipients])
        for o in OUTCOMES
        if any(r.outcomes[o] for r in found.recipients)
    ]
    return {
        "outcomes": charts.outcomes(names, series, _("Outcome of the requests, per recipient")),
        "flow": charts.flow(
            [_(c) for c in FLOW_COLUMNS],
            found.flow,
            _("From the message to the source: requests"),
            _("other"),
        ),
    }


def page(found: Findings, env, svgs: dict[str, str], lang: str) -> str:
    from markupsafe import Markup

    return env.get_template("report.html.j2").render(
        lang=lang,
        found=found,
        as_of=found.as_of.isoformat(),
        words={
            "title": found.title,
            "as_of": _("as of {day}").format(day=found.as_of.isoformat()),
            "summary": _("{requests} requests for {members} people").format(
                requests=found.requests, members=found.members
            ),
            "recipients": _("Per recipient"),
            "sources": _("Sources named in the answers"),
            "no_source": _("No answer named a source yet."),
            "members": _("Per member"),
            "pictures": _("Pictures"),
            "outcome_note": _(
                "Answered in time or late: by the deadline in force when the answer came "
                "(an extension notified within the first month moves it). A demand for an "
                "identity card is not an answer. Median days: from receipt to the answer."
            ),
        },
        header=found.header(COLUMNS),
        rows=[r.cells() for r in found.recipients],
        source_header=found.header(SOURCE_COLUMNS),
        source_rows=[s.cells() for s in found.sources],
        member_header=found.header(MEMBER_COLUMNS),
        outcomes_svg=Markup(svgs["outcomes"]),  # noqa: S704 (matplotlib's, labels escaped)
        flow_svg=Markup(svgs["flow"]),  # noqa: S704
    )


def write(found: Findings, out_dir: Path, env, renderer, lang: str, *, force: bool) -> list[Path]:
    """Every file of the report, all or none: each staged under a hidden name, then
    all given their names once every one is written (0600)."""
    wanted = {k: v for k, v in FILES.items() if k != "members" or found.member_rows is not None}
    targets = {key: out_dir / name for key, name in wanted.items()}
    check_free(targets.values(), overwrite=force)
    svgs = pictures(found)
    html = page(found, env, svgs, lang)
    contents: dict[str, bytes | str] = {
        "html": html,
        "pdf": renderer.render_html(html),
        "recipients": sheets.text(found.header(COLUMNS), [r.cells() for r in found.recipients]),
        "sources": sheets.text(found.header(SOURCE_COLUMNS), [s.cells() for s in found.sources]),
        "outcomes": svgs["outcomes"],
        "flow": svgs["flow"],
    }
    if found.member_rows is not None:
        contents["members"] = sheets.text(found.header(MEMBER_COLUMNS), found.member_rows)
    staged: dict[str, Path] = {}
    try:
        for key, target in targets.items():
            staged[key] = stage_private(target, contents[key])
    except BaseException:
        for path in staged.values():
            path.unlink(missing_ok=True)
        raise
    for key, target in targets.items():
        publish(staged[key], target)
    return list(targets.values())
