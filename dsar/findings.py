"""What a campaign of requests found: per recipient, how the requests ended; which
sources the answers named, for how many members; the flow from the message's sender
to the source. The figures are computed once here; the HTML page, the PDF, the CSV
and the pictures (render/charts.py) all show these same figures.

No member's name, phone or address leaves this module unless with_members is asked:
members are counted, never named.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from . import lifecycle, sheets
from .fields import long_date
from .files import check_free, publish, stage_private
from .i18n import N_, _, language, ngettext
from .journal import Entry, Journal
from .models import Association
from .registry import LEGAL_FORMS, bare_name, fold
from .render import charts
from .safety import printable

# one outcome per request sent, in the order the chart stacks them; a request never
# sent is no outcome: it is counted apart (a draft is not a request to anyone)
OUTCOMES = (
    "in-time",
    "late",
    "late-estimated",
    "partial",
    "refused",
    "id-demanded",
    "no-answer",
    "waiting",
    "undelivered",
)
OUTCOME_NAMES = {
    "in-time": N_("answered in time"),
    "late": N_("answered late"),
    # no receipt date recorded: the deadline ran from the posting date, an estimate
    "late-estimated": N_("late (estimated deadline)"),
    "partial": N_("answered in part"),  # as the complaint says it: « réponse partielle »
    "refused": N_("refused"),
    "id-demanded": N_("identification requested"),
    "no-answer": N_("no answer"),
    "waiting": N_("waiting"),
    "undelivered": N_("undelivered"),
    "unsent": N_("not sent"),
}
# the per-recipient table, its CSV header and the HTML's, in this order: the sent
# requests are the sum of the outcome columns that follow them
COLUMNS = {
    "recipient": N_("recipient"),
    "requests": N_("sent requests"),
    **{o: OUTCOME_NAMES[o] for o in OUTCOMES},
    "extended": N_("extended"),
    # notified after the first month: no effect on the deadline (Art. 12(3))
    "late_extended": N_("late extension (no effect)"),
    "complaints": N_("complaints filed with the CNIL"),
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
FLOW_COLUMNS = (
    N_("sender shown"),
    N_("party (established)"),
    N_("organisation asked"),
    N_("source given in its answer"),
)
# an answer that is one: an ID demand does not stop the deadline (LEGAL.md)
ANSWERS = ("answered", "partial", "closed", "refused")
# a source a reply named that is not surely an organisation: it may be a person ("we
# had your number from Jean Dupont"), whose name a report that is published never carries
OTHER_SOURCE = N_("other source (not named in the report)")
# words a person's name does not hold, an organisation's may (folded, singular): the
# nouns the inbox strips before a name (inbox/meaning.py _DETERMINER) and trades' words
ORGANISATION_WORDS = frozenset({
    "societe", "site", "partenaire", "entreprise", "marque", "prestataire", "annonceur",
    "company", "partner", "website", "firm", "advertiser", "groupe", "group", "association",
    "fondation", "federation", "mutuelle", "banque", "bank", "assurance", "insurance",
    "agence", "agency", "institut", "institute", "cabinet", "compagnie", "edition", "media",
    "marketing", "data", "digital", "solution", "service", "consulting", "conseil", "telecom",
    "communication", "holding", "industrie", "international", "france", "europe", "parti",
    "club", "magazine", "journal", "radio", "boutique", "shop", "store", "immobilier",
    "energie", "finance", "credit", "distribution", "commerce", "direct", "centre", "center",
    "jeu", "concours", "loterie", "lottery", "annuaire", "operateur", "mobile", "sondage",
    "enquete", "laboratoire", "network", "reseau", "system", "technologie", "tech", "web",
    "online", "promotion", "voyage", "travel", "fichier", "lead", "optin", "sms",
})  # fmt: skip
_DOMAIN = re.compile(r"\w\.(?:fr|com|net|org|eu|io|biz|info|de|be|ch|uk)\b", re.I)
_PHONE_DIGITS = 8  # a sender with this many digits is a phone number; a short code has 5


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def nameable(name: str, registry) -> bool:
    """Whether a source may be named in a report: an entry of the registry (its name,
    alias or slug, legal form aside), or a name only an organisation carries (a legal
    form, a web domain, a trade's word). Anything else may be a person: counted, not
    named."""
    bare = bare_name(name)
    words = {_singular(w) for w in fold(name).split()}
    if words & LEGAL_FORMS or words & ORGANISATION_WORDS or _DOMAIN.search(name):
        return True
    return bool(bare) and any(
        bare == label or (len(label) >= 3 and f" {label} " in f" {bare} ")
        for broker in registry.brokers.values()
        for label in map(bare_name, (broker.slug.replace("-", " "), broker.name, *broker.aliases))
    )


def sender_shown(sender: str) -> str:
    """The message's sender as the report shows it: a phone number (a person's, maybe)
    is not shown; a short code or a name is."""
    if sum(c.isdigit() for c in sender) >= _PHONE_DIGITS:
        return _("a phone number (not shown)")
    return printable(sender).strip()[:40] or _("unknown")


@dataclass
class Recipient:
    slug: str
    name: str
    outcomes: Counter = field(default_factory=Counter)
    extended: int = 0  # notified in time: the deadline moved
    late_extended: int = 0  # notified after the first month: it did not
    complaints: int = 0
    days: list[int] = field(default_factory=list)  # receipt to answer, for the median

    @property
    def requests(self) -> int:
        """The requests sent: a draft or a letter never posted is none."""
        return sum(self.outcomes[o] for o in OUTCOMES)

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    def cells(self) -> list:
        median = self.median_days
        return [
            self.name,
            self.requests,
            *(self.outcomes[o] for o in OUTCOMES),
            self.extended,
            self.late_extended,
            self.complaints,
            "" if median is None else _decimal(median),
        ]


def _decimal(number: float) -> int | str:
    """25 or 25.5, and 25,5 in French (a French spreadsheet reads 25.5 as text)."""
    if number == int(number):
        return int(number)
    return str(number).replace(".", ",") if language() == "fr" else str(number)


@dataclass
class Source:
    name: str
    named_by: set[str] = field(default_factory=set)
    answers: int = 0
    members: set[str] = field(default_factory=set)  # counted, never shown

    def cells(self) -> list:
        return [self.name, ", ".join(sorted(self.named_by)), self.answers, len(self.members)]

    def said(self) -> list:
        """The page's row: what an organisation wrote, not what the association checked."""
        name, by, *counts = self.cells()
        return [
            name,
            _("according to the answer of {names}, not verified").format(names=by),
            *counts,
        ]


