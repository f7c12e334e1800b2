"""Many members' requests: CSV rows in; letters, a print file, a manifest and queued
e-mails out. Resumable: a request already in the journal with its files is not redone.

PDF rendering runs in worker processes (forkserver, recycled every few chunks because
WeasyPrint's native side grows a few kB per document). A worker lays out a chunk of
letters' one-page cores as one document, lays out the legal annex once for each
(recipient kind, right, language) it meets, and joins each core to the annex with
pikepdf, stamping every page's reference and "page N/M" (render/assemble.py): a letter
costs one page of layout, not three. At most a few chunks are in flight, so memory
stays flat however long the CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jinja2

from . import clock, compose, labels, letters, manifest, members
from . import mandates as mandate_forms
from .errors import AmbiguousBroker, DsarError, OutputExists, UnknownBroker
from .files import make_private_dir, sync, write_private, written
from .i18n import _
from .journal import Journal
from .models import Association, Broker, Letter
from .registry import Registry
from .render import assemble, mail, outside
from .render import html as page
from .render.pdf import PdfRenderer
from .results import HELD_BACK, NO_RECIPIENT_EMAIL, BatchResult, Few, ManifestRow, Rows
from .safety import safe_child
from .vocabulary import MAIL_TO_SEND, output_name

CHUNK = 20  # letters laid out together by one worker task
# tasks before a worker is replaced: a worker grows ~0.2 MB a task (WeasyPrint's native
# side), and a new one lays the annex out again; at 50, a batch of 1,000 never recycles
RECYCLE_AFTER = 50
# letters per duplex print file: ~250 sheets, half a ream. Joining holds ~0.4 MB a
# letter in qpdf's objects (a volume of 1,000 peaked the batch at 618 MB), and a volume
# is joined while the workers still run (batch.PrintFiles): 125 keeps the sum < 500 MB
VOLUME = 125


@dataclass
class BatchOptions:
    broker: str | None
    association: Association
    out_dir: Path
    formats: tuple[str, ...]
    right: str = "both"
    lang: str = "fr"
    letter_date: date = field(default_factory=clock.today)
    strict: bool = False
    workers: int = max(1, os.cpu_count() or 1)
    force: bool = False
    templates: tuple[Path, ...] = ()  # template roots, highest first (letters.template_roots)
    mandates: Path | None = None  # signed mandate scans, <mandate_ref>.pdf, attached to e-mails
    columns: dict[str, str] | None = None  # --columns: the spreadsheet's header -> dsar's
    to_email: str | None = None  # the recipient's, when the registry has none (one recipient)
    to_address: str | None = None
    members: int | None = None  # counted before the run (members.count), if it was
    # a member without a signed scan: the letter offers the mandate on request, instead of
    # the e-mail being held back
    mandate_on_request: bool = False
    # --send: an e-mail queued for a letter leaves in this run, so that letter is not to
    # post (no print file, no label): it went out twice when both were made
    sending: bool = False


# ------------------------------------------------------------------ recipients


def recipient_names(
    csv_path: Path, default: str | None, columns: dict[str, str] | None = None
) -> list[str]:
    """Who the rows write to (their broker cell, else --broker), by a quick pass that
    validates nothing: bad cells are reported row by row by the run itself."""
    names: dict[str, None] = {}
    try:
        with members._open(csv_path) as handle:
            reader = members._reader(handle)
            header = members.column_names(next(reader, []), columns)  # 'Destinataire' too
            column = header.index("broker") if "broker" in header else None
            for values in reader:
                cell = values[column].strip() if column is not None and column < len(values) else ""
                if cell or default:
                    names[cell or default] = None
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # members.read() reports these properly
    return list(names) or ([default] if default else [])


def _missing(broker: Broker, what: str, kind: str, effect: str) -> str:
    flag = "--to-email" if kind == "email" else "--to-address"
    return _(
        "{name} [{slug}]: no {what} in the registry: {effect}; give {flag} or add it once: "
        "dsar brokers add-contact {slug} --{kind} ... --source WHERE"
    ).format(name=broker.name, slug=broker.slug, what=what, effect=effect, flag=flag, kind=kind)


def check_recipients(
    registry: Registry,
    names: list[str],
    formats: tuple[str, ...],
    *,
    send: bool = False,
    to_email: str | None = None,
    to_address: str | None = None,
) -> list[str]:
    """Warnings to give before any letter is rendered; refuses what cannot be done:
    --send when no recipient has an e-mail, --to-email/--to-address for several. With
    --send, the letters to a recipient without an e-mail are listed to be posted."""
    found: dict[str, Broker] = {}
    for name in names:
        try:
            broker = registry.get(name)
        except DsarError:  # unknown or ambiguous: each such row is reported as a bad row
            continue
        found[broker.slug] = broker
    if (to_email or to_address) and len(found) > 1:
        flag = "--to-email" if to_email else "--to-address"
        raise DsarError(
            _(
                "{flag} is for one recipient, and the rows write to {count}: {names}; run one "
                "batch per recipient (--broker and a CSV without a broker column)"
            ).format(flag=flag, count=len(found), names=", ".join(found))
        )
    warnings = []
    if send and found and not to_email and not any(b.email for b in found.values()):
        no_email = _missing(
            next(iter(found.values())),
            _("e-mail address"),
            "email",
            _("there is no one to send to"),
        )
        raise DsarError(_("--send: {problem}").format(problem=no_email))
    for broker in found.values():
        if "email" in formats and not (to_email or broker.email):
            effect = _("its letters are to be posted") if send else _("there is no one to send to")
            warnings.append(_missing(broker, _("e-mail address"), "email", effect))
        if "pdf" in formats and not (to_address or broker.postal_address):
            warnings.append(
                _missing(broker, _("postal address"), "postal", _("the recipient block is empty"))
            )
        if "pdf" in formats and not to_address:
            warnings.extend(compose.unverified_address(broker, registry.added.get(broker.slug, ())))
    return warnings


# ------------------------------------------------------------------ PDF workers

_worker_renderer = None
_worker_annexes: dict[tuple[str, str], object] = {}  # (lang, annex HTML) -> open pikepdf


def _run_environment(roots) -> jinja2.Environment:
    """The templates of a run: as they were when it started, and no stat() of each
    template file at each of the ~10 lookups a letter makes."""
    env = letters.environment(roots)
    env.auto_reload = False
    return env


def _init_worker(roots: list[str]) -> None:
    global _worker_renderer
    paths = [Path(r) for r in roots]
    _worker_renderer = PdfRenderer(_run_environment(paths), paths)
    _worker_annexes.clear()  # laid out by another renderer (a run in this process before)


def _annex(annex_html: str, lang: str):
    """The annex PDF, laid out once per worker process for each annex a batch uses."""
    import pikepdf

    key = (lang, annex_html)
    if key not in _worker_annexes:
        data = _worker_renderer.render_annex(annex_html, lang)
        _worker_annexes[key] = pikepdf.open(io.BytesIO(data))
    return _worker_annexes[key]


def _render_chunk(task: tuple[list[str], list[str], str, str]) -> list[bytes]:
    """Cores laid out as one document; each letter = its core pages + the annex, stamped."""
    import pikepdf

    sections, references, annex_html, lang = task
    data, ranges = _worker_renderer.render_cores(sections, lang)
    annex = _annex(annex_html, lang)
    with pikepdf.open(io.BytesIO(data)) as cores:
        return [
            assemble.batch_letter(cores, pages, annex, reference)
            for pages, reference in zip(ranges, references, strict=True)
        ]


class PdfPool:
    """A bounded pipeline of chunk renders; results come back in submission order.

    The workers fork from a server that has already imported WeasyPrint and pikepdf
    (~0.7 s of CPU, paid once rather than by each worker). The server is started at
    once, and the pool is made on a thread: making it waits for that import, and the
    main process meanwhile reads the CSV and composes the first chunks instead."""

    def __init__(self, workers: int, roots: tuple[Path, ...]):
        from concurrent.futures import ThreadPoolExecutor
        from multiprocessing import forkserver

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["dsar.batch", "dsar.render.preload"])
        forkserver.ensure_running()  # spawns the server and returns: it imports meanwhile
        starter = ThreadPoolExecutor(1)
        self.starting = starter.submit(
            context.Pool,
            workers,
            _init_worker,
            ([str(r) for r in roots],),
            maxtasksperchild=RECYCLE_AFTER,
        )
        starter.shutdown(wait=False)
        self.pool = None
        self.waiting: deque = deque()  # tasks composed before the pool was up
        self.in_flight: deque = deque()
        self.limit = workers * 2

    def submit(self, task: tuple, payload) -> Iterator:
        self.waiting.append((task, payload))
        if self.pool is None and not self.starting.done() and len(self.waiting) < 2 * self.limit:
            return  # keep composing: the chunks go to the workers once they exist
        self._hand_over()
        while len(self.in_flight) > self.limit:
            yield self._next()

    def drain(self) -> Iterator:
        self._hand_over()
        while self.in_flight:
            yield self._next()

    def _hand_over(self) -> None:
        if self.pool is None:
            self.pool = self.starting.result()
        while self.waiting:
            task, payload = self.waiting.popleft()
            self.in_flight.append((self.pool.apply_async(_render_chunk, (task,)), payload))

    def _next(self):
        result, payload = self.in_flight.popleft()
        return result.get(), payload

    def close(self) -> None:
        if self.pool is None:
            try:
                self.pool = self.starting.result()
            except Exception:  # noqa: BLE001  no pool to close (_hand_over raises why)
                return
        self.pool.close()
        self.pool.join()


class InlinePool:
    """A batch of one chunk or less, laid out in this process: starting a fork server and
    two workers (~1.5 s of CPU) for a few letters costs more than laying them out."""

    def __init__(self, roots: tuple[Path, ...]):
        _init_worker([str(r) for r in roots])

    def submit(self, task: tuple, payload) -> Iterator:
        yield _render_chunk(task), payload

    def drain(self) -> Iterator:
        return iter(())

    def close(self) -> None:
        global _worker_renderer
        _worker_renderer = None
        _worker_annexes.clear()


def _in_process(options: BatchOptions) -> bool:
    """A batch of one chunk or less (its members counted before the run) is laid out in
    this process."""
    return options.members is not None and options.members <= CHUNK


# ------------------------------------------------------------------ the run


def run(
    csv_path: Path,
    options: BatchOptions,
    registry: Registry,
    journal: Journal,
    progress: Callable[[int], None] = lambda n: None,
    result: BatchResult | None = None,
) -> BatchResult:
    """progress(1) is called once per letter laid out (or found done), and once per bad
    row. Rows are added to `result` as they are done, so a caller holds them even if the
    run stops.

    A letter without the recipient's postal address is a draft: never in a print volume
    nor on a label. A letter not posted nor sent is rebuilt when what it is made from
    changed (a contact found, a row corrected); one that left is never touched. The
    folder's manifest covers every letter the journal holds for it (the letters of
    earlier runs into the same folder stay in it), its labels and print volumes those
    still to post."""
    result = result if result is not None else BatchResult()
    check_manifest(options.out_dir / "manifest.csv", force=options.force)
    # before it is rewritten; on disk like this run's rows (a rerun of a million members)
    earlier = Rows(manifest.earlier_rows(options.out_dir / "manifest.csv"))
    roots = options.templates or letters.template_roots()
    env = _run_environment(roots)
    pool = None
    if "pdf" in options.formats:
        pool = InlinePool(roots) if _in_process(options) else PdfPool(options.workers, roots)
    # letters wait in a chunk per annex (recipient kind, right, language): one chunk's
    # cores are laid out together and joined to the same annex
    chunks: dict[str, list[tuple[str, Letter, ManifestRow]]] = {}
    make_private_dir(options.out_dir)

    def submit(annex_html: str) -> Iterator:
        chunk = chunks.pop(annex_html)
        task = (
            [c[0] for c in chunk],
            [c[1].request.reference for c in chunk],
            annex_html,
            options.lang,
        )
        return pool.submit(task, chunk)

    print_files = (
        PrintFiles(options.out_dir, result, journal, options.sending)
        if "pdf" in options.formats
        else None
    )

    def store(done) -> None:
        pdfs, items = done
        for data, (_section, letter, manifest_row) in zip(pdfs, items, strict=True):
            path = options.out_dir / output_name(
                letter.request.reference, letter.request.broker.slug, "pdf"
            )
            write_private(path, data, overwrite=True, durable=False)  # sync() at the end
            manifest_row.pdf = path.name
            result.rows.update(manifest_row)  # added to the rows before its PDF was laid out
            journal.add_file(letter.request.reference, "pdf", path)
            progress(1)
        print_files.ready()

    def skip(bad: members.BadRow) -> None:
        result.bad_rows.append(bad)
        progress(1)
        if options.strict:
            raise DsarError(
                _("{path}: {problem} (stopped: --strict)").format(path=csv_path, problem=bad)
            )

    forms = mandate_forms.form_reader()  # one child for every member's scan
    try:
        # one journal transaction per 100 rows, not two per row (the e-mail rate's bound);
        # nothing is sent from inside it: send_outbox claims each message in its own commit
        with journal.grouped() as tick:
            for item in members.read(
                csv_path,
                options.columns,
                members.recipient_check(registry, options.broker, required=True),
            ):
                tick()
                if isinstance(item, members.BadRow):
                    skip(item)
                    continue
                # this run's earlier rows are in the journal already: one query a row
                taken = members.mandate_taken(item, journal.mandate_holder)
                if taken:
                    skip(taken)
                    continue
                scan, unsigned = signed_scan(options.mandates, item.mandate_ref, forms)
                if unsigned:
                    result.unsigned_forms.append(unsigned)
                try:
                    request = compose.build_request(
                        registry,
                        item.broker or options.broker or "",
                        item.requester,
                        item.evidence,
                        right=options.right,
                        lang=options.lang,
                        letter_date=options.letter_date,
                        mandate=members.mandate(
                            options.association,
                            item,
                            options.letter_date,
                            on_request=options.mandate_on_request and scan is None,
                            # the claim stands on what the member signed, not on the date
                            signed_art80=journal.mandate_gives_art80(item.mandate_ref),
                        ),
                        to_email=options.to_email,
                        to_address=options.to_address,
                    )
                except (UnknownBroker, AmbiguousBroker) as exc:
                    skip(item.bad("broker", str(exc)))
                    continue
                scope = journal.mandate_form(item.mandate_ref)
                problem = scope and mandate_forms.scope_problem(
                    item.mandate_ref, scope, request.broker.slug
                )
                state = journal.stored_state(request.reference)
                early = members.not_in_force(request.mandate.signed_on, options.letter_date)
                if state not in (None, "draft"):
                    early = None  # a letter that left stays what it was: evidence
                if problem or early:  # no letter under a mandate that does not cover it
                    column = "mandate_ref" if problem else "mandate_date"
                    skip(item.bad(column, problem or early))
                    if state == "draft":
                        # an earlier run's letter of this member, from the cells before:
                        # never sent as it was, never kept as a member "not in this CSV"
                        journal.outbox_unqueue(request.reference, column)
                        result.now_bad.add(request.reference)
                    continue
                reference = request.reference
                row = ManifestRow(item.row, request.requester.name, request.broker.slug, reference)
                result.rows.append(row)
                # --mandates given and this member's scan not in it: the letter says the
                # signed mandate is enclosed, so it is not posted either (as its e-mail)
                unenclosed = options.mandates is not None and scan is None
                unenclosed = unenclosed and not options.mandate_on_request
                if not request.recipient_address:
                    row.draft = True  # no address in the envelope window: never printed
                    result.no_address.append(reference)
                elif unenclosed and "pdf" in options.formats:
                    row.draft = True  # never printed nor labelled
                    result.unprinted.append(item.mandate_ref)
                else:
                    row.address = request.recipient_address  # for the labels
                pdf_path = options.out_dir / output_name(reference, request.broker.slug, "pdf")
                eml_path = options.out_dir / output_name(reference, request.broker.slug, "eml")
                html_path = options.out_dir / output_name(reference, request.broker.slug, "html")
                if state not in (None, "draft"):
                    # it left (sent, answered...): evidence, never redone, even with --force
                    result.resumed += 1
                    row.pdf = pdf_path.name if "pdf" in options.formats else ""
                    row.eml = eml_path.name if "email" in options.formats else ""
                    progress(1)
                    continue
                letter = letters.render(request, env)
                section = page_html = None
                if "pdf" in options.formats or "html" in options.formats:
                    section = page.section(env, letter, annex_apart=True)  # the core
                    page_html = page.whole(env, letter)
                # a draft made from what changed since (a contact found, a row corrected) is
                # made again; without fsync, a file left empty by a power cut is not written
                changed = state == "draft" and journal.page_html(reference) != page_html
                redo = options.force or changed
                wants_pdf = "pdf" in options.formats and (redo or not written(pdf_path))
                wants_html = "html" in options.formats and (redo or not written(html_path))
                files = {}
                email = None
                if "email" in options.formats:
                    email = _email(letter, item, scan, options)
                    if request.recipient_email is None:
                        row.email_status = NO_RECIPIENT_EMAIL
                    elif email is None:  # one that could leave, held back
                        row.email_status = HELD_BACK
                        result.unsigned.append(item.mandate_ref)
                        if scope is None:  # a mandate_ref dsar mandate never wrote a form for
                            result.formless.append(item.mandate_ref)
                if state is not None and not (wants_pdf or wants_html or redo):
                    # done by an earlier run: only an unsent e-mail whose content changed
                    # is redone (journal.queue decides, under the group's write lock)
                    if email and request.recipient_email:
                        outcome, eml = journal.queue(reference, *email)
                        if outcome in ("new", "rebuilt"):
                            write_private(eml_path, eml, overwrite=True, durable=False)
                            journal.add_file(reference, "email", eml_path)
                            result.rebuilt += 1
                        else:
                            result.resumed += 1
                    else:
                        result.resumed += 1
                    row.pdf = pdf_path.name if "pdf" in options.formats else ""
                    row.eml = eml_path.name if email else ""
                    progress(1)
                    continue
                if state is not None:  # counted by why it is made again, as the screen says
                    if changed:
                        result.remade += 1
                    elif options.force:
                        result.forced += 1
                    else:
                        result.refilled += 1
                if email:
                    write_private(eml_path, email[2], overwrite=True, durable=False)
                    files["email"] = eml_path
                    row.eml = eml_path.name
                if "pdf" in options.formats and not wants_pdf:
                    files["pdf"] = pdf_path  # written by a run whose journal commit was lost
                    row.pdf = pdf_path.name
                if wants_html:
                    write_private(html_path, page_html, overwrite=True, durable=False)
                    files["html"] = html_path
                journal.record(
                    request,
                    subject=letter.subject,
                    body_text=letter.body_text,
                    medium=",".join(options.formats),
                    files=files,
                    page_html=page_html,
                )
                if email and request.recipient_email:
                    _outcome, eml = journal.queue(reference, *email)
                    if eml != email[2]:  # the message queued earlier stays: the file shows it
                        write_private(eml_path, eml, overwrite=True, durable=False)
                        journal.add_file(reference, "email", eml_path)
                if not wants_pdf:
                    progress(1)
                if wants_pdf:
                    chunk = chunks.setdefault(letter.annex_html, [])
                    chunk.append((section, letter, row))
                    if len(chunk) == CHUNK:
                        for done in submit(letter.annex_html):
                            store(done)
            for annex_html in list(chunks):
                for done in submit(annex_html):
                    store(done)
            if pool:
                for done in pool.drain():
                    store(done)
        # the folder's letters of earlier runs (a subset rerun): kept in every file of it
        result.this_run = len(result.rows)
        # a member in this CSV as a bad row (a cell corrected wrong): the letter made from
        # the cells before is not kept as one of a member « not in this CSV », and its
        # e-mail does not leave (by name: a row that cannot be read has no reference)
        bad_names = {bad.name for bad in result.bad_rows if bad.name}
        for row in manifest.still_held(earlier, result, journal, options.out_dir):
            if row.member in bad_names and journal.stored_state(row.reference) == "draft":
                journal.outbox_unqueue(row.reference, "bad row")
                result.now_bad.add(row.reference)
                continue
            result.rows.append(row)
            result.kept_earlier.append(row.reference)
    except BaseException:
        if print_files:
            print_files.abandon()
        raise
    finally:
        forms.close()
        if pool:
            pool.close()
    if "labels" in options.formats:
        result.labels = options.out_dir / "labels.csv"
        labels.write(result.labels, labelled(journal, result.rows, options.sending))
    if print_files:
        print_files.finish()
    sync()
    return result


def _email(letter: Letter, item, scan: Path | None, options: BatchOptions):
    """(Message-ID, recipient, .eml bytes, fingerprint) of a member's e-mail, or None for
    a member whose signed mandate is not at hand: held back, unless the letter offers the
    mandate on request."""
    attachments = {}
    if scan:
        attachments[f"mandat-{item.mandate_ref}.pdf"] = scan.read_bytes()
    elif not options.mandate_on_request:
        return None
    message = mail.build(letter, attachments)
    return (
        message["Message-ID"],
        letter.request.recipient_email or "",
        mail.to_bytes(message),
        fingerprint(letter, attachments),
    )


def fingerprint(letter: Letter, attachments: dict[str, bytes]) -> str:
    """What an e-mail says, without what changes at each build (Message-ID, Date,
    MIME boundaries): a queued message is rebuilt only when this changes."""
    request = letter.request
    digest = hashlib.sha256()
    for part in (
        request.recipient_email or "",
        request.reply_email or "",
        request.mandate.association.name if request.mandate else request.requester.name,
        letter.subject,
        letter.body_text,
        *(
            f"{name}:{hashlib.sha256(data).hexdigest()}"
            for name, data in sorted(attachments.items())
        ),
    ):
        digest.update(part.encode("utf-8") + b"\x1f")
    return digest.hexdigest()


def sending_progress(journal: Journal, result: BatchResult) -> str:
    """'12 of 25 e-mail(s) sent; run the same command again to send the rest', over this
    batch's e-mails whichever run sent them."""
    counted: dict[str, int] = {}  # outbox status: e-mails, read row by row from disk
    for row in result.rows:
        status = journal.outbox_status(row.reference)
        if status and status[0] != "withdrawn":
            counted[status[0]] = counted.get(status[0], 0) + 1
    done = counted.get("sent", 0) + counted.get("handed-over", 0)
    line = _("{done} of {total} e-mail(s) sent").format(done=done, total=sum(counted.values()))
    if any(status in MAIL_TO_SEND for status in counted):
        line += _("; run the same command again to send the rest")
    return line


