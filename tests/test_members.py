"""An association's spreadsheet as it comes: French headers, LibreOffice's export."""

from __future__ import annotations

import csv

import pytest

from dsar import members
from dsar.cli import cli
from dsar.errors import DsarError, InputError

from .conftest import flat, parse_eml, read_csv, scan_of

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
    '"renaissance";01/11/2025;"M-0001"\r\n'
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
    result = runner.invoke(
        cli, [*args, "--format", "email", "--workers", "1", "--mandate-on-request"]
    )
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
        "Camille Martin;06 12 34 56 78;vue au marché;2025-11-01;M-1\n",
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
        '"=HYPERLINK(""http://x.example"")";06 12 34 56 78;renaissance;01/11/2025;M-1\n'
        "Camille Martin;06 12 34 56 79;selfcontact;01/11/2025;M-2\n",
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
    # selfcontact publishes none: its letters are drafts, out of the labels and the print
    assert "drafts without the recipient's postal address" in result.stderr
    assert len(rows) == 2 and not list(out.glob("*.pdf"))


def two_members(tmp_path, *, refs=("M-1", "M-2")):
    sheet = tmp_path / "m.csv"
    sheet.write_text(
        "Nom;Téléphone;Courriel;Date du mandat;Réf. mandat\n"
        f"Camille Martin;06 12 34 56 78;camille@example.org;01/11/2025;{refs[0]}\n"
        f"Dominique Léger;06 12 34 56 79;dom@example.org;01/11/2025;{refs[1]}\n",
        encoding="utf-8",
    )
    return sheet


def run_batch(runner, sheet, association, out, *extra, code=0):
    args = ["batch", str(sheet), "--association", str(association), "--out", str(out)]
    extra = (*extra, "--mandate-on-request")  # no signed scans here: sent all the same
    result = runner.invoke(cli, [*args, "--broker", "renaissance", "--format", "email", *extra])
    assert result.exit_code == code, result.output
    return result


def write_forms(runner, association, folder, sheet, *extra):
    """dsar mandate for the sheet's members, naming Renaissance."""
    args = ["mandate", "--association", str(association), "--out", str(folder), str(sheet)]
    return runner.invoke(cli, [*args, "--broker", "renaissance", *extra])


def add_registered_numbers(manifest):
    """The post office's numbers in a column of the association's own, as Calc saves it:
    the first member's letter registered, the second's not."""

    rows = read_csv(manifest)
    with manifest.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([*rows[0].keys(), "N° recommandé"])
        writer.writerow([*rows[0].values(), "1A00000000011"])
        writer.writerow([*rows[1].values(), ""])


@pytest.mark.today("2026-12-03")  # the posting of 20 November 2026 has happened
def test_a_posting_is_recorded_from_the_manifest_with_its_registered_numbers(
    runner, tmp_path, association
):
    import json

    out = tmp_path / "out"
    # letters dated before they are posted: the journal refuses the other way round
    run_batch(runner, two_members(tmp_path), association, out, "--date", "2026-11-19")
    manifest = out / "manifest.csv"
    # the association adds the post office's numbers in a column of its own, in Calc
    add_registered_numbers(manifest)
    posted = runner.invoke(cli, ["sent", "--from-manifest", str(manifest), "--on", "2026-11-20"])
    assert posted.exit_code == 0, posted.output
    assert "2 letter(s) recorded as sent on 2026-11-20 (1 with a registered-letter number)" in (
        posted.stdout
    )
    shown = runner.invoke(cli, ["status", "--json", "--batch", str(out), "--as-of", "2026-11-21"])
    assert shown.exit_code == 0, shown.output
    requests = {r["member"]: r for r in json.loads(shown.stdout)["requests"]}
    assert requests["Camille Martin"]["lrar_number"] == "1A00000000011"
    assert {r["state"] for r in requests.values()} == {"sent"}
    again = runner.invoke(cli, ["sent", "--from-manifest", str(manifest), "--on", "2026-11-20"])
    assert again.exit_code == 0 and "0 letter(s)" in again.stdout and "2 already" in again.stdout


def test_status_of_a_batch_shows_members_filters_them_and_counts_states(
    runner, tmp_path, association
):
    run_batch(runner, two_members(tmp_path), association, tmp_path / "one")
    (tmp_path / "x").mkdir()
    other = two_members(tmp_path / "x", refs=("M-3", "M-4"))
    run_batch(runner, other, association, tmp_path / "two")
    table = runner.invoke(cli, ["status", "--batch", str(tmp_path / "one" / "manifest.csv")])
    assert table.exit_code == 0, table.output
    assert "member" in table.stdout and "Camille Martin" in table.stdout
    assert "Per state: 2 draft" in table.stdout  # the other batch is not counted
    one = runner.invoke(cli, ["status", "--json", "--member", "leger"])
    assert one.exit_code == 0 and one.stdout.count('"member": "Dominique L\\u00e9ger"') == 2


