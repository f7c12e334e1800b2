"""Letters to many imported datenanfragen records: every PDF readable, its address on it.

    python benchmarks/imported.py               # 200 records at random
    python benchmarks/imported.py --count 3069  # every shipped record

The test suite renders 20 chosen records (tests/test_import.py); this is the big run.
It imports the shipped records (data/datenanfragen), renders one access letter to each
sampled record, reads each PDF back (pypdf) and checks the recipient's first address
line (or name) and the requester's phone are on it, then prints PDFs per second.
Exits 1 if any letter fails the check.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402

from dsar import compose, importer, letters, profile, registry  # noqa: E402
from dsar.paths import SHIPPED_DATENANFRAGEN  # noqa: E402
from dsar.render.pdf import PdfRenderer  # noqa: E402


def flat(text: str) -> str:
    return " ".join(text.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="records to write to")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    report = importer.import_datenanfragen(SHIPPED_DATENANFRAGEN)
    reg = registry.Registry()
    reg.add(registry.parse(importer.dump(report, SHIPPED_DATENANFRAGEN)), "import")
    entries = sorted(reg.brokers.values(), key=lambda b: b.slug)
    sample = random.Random(args.seed).sample(entries, min(args.count, len(entries)))
    env = letters.environment()
    renderer = PdfRenderer(env)
    person = profile.requester(
        "Camille Martin", "12 rue des Lilas\n75011 Paris", "06 12 34 56 78", "camille@example.org"
    )
    failed = []
    start = time.perf_counter()
    for broker in sample:
        request = compose.build_request(
            reg, broker.slug, person, compose.evidence(), right="access", letter_date=date.today()
        )
        data = renderer.render(letters.render(request, env))
        text = flat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))
        expected = broker.postal_address.splitlines()[0] if broker.postal_address else broker.name
        if flat(expected) not in text or "+33612345678" not in text:
            failed.append(broker.slug)
    elapsed = time.perf_counter() - start
    print(f"{len(sample)} letters in {elapsed:.1f} s: {len(sample) / elapsed:.1f} PDFs/s")
    for slug in failed:
        print(f"not readable back: {slug}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
