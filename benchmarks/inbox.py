"""dsar inbox: how fast replies are read, matched and recorded, and how much memory it takes.

    python benchmarks/inbox.py                       # 10,000 from an mbox, 1,000 over IMAP
    python benchmarks/inbox.py --mbox 500 --imap 100 # a quick check that it all works

The messages are the test corpus (tests/inbox_corpus, 62 replies to 15 requests), each
copy with a Message-ID of its own, so every one is a new message to read, keep, match,
understand and record. The mbox is read twice: the second run finds every message already
read. Over IMAP, a local Dovecot (tests/dovecot.py, as the tests start it) holds the
messages, appended before the clock starts; the second run comes after 50 more arrived
and must fetch only those (Dovecot's own count of bodies fetched says so). Each run is a
`dsar inbox` process: wall time, and its peak memory (max RSS of the child).
"""

from __future__ import annotations

import argparse
import mailbox
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dovecot import PASSWORD, Dovecot  # noqa: E402
from tests.inbox_setup import REGISTRY, make_requests, write_corpus  # noqa: E402


def copies(corpus: list[bytes], count: int):
    """`count` messages cycling through the corpus, each with its own Message-ID."""
    for number in range(count):
        data = corpus[number % len(corpus)]
        yield re.sub(
            rb"^(Message-ID:\s*<)", rb"\g<1>%d." % number, data, count=1, flags=re.M | re.I
        )


def run(home: Path, source: str, *extra: str) -> tuple[float, float, str, float]:
    """One `dsar inbox` process: (seconds, peak MB, its last lines, CPU seconds of it and
    its workers: the figure a busy machine does not inflate)."""
    env = {**os.environ, "DSAR_HOME": str(home), "DSAR_IMAP_PASSWORD": PASSWORD}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dsar", "inbox", source, "--registry", str(REGISTRY), *extra],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"dsar inbox failed: {done.stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    # ru_maxrss of children is the largest child so far: a later, smaller run reads the
    # same; the first run of each kind is the one that sets it
    mb = max(peak, before) / 1024
    tail = "\n".join(done.stdout.strip().splitlines()[-3:])
    return seconds, mb, tail, cpu


def prepare(folder: Path) -> tuple[Path, list[bytes]]:
    home = folder / "home"
    os.environ["DSAR_HOME"] = str(home)
    made = make_requests(folder)
    corpus = [p.read_bytes() for p in sorted(write_corpus(folder / "corpus", made).glob("*"))]
    return home, corpus


def bench_mbox(count: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="dsar-bench-inbox-") as tmp:
        folder = Path(tmp)
        home, corpus = prepare(folder)
        path = folder / "replies.mbox"
        box = mailbox.mbox(path)
        box.lock()
        for data in copies(corpus, count):
            box.add(data)
        box.flush()
        box.unlock()
        size = path.stat().st_size / 1e6
        first = run(home, str(path))
        second = run(home, str(path))
        return [
            f"mbox, {count} messages ({size:.0f} MB), first run:  {first[0]:6.1f} s, "
            f"{count / first[0]:6.0f} messages/s, peak {first[1]:.0f} MB, CPU {first[3]:.1f} s",
            f"mbox, same file again (all already read):  {second[0]:6.1f} s, CPU {second[3]:.1f} s",
            "  " + first[2].replace("\n", "\n  "),
        ]


def bench_imap(count: int, more: int = 50) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="dsar-bench-imap-") as tmp, Dovecot() as server:
        folder = Path(tmp)
        home, corpus = prepare(folder)
        messages = list(copies(corpus, count + more))
        server.append(messages[:count], folder="Replies")
        url = server.url("Replies")
        first = run(home, url, "--imap-ca", str(server.ca))
        server.logged_in()
        fetched_first = server.sessions()[-1]["body_count"]
        server.append(messages[count:], folder="Replies")
        second = run(home, url, "--imap-ca", str(server.ca))
        server.logged_in()
        fetched_second = server.sessions()[-1]["body_count"]
        return [
            f"IMAP (local Dovecot, TLS), {count} messages, first run: {first[0]:6.1f} s, "
            f"{count / first[0]:6.0f} messages/s, bodies fetched {fetched_first}, "
            f"dsar CPU {first[3]:.1f} s",
            f"IMAP, second run after {more} new: {second[0]:6.1f} s, "
            f"bodies fetched {fetched_second} (only the new UIDs)",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mbox", type=int, default=10_000)
    parser.add_argument("--imap", type=int, default=1_000)
    args = parser.parse_args()
    print(f"# python benchmarks/inbox.py --mbox {args.mbox} --imap {args.imap}")
    print(
        f"# {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    for line in bench_mbox(args.mbox):
        print(line, flush=True)
    if args.imap:
        for line in bench_imap(args.imap):
            print(line, flush=True)


if __name__ == "__main__":
    main()