def signed_scan(
    folder: Path | None, mandate_ref: str, forms: outside.FormReader
) -> tuple[Path | None, str | None]:
    """The member's signed mandate in --mandates, or None and why not: the form as dsar
    mandate wrote it, unsigned, is never enclosed (it would claim a signature)."""
    scan = signed_mandate(folder, mandate_ref)
    if scan and forms.is_form(scan):
        return None, mandate_forms.unsigned_problem(mandate_ref, scan)
    return scan, None


def signed_mandate(folder: Path | None, mandate_ref: str) -> Path | None:
    """The member's signed mandate in --mandates: <ref>.pdf, or the form's own name
    mandate-<ref>.pdf. The reference comes from the CSV: a name, never a path."""
    if folder is None or not mandate_ref or mandate_ref != Path(mandate_ref).name:
        return None  # members.read refuses such a reference already
    # the scan, or the form dsar mandate wrote, saved back signed under its own name
    for name in (f"{mandate_ref}.pdf", output_name(mandate_ref, None, "pdf", "mandate")):
        path = safe_child(folder, name)  # checked to stay in the folder, links resolved
        if path.is_file():
            return path
    return None


def left(journal: Journal, row: ManifestRow, by_email: bool = False) -> bool:
    """The row's letter is recorded as posted or sent: never in a print file or on a label
    again (a rerun into the folder printed the earlier run's posted letters with its own).
    `by_email` (a run that sends): an e-mail queued for it leaves now, so it is not to post."""
    if journal.stored_state(row.reference) not in (None, "draft"):
        return True
    queued = by_email and journal.outbox_status(row.reference)
    return bool(queued and queued[0] in MAIL_TO_SEND)


