"""Input files written to break dsar: the members' CSV and the YAML files. Each case
was reproduced on the code before its fix (issue 21, items 7-10)."""

from __future__ import annotations

import csv

import pytest

from dsar.cli import cli

from .test_batch import batch_args, member, write_csv


def test_a_quote_still_open_at_the_end_of_the_file_stops_the_run(runner, tmp_path, association):
    """10 members, a cell whose quote never closes, 10 more: they are not dropped."""
    plain = {"address": "1 rue des Lilas 75011 Paris", "sms_text": "Votez. STOP au 36111"}
    rows = [member(i, **plain) for i in range(20)]
    path = write_csv(tmp_path / "m.csv", rows[:10])
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write('Oops;"Votez pour nous;0611111111;;;;;;2026-11-01;M-OPEN\n')  # row 12
        csv.writer(handle, delimiter=";").writerows(rows[10:])
    out = tmp_path / "o"
    result = runner.invoke(cli, batch_args(path, association, out, "--format", "email"))
    assert result.exit_code == 1, result.output  # stopped, not "done with 1 bad row"
    assert "row 12 (line" in result.stderr and "never closed" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "reference",
    ["😀" * 100, "契" * 85, "M:001", "CON", "nul.txt", "COM1", "M-001."],
    ids=["emoji", "cjk", "colon", "con", "nul.txt", "com1", "final-dot"],
)
def test_a_mandate_ref_that_cannot_name_a_file_is_a_bad_row(
    reference, runner, tmp_path, association
):
    path = write_csv(tmp_path / "m.csv", [member(0), member(1, mandate_ref=reference), member(2)])
    forms = tmp_path / "forms"
    result = runner.invoke(
        cli, ["mandate", "--association", str(association), "--out", str(forms), str(path)]
    )
    assert result.exit_code == 3, result.output  # done, with a bad row
    assert "row 3, column mandate_ref" in result.stderr
    assert "Traceback" not in result.output and "Errno" not in result.output
    assert len(list(forms.iterdir())) == 2  # the good rows' forms

    mandates = tmp_path / "signed"
    mandates.mkdir()
    out = tmp_path / "o"
    batch = runner.invoke(
        cli,
        batch_args(path, association, out, "--format", "email", "--mandates", str(mandates)),
    )
    assert batch.exit_code == 3, batch.output
    assert "row 3, column mandate_ref" in batch.stderr
    assert len(list(out.glob("*.eml"))) == 2


def test_a_header_line_of_3_mb_is_said_as_such_not_empty(runner, tmp_path, association):
    path = tmp_path / "m.csv"
    path.write_text("nom;" + "x" * 3_000_000 + "\nCamille;1\n", encoding="utf-8")
    result = runner.invoke(cli, batch_args(path, association, tmp_path / "o"))
    assert result.exit_code == 1, result.output
    assert "is empty" not in result.stderr
    assert "3,000,004 characters" in result.stderr and "first line" in result.stderr