@dataclass
class Findings:
    title: str
    as_of: date
    recipients: list[Recipient]
    sources: list[Source]
    flow: Counter  # (column, from, to) -> requests
    members: int  # how many members (or people) the sent requests were for
    requests: int  # the requests sent
    unsent: int = 0  # drafts and letters never posted: counted nowhere else
    # (member, reference, recipient, outcome): only with --with-members
    member_rows: list[list[str]] | None = None

    def header(self, columns: dict) -> list[str]:
        return [_(words) for words in columns.values()]

    @property
    def undelivered(self) -> int:
        return sum(r.outcomes["undelivered"] for r in self.recipients)


@dataclass(frozen=True)
class Facts:
    """What the journal knew of a request on a day: each fact taken only if it was
    recorded as of that day (an answer by its date, a complaint by its filing)."""

    entry: Entry  # its extension and answer date as known that day
    answer: str | None  # the last answer's state
    complained: bool  # a complaint recorded as filed (dsar sent COMPLAINT)


def facts(journal: Journal, entry: Entry, as_of: date) -> Facts:
    answer, answered_on, complained = None, None, False
    for event in journal.events(entry.reference):
        on = date.fromisoformat(event["on_date"]) if event["on_date"] else None
        if on is None or on > as_of:
            continue
        what = event["what"]
        if what.startswith("answer:"):
            answer = what.split(":", 1)[1]
            if answer in ANSWERS:
                answered_on = on
        complained |= what == "complained"
    sent = entry.sent_on if entry.sent_on and entry.sent_on <= as_of else None
    extended = entry.extended_on if entry.extended_on and entry.extended_on <= as_of else None
    known = replace(
        entry,
        sent_on=sent,
        received_on=entry.received_on if sent else None,
        extended_on=extended,
        answered_on=answered_on,
    )
    return Facts(known, answer, complained)


