"""Spreadsheets as people save them (encodings, joins), reruns into one folder, the
Art. 80 claim, and SMTP errors said as what happened (issue 22; issue 21 item 10)."""

from __future__ import annotations

import codecs
from datetime import date

import pytest

from dsar import clock, members, sheets
from dsar.cli import cli
from dsar.errors import DsarError
from dsar.models import Association

from . import smtp_server
from .conftest import ASSOCIATION, flat, ok, page_client, pdf_text, read_csv
from .test_batch import HEADER, batch_args, member, write_csv

TEXT = "Nom;Téléphone\r\nHélène Léger;06 12 34 56 78\r\n"


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (TEXT.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8 (with BOM)"),
        (TEXT.encode("utf-16"), "UTF-16"),  # with its byte order mark
        (TEXT.encode("cp1252"), "Windows-1252"),
        (TEXT.encode("mac_roman"), "Mac Roman"),
    ],
)
def test_each_encoding_a_spreadsheet_saves_in_is_read_and_said(tmp_path, data, label):
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    assert members.encoding(path).startswith(label)
    [row] = members.read(path)
    assert row.requester.name == "Hélène Léger" and row.requester.phone == "+33612345678"


def test_utf16_without_its_mark_is_refused_saying_utf16(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(TEXT.encode("utf-16-le"))
    with pytest.raises(DsarError, match="UTF-16 without its byte order mark"):
        members.encoding(path)


def test_an_encoding_that_cannot_be_told_is_refused_in_the_persons_language(
    runner, tmp_path, association
):
    # bytes that read as Latin text in none of the 8-bit encodings French spreadsheets use
    # (0xB1: '±' in Windows-1252 and Mac Roman, '▒' in DOS)
    path = tmp_path / "m.csv"
    path.write_bytes(b"Nom;T\xe9l\xe9phone\r\nA\xb1\xb1;06 12 34 56 78\r\n")
    result = runner.invoke(cli, ["--ui-lang", "fr", *batch_args(path, association, tmp_path / "o")])
    assert result.exit_code == 1 and "ne peut être déterminé à coup sûr" in result.stderr
    assert not (tmp_path / "o").exists()


def test_an_edited_manifest_in_windows_1252_is_read(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0, name="Hélène")])
    out = tmp_path / "o"
    ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    manifest = out / "manifest.csv"
    manifest.write_bytes(manifest.read_text(encoding="utf-8-sig").encode("cp1252"))
    with clock.fixed(date.today()):
        day = clock.today().isoformat()
        done = runner.invoke(cli, ["sent", "--from-manifest", str(manifest), "--on", day])
    assert done.exit_code == 0, done.output
    assert "1 letter(s) recorded as sent" in done.stdout


def test_columns_join_several_headers_into_one(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        "Given;Family;Rue;CP;Town;Portable\r\nJean;Léger;1 rue A;75011;Paris;06 12 34 56 78\r\n",
        encoding="utf-8",
    )
    columns = members.parse_columns("name=Given+Family,address=Rue+CP+Town,Portable=phone")
    read_as = members.header(path, columns)
    assert ("Given + Family", "name") in read_as and ("Rue + CP + Town", "address") in read_as
    [row] = members.read(path, columns)
    assert row.requester.name == "Jean Léger"
    assert row.requester.address == "1 rue A\n75011 Paris"
    assert row.mandate_ref.startswith("M-") and row.mandate_date == ""  # made, left blank


def test_a_cell_is_neutralised_only_when_it_starts_like_a_formula():
    assert sheets.cell(-16) == "-16" and sheets.cell("-16") == "-16"
    assert sheets.cell("+33612345678") == "+33612345678"  # a number, not a formula
    assert sheets.cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert sheets.cell("-1+1") == "'-1+1" and sheets.cell("@SUM(A1)") == "'@SUM(A1)"


def test_a_cell_carries_no_control_character_to_the_terminal():
    """A bad row's member name went into manifest.csv with its ESC sequences: cat showed
    them as colours and cursor moves (the third review's attacker, 12). A line break, as
    in a postal address, stays; a tab that hid a formula goes, the formula neutralised."""
    assert sheets.cell("Jean\x1b[2J\x1b[31mDupont\x07") == "Jean[2J[31mDupont"
    assert sheets.cell("1 rue X\n75001 Paris") == "1 rue X\n75001 Paris"
    assert sheets.cell("\t=1+1") == "'=1+1" and sheets.cell("\x9b31m") == "31m"


