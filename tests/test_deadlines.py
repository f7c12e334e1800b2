"""Counting the deadline (LEGAL.md): one month from receipt, the next working day when it
ends on a Saturday, Sunday or French public holiday, an extension only when notified in time."""

from __future__ import annotations

import json
from datetime import date

import pytest

from dsar import deadlines
from dsar.cli import cli
from dsar.journal import Journal

from .test_journal import generate, status_json


@pytest.mark.parametrize(
    "receipt, due",
    [
        (date(2026, 1, 31), date(2026, 3, 2)),  # 28 February 2026 is a Saturday
        (date(2026, 9, 4), date(2026, 10, 5)),  # 4 October 2026 is a Sunday
        (date(2026, 10, 1), date(2026, 11, 2)),  # 1 November: a Sunday and All Saints' Day
        (date(2026, 4, 14), date(2026, 5, 15)),  # 14 May 2026 is Ascension Day
        (date(2026, 3, 6), date(2026, 4, 7)),  # 6 April 2026 is Easter Monday
        (date(2026, 11, 30), date(2026, 12, 30)),  # a Wednesday: no change
        (date(2026, 12, 1), date(2027, 1, 4)),  # 1 January 2027 a holiday, then a weekend
    ],
)
def test_one_month_ends_on_a_working_day(receipt, due):
    assert deadlines.deadline(receipt) == due


def test_extension_in_time_gives_three_months_adjusted_the_same_way():
    receipt = date(2026, 2, 2)
    assert deadlines.extension_counts(receipt, date(2026, 3, 2))  # the first month's last day
    # 2 May 2026 is a Saturday, after the 1 May holiday: Monday 4 May
    assert deadlines.deadline(receipt, extended=True) == date(2026, 5, 4)


def test_extension_notified_late_does_not_move_the_deadline(runner, tmp_path, dsar_home):
    ref = generate(runner, tmp_path)
    result = runner.invoke(cli, ["sent", ref, "--on", "2026-01-30", "--received", "2026-02-02"])
    assert result.exit_code == 0, result.output
    assert not deadlines.extension_counts(date(2026, 2, 2), date(2026, 3, 10))

    result = runner.invoke(cli, ["answer", ref, "--extension", "--on", "2026-03-10"])
    assert result.exit_code == 0, result.output
    assert "answer still due by 2026-03-02" in result.stdout
    assert "came after the first month, which ended on 2026-03-02" in result.stderr

    row = status_json(runner, "--as-of", "2026-03-20")[ref]
    assert row["deadline"] == "2026-03-02" and row["state"] == "overdue"
    assert row["extended_on"] == "2026-03-10" and row["extension_counts"] is False
    assert "does not move the deadline" in row["notes"][0]
    table = runner.invoke(cli, ["status", "--as-of", "2026-03-20"])
    assert table.exit_code == 0
    assert "does not move the deadline" in " ".join(table.stdout.split())
    with Journal(dsar_home / "journal.sqlite3") as journal:
        assert journal.entry(ref).stored_state == "received"  # not 'extended'
        assert [e["detail"] for e in journal.events(ref) if e["what"] == "extension"] == ["late"]


def test_extension_in_time_moves_the_deadline(runner, tmp_path):
    ref = generate(runner, tmp_path)
    sent = runner.invoke(cli, ["sent", ref, "--on", "2026-01-30", "--received", "2026-02-02"])
    assert sent.exit_code == 0, sent.output
    result = runner.invoke(cli, ["answer", ref, "--extension", "--on", "2026-02-27"])
    assert result.exit_code == 0 and "answer now due by 2026-05-04" in result.stdout
    result = runner.invoke(cli, ["status", "--json", "--as-of", "2026-04-01"])
    assert result.exit_code == 0
    row = json.loads(result.stdout)["requests"][0]
    assert (row["deadline"], row["state"], row["notes"]) == ("2026-05-04", "extended", [])


def test_journal_keeps_a_late_extension_without_moving_the_deadline(shipped, tmp_path):
    from .conftest import make_request

    # the letter is dated before it is sent: the journal refuses the other way round
    request = make_request(shipped, "renaissance", letter_date=date(2026, 1, 29))
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record(request, subject="s", body_text="b", medium="pdf")
        journal.mark_sent(request.reference, date(2026, 1, 30), received=date(2026, 2, 2))
        journal.mark_extension(request.reference, date(2026, 3, 10))
        entry = journal.entry(request.reference)
    assert entry.extended_on == date(2026, 3, 10) and not entry.extension_counts
    assert entry.deadline == date(2026, 3, 2) and entry.state(date(2026, 3, 20)) == "overdue"
    assert "which ended on 2026-03-02" in entry.late_extension_note