def outcome(entry: Entry, last_answer: str | None, as_of: date) -> str:
    """How a request ended, one word: an answer in or after the deadline in force when
    it came (extended or not), partial, a refusal, an ID demand, no answer once the
    deadline passed. Late against a deadline run from the posting date (no receipt
    date recorded) is an estimate, said apart."""
    if entry.sent_on is None:
        return "unsent"
    if last_answer == "undelivered":
        return "undelivered"
    if last_answer in ("refused", "partial"):
        return last_answer
    dates = entry.dates
    if last_answer in ANSWERS and entry.answered_on:
        if dates.due is None or entry.answered_on <= dates.due:
            return "in-time"
        return "late-estimated" if dates.estimated else "late"
    if last_answer == "id-requested":
        return "id-demanded"
    return "no-answer" if dates.due and as_of > dates.due else "waiting"


def last_answers(journal: Journal, entry: Entry) -> str | None:
    answers = [
        e["what"] for e in journal.events(entry.reference) if e["what"].startswith("answer:")
    ]
    return answers[-1].split(":", 1)[1] if answers else None


def named_sources(journal: Journal, as_of: date | None = None) -> dict[str, list[str]]:
    """The sources the inbox's confirmed answers named, by request, from answers dated
    on or before `as_of`: the inbox's own table (dsar/inbox/store.py), read here because
    the inbox sits above this layer."""
    have = journal.db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='inbox_messages'"
    ).fetchone()
    found: dict[str, list[str]] = defaultdict(list)
    if not have:
        return found
    rows = journal.db.execute(
        "SELECT reference, facts, COALESCE(sent_at, seen_at) FROM inbox_messages"
        " WHERE kind = 'source-named' AND status IN ('applied', 'confirmed')"
        " AND reference IS NOT NULL ORDER BY id"
    )
    for reference, facts_, dated in rows:
        if as_of is not None and (dated or "")[:10] > as_of.isoformat():
            continue
        name = (json.loads(facts_) or {}).get("organisation")
        if isinstance(name, str) and printable(name).strip():  # as trail/show clean it
            found[reference].append(" ".join(printable(name).split())[:80])
    return found


