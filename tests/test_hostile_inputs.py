"""Input files written to break dsar: the members' CSV and the YAML files. Each case
was reproduced on the code before its fix (issue 21, items 7-10)."""

from __future__ import annotations

import re

import pytest

from dsar.cli import cli

from .conftest import ASSOCIATION, page_client, scan_of
from .test_batch import batch_args, member, with_open_quote, write_csv


def test_a_quote_still_open_at_the_end_of_the_file_stops_the_run(runner, tmp_path, association):
    """10 members, a cell whose quote never closes, 10 more: they are not dropped."""
    path = with_open_quote(tmp_path / "m.csv", 10, 10)  # opened in row 12
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
        cli,
        ["mandate", "--association", str(association), "--out", str(forms), str(path)]
        + ["--broker", "renaissance"],  # the recipient the batch writes to, named
    )
    assert result.exit_code == 3, result.output  # done, with a bad row
    assert "row 3, column mandate_ref" in result.stderr
    assert "Traceback" not in result.output and "Errno" not in result.output
    assert len(list(forms.iterdir())) == 2  # the good rows' forms

    mandates = tmp_path / "signed"
    mandates.mkdir()
    for good in ("M-00000", "M-00002"):  # the good rows' scans: their e-mails are not held back
        scan_of(forms / f"mandate-{good}.pdf", mandates / f"{good}.pdf")  # signed, scanned
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


# values YAML makes of unquoted text, each once signed into a mandate or a traceback
NOT_TEXT = {
    "huge-int": "0x" + "f" * 40_000,  # Python's int-string limit: a ValueError on str()
    "binary": "!!binary aGVsbG8=",  # b'hello'
    "set": "!!set {a, b}",  # {'a', 'b'}
    "nan": ".nan",
    "mapping": "{first: Camille}",
    "boolean": "yes",
    # YAML 1.1 numbers that are not what was written: a phone number read as octal
    # (0612345670 became 01 03 40 24 24 in a letter), 0777 signed as 511, 1_000 as 1000
    "octal": "0612345670",
    "underscore": "1_000_000",
    "sexagesimal": "1:30",
}


@pytest.mark.parametrize("value", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_an_association_yaml_value_that_is_not_text_is_refused_by_name(
    value, runner, tmp_path, association
):
    association.write_text(ASSOCIATION.replace("name: Association Halte aux SMS", f"name: {value}"))
    path = write_csv(tmp_path / "m.csv", [member(0)])
    forms = tmp_path / "forms"
    result = runner.invoke(
        cli, ["mandate", "--association", str(association), "--out", str(forms), str(path)]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert str(association) in result.stderr and "'name'" in result.stderr
    assert not forms.exists() or not list(forms.iterdir())


@pytest.mark.parametrize("value", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_a_profile_value_that_is_not_text_is_refused_by_name(value, runner, dsar_home):
    dsar_home.mkdir(parents=True, exist_ok=True)
    profile = dsar_home / "profile.yaml"
    profile.write_text(f"name: {value}\nphone: '06 12 34 56 78'\n")
    result = runner.invoke(cli, ["generate", "--broker", "selfcontact", "--format", "text"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert str(profile) in result.stderr and "'name'" in result.stderr
    # the page says it too, as a page: not a 500

    page = page_client()
    form = page.get("/").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    answer = page.post("/identify", data={"csrf": csrf, "sms_text": "Votez. STOP au 36111"})
    assert answer.status_code == 400 and "profile.yaml" in answer.text


def test_an_unquoted_phone_number_is_never_read_as_octal(runner, dsar_home):
    dsar_home.mkdir(parents=True, exist_ok=True)
    profile = dsar_home / "profile.yaml"
    profile.write_text("name: Camille Martin\nphone: 0612345670\n")
    result = runner.invoke(cli, ["generate", "--broker", "selfcontact", "--format", "text"])
    assert result.exit_code == 1, result.output
    assert "'phone'" in result.stderr and "0612345670" in result.stderr
    assert "01 03 40 24 24" not in result.output
    profile.write_text("name: Camille Martin\nphone: '0612345670'\n")  # quoted: as written
    result = runner.invoke(cli, ["generate", "--broker", "selfcontact", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert "06 12 34 56 70" in result.stdout


def test_a_registry_schema_version_that_is_not_the_number_is_refused(runner, tmp_path):
    for version in ("0x" + "f" * 40_000, "!!binary aGVsbG8=", ".nan", "{a: 1}"):
        path = tmp_path / "companies.yaml"
        path.write_text(f"schema_version: {version}\nbrokers: []\n")
        result = runner.invoke(cli, ["brokers", "check", str(path)])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and "schema_version" in result.stderr


def test_merge_keys_are_refused_they_bypass_the_duplicate_key_check(runner, tmp_path, association):
    association.write_text(ASSOCIATION + "<<: {name: Un autre nom}\n")
    path = write_csv(tmp_path / "m.csv", [member(0)])
    result = runner.invoke(
        cli, ["mandate", "--association", str(association), "--out", str(tmp_path / "f"), str(path)]
    )
    assert result.exit_code == 1 and "<<" in result.stderr, result.output
