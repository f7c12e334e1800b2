"""What each rule of templates/page.css costs to lay out and write one letter's core page.

    python benchmarks/css_cost.py              # instruction counts under callgrind (~20 min)
    python benchmarks/css_cost.py --timer 15   # median of 15 runs of time.process_time

The page is the core of the French letter to Selfcontact ("both"), as a batch lays it out
(one member's page, footer stamped later). Each variant drops one rule; "minimal" keeps
only the page size and margins. Instruction counts (valgrind --tool=callgrind, counted
between two client requests around each render, after a warm-up render of every
variant) do not depend on other load on the machine, where timings do; the "all rules"
rows repeated midway and last show what differences are noise (~2% here: caches and
object addresses differ from one render to the next).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARKERS_C = r"""
#include <valgrind/callgrind.h>
void bench_zero(void) { CALLGRIND_ZERO_STATS; }
void bench_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""


def rules(css: str) -> list[str]:
    """Top-level rules (an @page rule with its margin boxes is one rule); comments dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, depth, start = [], 0, 0
    for i, char in enumerate(css):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                out.append(css[start : i + 1].strip())
                start = i + 1
    return out


def sample_html(css: str) -> str:
    from dsar import compose, letters, profile, registry
    from dsar.paths import SHIPPED_REGISTRY
    from dsar.render import html as page

    reg = registry.Registry.load([SHIPPED_REGISTRY])
    person = profile.requester(
        "Camille Martin", "12 rue des Lilas\n75011 Paris", "06 12 34 56 78", "camille@example.org"
    )
    evidence = compose.evidence(
        "sms", "2024-06-06", None, "Reconquête", "Le 9 juin, votez ... STOP au 36111"
    )
    request = compose.build_request(
        reg,
        "selfcontact",
        person,
        evidence,
        right="both",
        lang="fr",
        letter_date=date(2026, 11, 23),
    )
    env = letters.environment()
    letter = letters.render(request, env)
    html = page.document(env, [page.section(env, letter, annex_apart=True)], "fr", stamped=True)
    # swap the shipped stylesheet for the variant's
    shipped = (ROOT / "templates" / "page.css").read_text(encoding="utf-8")
    start = html.index("<style>") + len("<style>")
    end = html.index("</style>")
    assert html[start:end].startswith(shipped.strip()[:40]), (
        "page.html.j2 no longer inlines page.css"
    )
    return html[:start] + css + "@page { @bottom-right { content: none; } }" + html[end:]


def variants() -> list[tuple[str, str]]:
    css = (ROOT / "templates" / "page.css").read_text(encoding="utf-8")
    found = rules(css)
    whole = "\n".join(found)
    out = [("all rules", whole)]
    for index, rule in enumerate(found):
        if index == len(found) // 2:
            out.append(("all rules (again, midway: the noise)", whole))
        without = "\n".join(found[:index] + found[index + 1 :])
        out.append((f"without: {' '.join(rule.split())[:70]}", without))
    out.append(("minimal: @page size and margins only", "@page { size: A4; margin: 18mm 20mm; }"))
    # candidates that keep every rule but ask the shaper or the line breaker for less
    fast_text = " html { font-kerning: none; font-variant-ligatures: none; }"
    out.append(("all + no kerning, no ligatures", whole + fast_text))
    out.append(("all + ragged right (no justify)", whole + " p, li { text-align: left; }"))
    out.append(("all rules (again, last: the noise)", whole))
    return out


def measure_child(markers: str | None, runs: int) -> None:
    """Runs in the measured process: render every variant, report each one's cost."""
    from dsar import letters
    from dsar.render.pdf import PdfRenderer

    renderer = PdfRenderer(letters.environment())
    pages = [(label, sample_html(css)) for label, css in variants()]
    for _label, html in pages:  # warm-up: every font, cache and lazy import any variant uses
        renderer.render_html(html)
    lib = ctypes.CDLL(markers) if markers else None
    for label, html in pages:
        if lib:
            lib.bench_zero()
            renderer.render_html(html)
            lib.bench_dump(label.encode("utf-8"))
        else:
            seconds = []
            for _ in range(runs):
                start = time.process_time()
                renderer.render_html(html)
                seconds.append(time.process_time() - start)
            print(f"{statistics.median(seconds) * 1000:.2f}\t{label}", flush=True)


def report(costs: list[tuple[str, float]], unit: str) -> None:
    full = costs[0][1]
    print(f"{unit:>14} {'vs all':>8}  variant")
    for label, cost in costs:
        print(f"{cost:>14,.0f} {100 * (cost - full) / full:>+7.1f}%  {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timer", type=int, metavar="RUNS", help="process_time medians instead")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        measure_child(args.child or None, args.timer or 1)
        return
    if args.timer:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "", "--timer", str(args.timer)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        costs = [
            (line.split("\t", 1)[1], float(line.split("\t")[0]) * 1000) for line in out.splitlines()
        ]
        report(costs, "µs (median)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "markers.c").write_text(MARKERS_C)
        subprocess.run(
            [
                "cc",
                "-shared",
                "-fPIC",
                "-O1",
                "-o",
                str(work / "markers.so"),
                str(work / "markers.c"),
            ],
            check=True,
        )
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=yes", "--dump-line=no",
             f"--callgrind-out-file={work}/cg.out", sys.executable, __file__,
             "--child", str(work / "markers.so")],
            check=True, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        costs = []
        for dump in sorted(work.glob("cg.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1])):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if trigger and total:
                costs.append((trigger.group(1), float(total.group(1))))
        report(costs, "instructions")


if __name__ == "__main__":
    main()