def labelled(journal: Journal, rows, by_email: bool = False) -> Iterator[tuple[str, str, str]]:
    """The envelope labels of the letters still to post: (reference, member, address).
    A row whose only letter is an e-mail has nothing to put in an envelope (labels alone,
    for letters printed by mail merge, still label every row)."""
    return (
        (r.reference, r.member, r.address)
        for r in rows
        if r.address and (r.pdf or not r.eml) and not left(journal, r, by_email)
    )


class PrintFiles:
    """The print files: VOLUME letters each, in row order, a volume joined as soon as its
    letters are all written (the main process waits on the workers then, while at the
    end one core would wait for it), the rest at the end. A volume is joined in memory:
    volumes keep memory flat for any batch size. Volumes keep a hidden name until the
    last one is joined: a run that stops leaves no print file covering part of its
    letters (printed then, and again with the rerun's, they would be posted twice).
    Only letters still to post: no draft, none recorded as posted or sent (`left`)."""

    def __init__(
        self, out_dir: Path, result: BatchResult, journal: Journal, by_email: bool = False
    ):
        self.out_dir, self.result, self.journal = out_dir, result, journal
        self.by_email = by_email  # left()'s: a run that sends the queued e-mails
        self.joined = 0  # rows already in a print file
        self.staged: list[Path] = []  # the volumes joined so far, under hidden names

    def _skipped(self, row: ManifestRow) -> bool:
        return row.draft or left(self.journal, row, self.by_email)

    def ready(self) -> None:
        while True:  # the next VOLUME letters to print, once all written
            window, end = [], self.joined
            for row in self.result.rows.since(self.joined):
                window += [] if self._skipped(row) else [row]
                end = row.index + 1
                if len(window) == VOLUME:
                    break
            if len(window) < VOLUME or not all(row.pdf for row in window):
                return
            self._stage(window)
            self.joined = end

    def finish(self) -> None:
        window: list[ManifestRow] = []
        try:  # the rest, a volume at a time (an earlier run's letters kept may be many)
            for row in self.result.rows.since(self.joined):
                window += [row] if row.pdf and not self._skipped(row) else []
                if len(window) == VOLUME:
                    self._stage(window)
                    window = []
            if window:
                self._stage(window)
        except BaseException:
            self.abandon()
            raise
        for number, staged in enumerate(self.staged, 1):
            alone = len(self.staged) == 1  # a batch of one volume: print-duplex.pdf
            path = self.out_dir / (
                "print-duplex.pdf" if alone else f"print-duplex-{number:03d}.pdf"
            )
            os.replace(staged, path)
            self.result.print_files.append(path)
        # an earlier run's volumes not written again (it had more members): left there,
        # they would be printed with this run's and post letters no longer in the batch
        for path in self.out_dir.iterdir():
            stale = _PRINT_FILE.fullmatch(path.name) and path not in self.result.print_files
            if stale and not path.is_dir():
                path.unlink()

    def abandon(self) -> None:
        """The run stopped: the volumes joined so far are no print files."""
        for staged in self.staged:
            staged.unlink(missing_ok=True)

    def _stage(self, rows: list[ManifestRow]) -> None:
        # this process's own name: two runs in one folder at once never take each other's
        staged = self.out_dir / f".print-duplex-{len(self.staged) + 1:03d}.{os.getpid()}.part"
        write_private(
            staged, merge_for_duplex([self.out_dir / row.pdf for row in rows]), overwrite=True
        )
        self.staged.append(staged)


_PRINT_FILE = re.compile(r"print-duplex(-\d+)?\.pdf")


def merge_for_duplex(paths) -> bytes:
    """One file for the printer: each letter starts on a right-hand (odd) page."""
    return assemble.join(((path.name, path) for path in paths), recto=True)


def to_record(result: BatchResult, journal: Journal) -> Few:
    """The printed letters to post, not yet recorded as posted: an e-mail queued for one
    carries it (posting it too would send it twice)."""
    found = Few()
    for row in result.rows:
        if row.pdf and not row.draft and journal.stored_state(row.reference) == "draft":
            queued = journal.outbox_status(row.reference)
            if not (queued and queued[0] in MAIL_TO_SEND):
                found.append(row.reference)
    return found


def check_manifest(path: Path, *, force: bool) -> None:
    """An earlier run's manifest is rewritten; a file of the person's is not, unless force."""
    if path.exists() and not force and not manifest.is_manifest(path):
        raise OutputExists(path)


def write_manifest(path: Path, result: BatchResult, journal: Journal) -> None:
    manifest.write(path, result, journal)
