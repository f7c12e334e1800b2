"""The README's examples work on any day, in a clone with nothing beside it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_examples_name_no_file_outside_the_project():
    assert "../shared" not in README
    assert "dsar brokers import datenanfragen --output companies.yaml" in README


def test_follow_up_examples_take_the_reference_from_generate(dsar_home, tmp_path):
    block = README.split("### Follow-up", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert not re.search(r"DSAR-[0-9A-Z]{4}-[0-9A-Z]{4}", block)  # no reference of one day
    assert lines[0].startswith("ref=$(dsar generate") and lines[1].startswith('dsar sent "$ref"')
    bin_dir = Path(sys.executable).parent  # where the installed `dsar` script is
    env = {**os.environ, "DSAR_HOME": str(dsar_home), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    script = (
        "set -e\n"
        "dsar init --name 'Camille Martin' --phone '06 12 34 56 78' --email camille@example.org\n"
        f"{lines[0]}\n{lines[1]}\n"
        'dsar show "$ref" --json\n'
        'echo "$ref"\n'
    )
    run = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    reference = run.stdout.splitlines()[-1]
    assert re.fullmatch(r"DSAR-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    assert f"{reference}: sent 2026-01-31" in run.stdout  # the journal knew the reference
    # the example records a letter that could be posted, not a draft without the
    # recipient's address (a new user copies it, registered-letter number included)
    shown = json.loads(run.stdout[run.stdout.index("{") : run.stdout.rindex("}") + 1])
    assert shown["recipient"]["postal_address"]