def person_key(request) -> str:
    """Who a request is for, counted once: the member's mandate, else the number it is
    about. Never the name: two members called Chloé Thomas are two people."""
    person = request.requester
    if request.mandate is not None:
        return f"mandate:{request.mandate.reference}"
    return f"contact:{person.phone or person.email or fold(person.name)}"


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
    all of the journal's (a person's own requests), optionally those of one batch;
    every fact as the journal knew it on `as_of`."""
    sources_of = {
        reference: [name if nameable(name, registry) else _(OTHER_SOURCE) for name in names]
        for reference, names in named_sources(journal, as_of).items()
    }
    recipients: dict[str, Recipient] = {}
    sources: dict[str, Source] = {}
    flow: Counter = Counter()
    people: set[str] = set()
    member_rows = []
    count = unsent = 0
    for entry in journal.entries():
        if references is not None and entry.reference not in references:
            continue
        request = journal.request(entry.reference)
        if association is not None and (
            request.mandate is None or request.mandate.association.name != association.name
        ):
            continue
        known = facts(journal, entry, as_of)
        found = outcome(known.entry, known.answer, as_of)
        broker = request.broker
        if with_members:
            row_words = [request.requester.name, entry.reference, broker.name]
            member_rows.append([*row_words, _(OUTCOME_NAMES[found])])
        if found == "unsent":
            unsent += 1
            continue
        count += 1
        person = person_key(request)
        people.add(person)
        row = recipients.setdefault(broker.slug, Recipient(broker.slug, broker.name))
        row.outcomes[found] += 1
        row.extended += bool(known.entry.extended_on) and known.entry.extension_counts
        row.late_extended += known.entry.dates.late_extension is not None
        row.complaints += known.complained
        answered_on, receipt = known.entry.answered_on, known.entry.receipt
        if found in ("in-time", "late", "late-estimated", "partial", "refused") and (
            receipt and answered_on
        ):
            row.days.append((answered_on - receipt).days)
        named = sources_of.get(entry.reference, [])
        for name in dict.fromkeys(named):
            source = sources.setdefault(fold(name), Source(name))
            source.named_by.add(broker.name)
            source.answers += 1
            source.members.add(person)
        # a party stands behind an organisation asked only when the person confirmed
        # it (campaign_party) or the party was asked itself: having written to both
        # establishes nothing
        party = request.campaign_party or (broker if broker.kind == "party" else None)
        if named:
            # one name per source however each reply cased it (the sources table's)
            source_name = sources[fold(named[0])].name
        else:
            source_name = (
                _("not named")
                if known.answer in ANSWERS
                else _(
                    "no answer on the merits (undelivered, identification requested, "
                    "waiting or no answer)"
                )
            )
        path = (
            sender_shown(request.evidence.sender),
            party.name if party else _("not established"),
            broker.name if broker.kind != "party" else _("(the party itself)"),
            source_name,
        )
        for column in range(3):
            flow[(column, path[column], path[column + 1])] += 1
    # French writes the association with its article: « de l’Association … »
    title = (
        _("Requests of {association}").format(
            association=association.named if language() == "fr" else association.name
        )
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
        unsent=unsent,
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
    due = entry.dates.due
    if not (entry.sent_on and due and as_of > due):
        return None
    if state is None:
        return "no-answer"
    # an identification request is no answer on the merits, but a complaint says
    # "unanswered" only once the member replied to it (dsar reply-id); until then the
    # member is held back (id_unanswered)
    if state == "id-requested" and not id_unanswered(journal, entry):
        return "id-requested"
    return None


def id_unanswered(journal: Journal, entry: Entry) -> bool:
    """The request's last answer asked for identification and no reply-id was sent."""
    return last_answers(journal, entry) == "id-requested" and not any(
        r.sent_on for r in journal.follow_ups(entry.reference, "reply-id")
    )


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


# bars drawn: a picture never breaks across pages, so a taller one was cut in the PDF
# (60 recipients: 35 bars shown, the legend lost); the table lists every recipient
CHART_ROWS = 20


def pictures(found: Findings, lang: str = "en") -> dict[str, str]:
    """The two pictures, as SVG text. The outcomes chart draws the CHART_ROWS recipients
    with the most requests, the others summed in one bar."""
    drawn = sorted(found.recipients, key=lambda r: -r.requests)
    rest = drawn[CHART_ROWS - 1 :] if len(drawn) > CHART_ROWS else []
    drawn = drawn[: len(drawn) - len(rest)]
    names = [r.name for r in drawn]
    if rest:
        names.append(_("{count} others (see the table)").format(count=len(rest)))
    series = [
        (
            _(OUTCOME_NAMES[o]),
            [r.outcomes[o] for r in drawn] + ([sum(r.outcomes[o] for r in rest)] if rest else []),
        )
        for o in OUTCOMES
        if any(r.outcomes[o] for r in found.recipients)
    ]
    return {
        "outcomes": charts.outcomes(
            names, series, _("Outcome of the requests sent, per recipient"), lang=lang
        ),
        "flow": charts.flow(
            [_(c) for c in FLOW_COLUMNS],
            found.flow,
            _("From the message to the source: requests sent"),
            _("other"),
        ),
    }


