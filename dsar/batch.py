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
import io
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import clock, compose, letters, members
from .errors import DsarError, UnknownBroker
from .files import sync, write_private, written
from .journal import Journal
from .models import Association, Letter
from .registry import Registry
from .render import assemble, mail
from .render import html as page
from .render.pdf import PdfRenderer
from .results import BatchResult, ManifestRow
from .vocabulary import output_name

CHUNK = 20  # letters laid out together by one worker task
RECYCLE_AFTER = 25  # tasks before a worker process is replaced
VOLUME = 1000  # letters per duplex print file


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


# ------------------------------------------------------------------ PDF workers

_worker_renderer = None
_worker_annexes: dict[tuple[str, str], object] = {}  # (lang, annex HTML) -> open pikepdf


def _init_worker(roots: list[str]) -> None:
    global _worker_renderer
    paths = [Path(r) for r in roots]
    _worker_renderer = PdfRenderer(letters.environment(paths), paths)


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
    """A bounded pipeline of chunk renders; results come back in submission order."""

    def __init__(self, workers: int, roots: tuple[Path, ...]):
        context = multiprocessing.get_context("forkserver")
        # workers fork from a server that has already imported WeasyPrint (~1 s each)
        context.set_forkserver_preload(["dsar.render.pdf", "weasyprint", "pikepdf"])
        self.pool = context.Pool(
            workers,
            _init_worker,
            ([str(r) for r in roots],),
            maxtasksperchild=RECYCLE_AFTER,
        )
        self.in_flight: deque = deque()
        self.limit = workers * 2

    def submit(self, task: tuple, payload) -> Iterator:
        self.in_flight.append((self.pool.apply_async(_render_chunk, (task,)), payload))
        while len(self.in_flight) > self.limit:
            yield self._next()

    def drain(self) -> Iterator:
        while self.in_flight:
            yield self._next()

    def _next(self):
        result, payload = self.in_flight.popleft()
        return result.get(), payload

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


# ------------------------------------------------------------------ the run


