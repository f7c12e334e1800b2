"""What each use case hands back: what was written, the reference, warnings, bad rows
and the exit code. The library never prints or exits; cli.py prints these.

The exit codes are errors.ExitCode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ExitCode
from .i18n import _
from .identify import Suspect  # IdentifyResult.choices makes some

if TYPE_CHECKING:  # annotations only
    from .identify import Clues
    from .importer import ImportReport
    from .journal import Entry
    from .members import BadRow
    from .models import Broker, Campaign, Letter, Request
    from .registry import Finding

# errors.py holds the codes (it is below every module; it must not import this one)
EXIT_OK = ExitCode.OK
EXIT_ERROR = ExitCode.ERROR
EXIT_USAGE = ExitCode.USAGE
EXIT_PARTIAL = ExitCode.PARTIAL
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


@dataclass(kw_only=True)
class Result:
    """The common part of every result."""

    written: list[Path] = field(default_factory=list)
    reference: str | None = None
    warnings: list[str] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    exit_code: int = EXIT_OK


# ---------------------------------------------------------------- letters


@dataclass(kw_only=True)
class LetterResult(Result):
    """One letter written (generate, remind, reply-id, complain): its files, in
    `written`, and its words; `text` is the plain-text output when 'text' was asked."""

    letter: Letter
    formats: tuple[str, ...] = ()
    text: str | None = None
    mailto: str | None = None  # a mailto: link for the person's own mail client
    next_step: str | None = None  # one line: where the files are, how to send, then dsar sent
    pdf: bytes | None = field(default=None, repr=False)  # the PDF written, when asked


@dataclass(kw_only=True)
class ReminderResult(LetterResult):
    original: str  # the reference of the request reminded
    final_deadline: date


@dataclass(kw_only=True)
class FollowResult(LetterResult):
    """A next request (dsar follow): the request it follows, and what was found of the
    organisation named (registry, datenanfragen records, or neither)."""

    original: str
    found: str = ""


@dataclass(kw_only=True)
class ComplaintResult(LetterResult):
    original: str
    dossier: Path
    # outside files (replies, proofs) not joined to the dossier: (file name, why)
    left_out: list[tuple[str, str]] = field(default_factory=list)


@dataclass(kw_only=True)
class MandatesResult(Result):
    out_dir: Path
    columns: list[tuple[str, str]] = field(default_factory=list)  # CSV header -> column read


# ---------------------------------------------------------------- batches


@dataclass
class ManifestRow:
    row: int
    member: str
    broker: str
    reference: str
    pdf: str = ""
    eml: str = ""
    email_status: str = ""
    draft: bool = False  # no postal address for the envelope: never printed nor labelled


# a manifest's e-mail status for a letter whose recipient has no e-mail: to be posted
NO_RECIPIENT_EMAIL = "no recipient e-mail in the registry"
# ...and for a member whose signed mandate scan is missing: not sent until it is given
HELD_BACK = "held back: no signed mandate scan"


@dataclass(kw_only=True)
class BatchResult(Result):
    """A batch run. `manifest` is always set and written, even when the run stops."""

    rows: list[ManifestRow] = field(default_factory=list)
    resumed: int = 0  # requests an earlier run had already done
    rebuilt: int = 0  # queued e-mails rebuilt because what they say changed
    remade: int = 0  # letters not yet sent made again because what they say changed
    this_run: int = 10**9  # rows[:this_run] are this run's; the rest an earlier run's
    kept_earlier: list[str] = field(default_factory=list)  # earlier runs' letters, kept
    left_queued: list[str] = field(default_factory=list)  # e-mails of other runs, unsent
    # queued e-mails whose request left another way: (reference, state), never sent
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    unsigned: list[str] = field(default_factory=list)  # mandate refs without a scan: held back
    unsigned_forms: list[str] = field(default_factory=list)  # dsar's own forms given as scans
    print_files: list[Path] = field(default_factory=list)
    to_record: list[str] = field(default_factory=list)  # printed letters not recorded as posted
    manifest: Path | None = None
    sent: Mapping[str, int] = field(default_factory=dict)  # e-mails: sent, failed, deferred
    would_send: list[tuple[str, str]] = field(default_factory=list)  # --dry-run: (ref, to)
    labels: Path | None = None  # --format labels: the envelope addresses, for mail merge
    no_address: list[str] = field(default_factory=list)  # references without a postal address
    columns: list[tuple[str, str]] = field(default_factory=list)  # CSV header -> column read
    emails_asked: bool = False
    queued: list[str] = field(default_factory=list)  # this run's e-mails --send would send

    @property
    def to_post(self) -> list[str]:
        """The letters whose recipient has no e-mail: posted, not sent (a draft without
        the recipient's address is neither)."""
        return [
            row.reference
            for row in self.rows
            if row.email_status == NO_RECIPIENT_EMAIL and not row.draft
        ]

    @property
    def emails_to_send(self) -> bool:
        """Whether some letter of this run has an e-mail with somewhere to go."""
        return self.emails_asked and any(
            row.reference and row.email_status != NO_RECIPIENT_EMAIL for row in self.rows
        )


# ---------------------------------------------------------------- the journal


@dataclass(kw_only=True)
class SentResult(Result):
    entry: Entry
    kept: list[Path] = field(default_factory=list)  # proofs kept by content
    original: Entry | None = None  # a follow-up's request, as the sending left it


@dataclass(kw_only=True)
class PostingResult(Result):
    """dsar sent --from-manifest: a batch's letters recorded as posted."""

    recorded: list[str] = field(default_factory=list)
    with_lrar: int = 0
    already: list[str] = field(default_factory=list)  # recorded as sent before
    lrar_added: list[str] = field(default_factory=list)  # ...whose number is given now
    problems: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class AnswerResult(Result):
    entry: Entry
    state: str | None = None  # None: an extension was recorded
    kept: list[Path] = field(default_factory=list)  # reply files copied beside the journal
    next_step: str | None = None  # the command that follows up this answer


@dataclass(kw_only=True)
class ShowResult(Result):
    """One request whole: its record, the request as written, its files and steps, the
    page the PDF was rendered from, and the advice on missing contacts given when written."""

    entry: Entry
    request: Request
    files: list[tuple[str, Path, str]] = field(default_factory=list)  # role, path, sha256
    events: list = field(default_factory=list)  # journal rows: on_date, what, detail
    page_html: str | None = None
    mailto: str | None = None
    names: dict[Path, str] = field(default_factory=dict)  # files handed in, as people named them
    text: str = ""  # the letter as plain text, to copy into a webmail

    @property
    def printable(self) -> bool:
        return self.request.printable


@dataclass(kw_only=True)
class StatusResult(Result):
    as_of: date
    entries: list[Entry] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "requests": [e.as_dict(self.as_of) for e in self.entries],
        }


