"""Batch throughput and memory: dsar's way against the naive way, on the same letters.

    python benchmarks/batch.py --sizes 1000,10000       # the issue's table (quiet machine)
    python benchmarks/batch.py --sizes 50               # a quick check that it all works
    python benchmarks/batch.py --sizes 1000 --parts mail    # e-mail only

For each size: `dsar batch --format html` writes every member's letter as one HTML file
(core and annex, as dsar lays it out); then, in the same run, `dsar batch --format pdf`
(dsar's way) and the naive way, one weasyprint.HTML(string=...).write_pdf() per letter in
one process over those very HTML files, are timed. It prints letters per second, the
peak memory (RSS of the process and all its children, sampled every 0.2 s) and the CPU
seconds per letter (user + system of the process tree: the figure that stays put on a
busy machine), then e-mails per second (built, journalled and sent to an aiosmtpd server
on 127.0.0.1) and the cold time of one `dsar generate` (PDF and e-mail).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsar import members  # noqa: E402  (after the path: the checkout's dsar)

ASSOCIATION = "name: Bench\naddress: |-\n  1 rue X\n  75001 Paris\nemail: a@bench.example\nrepresentative: R\n"
HEADER = list(members.COLUMNS)  # the English column names

NAIVE = r"""
import sys, time
from pathlib import Path
import weasyprint
paths = sorted(Path(sys.argv[1]).glob("*.html"))
start = time.perf_counter()
for path in paths:  # one file at a time, as a script over a folder would
    weasyprint.HTML(string=path.read_text(encoding="utf-8")).write_pdf()
print(time.perf_counter() - start, len(paths))
"""


def members_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for i in range(count):
            writer.writerow(
                [
                    f"Membre {i}",
                    f"{i} rue des Lilas\n75011 Paris",
                    f"+33 6 {10 + i // 10000:02d} {i // 100 % 100:02d} {i % 100:02d} 00",
                    f"m{i}@example.org",
                    "2024-06-06",
                    "Reconquête",
                    "Le 9 juin, votez ; STOP au 36111",
                    "",
                    "2026-11-01",
                    f"M-{i:06d}",
                ]
            )


def tree() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass
    return children


TICK = os.sysconf("SC_CLK_TCK")


def sample(pid: int, cpu: dict[int, float]) -> int:
    """RSS in bytes of a process and all its descendants, from /proc; records each one's
    own CPU seconds in `cpu` (the last value seen per process)."""
    children, total, todo = tree(), 0, [pid]
    while todo:
        current = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[current] = (int(stat[11]) + int(stat[12])) / TICK  # utime + stime
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, IndexError):
            pass
        todo.extend(children.get(current, []))
    return total


@dataclass
class Run:
    seconds: float
    peak: int  # bytes
    cpu: float  # seconds, the whole tree (a process's last 0.2 s before it exits is missed)
    out: str


def run_measured(command: list[str], env: dict) -> Run:
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        peak, cpu = 0, {}
        while process.poll() is None:
            peak = max(peak, sample(process.pid, cpu))
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if process.returncode not in (0, 3):
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
        out.seek(0)
        return Run(seconds, peak, sum(cpu.values()), out.read())


def dsar_batch(csv_path: Path, work: Path, env: dict, fmt: str, *extra: str) -> Run:
    command = [
        sys.executable,
        "-m",
        "dsar",
        "batch",
        str(csv_path),
        "--broker",
        "renaissance",
        "--association",
        str(work / "association.yaml"),
        "--out",
        str(work / fmt),
        "--format",
        fmt,
        *extra,
    ]
    return run_measured(command, {**env, "DSAR_HOME": str(work / f"home-{fmt}")})


def dsar_email(csv_path: Path, work: Path, env: dict, size: int) -> Run:
    from tests import smtp_server

    controller, recorder = smtp_server.start()
    try:
        run = dsar_batch(
            csv_path,
            work,
            env,
            "email",
            "--send",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(controller.port),
            "--smtp-security",
            "none",
            "--rate",
            "0",
        )
        assert recorder.count == len(recorder.received) == size, "not every e-mail once"
        return run
    finally:
        controller.stop()


def naive_pdf(work: Path, size: int) -> Run:
    """The HTML files `dsar batch --format html` wrote, one write_pdf() per letter."""
    script = work / "naive.py"
    script.write_text(NAIVE)
    run = run_measured([sys.executable, str(script), str(work / "html")], dict(os.environ))
    seconds, count = run.out.split()
    assert int(count) == size, f"{count} HTML files for {size} members"
    run.seconds = float(seconds)  # the rendering loop only: no import, no start-up
    return run


def cold_generate(work: Path, env: dict, runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of one `dsar generate` (PDF and e-mail), cold process."""
    walls, cpus = [], []
    for i in range(runs):
        command = [
            sys.executable,
            "-m",
            "dsar",
            "generate",
            "--broker",
            "renaissance",
            "--name",
            "Camille Martin",
            "--phone",
            "06 12 34 56 78",
            "--email",
            "camille@example.org",
            "--address",
            "1 rue X\n75001 Paris",
            "--format",
            "pdf,email",
            "--out",
            str(work / f"generate-{i}"),
        ]
        run = run_measured(command, {**env, "DSAR_HOME": str(work / "home-generate")})
        walls.append(run.seconds)
        cpus.append(run.cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--parts",
        default="pdf,mail,generate",
        help="pdf (dsar and naive), mail, generate; comma-separated",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    from dsar.render.pdf import harfbuzz_subset_available

    print(
        f"machine: {os.cpu_count()} cores; libharfbuzz-subset: {harfbuzz_subset_available()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'members':>8} {'way':<12} {'letters/s':>9} {'peak MB':>8} {'CPU ms/letter':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "association.yaml").write_text(ASSOCIATION)
            csv_path = work / "members.csv"
            members_csv(csv_path, size)
            env = dict(os.environ)

            def row(way: str, run: Run, extra: str = "", size: int = size) -> None:
                print(
                    f"{size:>8} {way:<12} {size / run.seconds:>9.1f} {run.peak / 2**20:>8.0f} "
                    f"{1000 * run.cpu / size:>13.1f}{extra}",
                    flush=True,
                )

            if "pdf" in parts:
                html = dsar_batch(csv_path, work, env, "html")
                row("dsar html", html)
                pdf = dsar_batch(csv_path, work, env, "pdf")
                assert len(list((work / "pdf").glob("DSAR-*.pdf"))) == size
                row("dsar pdf", pdf)
                naive = naive_pdf(work, size)
                ratio = naive.seconds / pdf.seconds
                row(
                    "naive pdf",
                    naive,
                    f"   dsar/naive: {ratio:.2f}x (CPU: {naive.cpu / pdf.cpu:.2f}x)",
                )
            if "mail" in parts:
                row("dsar e-mail", dsar_email(csv_path, work, env, size))
    if "generate" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu = cold_generate(Path(tmp), dict(os.environ))
            print(
                f"dsar generate (pdf,email), cold: {wall:.2f} s wall, {cpu:.2f} s CPU (median of 5)"
            )


if __name__ == "__main__":
    main()
