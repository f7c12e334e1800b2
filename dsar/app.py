"""The service layer: one App per run, one method per use case.

The command line, a batch worker and a web page all call these methods; each returns
a result (dsar/results.py) saying what was written, the reference, warnings, bad rows
and the exit code, and never prints, prompts or exits. The context (paths, clock,
registry, templates, journal) is built once, lazily, and closed with close() or a
`with` block.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

import jinja2

from . import batch as batches
from . import clock as clock_module
from . import (
    compose,
    fields,
    followup,
    identify,
    importer,
    letters,
    members,
    profile,
    registry,
    report,
)
from .errors import DsarError, InputError, UsageError
from .files import check_free, write_private
from .journal import Journal
from .models import Association, Letter
from .paths import SHIPPED_REGISTRY, Paths
from .registry import Registry
from .render import mail
from .render.pdf import PdfRenderer
from .results import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    AnswerResult,
    BatchResult,
    BrokerResult,
    BrokersResult,
    CampaignsResult,
    CheckResult,
    ComplaintResult,
    IdentifyResult,
    ImportResult,
    LetterResult,
    MandatesResult,
    ReminderResult,
    Result,
    SentResult,
    StatusResult,
)
from .sending import Smtp, SmtpSettings, send_outbox
from .vocabulary import ANSWER_STATES, REQUEST_STATES, output_name

# progress(stage, advance, total): stage is "rows" or "e-mails"; a total when known
Progress = Callable[[str, int, int | None], None]
DateLike = str | date | None
Formats = str | Sequence[str]
# what an answer leads to next
NEXT_STEP = {
    "id-requested": "answer it with: dsar reply-id {reference}",
    "partial": "follow up with: dsar remind {reference}",
    "refused": "follow up with: dsar complain {reference} --out DIR",
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
        return Journal(self._journal_path or self.paths.journal)

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
    ) -> Result:
        """Save the requester's details (0600); what is not given keeps its saved value."""
        saved = self.saved_profile()
        person = profile.requester(
            name or saved.get("name"),
            address or saved.get("address"),
            phone or saved.get("phone"),
            email or saved.get("email"),
        )
        profile.save(self.paths.profile, person)
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
    ) -> LetterResult:
        """Write a first request; details not given come from the saved profile."""
        chosen = parse_formats(formats)
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
        )
        letter = letters.render(request, self.templates)
        if "email" in chosen and not request.reply_email:
            raise InputError("email", "the e-mail format needs your e-mail address (--email)")
        result = self._write(letter, chosen, out_dir, force)
        result.warnings += compose.recipient_wishes(request, chosen)
        result.warnings += compose.gap_advice(letter, self.registry)
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
        **fields_of_result,
    ) -> LetterResult:
        """Render and write a letter's files, then record it in the journal."""
        written = compose.write(
            letter,
            chosen,
            out_dir,
            force=force,
            # a reminder that encloses the original needs the renderer for its e-mail too
            pdf_renderer=(
                self.pdf_renderer if "pdf" in chosen or (extra or {}).get("enclosed_html") else None
            ),
            extra=extra,
            kind=kind,
            env=self.templates,
        )
        self.journal.record(
            letter.request,
            subject=letter.subject,
            body_text=letter.body_text,
            medium=",".join(chosen),
            page_html=written.page_html,
            files=written.files,
            kind=kind,
        )
        return result_type(
            written=list(written.files.values()),
            reference=letter.request.reference,
            letter=letter,
            formats=chosen,
            text=f"{letter.subject}\n\n{letter.body_text}" if "text" in chosen else None,
            mailto=mail.mailto(letter) if written.eml else None,
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
        send: bool = False,
        dry_run: bool = False,
        smtp: SmtpSettings | None = None,
        progress: Progress = _no_progress,
    ) -> BatchResult:
        """Letters for every member, under mandate; with send=True, e-mailed over `smtp`.

        Once rows are read, the manifest (out_dir/manifest.csv) is written whatever
        happens: a bad row, a failure midway, an SMTP server gone, Ctrl-C. The exit
        code is EXIT_PARTIAL when rows were skipped or e-mails failed or were deferred.
        """
        chosen = parse_formats(formats)
        if not set(chosen) <= {"pdf", "email", "html"}:
            raise UsageError("--format for a batch is pdf, email and/or html")
        if send and "email" not in chosen:
            raise UsageError("--send needs --format to include email")
        if send and not dry_run and smtp is None:
            raise UsageError("--send needs --smtp-host")
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
        )
        if broker:
            self.registry.get(broker)  # an unknown --broker fails before any row
        progress("rows", 0, members.count(csv_file))  # refuses a CSV that is not UTF-8
        result = BatchResult(manifest=out_dir / "manifest.csv", emails_asked="email" in chosen)
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
            if send and dry_run:
                result.would_send = [(ref, to) for ref, to, _, _ in journal.outbox_pending()]
            elif send:
                # counted, not listed: the messages are read one at a time, memory stays flat
                progress("e-mails", 0, journal.outbox_waiting())
                result.sent = send_outbox(
                    journal,
                    Smtp(smtp),
                    sender_for=lambda ref: options.association.email,
                    progress=lambda ref: progress("e-mails", 1, None),
                )
        finally:  # the manifest says what was done and sent even when the run stops
            batches.write_manifest(result.manifest, result, journal)
        result.written = [
            *(out_dir / name for row in result.rows for name in (row.pdf, row.eml) if name),
            *result.print_files,
            result.manifest,
        ]
        if "email" in chosen and result.unsigned:
            result.warnings.append(
                f"{len(result.unsigned)} e-mail(s) say the mandate is enclosed but have no "
                f"scan to attach (first: {result.unsigned[0]}); give --mandates DIR with "
                "<mandate_ref>.pdf"
            )
        if result.bad_rows or result.sent.get("failed") or result.sent.get("deferred"):
            result.exit_code = EXIT_PARTIAL
        return result

    def mandates(
        self,
        association: Association | Path,
        out_dir: Path,
        csv_file: Path | None = None,
        *,
        force: bool = False,
        broker: str | None = None,
    ) -> MandatesResult:
        """Mandate forms for members to sign: one per CSV row, or one blank form. Each
        names the controllers the member authorises: the row's broker (else `broker`)
        and the party the message names."""
        found = _association(association)
        rows = [] if csv_file is None else list(members.read(csv_file))
        forms = [None] if csv_file is None else [r for r in rows if isinstance(r, members.Member)]
        targets = [
            out_dir / output_name(m.mandate_ref if m else "", None, "pdf", kind="mandate")
            for m in forms
        ]
        check_free(targets, overwrite=force)
        # every row's controllers are looked up first: an unknown one stops before any file
        named = [members.controllers(self.registry, m, broker) for m in forms]
        for member, target, controllers in zip(forms, targets, named, strict=True):
            html = letters.render_mandate(self.templates, found, member, controllers)
            write_private(target, self.pdf_renderer.render_html(html), overwrite=force)
        return MandatesResult(
            written=targets,
            bad_rows=[r for r in rows if isinstance(r, members.BadRow)],
            out_dir=out_dir,
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
    ) -> SentResult:
        """Record that a request was sent, with its proof: the deadline starts to run.
        `proofs` (receipt scan, screenshot of the message) go into the CNIL dossier; with
        proofs alone (no `on`), nothing else of the record changes."""
        if on is None and not proofs:
            raise UsageError("give --on DATE (when it was sent), or --proof FILE to add a proof")
        kept = self.journal.add_proofs(reference, list(proofs))
        if on is None:
            return SentResult(
                reference=reference, entry=self.journal.entry(reference), written=kept
            )
        self.journal.mark_sent(
            reference,
            fields.iso_date(on, "on"),
            lrar=lrar,
            received=fields.iso_date(received, "received") if received else None,
            message_id=message_id,
        )
        return SentResult(reference=reference, entry=self.journal.entry(reference), written=kept)

    def answer(
        self,
        reference: str,
        on: DateLike,
        *,
        state: str | None = None,
        extension: bool = False,
        files: Sequence[Path] = (),
        note: str | None = None,
    ) -> AnswerResult:
        """Record the recipient's answer (`state`), or a notified extension."""
        if extension == bool(state):
            raise UsageError("give either --state or --extension")
        day = fields.iso_date(on, "on")
        if extension:
            self.journal.mark_extension(reference, day)
            return AnswerResult(reference=reference, entry=self.journal.entry(reference))
        if state not in ANSWER_STATES:
            raise InputError("state", f"'{state}': use {', '.join(ANSWER_STATES)}")
        kept = self.journal.mark_answer(reference, state, day, note, list(files))
        step = NEXT_STEP.get(state)
        return AnswerResult(
            reference=reference,
            written=kept,
            entry=self.journal.entry(reference),
            state=state,
            kept=kept,
            next_step=step.format(reference=reference) if step else None,
        )

    def remind(
        self,
        reference: str,
        *,
        on: DateLike = None,
        lang: str | None = None,
        formats: Formats = ("pdf", "email"),
        out_dir: Path = Path("letters"),
        force: bool = False,
    ) -> ReminderResult:
        """The reminder (relance) with a final 15-day deadline; the request is 'reminded'."""
        day = self._day(on, "on")
        chosen = parse_formats(formats)
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
            out_dir,
            force,
            kind="reminder",
            extra=extra,
            result_type=ReminderResult,
            original=reference,
            final_deadline=extra["final_deadline"],
        )
        self.journal.mark_reminded(reference, day, letter.request.reference)
        return result

    def reply_id(
        self,
        reference: str,
        *,
        on: DateLike = None,
        lang: str | None = None,
        formats: Formats = ("pdf", "email"),
        out_dir: Path = Path("letters"),
        force: bool = False,
    ) -> LetterResult:
        """The answer to a demand for an identity card: not proportionate for a number."""
        day = self._day(on, "on")
        letter, extra = followup.reply_id(
            self.journal, reference, self.templates, on=day, lang=lang
        )
        return self._write(
            letter, parse_formats(formats), out_dir, force, kind="reply-id", extra=extra
        )

    def complain(
        self, reference: str, *, on: DateLike = None, out_dir: Path, force: bool = False
    ) -> ComplaintResult:
        """The CNIL complaint and one dossier PDF; the request becomes 'complained'."""
        day = self._day(on, "on")
        cnil = self.registry.get("cnil")
        letter, extra = followup.complaint(
            self.journal, reference, self.templates, cnil, on=day, force=force
        )
        dossier = out_dir / output_name(reference, None, "pdf", kind="dossier")
        check_free([dossier], overwrite=force)
        result = self._write(
            letter,
            ("pdf",),
            out_dir,
            force,
            kind="complaint",
            extra=extra,
            result_type=ComplaintResult,
            original=reference,
            dossier=dossier,
        )
        bundle, result.left_out = followup.dossier(
            self.journal,
            reference,
            result.pdf,
            self.pdf_renderer,
            followup.reminders_of(self.journal, reference),
        )
        write_private(dossier, bundle, overwrite=force)
        result.written.append(dossier)
        self.journal.mark_complained(reference, day, letter.request.reference)
        result.warnings += [
            f"{name} is not a readable PDF: not bundled, but listed with its "
            "checksum on the dossier's last page; attach it yourself"
            for name in result.left_out
        ]
        result.warnings += [f"to add: {item['what']}: {item['how']}" for item in extra["to_add"]]
        return result

    def status(
        self,
        *,
        as_of: DateLike = None,
        broker: str | None = None,
        state: str | None = None,
        csv_file: Path | None = None,
        ics_file: Path | None = None,
    ) -> StatusResult:
        """Every request with its deadline, and its state as of a day (default: today);
        also written as CSV rows and as an .ics calendar of deadlines when asked."""
        if state is not None and state not in REQUEST_STATES:
            raise InputError("state", f"'{state}': use {', '.join(REQUEST_STATES)}")
        day = self._day(as_of, "as_of")
        entries = [
            e for e in self.journal.entries(broker=broker) if state is None or e.state(day) == state
        ]
        result = StatusResult(as_of=day, entries=entries)
        if csv_file:
            report.write_csv(csv_file, entries, day)
            result.written.append(csv_file)
        if ics_file:
            report.write_ics(ics_file, entries)
            result.written.append(ics_file)
        return result

    # ------------------------------------------------------------ the registry

    def identify(self, text: str = "", sender: str = "", when: DateLike = None) -> IdentifyResult:
        """Who is behind a message: the likely controller and broker, each with why."""
        text = fields.text(text, "text", multiline=True)
        sender = fields.text(sender, "sender", limit=200)
        day = fields.iso_date(when, "date") if when else None
        clues, matches = identify.identify(self.registry, text=text, sender=sender, when=day)
        controllers, brokers = identify.suspects(self.registry, clues, matches)
        result = IdentifyResult(clues=clues, controllers=controllers, brokers=brokers)
        if not result.found:
            result.senders = identify.political_senders(self.registry)
            return result
        flags = f" --sms-date {day.isoformat()}" if day else ""
        flags += f" --sms-sender {shlex.quote(sender)}" if sender else ""
        result.commands = [
            f"dsar generate --broker {s.slug}{flags} ..."
            for s in [*controllers, *brokers]
            if s.slug
        ]
        return result

    def import_registry(
        self,
        source: str,
        path: Path,
        output: Path,
        *,
        kind: str = "company",
        force: bool = False,
    ) -> ImportResult:
        """Import an outside company database into a registry file; a registry that
        would not load is never written (the output is left as it was)."""
        if source != "datenanfragen":
            raise InputError("source", f"'{source}': dsar imports datenanfragen")
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
            raise DsarError(f"nothing matches '{text}'; try part of a name, or dsar brokers list")
        return BrokersResult(brokers=[self.registry.brokers[s] for s in found])

    def check(self, file: Path | None = None) -> CheckResult:
        """Validate one registry file, or the registry dsar uses; errors exit 1."""
        if file:
            checked = Registry()
            checked.add(registry.read(file), str(file))
        else:
            checked = self.registry
        findings = registry.check(checked, self.today())
        result = CheckResult(
            findings=findings, entries=len(checked), campaigns=len(checked.campaigns)
        )
        result.exit_code = EXIT_ERROR if result.errors else 0
        return result

    def campaigns(self) -> CampaignsResult:
        found = sorted(self.registry.campaigns.values(), key=lambda c: c.date)
        return CampaignsResult(campaigns=found)

    # ------------------------------------------------------------ completion

    def references(self) -> list[str]:
        """The references of the requests in the journal (shell completion)."""
        return [e.reference for e in self.journal.entries()]


def _association(value: Association | Path) -> Association:
    """An association given as such (a web form) or as its association.yaml."""
    return value if isinstance(value, Association) else members.load_association(value)


def parse_formats(formats: Formats) -> tuple[str, ...]:
    value = formats if isinstance(formats, str) else ",".join(formats)
    return compose.parse_formats(value)