# ---------------------------------------------------------------- the registry


@dataclass(kw_only=True)
class IdentifyResult(Result):
    clues: Clues
    controllers: list[Suspect] = field(default_factory=list)
    brokers: list[Suspect] = field(default_factory=list)
    senders: list[Broker] = field(default_factory=list)  # when nothing matched: who to ask
    commands: list[str] = field(default_factory=list)  # dsar generate lines, run as pasted
    # for the suspects of low confidence: shown apart, to run only with a reason of one's own
    unlikely_commands: list[str] = field(default_factory=list)
    needs_profile: bool = False  # no saved details: dsar init first, then the commands

    @property
    def found(self) -> bool:
        return bool(self.controllers or self.brokers)

    @property
    def proposed(self) -> list[str]:
        """Who to write to: the likely suspects and, when no broker is likely, the first
        broker known to send political messages (a letter to it names no party)."""
        slugs = [s.slug for s in [*self.controllers, *self.brokers] if s.slug and s.likely]
        if not any(s.slug and s.likely for s in self.brokers):
            slugs += [b.slug for b in self.senders[:1]]
        return list(dict.fromkeys(slugs))

    @property
    def choices(self) -> list[Suspect]:
        """Every recipient to offer on the page, each once: the suspects, then the brokers
        known to send political messages; `likely` ones are ticked beforehand."""
        proposed, seen, found = self.proposed, set(), []
        known = [Suspect(b.slug, b.name) for b in self.senders]
        for suspect in [*self.controllers, *self.brokers, *known]:
            if suspect.slug and suspect.slug not in seen:
                seen.add(suspect.slug)
                found.append(replace(suspect, likely=suspect.slug in proposed))
        return found

    @property
    def parties(self) -> list[Suspect]:
        return [s for s in self.controllers if s.slug]

    @property
    def unlikely(self) -> list[str]:
        proposed = self.proposed
        suspects = [s.slug for s in [*self.controllers, *self.brokers] if s.slug]
        return [slug for slug in dict.fromkeys(suspects) if slug not in proposed]


@dataclass(kw_only=True)
class ImportResult(Result):
    report: ImportReport
    output: Path


@dataclass(kw_only=True)
class BrokersResult(Result):
    brokers: list[Broker] = field(default_factory=list)


@dataclass(kw_only=True)
class BrokerResult(Result):
    """One entry with what the registry knows around it."""

    broker: Broker
    origin: str
    subsidiaries: list[Broker] = field(default_factory=list)
    used_by: list[Broker] = field(default_factory=list)


@dataclass(kw_only=True)
class CheckResult(Result):
    findings: list[Finding] = field(default_factory=list)
    entries: int = 0
    campaigns: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def summary(self) -> str:
        errors = len(self.errors)
        said = _(
            "{entries} entries, {campaigns} campaigns: {errors} error(s), {warnings} warning(s)"
        )
        warnings = len(self.findings) - errors
        return said.format(
            entries=self.entries, campaigns=self.campaigns, errors=errors, warnings=warnings
        )


@dataclass(kw_only=True)
class CampaignsResult(Result):
    campaigns: list[Campaign] = field(default_factory=list)


@dataclass(kw_only=True)
class FollowBatchResult(BatchResult):
    """dsar batch --follow: a next request for each member whose answer named one
    organisation; `already`: those an earlier run wrote (a rerun writes nothing twice)."""

    written_now: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