def test_an_interrupted_send_says_how_far_it_got_and_what_to_do(runner, tmp_path, association):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the server cannot be reached
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = ["--send", "--smtp-host", "127.0.0.1", "--smtp-port", str(port)]
    result = run_batch(
        runner,
        two_members(tmp_path),
        association,
        tmp_path / "o",
        *extra,
        "--smtp-security",
        "none",
        code=1,
    )
    assert "0 of 2 e-mail(s) sent; run the same command again to send the rest" in result.stderr


def test_a_signed_mandate_is_found_under_the_form_s_own_name(runner, tmp_path, association):
    sheet = two_members(tmp_path)
    scans = tmp_path / "signed"
    made = write_forms(runner, association, scans, sheet)
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in scans.iterdir()) == ["mandate-M-1.pdf", "mandate-M-2.pdf"]
    scan_of(scans / "mandate-M-1.pdf", scans / "mandate-M-1.pdf")  # signed and scanned
    scan_of(scans / "mandate-M-2.pdf", scans / "M-2.pdf")  # either name is found
    (scans / "mandate-M-2.pdf").unlink()
    result = run_batch(runner, sheet, association, tmp_path / "o", "--mandates", str(scans))
    assert "no scan" not in result.stderr
    for eml in (tmp_path / "o").glob("*.eml"):
        [attachment] = parse_eml(eml.read_bytes()).iter_attachments()
        assert attachment.get_filename() in ("mandat-M-1.pdf", "mandat-M-2.pdf")


def test_a_mandate_reference_is_a_name_never_a_path(tmp_path):
    row = next(members.read(two_members(tmp_path, refs=("../../evil", "M-2"))))
    assert isinstance(row, members.BadRow) and row.column == "Réf. mandat"  # the person's header
    # nor the name of another member's form: "mandate-M-2" would find M-2's scan
    row = next(members.read(two_members(tmp_path, refs=("Mandate-M-2", "M-2"))))
    assert isinstance(row, members.BadRow) and row.column == "Réf. mandat"


def test_one_mandate_reference_is_one_member_s(runner, tmp_path, association):
    """Two members given the same mandate_ref: the second's letter cited, and its e-mail
    carried, the first member's signed mandate; dsar mandate wrote the first form, then
    stopped on 'already exists' (attacker, fourth read). The second row is a bad row."""
    sheet = two_members(tmp_path, refs=("M-1", "M-1"))
    forms = tmp_path / "forms"
    made = write_forms(runner, association, forms, sheet)
    assert made.exit_code == 3, made.output
    assert [p.name for p in forms.iterdir()] == ["mandate-M-1.pdf"]
    assert "M-1 is already the mandate of Camille Martin" in flat(made.stderr)
    scans = tmp_path / "signed"
    scans.mkdir()
    scan_of(forms / "mandate-M-1.pdf", scans / "M-1.pdf")
    out = tmp_path / "o"
    result = run_batch(runner, sheet, association, out, "--mandates", str(scans), code=3)
    assert "M-1 is already the mandate of Camille Martin" in flat(result.stderr)
    [eml] = out.glob("*.eml")
    message = parse_eml(eml.read_bytes())
    assert "camille@example.org" in str(message["From"]) + message.get_body().get_content()
    assert "Léger" not in message.get_body().get_content()
    # a later batch under the same reference for another member is refused too
    other = tmp_path / "other.csv"
    other.write_text(
        "Nom;Téléphone;Date du mandat;Réf. mandat\nAlex Roux;06 12 34 56 70;01/11/2025;M-1\n",
        encoding="utf-8",
    )
    again = run_batch(runner, other, association, tmp_path / "o2", code=3)
    assert "M-1 is already the mandate of Camille Martin" in flat(again.stderr)


