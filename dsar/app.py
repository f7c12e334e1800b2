"""The service layer: one App per run, one method per use case.

The command line, a batch worker and a web page all call these methods; each returns
a result (dsar/results.py) saying what was written, the reference, warnings, bad rows
and the exit code, and never prints, prompts or exits. The context (paths, clock,
registry, templates, journal) is built once, lazily, and closed with close() or a
`with` block.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

import jinja2

from . import batch as batches
from . import clock as clock_module
from . import (
    collective,
    compose,
    fields,
    findings,
    follow,
    followup,
    identify,
    importer,
    labels,
    letters,
    lifecycle,
    manifest,
    members,
    posting,
    profile,
    registry,
    report,
)
from . import mandates as mandate_forms
from .errors import (
    DsarError,
    Field,
    InputError,
    OutputExists,
    RequestExists,
    UnknownBroker,
    UsageError,
)
from .files import check_free, make_private_dir, own_folder, stage_private, write_private
from .i18n import N_, _
from .journal import WRITTEN_BY, AlreadyRecorded, Journal, canonical
from .models import Association, Broker, ContactAddition, Letter, Mandate, Request
from .paths import SHIPPED_DATENANFRAGEN, SHIPPED_REGISTRY, Paths
from .registry import Registry
from .render import mail, outside
from .render.pdf import PdfRenderer
from .results import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    NO_RECIPIENT_EMAIL,
    AnswerResult,
    BatchResult,
    BrokerResult,
    BrokersResult,
    CampaignsResult,
    CheckResult,
    ComplaintResult,
    ComplaintsResult,
    FollowBatchResult,
    FollowResult,
    IdentifyResult,
    ImportResult,
    LetterResult,
    MandatesResult,
    ManifestRow,
    PostingResult,
    ReminderResult,
    Result,
    SentResult,
    ShowResult,
    StatusResult,
    Written,
)
from .safety import printable, safe_child
from .sending import Smtp, SmtpSettings, send_outbox
from .vocabulary import ACCESS_ITEMS, ANSWER_STATES, FORMATS, REQUEST_STATES, output_name

# progress(stage, advance, total): stage is "rows" or "e-mails"; a total when known
Progress = Callable[[str, int, int | None], None]
DateLike = str | date | None
Formats = str | Sequence[str]
# what an answer leads to next
# dsar answer --named: what the answer named, as follow's kinds
NAMED_KINDS = {"source": "source-named", "recipient": "recipient-named", "controller": "processor"}
FOLLOW_STEP = N_("write to the organisation it named: dsar follow {reference}")
ASKED_STEP = compose.ALREADY_ASKED
FOLLOW_NEXT = N_("write to {name}, which the answer named: {command}")  # show, inbox
NEXT_STEP = {
    "id-requested": N_("answer it with: dsar reply-id {reference}"),
    "partial": N_("follow up with: dsar remind {reference}"),
    "refused": N_("follow up with: dsar complain {reference} --out DIR"),
}


def _no_progress(stage: str, advance: int, total: int | None) -> None:
    pass


class App:
    """dsar for one run: built once, used for one or several use cases, then closed."""

    def __init__(
        self,
        paths: Paths | None = None,
        *,
        clock: Callable[[], date] = clock_module.today,
        registries: Sequence[Path] = (),
        templates: Path | None = None,
        journal: Journal | Path | str | None = None,
    ):
        """`registries`: extra registry files on top of the shipped one and the user's;
        `templates`: a folder whose templates override the user's and the shipped ones
        by name; `journal`: a Journal, a path or ":memory:" instead of the one in
        `paths`; `clock`: what today() is (tests, --as-of)."""
        self.paths = paths or Paths.from_env()
        self.clock = clock
        self.registries = tuple(registries)
        self.templates_dir = templates
        if isinstance(journal, Journal):
            journal.today = clock  # one clock: the App's reaches the journal's checks
            self.__dict__["journal"] = journal
        self._journal_path = journal if isinstance(journal, str | Path) else None

    # ------------------------------------------------------------ the context, lazily

    def today(self) -> date:
        return self.clock()

    @cached_property
    def registry(self) -> Registry:
        """The shipped registry, then the user's, then the extra files given."""
        files = [SHIPPED_REGISTRY]
        if self.paths.user_registry.exists():
            files.append(self.paths.user_registry)
        return Registry.load([*files, *self.registries])

    @cached_property
    def template_roots(self) -> tuple[Path, ...]:
        """--templates, then the user's templates folder, then the shipped one."""
        return letters.template_roots(self.templates_dir, self.paths.user_templates)

    @cached_property
    def templates(self) -> jinja2.Environment:
        return letters.environment(self.template_roots)

    @cached_property
    def pdf_renderer(self) -> PdfRenderer:
        """Fetches nothing but files under the template roots."""
        return PdfRenderer(self.templates, list(self.template_roots))

    @cached_property
    def journal(self) -> Journal:
        return Journal(self._journal_path or self.paths.journal, clock=self.clock)

    def close(self) -> None:
        if "journal" in self.__dict__:
            self.__dict__.pop("journal").close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _day(self, value: DateLike, field: str) -> date:
        return fields.iso_date(value, field) if value else self.today()

    # ------------------------------------------------------------ the profile

    def saved_profile(self) -> dict[str, str]:
        return profile.load(self.paths.profile)

    def save_profile(
        self,
        name: str | None = None,
        address: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        reply_subaddress: bool | None = None,
    ) -> Result:
        """Save the requester's details (0600); what is not given keeps its saved value.
        `reply_subaddress`: ask for answers at a sub-address per request (None: as saved)."""
        saved = self.saved_profile()
        person = profile.requester(
            name or saved.get("name"),
            address or saved.get("address"),
            phone or saved.get("phone"),
            email or saved.get("email"),
        )
        if reply_subaddress is None:
            reply_subaddress = profile.SUBADDRESS in saved
        profile.save(self.paths.profile, person, reply_subaddress)
        return Result(written=[self.paths.profile])

    # ------------------------------------------------------------ letters

    def generate(
        self,
        broker: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        address: str | None = None,
        sms_date: DateLike = None,
        sms_time: str | None = None,
        sms_sender: str = "",
        sms_text: str = "",
        channel: str = "sms",
        right: str = "both",
        lang: str = "fr",
        formats: Formats = ("pdf", "email"),
        out_dir: Path = Path("letters"),
        lrar: bool = False,
        letter_date: DateLike = None,
        place: str | None = None,
        to_email: str | None = None,
        to_address: str | None = None,
        force: bool = False,
        redo_draft: bool = False,
        party_confirmed: str | None = None,
        reply_subaddress: bool | None = None,
    ) -> LetterResult:
        """Write a first request; details not given come from the saved profile.
        `party_confirmed`: the party the person is sure the message was sent for, the
        only one a letter to a broker names.
        `redo_draft`: the same request (person, recipient, right, day) written again,
        say in another language, replaces its draft; one that left is never replaced."""
        chosen = parse_formats(formats)
        if "labels" in chosen:
            raise UsageError(_("--format labels is for a batch (dsar batch)"))
        saved = self.saved_profile()
        person = profile.requester(
            name or saved.get("name"),
            address or saved.get("address"),
            phone or saved.get("phone"),
            email or saved.get("email"),
        )
        evidence = compose.evidence(
            channel,
            sms_date.isoformat() if isinstance(sms_date, date) else sms_date,
            sms_time,
            sms_sender,
            sms_text,
        )
        request = compose.build_request(
            self.registry,
            broker,
            person,
            evidence,
            right=right,
            lang=lang,
            letter_date=self._day(letter_date, "date"),
            place=place,
            lrar=lrar,
            to_email=to_email,
            to_address=to_address,
            party_confirmed=party_confirmed,
            reply_subaddress=profile.SUBADDRESS in saved
            if reply_subaddress is None
            else reply_subaddress,
        )
        if "email" in chosen and not request.reply_email:
            raise InputError("email_needed", field="email", email=Field("email"))
        if not redo_draft:
            # a request that left is never rewritten: this one gets a reference of its own
            # (the page, redoing its draft, is refused instead: the files exist)
            request = self.journal.free_reference(request)
        letter = letters.render(request, self.templates)
        if redo_draft and self.journal.has(request.reference):
            # a draft never left: redone in place, in the folder its files are in (the
            # command line's ./letters/ too), with the message given now. One that left,
            # written elsewhere, is never replaced: the page shows it instead
            folders = {p.resolve().parent for _r, p, _s in self.journal.files(request.reference)}
            draft = self.journal.entry(request.reference).stored_state == "draft"
            if draft and len(folders) == 1:
                out_dir = folders.pop()
            elif folders - {out_dir.resolve()}:
                path = next(p for _r, p, _s in self.journal.files(request.reference))
                raise RequestExists(request.reference, path)
            force = force or draft
        try:
            result = self._write(letter, chosen, out_dir, force)
        except OutputExists as exc:
            if redo_draft or not self.journal.has(request.reference):
                raise
            # the same person, recipient, right and day: the file is this request's draft
            raise DsarError("draft_exists", path=exc.path, reference=request.reference) from None
        result.warnings += compose.sender_mismatch(self.registry, request)
        result.warnings += compose.party_advice(self.registry, request)
        result.warnings += compose.erasure_to_broker(request)
        result.warnings += compose.recipient_wishes(request, chosen)
        result.warnings += compose.address_to_check(
            request, chosen, self.registry.added.get(request.broker.slug, ())
        )
        result.warnings += compose.gap_advice(
            letter, self.registry, self._asked(letter.request.reference)
        )
        return result

    def complete(
        self, reference: str, *, to_email: str | None = None, to_address: str | None = None
    ) -> LetterResult:
        """Write a draft again with the recipient contact the registry lacked (what
        generate's --to-email and --to-address give). A request that left is evidence:
        it is never rewritten."""
        entry = self.journal.entry(reference)
        if entry.kind != "request" or entry.stored_state != "draft":
            raise DsarError(
                "never_rewritten", reference=reference, state=report.state_name(entry.stored_state)
            )
        if not (to_email or to_address):
            raise InputError(
                "contact_needed",
                field="to_email",
                to_email=Field("to_email"),
                to_address=Field("to_address"),
            )
        was = self.journal.request(reference)
        try:  # the registry's entry as it is now (a contact added since)...
            recipient: str | Broker = self.registry.get(was.broker.slug).slug
        except UnknownBroker:  # ...or the organisation dsar follow --to-name wrote to
            recipient = was.broker
        request = compose.build_request(
            self.registry,
            recipient,
            was.requester,
            was.evidence,
            right=was.right,
            lang=was.lang,
            letter_date=was.letter_date,
            place=was.place,
            lrar=was.lrar,
            to_email=to_email or was.to_email,
            to_address=to_address or was.to_address,
            # no scan goes with a completed draft: the mandate is offered on request
            mandate=was.mandate.offered() if was.mandate else None,
            reply_subaddress=was.reply_subaddress,
        )
        # the same request, only completed: its reference, the answer it follows, the party
        request = dataclasses.replace(
            request, reference=reference, cause=was.cause, campaign_party=was.campaign_party
        )
        files = self.journal.files(reference)
        out_dir = files[0][1].parent if files else Path("letters")
        chosen = parse_formats(entry.medium)
        letter = letters.render(request, self.templates)
        result = self._write(letter, chosen, out_dir, force=True)
        result.warnings += compose.recipient_wishes(request, chosen)
        result.warnings += compose.gap_advice(
            letter, self.registry, self._asked(letter.request.reference)
        )
        return result

    def _write(
        self,
        letter: Letter,
        chosen: tuple[str, ...],
        out_dir: Path,
        force: bool,
        *,
        kind: str = "request",
        extra: dict | None = None,
        result_type: type[LetterResult] = LetterResult,
        follows: str | None = None,
        then: tuple | None = None,
        fresh: bool = False,
        **fields_of_result,
    ) -> LetterResult:
        """Render and write a letter's files, then record it in the journal (`fresh`:
        only if no run recorded it meanwhile, Journal.record)."""
        written = compose.write_recorded(
            letter,
            chosen,
            out_dir,
            self.journal,
            force=force,
            # a reminder that encloses the original needs the renderer for its e-mail too
            pdf_renderer=(
                self.pdf_renderer if "pdf" in chosen or (extra or {}).get("enclosed_html") else None
            ),
            extra=extra,
            kind=kind,
            env=self.templates,
            follows=follows,
            then=then,
            fresh=fresh,
        )
        return result_type(
            written=list(written.files.values()),
            reference=letter.request.reference,
            letter=letter,
            formats=chosen,
            text=f"{letter.subject}\n\n{letter.body_text}" if "text" in chosen else None,
            mailto=mail.mailto(letter) if written.eml else None,
            next_step=None
            if kind == "complaint"
            else compose.next_step(letter.request, written.files, chosen),
            pdf=written.pdf,
            **fields_of_result,
        )

    def batch(
        self,
        csv_file: Path,
        *,
        association: Association | Path,
        out_dir: Path,
        broker: str | None = None,
        formats: Formats = ("pdf", "email"),
        right: str = "both",
        lang: str = "fr",
        letter_date: DateLike = None,
        strict: bool = False,
        workers: int | None = None,
        force: bool = False,
        mandates: Path | None = None,
        mandate_on_request: bool = False,
        send: bool = False,
        dry_run: bool = False,
        all_queued: bool = False,
        smtp: SmtpSettings | None = None,
        to_email: str | None = None,
        to_address: str | None = None,
        progress: Progress = _no_progress,
        columns: dict[str, str] | None = None,
        warn: Callable[[str], None] | None = None,
        each_email: Callable[[str, str], None] | None = None,
    ) -> BatchResult:
        """Letters for every member, under mandate; with send=True, e-mailed over `smtp`.

        Once rows are read, the manifest (out_dir/manifest.csv) is written whatever
        happens: a bad row, a failure midway, an SMTP server gone, Ctrl-C. The exit
        code is EXIT_PARTIAL when rows were skipped or e-mails failed or were deferred.
        What the recipients lack is said before any letter is rendered: to `warn` when
        given, else in result.warnings.
        """
        chosen = parse_formats(formats)
        if not set(chosen) <= {"pdf", "email", "html", "labels"}:
            raise UsageError(_("--format for a batch is pdf, email, html and/or labels"))
        if dry_run and not send:
            raise UsageError(
                "--dry-run shows what --send would send: give both (without --send nothing is sent)"
            )
        if send and "email" not in chosen:
            raise UsageError(_("--send needs --format to include email"))
        if send and not dry_run and smtp is None:
            raise UsageError(_("--send needs --smtp-host"))
        options = batches.BatchOptions(
            broker=broker,
            association=_association(association),
            out_dir=out_dir,
            formats=chosen,
            right=right,
            lang=lang,
            letter_date=self._day(letter_date, "date"),
            strict=strict,
            workers=workers or max(1, os.cpu_count() or 1),
            force=force,
            templates=self.template_roots,
            mandates=mandates,
            mandate_on_request=mandate_on_request,
            sending=send and not dry_run,
            columns=columns,
            to_email=fields.email(to_email, "to-email") if to_email else None,
            to_address=compose.recipient_address(to_address) if to_address else None,
        )
        if send and options.letter_date > self.today():  # it would leave before its date
            raise InputError(
                "date",
                _(
                    "the letters are dated {day}, after today: an e-mail cannot leave before "
                    "its date; write them now without --send, and send them on or after that day"
                ).format(day=options.letter_date.isoformat()),
            )
        read_as = members.header(csv_file, columns)  # a header it cannot read: before any work
        if broker:
            self.registry.get(broker)  # an unknown --broker fails before any row
        lacking = self.batch_recipients(
            csv_file,
            broker=broker,
            formats=chosen,
            send=send,
            to_email=options.to_email,
            to_address=options.to_address,
            columns=columns,
        )
        batches.check_manifest(out_dir / "manifest.csv", force=force)
        counted = members.count(csv_file)  # refuses a CSV that is not UTF-8
        progress("rows", 0, counted)
        options = dataclasses.replace(options, members=counted)
        result = BatchResult(
            manifest=out_dir / "manifest.csv", emails_asked="email" in chosen, columns=read_as
        )
        if warn:
            for line in lacking:
                warn(line)
        else:
            result.warnings += lacking
        journal = self.journal
        try:
            batches.run(
                csv_file,
                options,
                self.registry,
                journal,
                progress=lambda n: progress("rows", n, None),
                result=result,
            )
            # the quick count may differ from the rows read when quoting is broken
            progress("rows", 0, len(result.rows) + len(result.bad_rows))
            # this run's messages only, unless every queued one is asked for: its rows,
            # looked up on disk (a million references are never held)
            mine = None if all_queued else result.rows
            # an e-mail whose request left another way (posted, answered, bounced,
            # complained about) is never sent: withdrawn, and said (the lifecycle decides)
            if dry_run:
                result.withdrawn = journal.outbox_stale(mine)
            else:
                result.withdrawn = journal.outbox_withdraw(mine)
            stale = {ref for ref, _state in result.withdrawn}
            if send and dry_run:
                result.would_send = [
                    (ref, journal.outbox_recipient(ref))
                    for ref in journal.outbox_waiting(mine)
                    if ref not in stale
                ]
            elif send:
                progress("e-mails", 0, sum(1 for _ref in journal.outbox_waiting(mine)))
                try:
                    result.sent = send_outbox(
                        journal,
                        Smtp(smtp),
                        sender_for=lambda ref: options.association.email,
                        progress=lambda ref: (
                            progress("e-mails", 1, None),
                            each_email
                            and each_email(ref, (journal.outbox_status(ref) or ("?",))[0]),
                        ),
                        references=mine,
                    )
                except DsarError as exc:  # where the sending stands, and what to do
                    raise DsarError(f"{exc}\n{batches.sending_progress(journal, result)}") from None
                result.warnings.append(batches.sending_progress(journal, result))
            if send:  # what stays queued after this run (or would, after a real one)
                leaving = stale | {ref for ref, _to in result.would_send}
                for ref in journal.outbox_waiting():
                    if ref not in leaving:
                        result.left_queued.append(ref)
        finally:  # the manifest says what was done and sent even when the run stops
            batches.write_manifest(result.manifest, result, journal)
        # this run's e-mails that --send would send (none held back, none withdrawn)
        gone = {r for r, _state in result.withdrawn}
        for ref in journal.outbox_waiting():
            if ref not in gone and ref in result.rows:
                result.queued.append(ref)
        # the printed letters not yet recorded as posted, that no e-mail carries
        result.to_record = batches.to_record(result, journal)
        files = [*result.print_files, *filter(None, [result.labels]), result.manifest]
        result.written = Written(result.rows, out_dir, files)
        if "email" in chosen:
            result.warnings += result.unsigned_forms
        if "email" in chosen and result.unsigned:
            result.warnings.append(
                _(
                    "{count} e-mail(s) held back, not sent: no signed mandate scan to enclose "
                    "({refs}); give --mandates DIR with <mandate_ref>.pdf or "
                    "mandate-<mandate_ref>.pdf, or --mandate-on-request"
                ).format(count=len(result.unsigned), refs=", ".join(result.unsigned.first))
            )
            # a corrected row (its phone) gets a new mandate number: no form was made for it
            formless = result.formless  # counted by the run, among all of them
            if formless and journal.mandate_form(None) is not None:  # dsar mandate is used
                result.warnings.append(
                    _(
                        "no mandate form was written for {count} of them ({refs}): a row "
                        "corrected since dsar mandate gets a new number; run dsar mandate "
                        "again for these rows and have the new forms signed"
                    ).format(count=len(formless), refs=", ".join(formless.first))
                )
        if result.unprinted:
            result.warnings.append(
                _(
                    "{count} letter(s) not printed nor labelled: each says the member's signed "
                    "mandate is enclosed, and its scan is not in --mandates ({refs}); put the "
                    "scans there (<mandate_ref>.pdf) and run the same command again, or use "
                    "--mandate-on-request"
                ).format(count=len(result.unprinted), refs=", ".join(result.unprinted.first))
            )
        if send and (to_post := result.to_post):
            result.warnings.append(
                _("{count} letter(s) to post, their recipient has no e-mail: {refs}").format(
                    count=len(to_post), refs=", ".join(to_post.first)
                )
            )
        if ("labels" in chosen or "pdf" in chosen) and result.no_address:
            result.warnings.append(
                _(
                    "{count} letter(s) are drafts without the recipient's postal address, left "
                    "out of the print file and the labels (first: {reference}); add the address "
                    "once (dsar brokers add-contact {slugs} --postal 'LINE\\nLINE' --source "
                    "WHERE) and run the same command again: they are made again"
                ).format(
                    count=len(result.no_address),
                    reference=result.no_address.first[0],
                    slugs=" / ".join(dict.fromkeys(r.broker for r in result.rows if r.draft)),
                )
            )
        if result.kept_earlier:
            result.warnings.append(
                _(
                    "{count} letter(s) of earlier runs into {folder}, not in this CSV, stay in "
                    "its manifest, labels and print file ({refs}); dsar forget REF drops a "
                    "draft that should not be posted"
                ).format(
                    count=len(result.kept_earlier),
                    folder=out_dir,
                    refs=", ".join(result.kept_earlier.first),
                )
            )
        if result.withdrawn:
            result.warnings.append(
                (
                    _(
                        "{count} queued e-mail(s) would be withdrawn, never sent: their request "
                        "already left another way or was answered ({refs})"
                    )
                    if dry_run
                    else _(
                        "{count} queued e-mail(s) withdrawn, never sent: their request already "
                        "left another way or was answered ({refs})"
                    )
                ).format(
                    count=len(result.withdrawn),
                    refs=", ".join(
                        f"{ref}: {lifecycle.state_name(state)}"
                        for ref, state in result.withdrawn[:10]
                    ),
                )
            )
        if result.left_queued:
            result.warnings.append(
                _(
                    "{count} e-mail(s) stay queued, not sent by this run (first: {refs}); "
                    "dsar batch ... --send --all-queued sends them"
                ).format(
                    count=len(result.left_queued), refs=", ".join(result.left_queued.first[:5])
                )
            )
        if result.bad_rows or result.sent.get("failed") or result.sent.get("deferred"):
            result.exit_code = EXIT_PARTIAL
        return result

    def columns_read(
        self, csv_file: Path, columns: dict[str, str] | None = None
    ) -> list[tuple[str, str]]:
        """How a members' CSV will be read: each column with the header(s) it is read
        from; refuses a header it cannot read, before any work."""
        return members.header(csv_file, columns)

    def csv_encoding(self, csv_file: Path) -> str:
        """The encoding a members' CSV is read in, in words ('Windows-1252 ...')."""
        return members.encoding(csv_file)

    def batch_recipients(
        self,
        csv_file: Path,
        *,
        broker: str | None = None,
        formats: Formats = ("pdf", "email"),
        send: bool = False,
        to_email: str | None = None,
        to_address: str | None = None,
        columns: dict[str, str] | None = None,
    ) -> list[str]:
        """What the batch's recipients lack (postal address for PDFs, e-mail for
        e-mails, a verified address); refuses --send to a recipient without an e-mail."""
        return batches.check_recipients(
            self.registry,
            batches.recipient_names(csv_file, broker, columns),
            parse_formats(formats),
            send=send,
            to_email=to_email,
            to_address=to_address,
        )

    def mandates(
        self,
        association: Association | Path,
        out_dir: Path,
        csv_file: Path | None = None,
        *,
        force: bool = False,
        columns: dict[str, str] | None = None,
        broker: str | None = None,
        progress: Progress = _no_progress,
    ) -> MandatesResult:
        """Mandate forms for members to sign: one per CSV row, or one blank form. Each
        names the controllers the member authorises: the row's broker (else `broker`)
        and the party the message names."""
        found = _association(association)
        read_as = [] if csv_file is None else members.header(csv_file, columns)
        if broker:
            self.registry.get(broker)  # an unknown --broker fails before any row
        rows = (
            []
            if csv_file is None
            else list(
                members.read(
                    csv_file,
                    columns,
                    members.recipient_check(self.registry, broker, required=False),
                )
            )
        )
        # every row's controllers are looked up first: an unknown one stops before any file
        named = {
            id(m): members.controllers(self.registry, m, broker)
            for m in rows
            if isinstance(m, members.Member)
        }
        holders: dict[str, str] = {}  # one form per mandate reference: its member's

        def holder_of(ref: str, requester) -> str | None:
            # in this CSV, or a form or request of before for another person
            return holders.get(ref) or self.journal.mandate_holder(ref, requester)

        for number, row in enumerate(rows):
            if isinstance(row, members.Member) and row.mandate_ref:
                taken = members.mandate_taken(row, holder_of)
                if taken:
                    rows[number] = taken
                    continue
                holders[row.mandate_ref] = row.requester.name
            if isinstance(row, members.Member) and not named[id(row)]:
                # a mandate "auprès des seuls organismes suivants" with none listed
                rows[number] = row.bad(
                    "sms_sender",
                    _(
                        "dsar does not recognise the sender '{sender}': the mandate would name "
                        "no organisation; name the recipient in this row's broker column "
                        "(Destinataire) or with --broker SLUG (the sender stays as the phone "
                        "showed it: it is evidence){hint}"
                    ).format(sender=row.evidence.sender or "", hint=self._read_as(row.evidence)),
                )
        forms = [None] if csv_file is None else [r for r in rows if isinstance(r, members.Member)]
        targets = [  # checked to stay in out_dir: a mandate_ref is a name, never a path
            safe_child(
                out_dir, output_name(m.mandate_ref if m else "", None, "pdf", kind="mandate")
            )
            for m in forms
        ]
        # a rerun after rows were fixed writes the forms not written yet: one dsar wrote
        # for this reference before is kept as it is (--force writes it again)
        kept = {
            target
            for member, target in zip(forms, targets, strict=True)
            if not force
            and member
            and target.is_file()
            and self.journal.mandate_form(member.mandate_ref) is not None
        }
        check_free([t for t in targets if t not in kept], overwrite=force)
        progress("forms", 0, len(forms))
        written: list[Path] = []
        place = {id(row): number for number, row in enumerate(rows)}
        with mandate_forms.form_reader() as reader:  # one child for every file it asks
            for member, target in zip(forms, targets, strict=True):
                if target in kept:
                    progress("forms", 1, None)
                    continue
                if force and member and target.is_file() and not reader.is_form(target):
                    # not the form dsar wrote: perhaps the member's signed scan, kept under the
                    # form's name (as batch --mandates reads it): evidence, never replaced
                    rows[place[id(member)]] = member.bad(
                        "mandate_ref", mandate_forms.scan_in_the_way(member.mandate_ref, target)
                    )
                    progress("forms", 1, None)
                    continue
                controllers = named[id(member)] if member else []
                html = letters.render_mandate(
                    self.templates, found, member, controllers, self.today()
                )
                pdf = self.pdf_renderer.render_html(html)
                # marked as dsar's unsigned form: never enclosed by a batch as if signed
                pdf = mandate_forms.mark_unsigned(pdf, member.mandate_ref if member else "")
                write_private(target, pdf, overwrite=force)
                written.append(target)
                if member:  # what it names, for the batch that writes under it
                    self.journal.record_mandate_form(
                        member.mandate_ref,
                        [c.slug for c in controllers],
                        art80=found.art80_on(self.today()),  # as render_mandate offered it
                        chain=follow.scope_of(html),
                        holder=member.requester,
                    )
                progress("forms", 1, None)
            bad = [r for r in rows if isinstance(r, members.BadRow)]
            # a bad row's form is of this CSV too: the forms of no row are told once all read
            left = [] if csv_file is None or bad else _forms_of_no_row(out_dir, targets)
            unsigned = {path: reader.is_form(path) for path in left}
        return MandatesResult(
            written=written,
            bad_rows=bad,
            out_dir=out_dir,
            exit_code=EXIT_PARTIAL if bad else EXIT_OK,
            columns=read_as,
            unsigned_left=[path for path in left if unsigned[path]],
            unknown_left=[path for path in left if not unsigned[path]],
            kept=sorted(kept),
        )

    # ------------------------------------------------------------ follow-up

    def sent(
        self,
        reference: str,
        on: DateLike = None,
        *,
        lrar: str | None = None,
        received: DateLike = None,
        message_id: str | None = None,
        proofs: Sequence[Path] = (),
        force: bool = False,
    ) -> SentResult:
        """Record that a request was sent, with its proof: the deadline starts to run.
        `proofs` (a registered letter's receipt, a screenshot of the message) are kept by
        content with the request, for the complaint dossier; with proofs alone (no `on`),
        nothing else of the record changes. On a request already complained about, only
        with force."""
        if on is None and not proofs:
            raise InputError("sent_needs", field="on", on=Field("on"), proof=Field("proof"))
        if on is None:
            kept = [self.journal.keep_evidence(reference, "proof", path) for path in proofs]
            return SentResult(
                reference=reference, entry=self.journal.entry(reference), kept=kept, written=kept
            )
        day = fields.iso_date(on, "on")
        self.journal.mark_sent(
            reference,
            day,
            lrar=lrar,
            received=fields.iso_date(received, "received") if received else None,
            message_id=message_id,
            force=force,
        )
        kept = [self.journal.keep_evidence(reference, "proof", path, day) for path in proofs]
        entry = self.journal.entry(reference)
        return SentResult(
            reference=reference,
            entry=entry,
            kept=kept,
            written=kept,
            original=self.journal.entry(entry.follows) if entry.follows else None,
        )

    def posted(self, manifest: Path, on: DateLike) -> PostingResult:
        """A batch's letters recorded as posted on one day, from its manifest; a column
        of registered-letter numbers is read when there is one."""
        done = posting.record(self.journal, manifest, fields.iso_date(on, "on"))
        return PostingResult(
            recorded=done.recorded,
            with_lrar=done.with_lrar,
            already=done.already,
            lrar_added=done.lrar_added,
            problems=done.problems,
            exit_code=EXIT_PARTIAL if done.problems else EXIT_OK,
        )

    def answer(
        self,
        reference: str,
        on: DateLike,
        *,
        state: str | None = None,
        extension: bool = False,
        files: Sequence[Path] = (),
        note: str | None = None,
        missing: Sequence[str] | str | None = None,
        named: str | None = None,
        organisation: str | None = None,
    ) -> AnswerResult:
        """Record the recipient's answer (`state`), or a notified extension. `missing`:
        what the answer lacks, words of vocabulary.ACCESS_ITEMS ('source,recipients' or a
        list); the reminder and the complaint name them. `named` (source, recipient,
        controller) and `organisation`: whom the answer named, as what; a next request
        (dsar follow) says so only then."""
        if extension == bool(state):
            raise UsageError(_("give either --state or --extension"))
        note = self._typed_naming(named, organisation, note)
        day = fields.iso_date(on, "on")
        if extension:
            self.journal.mark_extension(reference, day)
            entry = self.journal.entry(reference)
            late = (
                [f"{reference}: {entry.late_extension_note}"] if entry.late_extension_note else []
            )
            return AnswerResult(reference=reference, entry=entry, warnings=late)
        fields.choice(state, ANSWER_STATES, "state")
        if isinstance(missing, str):
            missing = [m.strip() for m in missing.split(",") if m.strip()]
        unknown = [m for m in missing or () if m not in ACCESS_ITEMS]
        if unknown:
            raise InputError(
                "not_a_choice",
                field="missing",
                value=",".join(unknown),
                choices=", ".join(ACCESS_ITEMS),
            )
        kept = self.journal.mark_answer(reference, state, day, note, list(files), missing)
        step = FOLLOW_STEP if named else NEXT_STEP.get(state)
        asked = named and follow.already_asked(
            self.journal,
            reference,
            follow.entry_named(self.registry, organisation),
            organisation,
        )
        if asked:  # written to already (dsar follow, or with this request): never again
            step = ASKED_STEP
        return AnswerResult(
            reference=reference,
            written=kept,
            entry=self.journal.entry(reference),
            state=state,
            kept=kept,
            next_step=_(step).format(reference=reference, name=organisation, asked=asked)
            if step
            else None,
        )

    def _asked(self, reference: str):
        """Whom advice must not propose again: the request already written to an
        organisation about the message `reference` is about (follow.already_asked)."""
        if not self.journal.has(reference):
            return None
        return lambda broker: follow.already_asked(
            self.journal, reference, broker, same_message=True
        )

    @staticmethod
    def _typed_naming(named: str | None, organisation: str | None, note: str | None) -> str | None:
        """The note of an answer that named someone, starting with what it named (read
        back by follow.typed_answer)."""
        if bool(named) != bool(organisation and organisation.strip()):
            raise UsageError(_("give --named and --organisation together"))
        if not named:
            return note
        fields.choice(named, tuple(NAMED_KINDS), "named")
        name = follow.quoted(organisation, 120).replace("[", "(").replace("]", ")")
        return f"[{NAMED_KINDS[named]}: {name}] {note or ''}".strip()

    def remind(
        self,
        reference: str,
        *,
        on: DateLike = None,
        lang: str | None = None,
        formats: Formats = ("pdf", "email"),
        out_dir: Path | None = None,
        force: bool = False,
    ) -> ReminderResult:
        """The reminder (relance) with a final deadline 15 days after its date (rolled to
        a working day). Written, it is a draft: the request becomes 'reminded', and its
        final date starts to count, once the reminder is recorded as sent (dsar sent
        REMINDER_REF)."""
        day = self._day(on, "on")
        reference = canonical(reference)
        chosen = parse_formats(formats)
        mandate = self.journal.request(reference).mandate if self.journal.has(reference) else None
        if mandate and (why := members.not_in_force(mandate.signed_on, day)):
            raise InputError("on", why)  # the association writes under it: it must hold
        letter, extra = followup.reminder(
            self.journal,
            reference,
            self.templates,
            on=day,
            lang=lang,
            enclose=bool({"pdf", "email"} & set(chosen)),  # text alone encloses nothing
        )
        result = self._write(
            letter,
            chosen,
            out_dir or self._beside(reference),
            force,
            kind="reminder",
            extra=extra,
            result_type=ReminderResult,
            original=reference,
            final_deadline=extra["final_deadline"],
            follows=reference,
            then=("remind", day, False),
        )
        return result

    def remind_batch(
        self,
        batch: Path,
        *,
        on: DateLike = None,
        out_dir: Path | None = None,
        force: bool = False,
        progress: Progress = _no_progress,
    ) -> BatchResult:
        """The reminders of a batch (its folder's manifest.csv): one for each request
        whose deadline ran out unanswered on `on`, to post (PDF), with a print file and a
        manifest for dsar sent --from-manifest. A request whose reminder is already
        written is not written again: a rerun after a crash writes only the rest."""
        day = self._day(on, "on")
        out_dir = out_dir or batch / "reminders"
        overdue = report.select(
            self.journal.entries(),
            day,
            state="overdue",
            references=posting.references(batch / "manifest.csv"),
        )
        result = BatchResult(manifest=out_dir / "manifest.csv")
        progress("reminders", 0, len(overdue))
        for number, entry in enumerate(overdue, start=1):
            earlier = self.journal.follow_ups(entry.reference, "reminder")
            if earlier:  # written by an earlier run (sent or not): never a second
                reference = earlier[0].reference
                result.resumed += 1
            else:
                try:
                    reference = self.remind(
                        entry.reference, on=day, formats="pdf", out_dir=out_dir, force=force
                    ).reference
                except InputError as exc:  # a member's mandate no longer in force: the rest go on
                    result.bad_rows.append(
                        members.BadRow(number, "mandate_date", exc.reason, entry.member or "")
                    )
                    progress("reminders", 1, None)
                    continue
            request = self.journal.request(reference)
            files = {role: path.name for role, path, _sha in self.journal.files(reference)}
            result.rows.append(
                ManifestRow(
                    number,
                    entry.member or "",
                    entry.broker,
                    reference,
                    files.get("pdf", ""),
                    draft=not request.recipient_address,
                    address=request.recipient_address or "",
                )
            )
            progress("reminders", 1, None)
        make_private_dir(out_dir)
        batches.PrintFiles(out_dir, result, self.journal).finish()
        manifest.write(result.manifest, result, self.journal)
        result.to_record = batches.to_record(result, self.journal)
        for row in result.rows:
            if row.draft:
                result.no_address.append(row.reference)
        if not overdue:
            result.warnings.append(
                _("no request of this batch is overdue on {day}: no reminder to write").format(
                    day=day
                )
            )
        result.exit_code = EXIT_PARTIAL if result.bad_rows else result.exit_code
        return result

    def _beside(self, reference: str) -> Path:
        """Where a letter that follows `reference` goes by default (a reminder, a reply, a
        complaint, the next request): beside the request's own letter (a batch's --out,
        the page's folder) while that folder is still the person's own, else ./letters/:
        one replaced since by another user's, or open to all, is not written into unasked."""
        for role, path, _sha in self.journal.files(reference):
            if role in ("pdf", "email", "text", "html") and own_folder(path.parent):
                return path.parent
        fallback = Path("letters")
        if fallback.exists() and not own_folder(fallback):
            raise UsageError(
                _("{folder} is not a folder of yours closed to others: give --out DIR").format(
                    folder=fallback.resolve()
                )
            )
        return fallback

    def reply_id(
        self,
        reference: str,
        *,
        on: DateLike = None,
        lang: str | None = None,
        formats: Formats = ("pdf", "email"),
        out_dir: Path | None = None,
        force: bool = False,
    ) -> LetterResult:
        """The answer to a demand for an identity card: not proportionate for a number."""
        day = self._day(on, "on")
        letter, extra = followup.reply_id(
            self.journal, reference, self.templates, on=day, lang=lang
        )
        return self._write(
            letter,
            parse_formats(formats),
            out_dir or self._beside(canonical(reference)),
            force,
            kind="reply-id",
            extra=extra,
            follows=canonical(reference),
        )

    def complain(
        self,
        reference: str,
        *,
        on: DateLike = None,
        out_dir: Path | None = None,
        force: bool = False,
        mandate_scan: Path | None = None,
    ) -> ComplaintResult:
        """The CNIL complaint and one dossier PDF, a draft: the request becomes
        'complained' once the complaint is recorded as filed (dsar sent COMPLAINT).
        `mandate_scan`: the member's signed mandate as outside.vet copied it (vetted once,
        by complain_association): the letter says it is enclosed, the dossier joins it.

        Whole or not at all: the letter and the dossier are made in memory (the replies
        checked in a limited child), then staged and recorded in one transaction with the
        request's step; named only after the commit, removed if the journal refuses."""
        out_dir = out_dir or self._beside(canonical(reference))  # as remind and follow
        result, letter, made = self._complaint_staged(reference, on, out_dir, force, mandate_scan)
        compose.record_staged(
            letter,
            made,
            ("pdf",),
            self.journal,
            kind="complaint",
            follows=result.original,
            then=("complain", self._day(on, "on"), force),
        )
        return result

    def _complaint_staged(self, reference, on, out_dir, force, mandate_scan):
        """A complaint and its dossier made and staged, not recorded: (the result, the
        letter, the staged files)."""
        day = self._day(on, "on")
        reference = canonical(reference)
        cnil = self.registry.get("cnil")
        self.journal.require(reference, "complain", day, force=force)  # before any child runs
        with tempfile.TemporaryDirectory(prefix="dsar-dossier-") as work:
            # the replies are vetted first: the complaint says joined only those that are
            pieces = followup.vetted(self.journal, reference, Path(work))
            letter, extra = followup.complaint(
                self.journal,
                reference,
                self.templates,
                cnil,
                on=day,
                force=force,
                mandate_enclosed=mandate_scan is not None,
                pieces=pieces,
            )
            complaint = letter.request.reference
            targets = compose.output_paths(letter, out_dir, ("pdf",), kind="complaint")
            targets["dossier"] = out_dir / output_name(reference, None, "pdf", kind="dossier")
            check_free(targets.values(), overwrite=force)
            self.journal.check_recordable(complaint, "pdf")
            made = compose.render(
                letter, targets, pdf_renderer=self.pdf_renderer, extra=extra, env=self.templates
            )
            made.dossier = followup.dossier(
                self.journal,
                reference,
                made.pdf,
                self.pdf_renderer,
                followup.reminders_of(self.journal, reference),
                pieces,
                Path(work),
                mandate_scan=mandate_scan,
            )
        left_out = pieces.left_out
        # the dossier is recorded with the complaint, like the letter's own files; the
        # lifecycle's check runs in the same transaction; the request becomes 'complained'
        # once the complaint is filed (dsar sent on it), not when it is written
        compose.stage(made, targets)
        result = ComplaintResult(
            written=list(made.files.values()),
            reference=complaint,
            letter=letter,
            formats=("pdf",),
            pdf=made.pdf,
            original=reference,
            dossier=targets["dossier"],
            left_out=[(name, str(problem)) for name, problem in left_out],
        )
        result.warnings += [
            _(
                "{name} is left out of the dossier: {why}; it is listed with its checksum "
                "on the dossier's last page: send it yourself"
            ).format(name=name, why=why)
            for name, why in result.left_out
        ]
        vetted_out = {name for name, _why in result.left_out}
        result.warnings += [
            _(
                "the answer {name} is not in the dossier (not a PDF, or not found), and the "
                "complaint says so: send it with the complaint yourself"
            ).format(name=name)
            for name, _why in extra["replies_left_out"]
            if name not in vetted_out
        ]
        result.warnings += [
            _("to add: {what}: {how}").format(what=item["said"], how=item["how"])
            for item in extra["to_add"]
        ]
        return result, letter, made

    # ------------------------------------------------------------ follow the number

    def named_by(self, reference: str, message: int | None = None) -> tuple[Broker, str]:
        """The organisation the answers to `reference` named: the name the inbox read
        (or --organisation), looked up by its whole name (follow.lookup). Another registry
        name the sentence holds ("comme le permet la doctrine de la CNIL") is only
        mentioned: offered when the name cannot be used, never chosen; words that are not
        confidently a name are refused (the person gives --to/--to-name)."""
        entry = self.journal.entry(reference)
        answers = [
            a
            for a in follow.answers_naming(self.journal, entry.reference)
            if message in (None, a.message) and a.kind in follow.FOLLOW_KINDS
        ]
        named = next((a.organisation for a in answers if a.organisation), "")
        if not follow.confident(named):
            mentioned = follow.in_registry(self.registry, answers, entry.broker)
            raise InputError(
                "to",
                _(
                    "dsar cannot tell which organisation the answer names ('{words}'): "
                    "give --to SLUG or --to-name NAME"
                ).format(words=named or "-")
                + (
                    " ("
                    + _("the answer mentions: {slugs}").format(slugs=", ".join(mentioned[:8]))
                    + ")"
                    if mentioned
                    else ""
                ),
            )
        return follow.lookup(self.registry, named, SHIPPED_DATENANFRAGEN)

    def follow(
        self,
        reference: str,
        *,
        to: str | None = None,
        to_name: str | None = None,
        to_email: str | None = None,
        to_address: str | None = None,
        right: str | None = None,
        lang: str | None = None,
        formats: Formats = ("pdf", "email"),
        out_dir: Path | None = None,
        letter_date: DateLike = None,
        lrar: bool = False,
        message: int | None = None,
        force: bool = False,
        fresh: bool = False,
        mandates: Path | None = None,
    ) -> FollowResult:
        """The next request, to the organisation an answer to `reference` named: the same
        person and evidence, right and language as the first request unless given, and a
        paragraph citing that answer. `to`: a registry slug; `to_name`: a name looked up
        in the registry, then the datenanfragen records; neither: the organisation the
        answer named. `message`: the inbox message to cite (default: the answer naming
        the recipient, else the latest). Under a mandate the reference is the member's,
        the recipient's and the right's: written twice, it is found, not written again.
        A draft of it (no contact known then) is redone in place, in its folder, with the
        contact given now. `out_dir`: default, the folder of the letter it follows (a
        batch's folder for a member), else ./letters.
        `fresh` (a batch's): AlreadyRecorded when another run recorded it meanwhile.
        `mandates` (a member's): the folder of the signed scans, as for dsar batch; the
        member's is enclosed (attached to the e-mail; the PDF says it is joined, to post
        with it), else the letter offers it on request."""
        entry = self.journal.entry(reference)
        if entry.kind != "request":
            raise DsarError(
                _("{reference} is a {kind}: follow the request it follows").format(
                    reference=entry.reference, kind=entry.kind
                )
            )
        if to and to_name:
            raise UsageError(_("give --to or --to-name, not both"))
        if to_name is not None and (
            not to_name.strip() or printable(to_name) != to_name or "\n" in to_name
        ):
            raise InputError(  # never the automatic pick, never a header line
                "to_name",
                _("--to-name needs an organisation's name on one line, without control characters"),
            )
        found = ""
        was = self.journal.request(entry.reference)
        if to:
            target = self.registry.get(to)
        elif to_name:
            target, found = follow.lookup(self.registry, to_name, SHIPPED_DATENANFRAGEN)
        else:
            target, found = self.named_by(entry.reference, message)
        if target.slug == was.broker.slug:
            raise InputError(
                "to",
                _("{name} is the recipient of {reference} itself").format(
                    name=target.name, reference=entry.reference
                ),
            )
        cause = follow.cause(
            self.journal, entry.reference, target, message, explicit=bool(to or to_name)
        )
        form = was.mandate and self.journal.mandate_form(was.mandate.reference)
        scope = was.mandate and self.journal.mandate_scope(was.mandate.reference)
        needed = follow.scope_needed(self.journal, entry.reference, cause.kind, form)
        if was.mandate is not None and cause.kind == "answer" and target.slug not in (form or []):
            # the person's own pick, named by no answer: no line of the form reaches it
            raise DsarError(
                _(
                    "no answer named {name}: a letter under {ref} goes only to the "
                    "organisations the member's form names ({named}) or to one an answer "
                    "named; record the answer that named it (dsar answer {reference} "
                    "--named source --organisation NAME), or let the member write it"
                ).format(
                    name=target.name,
                    ref=was.mandate.reference,
                    named=", ".join(form or []) or "-",
                    reference=entry.reference,
                )
            )
        if was.mandate is not None:  # as batch --follow: today's form and the one signed
            follow.check_mandate_scope(
                letters.render_mandate(
                    self.templates, was.mandate.association, controllers=[target]
                ),
                scope,
                needed,
            )
        day = self._day(letter_date, "date")
        if was.mandate is not None and (early := members.not_in_force(was.mandate.signed_on, day)):
            raise InputError("date", early)
        if cause.on and day < cause.on:  # a letter citing an answer it would predate
            raise InputError(
                "date",
                _(
                    "the letter would be dated {day}, before the answer it cites ({answered}): "
                    "give a --date on or after that day"
                ).format(day=day.isoformat(), answered=cause.on.isoformat()),
            )
        request = compose.build_request(
            self.registry,
            target,
            was.requester,
            was.evidence,
            right=right or was.right,
            lang=lang or was.lang,
            letter_date=day,
            place=was.place,
            lrar=lrar,
            to_email=to_email,
            to_address=to_address,
            mandate=self._next_mandate(was, needed, form, scope, scan := self._scan(was, mandates)),
            reply_subaddress=was.reply_subaddress,
        )
        request = dataclasses.replace(
            request,
            cause=cause,
            campaign_party=None if target.kind == "party" else was.campaign_party,
        )
        if was.mandate is None:
            request = self.journal.free_reference(request, follows=entry.reference)
        letter = letters.render(request, self.templates)
        chosen = parse_formats(formats)
        drafted = self._draft_folder(request.reference, entry.reference)
        if drafted is not None:  # completed with the contact given now: redone in place
            if out_dir is None and not own_folder(drafted):  # only when told to write there
                raise UsageError(
                    _(
                        "{reference} is a draft in {folder}, which others may write into: "
                        "complete it there only with --out {folder}"
                    ).format(reference=request.reference, folder=drafted)
                )
            if out_dir is not None and out_dir.resolve() != drafted:
                raise UsageError(
                    _(
                        "{reference} is a draft in {folder}: it is completed there; leave "
                        "out --out, or give --out {folder}"
                    ).format(reference=request.reference, folder=drafted)
                )
            out_dir, force = drafted, True
            # every file of the draft is redone: one left as it was would say otherwise
            # (an e-mail without its recipient), outside the journal
            had = [r for r, _p, _s in self.journal.files(request.reference) if r in FORMATS]
            chosen = tuple(dict.fromkeys([*chosen, *had]))
        result = self._write(
            letter,
            chosen,
            out_dir or self._beside(entry.reference),
            force,
            # the signed mandate travels with the e-mail, as with the first request's
            extra={"mandate_scan": (f"mandat-{was.mandate.reference}.pdf", scan.read_bytes())}
            if scan
            else None,
            result_type=FollowResult,
            original=entry.reference,
            found=found,
            follows=entry.reference,
            fresh=fresh,
        )
        result.warnings += compose.address_to_check(request, result.formats, ())
        result.warnings += compose.gap_advice(
            letter, self.registry, self._asked(letter.request.reference)
        )
        return result

    def _draft_folder(self, reference: str, follows: str) -> Path | None:
        """The folder of a draft recorded under `reference` that follows `follows` (one
        that never left), where it is redone in place; None when there is none, or it
        left, or it follows another request (the same person, message and recipient
        reached from another answer: never rewritten with this one's), or its files are
        in several folders."""
        if not self.journal.has(reference) or self.journal.stored_state(reference) != "draft":
            return None
        if self.journal.entry(reference).follows != follows:
            return None
        folders = {p.resolve().parent for _r, p, _s in self.journal.files(reference)}
        return folders.pop() if len(folders) == 1 else None

    def _read_as(self, evidence) -> str:
        """What dsar identify reads a message as, when it names one party with confidence:
        a hint for the row whose sender dsar does not recognise ('' otherwise)."""
        found = self.identify(evidence.text, evidence.sender, evidence.received_on)
        likely = {s.slug: s.name for s in found.controllers if s.likely and s.slug}
        if len(likely) != 1:
            return ""
        [(slug, name)] = likely.items()
        return _("; dsar identify reads this message as {name}'s: broker column {slug}").format(
            name=name, slug=slug
        )

    def _scan(self, was: Request, mandates: Path | None) -> Path | None:
        """The member's signed scan in `mandates` (as dsar batch finds it), never the
        unsigned form dsar mandate wrote; None without one."""
        if was.mandate is None or mandates is None:
            return None
        scan = batches.signed_mandate(mandates, was.mandate.reference)
        with mandate_forms.form_reader() as forms:
            return None if scan is None or forms.is_form(scan) else scan

    @staticmethod
    def _next_mandate(
        was: Request, needed: int, form: list[str] | None, scope: int | None, scan: Path | None
    ) -> Mandate | None:
        """The mandate of a next request: enclosed with the member's signed `scan`, else
        offered on request, and said to cover its recipient only when the form dsar
        recorded (`form`, what it names; `scope`, what it covers) shows it (see
        Mandate.covers_recipient): the chain's line when an organisation the form names
        answered (`needed` CHAIN), the wider line when the form has it and it is needed."""
        if was.mandate is None:
            return None
        scope = scope or 0
        if needed == follow.ONWARD:
            covers = "onward" if scope >= follow.ONWARD else ""
        else:
            covers = "chain" if scope >= follow.CHAIN and was.broker.slug in (form or []) else ""
        mandate = (
            dataclasses.replace(was.mandate, on_request=False) if scan else was.mandate.offered()
        )
        return dataclasses.replace(mandate, covers_recipient=covers)

    def _unknown_to_follow(self, slug: str) -> DsarError:
        """batch --follow with a slug the registry lacks: the organisations the members'
        answers named, with their slugs, rather than a look-alike slug's company."""
        named = follow.organisations_members_named(self.journal, self.registry)
        if not named:
            return UsageError(
                _(
                    "unknown broker '{slug}', and no member's answer names an organisation "
                    "yet: record what each answer named (dsar answer REF --named source "
                    "--organisation NAME, or dsar inbox), then give its registry slug"
                ).format(slug=slug)
            )
        listed = "; ".join(
            _("{name}: --follow {slug} ({count} member(s))").format(name=n, slug=s, count=c)
            if s
            else _("{name}: not in the registry ({count} member(s))").format(name=n, count=c)
            for n, s, c in named[:10]
        )
        return UsageError(
            _(
                "unknown broker '{slug}'. The members' answers named: {listed}. An "
                "organisation not in the registry needs an entry in your own brokers.yaml "
                'or a --registry FILE first (README, "The registry")'
            ).format(slug=slug, listed=listed)
        )

    def batch_follow(
        self,
        slug: str,
        *,
        association: Association | Path,
        out_dir: Path,
        formats: Formats = ("pdf",),
        letter_date: DateLike = None,
        mandates: Path | None = None,
        progress: Progress = _no_progress,
    ) -> FollowBatchResult:
        """For every member whose answer named `slug`, the next request to it, under the
        member's mandate: one reference per member, recipient and right, so that a rerun
        (after a crash, or with new answers) writes only what is not written yet. The
        mandate must cover 'any controller these organisations name'; the manifest
        (out_dir/manifest.csv) lists every member's letter, this run's and earlier ones."""
        try:
            target = self.registry.get(slug)
        except UnknownBroker:
            raise self._unknown_to_follow(slug) from None
        today_form = letters.render_mandate(
            self.templates, _association(association), controllers=[target]
        )
        follow.check_mandate_scope(today_form)
        offered = follow.scope_of(today_form)  # what a form not recorded is read to cover
        chosen = parse_formats(formats)
        if not set(chosen) <= {"pdf", "email", "html", "labels"}:
            raise UsageError(_("--format for a batch is pdf, email, html and/or labels"))
        todo = follow.members_naming(self.journal, target)
        # as dsar batch: no .eml for a recipient without an e-mail address (it would have
        # no To:), unless the e-mail is all that was asked (a draft, completed later)
        letter_formats = [f for f in chosen if f != "labels"]
        if not target.email and len(letter_formats) > 1:
            letter_formats = [f for f in letter_formats if f != "email"]
        result = FollowBatchResult(
            manifest=out_dir / "manifest.csv", emails_asked="email" in chosen
        )
        parties: dict[str, int] = {}  # the parties behind the members' messages: one line
        progress("letters", 0, len(todo))

        def done(reference: str) -> str | None:
            return next(
                (
                    e.reference
                    for e in self.journal.follow_ups(reference, "request")
                    if e.broker == target.slug
                ),
                None,
            )

        for number, (reference, answer) in enumerate(todo, start=1):
            next_ref = done(reference)
            mandate = self.journal.request(reference).mandate
            form = mandate and self.journal.mandate_form(mandate.reference)
            needed = follow.scope_needed(self.journal, reference, answer.kind, form)
            signed = mandate and self.journal.mandate_scope(mandate.reference)
            if mandate and next_ref is None and (offered if signed is None else signed) < needed:
                # the form this member signed does not cover it: held back, the others go on
                result.out_of_scope.append(mandate.reference)
                result.bad_rows.append(  # in the manifest, where no member is missing
                    members.BadRow(
                        number,
                        "mandate_ref",
                        _("{ref}: held back: {why}").format(
                            ref=mandate.reference,
                            why=follow.out_of_scope(needed, template=signed is None),
                        ),
                        self.journal.entry(reference).member or "",
                    )
                )
                progress("letters", 1, None)
                continue
            if next_ref is None:
                # exactly once, as a batch: the reference is the member's, recipient's and
                # right's, and the journal's write lock decides who records it; another
                # run at once that got there first leaves this one's files unwritten
                try:
                    written = self.follow(
                        reference,
                        to=target.slug,
                        formats=letter_formats,
                        out_dir=out_dir,
                        letter_date=letter_date,
                        fresh=True,
                        mandates=mandates,
                    )
                except (AlreadyRecorded, OutputExists):
                    next_ref = done(reference)
                    if next_ref is None:  # a file in the way, no run's letter: said
                        raise
                else:
                    party = compose.write_to_party(
                        written.letter.request, self.registry, self._asked(written.reference)
                    )
                    said = [w for w in written.warnings if w != party]  # a citizen's command
                    result.written += written.written
                    result.warnings += [w for w in said if w not in result.warnings]
                    result.written_now.append(written.reference)
                    next_ref = written.reference
            if next_ref not in result.written_now:
                result.already.append(next_ref)
            request = self.journal.request(next_ref)
            named = compose.campaign_party(request, self.registry)
            asked = self._asked(next_ref)
            if named and not (asked and asked(named)):  # a party already written to: not again
                parties[named.slug] = parties.get(named.slug, 0) + 1
            files = {role: path.name for role, path, _sha in self.journal.files(next_ref)}
            row = ManifestRow(
                number,
                self.journal.entry(reference).member or "",
                target.slug,
                next_ref,
                files.get("pdf", ""),
                files.get("email", ""),
                draft=not request.recipient_address,  # never printed nor labelled
                address=request.recipient_address or "",
            )
            if "email" in chosen and not request.recipient_email:
                row.email_status = NO_RECIPIENT_EMAIL
            result.rows.append(row)
            progress("letters", 1, None)
        out_dir.mkdir(parents=True, exist_ok=True)
        # printed and posted as a batch's: the print file, the labels, then sent --from-manifest
        if "pdf" in chosen:
            batches.PrintFiles(out_dir, result, self.journal).finish()
        if "labels" in chosen:
            result.labels = out_dir / "labels.csv"
            labels.write(result.labels, batches.labelled(self.journal, result.rows))
        manifest.write(result.manifest, result, self.journal)
        result.written += [*result.print_files, *filter(None, [result.labels]), result.manifest]
        result.to_record = batches.to_record(result, self.journal)
        for row in result.rows:
            if row.draft:
                result.no_address.append(row.reference)
        if parties:
            result.warnings.append(
                _(
                    "Write also to the parties that ordered the members' campaigns (they stay "
                    "responsible and must obtain the origin of the data from their provider): "
                    "{parties}; a batch of those members' rows with that party as recipient"
                ).format(parties=", ".join(f"{slug} ({n})" for slug, n in sorted(parties.items())))
            )
        if result.out_of_scope:  # partial, as a batch with bad rows (exit 3)
            result.exit_code = EXIT_PARTIAL
            result.warnings.append(
                _(
                    "{count} member(s) held back: the mandate form they signed does not cover "
                    "this recipient ({refs}): have them sign the form dsar mandate writes now, "
                    "then run again"
                ).format(
                    count=result.out_of_scope.count,
                    refs=", ".join(result.out_of_scope.first)
                    + (
                        ", ..."
                        if result.out_of_scope.count > len(result.out_of_scope.first)
                        else ""
                    ),
                )
            )
        if not todo:
            result.warnings.append(
                _("no member's answer names {name}: nothing to write").format(name=target.name)
            )
        return result

    def trail(self, reference: str | None = None, *, member: str | None = None) -> list[dict]:
        """The chain from the message received to every request it led to: one per
        first request (a member may have several)."""
        if bool(reference) == bool(member):
            raise UsageError(_("give a reference or --member NAME"))
        roots = (
            [follow.root_of(self.journal, reference)]
            if reference
            else follow.member_roots(self.journal, member)
        )
        return [follow.trail(self.journal, root, self.today()) for root in roots]

    def status(
        self,
        *,
        as_of: DateLike = None,
        broker: str | None = None,
        state: str | None = None,
        csv_file: Path | None = None,
        ics_file: Path | None = None,
        member: str | None = None,
        batch: Path | None = None,
        force: bool = False,
    ) -> StatusResult:
        """Every request with its deadline, and its state as of a day (default: today);
        also written as CSV rows and as an .ics calendar of deadlines when asked."""
        if state is not None and state not in REQUEST_STATES:
            raise InputError(
                "state",
                _("'{value}': use {choices}").format(
                    value=state, choices=", ".join(REQUEST_STATES)
                ),
            )
        day = self._day(as_of, "as_of")
        entries = report.select(
            self.journal.entries(broker=broker),
            day,
            state=state,
            member=member,
            references=posting.references(batch) if batch else None,
        )
        result = StatusResult(as_of=day, entries=entries)
        check_free([p for p in (csv_file, ics_file) if p], overwrite=force)
        if csv_file:
            report.write_csv(csv_file, entries, day, overwrite=force)
            result.written.append(csv_file)
        if ics_file:
            report.write_ics(ics_file, entries, overwrite=force)
            result.written.append(ics_file)
        return result

    def details(self, reference: str) -> dict:
        """One request whole, as plain data (dsar show): recipient, right, files with
        checksums, every step, the deadline and what to do next."""
        shown = self.journal.show(reference, self.today())
        # whom the answers named, and the request already written to each (dsar follow)
        shown["named"] = [
            {**one, "on": one["on"].isoformat() if one["on"] else None}
            for one in follow.named_organisations(self.journal, self.registry, reference)
        ]
        to_ask = [n for n in shown["named"] if not n["asked"] and n["kind"] != "answer"]
        # a reminder, reply or complaint written and not sent comes first (next_with_drafts)
        drafted = any(
            f["state"] == "draft" and f["kind"] in WRITTEN_BY for f in shown["follow_ups"]
        )
        own_step = drafted or shown["state"] not in ("answered", "closed")
        if to_ask:  # the next request to the one an answer named, latest first
            slug = to_ask[0]["slug"]
            command = f"dsar follow {shown['reference']}" + (f" --to {slug}" if slug else "")
            shown["next"].append(command)
            if not own_step:
                shown["next_step"] = _(FOLLOW_NEXT).format(
                    name=to_ask[0]["organisation"] or _("the organisation it named"),
                    command=command,
                )
                shown["step_commands"] = [command]
            return shown
        waiting = [  # a next request written and not sent: sending it is what comes next
            f for f in shown["follow_ups"] if f["kind"] == "request" and f["state"] == "draft"
        ]
        if waiting and not own_step:
            ref = waiting[-1]["reference"]
            shown["next_step"] = _("the next request {ref} is written, not sent: {step}").format(
                ref=ref, step=self.journal.show(ref, self.today())["next_step"]
            )
            shown["step_commands"] = []
        return shown

    def forget(self, reference: str) -> Result:
        """Drop a draft from the journal; its files stay on disk, listed in `written`."""
        left = self.journal.forget(reference)
        return Result(reference=canonical(reference), written=left)

    # ------------------------------------------------------------ what a campaign found

    def report(
        self,
        out_dir: Path,
        *,
        association: Association | Path | None = None,
        batch: Path | None = None,
        with_members: bool = False,
        as_of: DateLike = None,
        force: bool = False,
    ) -> Result:
        """The figures of an association's requests (or all the journal's): an HTML page,
        its PDF, the same figures as CSV and the two pictures as SVG, all or none. No
        member is named unless `with_members`."""
        from .i18n import language

        found = findings.gather(
            self.journal,
            self.registry,
            self._day(as_of, "as_of"),
            association=_association(association) if association is not None else None,
            references=posting.references(batch) if batch else None,
            with_members=with_members,
        )
        if not found.requests:
            raise DsarError(_("no request to report on: see dsar status"))
        written = findings.write(
            found, out_dir, self.templates, self.pdf_renderer, language(), force=force
        )
        return Result(written=written)

    def complain_association(
        self,
        association: Association | Path,
        recipient: str,
        *,
        out_dir: Path,
        on: DateLike = None,
        mandates: Path | None = None,
        force: bool = False,
    ) -> ComplaintsResult:
        """One complaint to the CNIL for every member whose request to `recipient` ran
        out unanswered, was refused or answered in part: under Art. 80(1) GDPR when the
        association qualifies on that day, for the members whose signed mandate gave it
        that power (one letter, an annex per member, the mandates enclosed); the others'
        own complaints, each signed by the member, with one cover letter."""
        found = _association(association)
        day = self._day(on, "on")
        organisation = self.registry.get(recipient)
        cases = collective.cases(self.journal, found, organisation, day)
        cnil = self.registry.get("cnil")
        # a signed mandate is enclosed when it passes the limited child (it came from
        # outside: render/outside.py); the annex names the others. The unsigned form dsar
        # mandate wrote is none: the same child, reading each scan once, tells it apart
        found_scans = {
            c.mandate_ref: batches.signed_mandate(mandates, c.mandate_ref) for c in cases
        }
        written: list[Path] = []
        warnings: list[str] = []
        with tempfile.TemporaryDirectory(prefix="dsar-mandates-") as work:
            (Path(work) / "mandates").mkdir()
            copies, left_out = outside.vet(
                [p for p in found_scans.values() if p], Path(work) / "mandates", mandate_forms.MARK
            )
            forms = {name for name, problem in left_out if problem.code == "form"}
            for ref, path in found_scans.items():
                if path is not None and path.name in forms:  # not a signed mandate at all
                    warnings.append(mandate_forms.unsigned_problem(ref, path))
                    found_scans[ref] = None
            left_out = [(name, problem) for name, problem in left_out if name not in forms]
            scans = {ref: copies.get(path) if path else None for ref, path in found_scans.items()}
            collective.mandates_left_out(cases, found_scans, copies, left_out)
            # Art. 80(1) only for the members whose signed form gave that power and whose
            # signed mandate is enclosed (the letter says each one gives it: one it cannot
            # enclose, missing or unreadable, is no proof); the others complain themselves,
            # under the ordinary mandate, with the cover letter
            under_art80 = (
                [c for c in cases if c.art80 and scans[c.mandate_ref] and not c.lapsed]
                if found.art80_on(day)
                else []
            )
            ordinary = [c for c in cases if c not in under_art80]
            not_art80 = found.not_art80_why(day)
            reasons = {
                c.reference: collective.why_ordinary(c, not_art80, scans, mandates)
                for c in ordinary
            }
            # a member whose own complaint is already drafted, not yet filed, gets no second
            for case in [] if force else ordinary:
                case.drafted = collective.drafted(self.journal, case)
            drafted = [c for c in ordinary if c.drafted]
            ordinary = [c for c in ordinary if c not in drafted]
            if not (under_art80 or ordinary):  # a rerun with nothing left to write
                raise DsarError(
                    _(
                        "nothing written: every member's own complaint is already written, not "
                        "yet filed: {refs}. File each with the CNIL, then record it: dsar sent "
                        "COMPLAINT --on YYYY-MM-DD, COMPLAINT being the reference in brackets "
                        "(--force writes them again)"
                    ).format(refs=collective.drafted_refs(drafted))
                )
            targets = [
                out_dir / collective.file_name(organisation.slug, day, cover=cover)
                for cover, group in ((False, under_art80), (True, ordinary))
                if group
            ]
            if ordinary and self.journal.filed_with(targets[-1], "cover"):
                # the cover letter of complaints already filed is evidence: a new one for
                # the rest, under a name of its own, even with --force
                targets[-1] = self._unused(targets[-1])
                warnings.append(
                    _(
                        "the cover letter of {day} went with complaints already filed: kept; "
                        "this one is {name}"
                    ).format(day=day.isoformat(), name=targets[-1].name)
                )
            check_free(targets, overwrite=force)
            if under_art80:
                art80_scans = {c.mandate_ref: scans[c.mandate_ref] for c in under_art80}
                more = collective.pieces(self.journal, self.pdf_renderer, under_art80, Path(work))
                html = collective.letter(
                    self.templates, found, organisation, under_art80, day, art80_scans, cnil
                )
                pdf = collective.enclose(
                    self.pdf_renderer.render_html(html), art80_scans, Path(work), more
                )
                write_private(targets[0], pdf, overwrite=force)
                written.append(targets[0])
            if ordinary:
                written += self._members_complaints(
                    ordinary, day, out_dir, force, scans, targets[-1],
                    lambda: collective.cover(
                        self.templates, found, organisation, ordinary, day, scans, cnil
                    ),
                )  # fmt: skip
        warnings += collective.mandates_not_joined(cases, drafted)
        warnings += collective.held_for_id(self.journal, found, organisation.slug, day)
        return ComplaintsResult(
            written=written,
            warnings=warnings,
            summary=collective.summary(cases, under_art80, ordinary, drafted, reasons, scans),
            art80=bool(under_art80),
            own=len(ordinary),
        )

    def _members_complaints(self, cases, day, out_dir, force, scans, cover, cover_html):
        """The members' own complaints and their cover letter, all or none: each made
        and staged, then all recorded in one journal transaction, then named. One that
        fails (a file in the way, a dossier that cannot be joined) leaves no other
        member's complaint written or recorded: the set goes to the CNIL together, under
        one cover letter, and a rerun writes it whole (never a cover without the members
        written by an interrupted run)."""
        made = []
        try:
            for case in cases:
                result, letter, staged = self._complaint_staged(
                    case.reference, day, out_dir, force, scans[case.mandate_ref]
                )
                made.append((result, letter, staged))
                case.files = [p.name for p in result.written]
                case.complaint = result.reference  # for the screen
            whole = compose.Written()
            whole.staged[cover] = stage_private(cover, self.pdf_renderer.render_html(cover_html()))
            made.append((None, None, whole))
            with self.journal.together():
                for result, letter, staged in made[:-1]:
                    compose.record_staged(
                        letter,
                        staged,
                        ("pdf",),
                        self.journal,
                        kind="complaint",
                        follows=result.original,
                        then=("complain", day, force),
                        publish=False,
                    )
        except BaseException:
            for _result, _letter, staged in made:
                staged.discard()
            raise
        for _result, _letter, staged in made:
            staged.publish()
        for result, _letter, _staged in made[:-1]:  # the cover goes with each complaint
            self.journal.add_file(result.reference, "cover", cover)
        return [cover, *(p for result, _l, _s in made[:-1] for p in result.written)]

    @staticmethod
    def _unused(path: Path) -> Path:
        """`path`, or the first of path-2, path-3... that no file holds."""
        number = 2
        while (found := path.with_name(f"{path.stem}-{number}{path.suffix}")).exists():
            number += 1
        return found

    # ------------------------------------------------------------ the registry

    def identify(
        self,
        text: str = "",
        sender: str = "",
        when: DateLike = None,
        *,
        channel: str | None = None,
        program: str = "dsar",
    ) -> IdentifyResult:
        """Who is behind a message: the likely controller and broker, each with why.
        `program`: how the person runs dsar, for the commands it prints."""
        text = fields.text(text, "text", multiline=True)
        sender = fields.text(sender, "sender", limit=200)
        day = fields.iso_date(when, "date") if when else None
        clues, matches = identify.identify(
            self.registry, text=text, sender=sender, when=day, channel=channel
        )
        controllers, brokers = identify.suspects(self.registry, clues, matches)
        result = IdentifyResult(clues=clues, controllers=controllers, brokers=brokers)
        if not any(b.likely and b.slug for b in brokers):
            result.senders = identify.political_senders(self.registry)
        saved = self.saved_profile()
        result.needs_profile = not saved
        result.commands, result.unlikely_commands = (
            identify.generate_commands(
                slugs, when=day, sender=sender, text=text, saved=saved, program=program
            )
            for slugs in (result.proposed, result.unlikely)
        )
        return result

    def write_to_suspects(
        self,
        found: IdentifyResult,
        *,
        text: str = "",
        sender: str = "",
        when: DateLike = None,
        out_dir: Path = Path("letters"),
        force: bool = False,
    ) -> list[LetterResult]:
        """dsar identify --generate: the letters its commands would write, at once, with
        the saved details (the same slugs, message and formats as the commands)."""
        saved = self.saved_profile()
        if not saved:
            raise UsageError(_("--generate writes with your saved details: run dsar init first"))
        slugs = found.proposed  # never a low-confidence guess by itself
        formats = ("pdf", "email") if saved.get("email") else ("pdf",)
        return [
            self.generate(
                slug,
                sms_date=when,
                sms_sender=sender,
                sms_text=text,
                formats=formats,
                out_dir=out_dir,
                force=force,
            )
            for slug in dict.fromkeys(slugs)
        ]

    def import_registry(
        self,
        source: str,
        path: Path | None,
        output: Path,
        *,
        kind: str = "company",
        force: bool = False,
    ) -> ImportResult:
        """Import an outside company database into a registry file (path None: the
        datenanfragen records shipped with dsar); a registry that would not load is
        never written (the output is left as it was)."""
        if source != "datenanfragen":
            raise InputError(
                "source", _("'{value}': dsar imports datenanfragen").format(value=source)
            )
        path = path or SHIPPED_DATENANFRAGEN
        check_free([output], overwrite=force)
        report = importer.import_datenanfragen(path, kind=kind)
        text = importer.dump(report, path)
        registry.parse(text, str(output))  # raises RegistryError: nothing is written
        write_private(output, text, overwrite=force)
        return ImportResult(written=[output], report=report, output=output)

    def brokers(self, kind: str | None = None) -> BrokersResult:
        return BrokersResult(brokers=[b for b in self.registry if kind in (None, b.kind)])

    def broker(self, slug: str) -> BrokerResult:
        found = self.registry.get(slug)
        return BrokerResult(
            broker=found,
            origin=self.registry.origin[found.slug],
            subsidiaries=self.registry.subsidiaries(found.slug),
            used_by=self.registry.parties_using(found.slug),
        )

    def search(self, text: str) -> BrokersResult:
        found = self.registry.search(text)
        if not found:
            raise DsarError(
                _("nothing matches '{text}'; try part of a name, or dsar brokers list").format(
                    text=text
                )
            )
        return BrokersResult(brokers=[self.registry.brokers[s] for s in found])

    def check(self, file: Path | None = None) -> CheckResult:
        """Validate one registry file, or the registry dsar uses; errors exit 1."""
        if file:
            checked, given = Registry(), registry.read(file)
            if any(isinstance(entry, ContactAddition) for entry in given.brokers):
                # its contacts-only entries add to the shipped entries
                checked.add(registry.read(SHIPPED_REGISTRY), str(SHIPPED_REGISTRY))
            checked.add(given, str(file))
        else:
            checked = self.registry
        findings = registry.check(checked, self.today())
        result = CheckResult(
            findings=findings, entries=len(checked), campaigns=len(checked.campaigns)
        )
        result.exit_code = EXIT_ERROR if result.errors else 0
        return result

    def add_contact(
        self,
        slug: str,
        *,
        source: str,
        postal: str | None = None,
        email: str | None = None,
        webform: str | None = None,
    ) -> BrokerResult:
        """Add contacts to an entry in the user's brokers.yaml (0600) without rewriting
        the entry; nothing is written unless the result loads."""
        given = [(k, v) for k, v in (("postal", postal), ("email", email), ("webform", webform))]
        contacts = [registry.contact(kind, value, source) for kind, value in given if value]
        if not contacts:
            raise UsageError(_("give --postal, --email or --webform"))
        below = [SHIPPED_REGISTRY]
        try:
            found = registry.add_contacts(self.paths.user_registry, below, slug, contacts)
        except UnknownBroker as exc:  # a source an answer named, not in the registry
            raise UsageError(
                _(
                    "{message} An organisation the registry lacks gets no entry here: write "
                    "to it with dsar follow REFERENCE --to-name NAME --to-address "
                    "'LINE\\nLINE\\nPOSTCODE TOWN' (or --to-email ADDRESS)"
                ).format(message=str(exc))
            ) from None
        self.__dict__.pop("registry", None)  # the next use reads the new file
        result = self.broker(found.slug)
        result.written = [self.paths.user_registry]
        return result

    def campaigns(self) -> CampaignsResult:
        found = sorted(self.registry.campaigns.values(), key=lambda c: c.date)
        return CampaignsResult(campaigns=found)

    def show(self, reference: str) -> ShowResult:
        """One request whole, with the advice on missing contacts it was written with."""
        entry = self.journal.entry(reference)
        request = self.journal.request(reference)
        subject, body_text = self.journal.words(reference)
        letter = Letter(
            request=request,
            subject=subject,
            body_html="",
            body_text=body_text,
            gaps=letters.gaps(request),
        )
        return ShowResult(
            reference=entry.reference,
            entry=entry,
            request=request,
            files=self.journal.files(reference),
            names=self.journal.display_names(reference),
            events=self.journal.events(reference),
            page_html=self.journal.page_html(reference),
            mailto=mail.mailto(letter),
            text=f"{subject}\n\n{body_text}",
            warnings=compose.gap_advice(
                letter, self.registry, self._asked(letter.request.reference)
            )
            if entry.kind == "request"
            else [],
        )

    # ------------------------------------------------------------ completion

    def references(self) -> list[str]:
        """The references of the requests in the journal (shell completion)."""
        return [e.reference for e in self.journal.entries()]


def _forms_of_no_row(folder: Path, written: list[Path]) -> list[Path]:
    """The mandate-<ref>.pdf files in the folder that no row of this run wrote: a member
    removed from the CSV, or a mandate_ref changed, leaves its form behind (dsar mandate
    deletes none: a file of that name may be the member's signed scan)."""
    kept = {path.name for path in written} | {output_name("", None, "pdf", kind="mandate")}
    found = folder.glob(output_name("*", None, "pdf", kind="mandate"))
    return sorted(p for p in found if p.name not in kept and p.is_file())


def _association(value: Association | Path) -> Association:
    """An association given as such (a web form) or as its association.yaml."""
    return value if isinstance(value, Association) else members.load_association(value)


def parse_formats(formats: Formats) -> tuple[str, ...]:
    value = formats if isinstance(formats, str) else ",".join(formats)
    return compose.parse_formats(value)