def run(
    csv_path: Path,
    options: BatchOptions,
    registry: Registry,
    journal: Journal,
    progress: Callable[[int], None] = lambda n: None,
    result: BatchResult | None = None,
) -> BatchResult:
    """progress(1) is called once per CSV row, good or bad, when it is done. Rows are
    added to `result` as they are done, so a caller holds them even if the run stops."""
    result = result if result is not None else BatchResult()
    roots = options.templates or letters.template_roots()
    env = letters.environment(roots)
    pool = PdfPool(options.workers, roots) if "pdf" in options.formats else None
    # letters wait in a chunk per annex (recipient kind, right, language): one chunk's
    # cores are laid out together and joined to the same annex
    chunks: dict[str, list[tuple[str, Letter, ManifestRow]]] = {}
    options.out_dir.mkdir(parents=True, exist_ok=True)

    def submit(annex_html: str) -> Iterator:
        chunk = chunks.pop(annex_html)
        task = (
            [c[0] for c in chunk],
            [c[1].request.reference for c in chunk],
            annex_html,
            options.lang,
        )
        return pool.submit(task, chunk)

    def store(done) -> None:
        pdfs, items = done
        for data, (_, letter, manifest_row) in zip(pdfs, items, strict=True):
            path = options.out_dir / output_name(
                letter.request.reference, letter.request.broker.slug, "pdf"
            )
            write_private(path, data, overwrite=True, durable=False)  # sync() at the end
            manifest_row.pdf = path.name
            journal.add_file(letter.request.reference, "pdf", path)
            progress(1)

    try:
        # one journal transaction per 100 rows, not two per row (the e-mail rate's bound)
        with journal.grouped() as tick:
            for item in members.read(csv_path):
                tick()
                if isinstance(item, members.BadRow):
                    result.bad_rows.append(item)
                    progress(1)
                    if options.strict:
                        raise DsarError(f"{csv_path}: {item} (stopped: --strict)")
                    continue
                try:
                    request = compose.build_request(
                        registry,
                        item.broker or options.broker or "",
                        item.requester,
                        item.evidence,
                        right=options.right,
                        lang=options.lang,
                        letter_date=options.letter_date,
                        mandate=members.mandate(options.association, item),
                    )
                except UnknownBroker as exc:
                    bad = members.BadRow(item.row, "broker", str(exc))
                    result.bad_rows.append(bad)
                    progress(1)
                    if options.strict:
                        raise DsarError(f"{csv_path}: {bad} (stopped: --strict)") from None
                    continue
                reference = request.reference
                row = ManifestRow(item.row, request.requester.name, request.broker.slug, reference)
                result.rows.append(row)
                pdf_path = options.out_dir / output_name(reference, request.broker.slug, "pdf")
                eml_path = options.out_dir / output_name(reference, request.broker.slug, "eml")
                html_path = options.out_dir / output_name(reference, request.broker.slug, "html")
                wants_html = "html" in options.formats and (options.force or not written(html_path))
                wants_pdf = "pdf" in options.formats and (options.force or not written(pdf_path))
                wants_eml = "email" in options.formats and (
                    options.force or not journal.queued(reference)
                )
                if journal.has(reference) and not (wants_pdf or wants_eml or wants_html):
                    result.resumed += 1  # done by an earlier, interrupted run
                    row.pdf = pdf_path.name if "pdf" in options.formats else ""
                    row.eml = eml_path.name if "email" in options.formats else ""
                    progress(1)
                    continue
                letter = letters.render(request, env)
                files = {}
                eml = None
                if "pdf" in options.formats and not wants_pdf:
                    files["pdf"] = pdf_path  # written by a run whose journal commit was lost
                    row.pdf = pdf_path.name
                if "email" in options.formats:
                    scan = (
                        options.mandates / f"{item.mandate_ref}.pdf" if options.mandates else None
                    )
                    attachments = {}
                    if scan and scan.is_file():
                        attachments[f"mandat-{item.mandate_ref}.pdf"] = scan.read_bytes()
                    else:
                        result.unsigned.append(item.mandate_ref)
                    message = mail.build(letter, attachments)
                    if request.recipient_email is None:
                        row.email_status = "no recipient e-mail in the registry"
                    eml = mail.to_bytes(message)
                    write_private(eml_path, eml, overwrite=True, durable=False)
                    files["email"] = eml_path
                    row.eml = eml_path.name
                section = page_html = None
                if "pdf" in options.formats or "html" in options.formats:
                    section = page.section(env, letter, annex_apart=True)  # the core
                    page_html = page.whole(env, letter)
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
                if eml is not None and request.recipient_email:
                    journal.queue(reference, message["Message-ID"], request.recipient_email, eml)
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
    finally:
        if pool:
            pool.close()
    if "pdf" in options.formats:
        done = [options.out_dir / r.pdf for r in result.rows if r.pdf]
        # pypdf holds a whole file in memory: volumes keep memory flat for any batch size
        volumes = [done[i : i + VOLUME] for i in range(0, len(done), VOLUME)]
        for number, volume in enumerate(volumes, 1):
            name = "print-duplex.pdf" if len(volumes) == 1 else f"print-duplex-{number:03d}.pdf"
            write_private(options.out_dir / name, merge_for_duplex(volume), overwrite=True)
            result.print_files.append(options.out_dir / name)
    sync()
    return result


def merge_for_duplex(paths) -> bytes:
    """One file for the printer: each letter starts on a right-hand (odd) page."""
    return assemble.join(((path.name, path.read_bytes()) for path in paths), recto=True)


def write_manifest(path: Path, result: BatchResult, journal: Journal) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "member", "broker", "reference", "pdf", "eml", "email_status"])
    for row in result.rows:
        status = journal.outbox_status(row.reference)
        if status:
            state, error = status
            if state == "handed-over":
                state = "handed-over (unconfirmed: the run stopped before the server's reply)"
            elif state in ("failed", "deferred") and error:
                state = f"{state}: {error}"
            row.email_status = state
        writer.writerow(
            [row.row, row.member, row.broker, row.reference, row.pdf, row.eml, row.email_status]
        )
    write_private(path, out.getvalue(), overwrite=True)
