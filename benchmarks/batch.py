"""Batch throughput and memory: dsar's way against the naive way, on the same letters.

    python benchmarks/batch.py --sizes 1000,10000       # the issue's table (quiet machine)
    python benchmarks/batch.py --sizes 50               # a quick check that it all works
    python benchmarks/batch.py --sizes 1000 --parts mail    # e-mail only
    python benchmarks/batch.py --memory --sizes 10000,100000,1000000   # memory by size

--memory: `dsar batch --format email` without sending (--mandate-on-request, so that
every member's e-mail is built and queued) on each size, printing the peak RSS and its
growth per member from the first size: a batch's memory is to stay flat in its members.

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
                    # +33 6 then the index on 8 digits: every one a valid French mobile
                    # (06 91 and 06 92 are not: a million rows once ended in 180,000 bad)
                    f"+33 6 {i:08d}",
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


def role(pid: int, parent_role: str | None) -> str:
    """What a process of the tree is: dsar's main process, the forkserver, a worker
    (forked from the forkserver, so it shows the same command line), the resource tracker."""
    if parent_role == "forkserver":
        return "worker"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    for marker, name in ((b"forkserver", "forkserver"), (b"resource_tracker", "tracker")):
        if marker in command:
            return name
    return "main" if parent_role is None else "child"


def sample(pid: int, cpu: dict[int, float], roles: dict[int, str]) -> dict[int, int]:
    """RSS in bytes of a process and each of its descendants, from /proc; records each
    one's own CPU seconds in `cpu` (the last value seen per process) and its role."""
    children, rss, todo = tree(), {}, [(pid, None)]
    while todo:
        current, parent_role = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[current] = (int(stat[11]) + int(stat[12])) / TICK  # utime + stime
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[current] = int(line.split()[1]) * 1024
        except (OSError, IndexError):
            continue
        if current not in roles:
            roles[current] = role(current, parent_role)
        todo.extend((child, roles[current]) for child in children.get(current, []))
    return rss


@dataclass
class Run:
    seconds: float
    peak: int  # bytes
    cpu: float  # seconds, the whole tree (a process's last 0.2 s before it exits is missed)
    out: str
    at_peak: str = ""  # RSS of each process at the peak, by role
    largest: str = ""  # each role's largest RSS of one process over the run
    workers: tuple[float, float] = (0.0, 0.0)  # seconds into the run: first and last seen
    cpu_by_role: str = ""  # CPU seconds of each role, all its processes together

    def busy(self, cores: int) -> float:
        """How much of the machine's cores the run kept busy (CPU seconds / wall / cores)."""
        return self.cpu / self.seconds / cores


def run_measured(command: list[str], env: dict) -> Run:
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        peak, cpu, roles, at_peak, largest, seen = 0, {}, {}, {}, {}, []
        while process.poll() is None:
            rss = sample(process.pid, cpu, roles)
            if any(roles[pid] == "worker" for pid in rss):
                seen.append(time.perf_counter() - start)
            for pid, size in rss.items():
                largest[roles[pid]] = max(largest.get(roles[pid], 0), size)
            if sum(rss.values()) > peak:
                peak, at_peak = sum(rss.values()), rss
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if process.returncode not in (0, 3):
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
        out.seek(0)
        shares = ", ".join(
            f"{roles[pid]} {size / 2**20:.0f}" for pid, size in sorted(at_peak.items())
        )
        most = ", ".join(f"{name} {size / 2**20:.0f}" for name, size in sorted(largest.items()))
        workers = (seen[0], seen[-1]) if seen else (0.0, 0.0)
        by_role: dict[str, float] = {}
        for pid, seconds_used in cpu.items():
            by_role[roles[pid]] = by_role.get(roles[pid], 0.0) + seconds_used
        spent = ", ".join(f"{name} {used:.1f}" for name, used in sorted(by_role.items()))
        return Run(seconds, peak, sum(cpu.values()), out.read(), shares, most, workers, spent)


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


def memory(sizes: list[int]) -> None:
    """Peak RSS of an e-mail batch by its number of members, and kB per member between
    sizes; its wall time, CPU time and the machine's load average (1 min) at its end."""
    print(
        f"{'members':>9} {'peak MB':>8} {'seconds':>8} {'CPU s':>7} {'e-mails/s':>9} "
        f"{'load':>5} {'kB/member from the first':>25}"
    )
    first = None
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "association.yaml").write_text(ASSOCIATION)
            csv_path = work / "members.csv"
            members_csv(csv_path, size)
            run = dsar_batch(csv_path, work, dict(os.environ), "email", "--mandate-on-request")
            load = os.getloadavg()[0]
            with os.scandir(work / "email") as entries:  # a million names: counted, not listed
                queued = sum(
                    1 for e in entries if e.name.startswith("DSAR-") and e.name.endswith(".eml")
                )
        first = first or (size, run.peak)
        if queued != size:  # said with the figure, not instead of it
            print(f"{size} members: {queued} e-mails queued (bad rows?)", flush=True)
        slope = (run.peak - first[1]) / 1024 / (size - first[0]) if size != first[0] else 0.0
        print(
            f"{size:>9} {run.peak / 2**20:>8.1f} {run.seconds:>8.0f} {run.cpu:>7.0f} "
            f"{size / run.seconds:>9.1f} {load:>5.1f} {slope:>25.4f}",
            flush=True,
        )


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
        help="pdf (dsar and naive), dsar-pdf (dsar's PDF batch alone), mail, generate; "
        "comma-separated",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="peak memory of `dsar batch --format email` (not sent) at each size, alone",
    )
    args = parser.parse_args()
    if args.memory:
        print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        memory([int(s) for s in args.sizes.split(",")])
        return
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
            if parts & {"pdf", "dsar-pdf"}:
                pdf = dsar_batch(csv_path, work, env, "pdf")
                assert len(list((work / "pdf").glob("DSAR-*.pdf"))) == size
                row("dsar pdf", pdf)
                cores = os.cpu_count() or 1
                print(
                    f"{'':>8} dsar pdf: {100 * pdf.busy(cores):.0f}% of {cores} cores busy; "
                    f"MB at the peak: {pdf.at_peak}; largest process of each role: "
                    f"{pdf.largest}; workers from {pdf.workers[0]:.1f} s to "
                    f"{pdf.workers[1]:.1f} s of {pdf.seconds:.1f} s; CPU s by role: "
                    f"{pdf.cpu_by_role}",
                    flush=True,
                )
            if "pdf" in parts:
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
