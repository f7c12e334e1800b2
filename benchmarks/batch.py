"""Batch throughput and memory: dsar's way against the naive way, on the same letters.

    python benchmarks/batch.py                 # 1,000 and 10,000 members
    python benchmarks/batch.py --sizes 1000    # quicker
    python benchmarks/batch.py --parts mail --naive-max 0    # e-mail only

For each size it prints PDF letters per second, e-mails per second (built and sent to
a local aiosmtpd server on 127.0.0.1) and peak memory (RSS of the process and all its
children, sampled every 0.5 s), then the same for the naive way: one
weasyprint.HTML(string=...).write_pdf() per letter in one process.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ASSOCIATION = "name: Bench\naddress: |-\n  1 rue X\n  75001 Paris\nemail: a@bench.example\nrepresentative: R\n"
HEADER = ["name", "address", "phone", "email", "sms_date", "sms_sender", "sms_text", "broker",
          "mandate_date", "mandate_ref"]  # fmt: skip

NAIVE = r"""
import sys, time
from pathlib import Path
import weasyprint
pages = Path(sys.argv[1]).read_text(encoding="utf-8").split("\f")
start = time.perf_counter()
for html in pages:
    weasyprint.HTML(string=html).write_pdf()
print(time.perf_counter() - start)
"""


def members_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for i in range(count):
            writer.writerow([f"Membre {i}", f"{i} rue des Lilas\n75011 Paris",
                             f"+33 6 {10 + i // 10000:02d} {i // 100 % 100:02d} {i % 100:02d} 00",
                             f"m{i}@example.org", "2024-06-06", "Reconquête",
                             "Le 9 juin, votez ; STOP au 36111", "", "2026-11-01", f"M-{i:06d}"])  # fmt: skip


def tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo.extend(children.get(current, []))
    return total


def run_measured(command: list[str], env: dict) -> tuple[float, int, str]:
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.5)
    out = process.stdout.read()
    if process.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
    return time.perf_counter() - start, peak, out


def dsar_pdf(csv_path: Path, work: Path, env: dict) -> tuple[float, int]:
    command = [sys.executable, "-m", "dsar", "batch", str(csv_path), "--broker", "renaissance",
               "--association", str(work / "association.yaml"), "--out", str(work / "pdf"),
               "--format", "pdf", "--workers", str(os.cpu_count() or 1)]  # fmt: skip
    seconds, peak, _ = run_measured(command, env)
    return seconds, peak


def dsar_email(csv_path: Path, work: Path, env: dict) -> tuple[float, int]:
    from tests import smtp_server

    controller, recorder = smtp_server.start()
    try:
        command = [sys.executable, "-m", "dsar", "batch", str(csv_path), "--broker", "renaissance",
                   "--association", str(work / "association.yaml"), "--out", str(work / "mail"),
                   "--format", "email", "--send", "--smtp-host", "127.0.0.1", "--smtp-port",
                   str(controller.port), "--smtp-security", "none", "--rate", "0"]  # fmt: skip
        seconds, peak, _ = run_measured(command, {**env, "DSAR_HOME": str(work / "home-mail")})
        assert recorder.count == len(recorder.received)
        return seconds, peak
    finally:
        controller.stop()


def naive_pdf(csv_path: Path, work: Path, count: int) -> tuple[float, int]:
    """The same letters' HTML, rendered one write_pdf() per letter in one process."""
    from datetime import date

    from dsar import batch, compose, letters, members, registry
    from dsar.paths import SHIPPED_REGISTRY
    from dsar.render.pdf import PdfRenderer

    reg = registry.Registry.load([SHIPPED_REGISTRY])
    env = letters.environment()
    renderer = PdfRenderer(env)
    association = members.load_association(work / "association.yaml")
    pages = []
    for member in members.read(csv_path):
        request = compose.build_request(reg, "renaissance", member.requester, member.evidence,
                                        letter_date=date.today(),
                                        mandate=members.mandate(association, member))  # fmt: skip
        pages.append(renderer.html(letters.render(request, env)))
    (work / "pages.txt").write_text("\f".join(pages), encoding="utf-8")
    script = work / "naive.py"
    script.write_text(NAIVE)
    seconds, peak, out = run_measured(
        [sys.executable, str(script), str(work / "pages.txt")], dict(os.environ)
    )
    del batch
    return float(out.strip()), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--naive-max",
        type=int,
        default=10000,
        help="measure the naive way only up to this many members (it is slow)",
    )
    parser.add_argument(
        "--parts",
        default="pdf,mail",
        help="what dsar measures: pdf, mail or both (the naive way is PDF only)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    from dsar.render.pdf import harfbuzz_subset_available

    print(f"machine: {os.cpu_count()} cores; libharfbuzz-subset: {harfbuzz_subset_available()}")
    print(
        f"{'members':>8} {'way':<8} {'PDF/s':>7} {'PDF peak MB':>12} {'mail/s':>7} {'mail peak MB':>13}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "association.yaml").write_text(ASSOCIATION)
            csv_path = work / "members.csv"
            members_csv(csv_path, size)
            env = {**os.environ, "DSAR_HOME": str(work / "home")}
            pdf = f"{'-':>7} {'-':>12}"
            if "pdf" in parts:
                pdf_seconds, pdf_peak = dsar_pdf(csv_path, work, env)
                pdf = f"{size / pdf_seconds:>7.1f} {pdf_peak / 2**20:>12.0f}"
            mail = f"{'-':>7} {'-':>13}"
            if "mail" in parts:
                mail_seconds, mail_peak = dsar_email(csv_path, work, env)
                mail = f"{size / mail_seconds:>7.1f} {mail_peak / 2**20:>13.0f}"
            print(f"{size:>8} {'dsar':<8} {pdf} {mail}", flush=True)
            if size <= args.naive_max and "pdf" in parts:
                naive_seconds, naive_peak = naive_pdf(csv_path, work, size)
                print(f"{size:>8} {'naive':<8} {size / naive_seconds:>7.1f} {naive_peak / 2**20:>12.0f} "
                      f"{'':>7} {'':>13}   dsar/naive PDF: {naive_seconds / pdf_seconds:.2f}x",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
