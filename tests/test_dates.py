"""Dates typed the French way are read day first everywhere; impossible ones are refused
with the reading dsar took, never guessed the American way."""

from __future__ import annotations

from datetime import date

import pytest

from dsar import fields, members
from dsar.cli import cli
from dsar.errors import InputError

from .conftest import flat, replace_args
from .test_batch import member, write_csv
from .test_generate import ISSUE_COMMAND


@pytest.mark.parametrize(
    "typed, day",
    [
        ("2024-06-06", date(2024, 6, 6)),
        ("06/06/2024", date(2024, 6, 6)),
        ("6/6/24", date(2024, 6, 6)),
        ("13/06/24", date(2024, 6, 13)),
        ("07/06/2024", date(2024, 6, 7)),  # day first: 7 June, not July 6
        ("6.6.2024", date(2024, 6, 6)),
        (" 2024-6-6 ", date(2024, 6, 6)),
    ],
)
def test_french_and_iso_forms(typed, day):
    assert fields.iso_date(typed, "sms_date") == day


@pytest.mark.parametrize(
    "typed, says",
    [
        (
            "06/13/2024",
            "reads it as day/month/year, as in France, and there is no month 13; "
            "if you meant day 13 of month 6, write 13/06/2024",
        ),
        ("2024-13-01", "reads it as year-month-day, and there is no month 13"),
        ("31/02/2024", "day 31 is not in month 2"),
        ("le 6 juin", "write it as YYYY-MM-DD or DD/MM/YYYY"),
        ("6/6/202", "write it as YYYY-MM-DD or DD/MM/YYYY"),
    ],
)
def test_impossible_forms_are_refused_with_the_reading(typed, says):
    with pytest.raises(InputError) as info:
        fields.iso_date(typed, "sms_date")
    assert info.value.field == "sms_date" and says in info.value.reason


@pytest.mark.usefixtures("selfcontact_postal")  # a letter posted: it has the address
def test_command_line_options_take_french_dates(runner, tmp_path):
    args = replace_args(
        ISSUE_COMMAND, {"--sms-date": "6/6/24", "--date": "29/01/2026", "--format": "pdf"}
    )
    result = runner.invoke(cli, [*args, "--out", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ref = next(line.split()[1] for line in result.output.splitlines() if line.startswith("ref"))
    result = runner.invoke(cli, ["sent", ref, "--on", "30/01/2026", "--received", "31/01/26"])
    assert result.exit_code == 0, result.output
    assert "answer due by 2026-03-02" in result.stdout

    refused = runner.invoke(cli, ["sent", ref, "--on", "01/31/2026"])
    assert refused.exit_code == 2
    assert "--on: '01/31/2026' is not a date: dsar reads it as day/month/year" in flat(
        refused.stderr
    )


def test_csv_cells_take_french_dates(tmp_path):
    path = write_csv(
        tmp_path / "members.csv",
        [
            member(1, sms_date="06/06/2024", mandate_date="1/11/26"),
            member(2, sms_date="06/13/2024"),
        ],
    )
    good, bad = list(members.read(path))
    assert good.evidence.received_on == date(2024, 6, 6)
    assert good.mandate_date == "2026-11-01"
    assert (bad.row, bad.column) == (3, "sms_date") and "day/month/year" in bad.reason


def test_year_zero_and_a_declaration_to_come_are_said_as_such():
    """« 0000-01-01 »: « day 1 is not in month 1 »; declared_on 2099: « declared less than
    five years before, on 1 January 2099 » (the third review's attacker, 12)."""
    from dsar.models import Association

    with pytest.raises(InputError, match="there is no year 0"):
        fields.iso_date("0000-01-01", "mandate_date")
    association = Association(
        name="A", address="1 rue X", email="a@example.org", representative="R",
        qualifies_art80=True, declared_on=date(2099, 1, 1),
        purpose="la protection des données personnelles",
    )  # fmt: skip
    assert "is after this day: check it" in association.not_art80_why(date(2026, 12, 3))