@pytest.mark.today("2026-12-03")  # its posting of 20 November 2026 has happened
def test_numbers_added_to_a_recorded_manifest_count_those_letters_as_recorded_before(
    runner, tmp_path, association
):

    out = tmp_path / "out"
    run_batch(runner, two_members(tmp_path), association, out, "--date", "2026-11-19")
    manifest = out / "manifest.csv"
    first = runner.invoke(cli, ["sent", "--from-manifest", str(manifest), "--on", "2026-11-20"])
    assert first.exit_code == 0 and "2 letter(s) recorded" in first.stdout, first.output
    add_registered_numbers(manifest)
    again = runner.invoke(cli, ["sent", "--from-manifest", str(manifest), "--on", "2026-11-20"])
    assert again.exit_code == 0, again.output
    assert "0 letter(s)" in again.stdout and "2 already recorded before" in again.stdout
    assert "1 registered-letter number(s) added" in again.stdout


def test_a_mandate_reference_given_before_to_another_person_is_refused(
    runner, tmp_path, association
):
    """Dominique left; M-2 given to a new member in a later CSV: dsar mandate wrote the
    form, and the batch sent Dominique's signed scan with the newcomer's letter (new user,
    fourth read, blocking 1). The form records whose it is."""
    forms = tmp_path / "forms"
    args = ["mandate", "--association", str(association), "--out", str(forms)]
    ok = runner.invoke(cli, [*args, str(two_members(tmp_path)), "--broker", "renaissance"])
    assert ok.exit_code == 0, ok.output
    later = tmp_path / "later.csv"
    later.write_text(
        "Nom;Téléphone;Date du mandat;Réf. mandat\nAlex Roux;06 12 34 56 70;01/11/2025;M-2\n",
        encoding="utf-8",
    )
    again = runner.invoke(cli, [*args, str(later), "--broker", "renaissance", "--force"])
    assert again.exit_code == 3 and "M-2 is already the mandate of Dominique Léger" in flat(
        again.stderr
    )
    scans = tmp_path / "signed"
    scans.mkdir()
    scan_of(forms / "mandate-M-2.pdf", scans / "M-2.pdf")  # Dominique's signed scan
    batch = run_batch(runner, later, association, tmp_path / "o", "--mandates", str(scans), code=3)
    assert "M-2 is already the mandate of Dominique Léger" in flat(batch.stderr)
    assert not list((tmp_path / "o").glob("*.eml"))


def test_mandate_force_never_replaces_a_signed_scan_kept_under_the_form_s_name(
    runner, tmp_path, association
):
    """The hint says a scan may be kept under the form's own name; --force wrote the new
    form over it (new user, fourth read, blocking 2)."""
    forms = tmp_path / "forms"
    sheet = two_members(tmp_path)
    args = ["mandate", "--association", str(association), "--out", str(forms), str(sheet)]
    args += ["--broker", "renaissance"]
    assert runner.invoke(cli, args).exit_code == 0
    scan = scan_of(forms / "mandate-M-2.pdf", forms / "mandate-M-2.pdf")  # signed, saved back
    signed = scan.read_bytes()
    again = runner.invoke(cli, [*args, "--force"])
    assert again.exit_code == 3
    assert "mandate-M-2.pdf is not the form dsar mandate wrote" in flat(again.stderr)
    assert scan.read_bytes() == signed  # the scan kept
    import pypdf

    assert "/DsarMandateForm" in pypdf.PdfReader(forms / "mandate-M-1.pdf").metadata  # rewritten


def test_a_problem_found_after_reading_names_the_column_as_the_person_wrote_it(
    runner, tmp_path, association
):
    """« row 2, column sms_sender » for a sheet whose header says « Expéditeur », and
    « column mandate_date » for « Date du mandat » (the third review: attacker 12, new
    user 7): every row problem names the header the person wrote."""
    sheet = tmp_path / "m.csv"
    sheet.write_text(
        "Nom;Téléphone;Expéditeur;Texte du SMS;Date du SMS;Date du mandat;Réf. mandat\n"
        "Alex Roux;06 12 34 56 70;Marion M.;Votez pour nous;2024-06-06;2025-11-01;M-1\n"
        "Léa Roux;06 12 34 56 71;Reconquête;Votez;2024-06-06;2026-12-15;M-2\n",
        encoding="utf-8",
    )
    forms = runner.invoke(
        cli,
        ["mandate", "--association", str(association), "--out", str(tmp_path / "f"), str(sheet)],
    )
    assert "row 2, column Expéditeur: dsar does not recognise" in flat(forms.stderr)
    batch = runner.invoke(
        cli,
        ["batch", str(sheet), "--association", str(association), "--out", str(tmp_path / "o"),
         "--broker", "reconquete", "--date", "2026-12-01", "--workers", "1"],
    )  # fmt: skip
    assert "row 3, column Date du mandat: the mandate is signed on 2026-12-15" in flat(batch.stderr)