def test_a_subset_rerun_keeps_every_letter_of_the_folder(runner, tmp_path, association):
    out = tmp_path / "o"
    everyone = write_csv(tmp_path / "all.csv", [member(i) for i in range(4)])
    ok(runner.invoke(cli, batch_args(everyone, association, out, "--format", "pdf,labels")))
    before = {m["reference"] for m in read_csv(out / "manifest.csv")}
    # the corrected rows alone, into the same folder
    subset = write_csv(tmp_path / "fixed.csv", [member(1, name="Membre Un")])
    again = ok(runner.invoke(cli, batch_args(subset, association, out, "--format", "pdf,labels")))
    assert "3 letter(s) of earlier runs" in again.stderr  # said, with how to drop one
    manifest = read_csv(out / "manifest.csv")
    assert {m["reference"] for m in manifest} >= before and len(manifest) == 4
    assert len(read_csv(out / "labels.csv")) == 4
    volume = flat(pdf_text((out / "print-duplex.pdf").read_bytes()))
    for i in range(4):
        assert f"M-{i:05d}" in volume
    assert "Membre Un" in volume  # the corrected letter made again, in place


ART80 = ASSOCIATION + "qualifies_art80: true\npurpose: la protection des données personnelles\n"


@pytest.mark.parametrize(
    ("declared", "claimed"),
    [("2021-12-03", True), ("2024-01-01", False), ("2027-01-01", False)],
)
def test_art80_needs_five_years_before_the_signing_date(runner, tmp_path, declared, claimed):
    association = tmp_path / "association.yaml"
    association.write_text(ART80 + f"declared_on: {declared}\n", encoding="utf-8")
    path = write_csv(tmp_path / "m.csv", [member(0)])
    # the form the member signed carried the clause (dsar mandate records it): a letter
    # claims Art. 80(1) only then, and only when the association had its five years
    from dsar.journal import Journal
    from dsar.paths import Paths

    journal = Journal(Paths.from_env().journal)
    journal.record_mandate_form("M-00000", ["renaissance"], art80=True)
    journal.close()
    out = tmp_path / "o"
    args = [*batch_args(path, association, out, "--format", "pdf"), "--date", "2026-12-03"]
    with clock.fixed(date(2026, 12, 3)):
        ok(runner.invoke(cli, args))
    text = flat(pdf_text(next(out.glob("DSAR-*.pdf")).read_bytes()))
    assert ("80(1)" in text) is claimed
    assert ("la protection des données personnelles" in text) is claimed  # the purpose


def test_five_years_from_a_29_february():
    leap = Association("A", "1 rue\n75001 Paris", "a@b.example", "R", qualifies_art80=True,
                       declared_on=date(2020, 2, 29),
                       purpose="la protection des données personnelles")  # fmt: skip
    assert not leap.art80_on(date(2025, 2, 28)) and leap.art80_on(date(2025, 3, 1))


def test_smtp_errors_say_what_happened(runner, tmp_path, association):
    controller, _recorder = smtp_server.start()  # offers no STARTTLS
    try:
        path = write_csv(tmp_path / "m.csv", [member(0)])
        args = batch_args(path, association, tmp_path / "o", "--format", "email")
        args += ["--send", "--smtp-host", "127.0.0.1", "--smtp-port", str(controller.port)]
        result = runner.invoke(cli, ["--ui-lang", "fr", *args, "--smtp-security", "starttls"])
    finally:
        controller.stop()
    assert result.exit_code == 1
    assert "ne propose pas STARTTLS : utilisez --smtp-security ssl" in flat(result.stderr)
    assert "impossible de joindre" not in result.stderr


def test_the_english_header_stays_known(tmp_path):
    assert members.map_header(tmp_path, HEADER)[0] == ("name", "name")


def test_my_requests_has_a_member_column_and_filter(runner, tmp_path, association):
    rows = [member(0, name="Jean-Pierre Léger"), member(1, name="Amélie Durand")]
    path = write_csv(tmp_path / "m.csv", rows)
    ok(runner.invoke(cli, batch_args(path, association, tmp_path / "o", "--format", "pdf")))
    client = page_client()
    page = client.get("/requests").text
    assert '<th scope="col">Membre</th>' in page and "Amélie Durand" in page
    one = client.get("/requests", params={"member": "leger"}).text
    assert "Jean-Pierre Léger" in one and "Amélie Durand" not in one
    assert 'value="leger"' in one  # the filter says what it shows


def test_a_corrected_name_is_the_same_letter_made_again(runner, tmp_path, association):
    # no mandate_ref column: the reference made from the number, not the spelling
    sheet = tmp_path / "m.csv"
    sheet.write_text("Nom;Téléphone\r\nJean-Piere Léger;06 12 34 56 78\r\n", encoding="utf-8")
    out = tmp_path / "o"
    args = ["batch", str(sheet), "--association", str(association), "--out", str(out)]
    args += ["--broker", "renaissance", "--format", "pdf"]
    ok(runner.invoke(cli, args))
    sheet.write_text("Nom;Téléphone\r\nJean-Pierre Léger;06 12 34 56 78\r\n", encoding="utf-8")
    again = ok(runner.invoke(cli, args))
    assert "1 letter(s) not yet sent made again" in again.stdout
    [letter] = read_csv(out / "manifest.csv")
    assert "Jean-Pierre Léger" in flat(pdf_text((out / letter["pdf"]).read_bytes()))