def words(found: Findings, lang: str) -> dict[str, str]:
    """The page's sentences, in the report's language."""
    day = long_date(found.as_of, lang)
    summary = ngettext(
        "{requests} request sent", "{requests} requests sent", found.requests
    ).format(requests=found.requests) + ngettext(
        " for {members} person", " for {members} people", found.members
    ).format(members=found.members)
    if found.undelivered:
        summary += ngettext(
            ", of which {count} undelivered", ", of which {count} undelivered", found.undelivered
        ).format(count=found.undelivered)
    if found.unsent:
        summary += ngettext(
            "; {count} letter not sent, not counted",
            "; {count} letters not sent, not counted",
            found.unsent,
        ).format(count=found.unsent)
    return {
        "title": found.title,
        "as_of": _("as of {day}").format(day=day),
        "summary": summary,
        "recipients": _("Per recipient"),
        "sources": _("Sources named in the answers"),
        "no_source": _("No answer named a source yet."),
        "members": _("Per member"),
        "method": _(
            "Method: the figures come from the association's own journal of its requests, "
            "as it stood on {day}: an answer, a complaint or a source counts if recorded "
            "on or before that day. Deadlines run from the receipt date where one was "
            "recorded, else from the posting date (an estimate, shown apart)."
        ).format(day=day),
        "outcome_note": _(
            "The association's classification in the light of the answers received; the "
            "answers are available. Answered in time or late: by the deadline in force "
            "when the answer came (an extension notified within the first month moves "
            "it; notified later, it has no effect and is counted apart). Identification "
            "requested: the recipient asked the person to identify themselves, which is "
            "no answer on the merits; counted apart. No answer: the deadline in force "
            "(extended or not) ran out with no answer recorded by the report's date. "
            "Waiting: the deadline has not run out. Answered in part and refused: counted "
            "whatever their date. Undelivered: the request came back (address not valid); "
            "no deadline ran. Complaints: those recorded as filed with the CNIL; a "
            "collective complaint (Art. 80 GDPR) is not counted. Median days: from receipt "
            "to the answer, over every dated answer (in time, late, in part, refusals)."
        ),
        "sources_note": _(
            "Each source is the one an organisation gave in its answer, as it wrote it: "
            "the association has not verified it."
        ),
        "flow_note": _(
            "This diagram links the sender shown on the message, the organisation the "
            "association wrote to and, where there is one, the source that organisation "
            "gave. Having written to an organisation does not mean that it supplied or "
            "used the data. A party is shown only where the person confirmed it or the "
            "party itself was asked; otherwise: not established."
        ),
    }


def page(found: Findings, env, svgs: dict[str, str], lang: str) -> str:
    from markupsafe import Markup

    return env.get_template("report.html.j2").render(
        lang=lang,
        found=found,
        as_of=found.as_of.isoformat(),
        words=words(found, lang),
        header=found.header(COLUMNS),
        rows=[r.cells() for r in found.recipients],
        source_header=found.header(SOURCE_COLUMNS),
        source_rows=[s.said() for s in found.sources],
        member_header=found.header(MEMBER_COLUMNS),
        outcomes_svg=Markup(svgs["outcomes"]),  # noqa: S704 (matplotlib's, labels escaped)
        flow_svg=Markup(svgs["flow"]),  # noqa: S704
    )


def write(found: Findings, out_dir: Path, env, renderer, lang: str, *, force: bool) -> list[Path]:
    """Every file of the report, all or none: each staged under a hidden name, then
    all given their names once every one is written (0600)."""
    wanted = {k: v for k, v in FILES.items() if k != "members" or found.member_rows is not None}
    targets = {key: out_dir / name for key, name in wanted.items()}
    # a members' file left from a run --with-members never stays in a report without them
    stale = [out_dir / FILES["members"]] if "members" not in wanted else []
    check_free([*targets.values(), *stale], overwrite=force)
    svgs = pictures(found, lang)
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
    for path in stale:
        path.unlink(missing_ok=True)
    return list(targets.values())
