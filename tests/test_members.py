"""An association's spreadsheet as it comes: French headers, LibreOffice's export."""

from __future__ import annotations

import pytest

from dsar import members
from dsar.cli import cli
from dsar.errors import DsarError, InputError

from .conftest import flat, parse_eml

ASSOCIATION = """\
name: Association Halte aux SMS
address: "5 rue de la Paix\\n75002 Paris"
email: droits@halte-sms.example
representative: Dominique Durand
"""
# LibreOffice Calc, "Enregistrer sous… CSV", jeu de caractères UTF-8 with a BOM,
# separator ';', text cells quoted, French dates as the cells show them
LIBREOFFICE = (
    "\ufeffNom;Adresse;Téléphone;Courriel;Date du SMS;Expéditeur;Texte du SMS;"
    "Destinataire;Date du mandat;Réf. mandat\r\n"
    '"Camille Martin";"12 rue des Lilas\n75011 Paris";"06 12 34 56 78";'
    '"camille@example.org";06/06/2024;"Reconquête";"Le 9 juin, votez ; STOP au 36111";'
    '"renaissance";01/11/2026;"M-0001"\r\n'
)


@pytest.fixture
def association(tmp_path):
    path = tmp_path / "association.yaml"
    path.write_text(ASSOCIATION, encoding="utf-8")
    return path


def test_a_libreoffice_export_with_french_headers_runs_without_a_mapping_flag(
    runner, tmp_path, association
):
    sheet = tmp_path / "adhérents.csv"
    sheet.write_bytes(LIBREOFFICE.encode("utf-8"))
    out = tmp_path / "out"
    args = ["batch", str(sheet), "--association", str(association), "--out", str(out)]
    result = runner.invoke(cli, [*args, "--format", "email", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Téléphone → phone" in result.stderr and "Réf. mandat → mandate_ref" in result.stderr
    assert "Date du SMS → sms_date" in result.stderr
    assert "1 request(s)" in result.stdout and "0 bad row(s)" in result.stdout
    (eml,) = out.glob("*.eml")
    body = flat(parse_eml(eml.read_bytes()).get_body(("plain",)).get_content())
    assert "6 juin 2024" in body and "M-0001" in body and "Reconquête" in body


def test_names_are_matched_without_accents_case_or_punctuation(tmp_path):
    header = ["NOM", "telephone", "E-mail", "date du mandat", "REF MANDAT", "Tél."][:5]
    read_as = members.map_header(tmp_path / "x.csv", header)
    assert [c for _h, c in read_as] == ["name", "phone", "email", "mandate_date", "mandate_ref"]
    assert members.map_header(tmp_path / "x.csv", ["Nom", "Tél.", "Mandat signé le", "Réf. mandat"])


def test_other_names_are_given_with_columns_and_the_rest_is_refused(tmp_path):
    sheet = tmp_path / "m.csv"
    sheet.write_text(
        "Adhérent;Portable perso;Remarque;Date du mandat;Réf. mandat\n"
        "Camille Martin;06 12 34 56 78;vue au marché;2026-11-01;M-1\n",
        encoding="utf-8",
    )
    with pytest.raises(DsarError) as refused:
        members.header(sheet)
    message = str(refused.value)
    assert "unknown column(s) Adhérent, Portable perso, Remarque" in message
    assert "--columns" in message
    mapping = members.parse_columns("adherent=name, Portable perso=phone, Remarque=-")
    assert members.header(sheet, mapping)[2] == ("Remarque", "-")
    (member,) = members.read(sheet, mapping)
    assert member.requester.name == "Camille Martin" and member.requester.phone == "+33612345678"
    with pytest.raises(InputError, match="HEADER=COLUMN"):
        members.parse_columns("Portable=telephone")


def test_two_columns_read_as_one_are_refused(tmp_path):
    with pytest.raises(DsarError, match="more than one column read as phone"):
        members.map_header(
            tmp_path / "x.csv", ["Nom", "Téléphone", "Portable", "Date du mandat", "Réf. mandat"]
        )


def test_labels_give_each_letter_its_address_block_and_no_cell_is_a_formula(
    runner, tmp_path, association
):
    sheet = tmp_path / "m.csv"
    sheet.write_text(
        "Nom;Téléphone;Destinataire;Date du mandat;Réf. mandat\n"
        '"=HYPERLINK(""http://x.example"")";06 12 34 56 78;renaissance;01/11/2026;M-1\n'
        "Camille Martin;06 12 34 56 79;selfcontact;01/11/2026;M-2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["batch", str(sheet), "--association", str(association), "--out", str(out)]
    result = runner.invoke(cli, [*args, "--format", "labels"])
    assert result.exit_code == 0, result.output
    assert f"envelope labels (mail merge): {out / 'labels.csv'}" in result.stdout
    text = (out / "labels.csv").read_text(encoding="utf-8-sig")
    rows = [line.split(";") for line in text.splitlines()]
    assert rows[0][:4] == ["reference", "member", "line_1", "line_2"]
    assert rows[1][1].startswith("\"'=HYPERLINK")  # text in a spreadsheet, never run
    assert rows[1][2:5] == ["Renaissance", "68 rue du Rocher", "75008 Paris"]
    assert "no postal address for a label" in result.stderr  # selfcontact publishes none
    assert len(rows) == 2 and not list(out.glob("*.pdf"))
