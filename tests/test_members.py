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
