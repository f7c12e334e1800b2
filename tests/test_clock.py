"""The suite's clock: every test runs on one frozen day (DSAR_TEST_TODAY, tests/conftest.py),
subprocesses on the same day; and a request's deadline counted on days whose month ends
on a weekend or a public holiday, the whole path run on that day."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, time

import pytest
import time_machine

from dsar.cli import cli

from .conftest import CITIZEN, TODAY, ok


def today_in_a_subprocess() -> str:
    command = [sys.executable, "-c", "import datetime; print(datetime.date.today())"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def test_the_tests_and_their_subprocesses_share_one_frozen_day(frozen_today, monkeypatch):
    assert date.today() == TODAY == frozen_today
    assert today_in_a_subprocess() == TODAY.isoformat()
    # whatever the real day: a subprocess travels to the day it is given
    monkeypatch.setenv("DSAR_TEST_TODAY", "2031-02-28")
    assert today_in_a_subprocess() == "2031-02-28"


@pytest.mark.parametrize(
    "today, due",
    [
        (date(2026, 1, 31), date(2026, 3, 2)),  # 28 February 2026 is a Saturday
        (date(2026, 4, 30), date(2026, 6, 1)),  # 30 May 2026 is a Saturday
        (date(2026, 6, 14), date(2026, 7, 15)),  # 14 July, a Tuesday: Bastille Day
        (date(2026, 10, 1), date(2026, 11, 2)),  # 1 November: a Sunday and All Saints' Day
        (date(2026, 12, 3), date(2027, 1, 4)),  # 3 January 2027 is a Sunday
        (date(2027, 1, 29), date(2027, 3, 1)),  # 28 February 2027 is a Sunday (no 29th)
    ],
)
@pytest.mark.usefixtures("selfcontact_postal")  # a letter posted: it has the address
def test_a_request_sent_today_is_due_on_the_next_working_day(runner, tmp_path, today, due):
    with time_machine.travel(datetime.combine(today, time(12)), tick=True):
        out = tmp_path / "letters"
        written = ok(runner.invoke(cli, [*CITIZEN, "--format", "pdf", "--out", str(out)]))
        reference = next(
            line.split()[1] for line in written.output.splitlines() if line.startswith("reference")
        )
        ok(runner.invoke(cli, ["sent", reference, "--on", today.isoformat()]))
        rows = json.loads(ok(runner.invoke(cli, ["status", "--json"])).stdout)["requests"]
    [row] = rows
    assert row["sent"] == today.isoformat()
    assert row["deadline"] == due.isoformat()
    assert row["days_left"] == (due - today).days
