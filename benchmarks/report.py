"""The time of `dsar report` for an association of 300 members (or N: first argument),
on a journal filled as tests/test_report.py fills it (answers of every kind, sources
named through the inbox). Prints the figures; asserts nothing.

    .venv/bin/python benchmarks/report.py [MEMBERS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dsar.app import App  # noqa: E402
from tests import test_report  # noqa: E402  (its journal, built the same way)


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        campaign = test_report.build(Path(tmp), members)
        built = time.perf_counter() - started
        os.environ["DSAR_HOME"] = str(campaign["home"])
        for run in ("cold", "again"):
            out = Path(tmp) / f"report-{run}"
            started = time.perf_counter()
            with App() as app:
                written = app.report(out, association=campaign["association"]).written
            took = time.perf_counter() - started
            size = sum(p.stat().st_size for p in written)
            print(
                f"{members} members, report {run}: {took:.2f} s ({len(written)} files, {size // 1024} kB)"
            )
        print(f"(journal filled in {built:.1f} s, not counted)")
        keep = os.environ.get("DSAR_BENCH_KEEP")
        if keep:  # the PDF kept to look at
            Path(keep).write_bytes((Path(tmp) / "report-again" / "report.pdf").read_bytes())


if __name__ == "__main__":
    main()
