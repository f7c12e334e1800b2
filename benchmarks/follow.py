"""`dsar batch --follow`'s time by the number of members: it is to grow with the members,
not with their square.

    python benchmarks/follow.py --sizes 100,200,400

For each size: a fresh journal; the association's first e-mails to the party (built, not
sent), each marked sent and answered naming DataContact (the tests' registry and
members); then the timed part, `App.batch_follow("datacontact")` writing every member's
next request as an e-mail. Prints the seconds, and the milliseconds per member: flat when
the work per member does not grow with the batch.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsar.app import App  # noqa: E402  (after the path: the checkout's dsar)
from dsar.paths import Paths  # noqa: E402
from tests.test_follow import REGISTRY, answered_naming_datacontact, first_batch  # noqa: E402


def one(size: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        registry = work / "registry.yaml"
        registry.write_text(REGISTRY, encoding="utf-8")
        home = work / "home"
        with App(Paths(config_dir=home, data_dir=home), registries=[registry]) as app:
            association, batch = first_batch(app, work, size, "email")
            answered_naming_datacontact(app, [row.reference for row in batch.rows])
            start = time.perf_counter()
            result = app.batch_follow(
                "datacontact", association=association, out_dir=work / "b2", formats="email"
            )
            return time.perf_counter() - start, len(result.written_now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,200,400")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(f"batch --follow, e-mails, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'members':>8} {'written':>8} {'seconds':>8} {'ms/member':>10}")
    for size in sizes:
        seconds, written = one(size)
        print(f"{size:>8} {written:>8} {seconds:>8.1f} {1000 * seconds / size:>10.1f}")


if __name__ == "__main__":
    main()
