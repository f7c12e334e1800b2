"""CPU per letter, stage by stage, in one process: figures that hold on a busy machine.

    python benchmarks/per_letter.py            # ~1 min

PDF: dsar's worker path (20 cores laid out as one document and written once, the annex
laid out once, each letter joined and stamped) against the naive way (one
weasyprint.HTML(string=...).write_pdf() of the whole letter). E-mail: each stage of a
batch's e-mail, then sending to an aiosmtpd server on 127.0.0.1 in this process (its
CPU is counted too). time.process_time, median of 3 rounds.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def requests(count: int):
    from dsar import compose, profile, registry
    from dsar.paths import SHIPPED_REGISTRY

    reg = registry.Registry.load([SHIPPED_REGISTRY])
    evidence = compose.evidence("sms", "2024-06-06", None, "Reconquête", "Le 9 juin, votez ; STOP")
    for i in range(count):
        person = profile.requester(
            f"Membre {i}",
            f"{i} rue des Lilas\n75011 Paris",
            f"06 12 {i // 100:02d} {i % 100:02d} 78",
            f"m{i}@example.org",
        )
        yield compose.build_request(reg, "renaissance", person, evidence, letter_date=date.today())


def pdf() -> None:
    import pikepdf
    import weasyprint

    from dsar import batch, letters
    from dsar.render import assemble
    from dsar.render import html as page

    env = letters.environment()
    batch._init_worker([str(r) for r in letters.template_roots()])
    chunk = [letters.render(r, env) for r in requests(batch.CHUNK)]
    task = (
        [page.section(env, letter, annex_apart=True) for letter in chunk],
        [letter.request.reference for letter in chunk],
        chunk[0].annex_html,
        "fr",
    )
    wholes = [page.whole(env, letter) for letter in chunk[:10]]
    batch._render_chunk(task)  # the annex, fonts and caches, once
    weasyprint.HTML(string=wholes[0]).write_pdf()
    rounds = defaultdict(list)
    for _ in range(3):
        rounds["dsar worker, all of it"].append(cpu(batch._render_chunk, task) / len(chunk))
        data, ranges = batch._worker_renderer.render_cores(task[0], "fr")
        annex = batch._annex(task[2], "fr")
        with pikepdf.open(io.BytesIO(data)) as cores:
            start = time.process_time()
            for pages in ranges:
                assemble.batch_letter(cores, pages, annex, "R")
            seconds = time.process_time() - start
        rounds["  of which join and stamp"].append(seconds / len(chunk))
        naive = cpu(lambda: [weasyprint.HTML(string=h).write_pdf() for h in wholes])
        rounds["naive: write_pdf() of the whole letter"].append(naive / len(wholes))
    for label, values in rounds.items():
        print(f"{statistics.median(values) * 1000:8.1f} ms  {label}")
    dsar_cpu = statistics.median(rounds["dsar worker, all of it"])
    naive_cpu = statistics.median(rounds["naive: write_pdf() of the whole letter"])
    print(f"{naive_cpu / dsar_cpu:8.2f} x   naive / dsar, per core")


def mail(count: int = 300) -> None:
    from dsar import letters
    from dsar.files import write_private
    from dsar.journal import Journal
    from dsar.render import mail as mime
    from dsar.sending import Smtp, SmtpSettings, send_outbox
    from tests import smtp_server

    env = letters.environment()
    stages: dict[str, float] = defaultdict(float)

    def timed(label, function):
        start = time.process_time()
        value = function()
        stages[label] += time.process_time() - start
        return value

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        journal = Journal(work / "journal.sqlite")
        with journal.grouped() as tick:
            for request in requests(count):
                tick()
                letter = timed(
                    "letters.render (Jinja, text)", lambda r=request: letters.render(r, env)
                )
                message = timed("MIME build", lambda lt=letter: mime.build(lt))
                eml = timed("MIME to bytes", lambda m=message: mime.to_bytes(m))
                path = work / f"{request.reference}.eml"
                timed("write .eml", lambda p=path, e=eml: write_private(p, e, durable=False))
                timed(
                    "journal record and queue",
                    lambda r=request, lt=letter, m=message, e=eml: (
                        journal.record(
                            r, subject=lt.subject, body_text=lt.body_text, medium="email"
                        ),
                        journal.queue(r.reference, m["Message-ID"], "dpo@example.org", e),
                    ),
                )
        controller, _ = smtp_server.start()
        try:
            settings = SmtpSettings("127.0.0.1", controller.port, "none", rate_per_minute=0)
            timed(
                "send (client and server)",
                lambda: send_outbox(journal, Smtp(settings), sender_for=lambda r: "a@example.org"),
            )
        finally:
            controller.stop()
            journal.close()
    for label, seconds in stages.items():
        print(f"{seconds * 1000 / count:8.2f} ms  e-mail: {label}")
    print(f"{sum(stages.values()) * 1000 / count:8.2f} ms  e-mail: total")


if __name__ == "__main__":
    pdf()
    mail()
