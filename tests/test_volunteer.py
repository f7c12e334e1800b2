"""Issue 22's volunteer, end to end: a French Excel export (Windows-1252, ';', French
headers, two bad rows) -> mandates -> batch (PDF, e-mail, labels) -> a rerun once a
missing address is found -> --send to a real SMTP server with one recipient lacking an
e-mail -> the posting recorded from the manifest (registered numbers added later, in a
manifest saved back in Windows-1252) -> status by member. Each item is asserted where
it happens."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from dsar import clock
from dsar.cli import cli

from . import smtp_server
from .conftest import ASSOCIATION as BASE
from .conftest import flat, ok, parse_eml, pdf_text, read_csv, scan_of

HEADERS = (
    "Prénom;Nom;Adresse;Code postal;Ville;Téléphone;Courriel;Date du SMS;Expéditeur;"
    "Texte du SMS;Destinataire"
)
ROWS = [
    # selfcontact publishes no postal address: a draft until one is found
    ["Jean-Pierre", "Léger", "12 rue des Lilas", "75011", "Paris", "06 12 34 56 78",
     "jp@example.org", "06/06/2024", "Reconquête", "Le 9 juin, votez ! STOP au 36111",
     "selfcontact"],
    ["Amélie", "Durand", "3 place Bellecour", "69002", "Lyon", "06 22 33 44 55",
     "amelie@example.org", "07/06/2024", "Renaissance", "Votez le 9 juin", "renaissance"],
    # two errors in one row: both said at once, under the person's headers
    ["Paul", "Martin", "1 rue Haute", "13001", "Marseille", "06 12", "", "31/02/2024",
     "", "", "renaissance"],
    # an empty recipient cell is called empty; and a bad e-mail in the same row
    ["Zoé", "Petit", "2 rue Basse", "33000", "Bordeaux", "06 33 44 55 66", "zoé@", "",
     "", "", ""],
    # Reconquête has an address but no e-mail: a letter to post when sending
    ["Hélène", "Roux", "4 quai Est", "67000", "Strasbourg", "06 44 55 66 77",
     "helene@example.org", "08/06/2024", "Reconquête", "Le 9 juin", "reconquete"],
    # Renaissance has an e-mail, but this member's signed mandate is not scanned yet
    ["Luc", "Blanc", "5 rue Sud", "59000", "Lille", "06 55 66 77 88", "luc@example.org",
     "08/06/2024", "Renaissance", "Votez", "renaissance"],
]  # fmt: skip
ASSOCIATION = BASE + "capacity: présidente\nrna: W751234567\nidentity_checked: true\n"


@pytest.fixture
def smtp():
    controller, recorder = smtp_server.start()
    yield controller, recorder
    controller.stop()


def fr(runner, *args, code=0):
    result = runner.invoke(cli, ["--ui-lang", "fr", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_the_volunteers_path(runner, tmp_path, smtp):
    controller, recorder = smtp
    sheet = tmp_path / "adhérents.csv"
    lines = [HEADERS, *(";".join(row) for row in ROWS)]
    sheet.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))  # Excel's "CSV (;)"
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    with clock.fixed(date(2026, 12, 3)):
        # 4. the forms to sign: no mandate date or reference demanded
        forms = tmp_path / "mandats"
        made = fr(runner, "mandate", "--association", str(association), "--out", str(forms),
                  str(sheet), code=3)  # fmt: skip
        # 1-2. the encoding said, French headers recognised and joined, the mapping echoed
        assert "lu en Windows-1252" in made.stderr
        assert "Prénom + Nom → name" in made.stderr
        assert "Adresse + Code postal + Ville → address" in made.stderr
        # 3. every error of a row at once, named by the person's header; empty said empty
        err = flat(made.stderr)
        assert "ligne 4, colonne Téléphone" in err and "ligne 4, colonne Date du SMS" in err
        assert "ligne 5, colonne Courriel" in err
        assert "4 formulaire(s) de mandat" in made.stdout
        pdfs = sorted(forms.glob("mandate-M-*.pdf"))
        assert len(pdfs) == 4
        form = flat(pdf_text(pdfs[0].read_bytes()))
        # 14. the mandate covers the chain: the candidate or party named, any source/recipient
        assert "au nom duquel le message reçu a été envoyé" in form
        assert "désigneront comme source ou destinataire de mes données" in form
        assert "Fait à" in form and "2026" not in form.split("Fait à")[1]  # signed by hand
        texts = {p.name: flat(pdf_text(p.read_bytes())) for p in pdfs}
        by_member = {
            name: next(n for n, t in texts.items() if name in t)
            for name in ("Jean-Pierre Léger", "Amélie Durand", "Hélène Roux", "Luc Blanc")
        }
        assert "75011 Paris" in texts[by_member["Jean-Pierre Léger"]]  # postcode and town
        # the signed scans come back, but Luc's
        scans = tmp_path / "signés"
        scans.mkdir()
        for name in ("Jean-Pierre Léger", "Amélie Durand", "Hélène Roux"):
            scan_of(forms / by_member[name], scans / by_member[name])

        # the batch: PDF, e-mail, labels
        out = tmp_path / "courriers"
        batch = ["batch", str(sheet), "--association", str(association), "--out", str(out)]
        batch += ["--format", "pdf,email,labels", "--mandates", str(scans)]
        first = fr(runner, *batch, code=3)
        assert "lu en Windows-1252" in first.stderr
        manifest = read_csv(out / "manifest.csv")  # 10. ';', BOM, French headers
        assert list(manifest[0]) == [
            "ligne", "membre", "courtier", "référence", "pdf", "eml", "statut du courriel",
        ]  # fmt: skip
        rows = {m["membre"]: m for m in manifest}
        assert "Téléphone" in rows["Paul Martin"]["statut du courriel"]
        assert "Date du SMS" in rows["Paul Martin"]["statut du courriel"]
        assert "Destinataire: vide" in rows["Zoé Petit"]["statut du courriel"]
        jp = rows["Jean-Pierre Léger"]
        # 4. no signing date recorded: none quoted; 12. the association's sentences
        letter = flat(pdf_text((out / rows["Amélie Durand"]["pdf"]).read_bytes()))
        assert "en vertu de mon mandat (n° M-" in letter and "joint" in letter
        assert "Elle a vérifié mon identité" in letter
        assert "pouvoirs de son signataire vous seront justifiés sur demande" in letter
        assert "C-307/22" in letter and "80(1)" not in letter
        # 11. the closing and the signature on page 1
        page_one = pdf_text((out / rows["Amélie Durand"]["pdf"]).read_bytes()).split("\f")[0]
        assert "Pour Amélie Durand, par mandat" in page_one and "Dominique Durand" in page_one
        # 5. a letter without the recipient's postal address is a draft: not printed
        print_file = flat(pdf_text((out / "print-duplex.pdf").read_bytes()))
        assert "Amélie Durand" in print_file and "Jean-Pierre Léger" not in print_file
        labels = read_csv(out / "labels.csv")
        # Luc's scan never came back: his letter, which says it encloses it, waits too
        assert {label["membre"] for label in labels} == {"Amélie Durand", "Hélène Roux"}
        assert "Luc Blanc" not in print_file
        assert "BROUILLON" in flat(pdf_text((out / jp["pdf"]).read_bytes()))  # the visible mark

        # 5. the address is found; the same command makes the draft again, without --force
        ok(runner.invoke(cli, ["brokers", "add-contact", "selfcontact", "--postal",
                               "Selfcontact\n1 rue du Test\n60400 Noyon", "--source", "Kbis"]))  # fmt: skip
        again = fr(runner, *batch, code=3)
        assert "refaite(s)" in again.stdout
        assert "60400 Noyon" in flat(pdf_text((out / jp["pdf"]).read_bytes()))
        print_file = flat(pdf_text((out / "print-duplex.pdf").read_bytes()))
        assert "Jean-Pierre Léger" in print_file
        assert "Jean-Pierre Léger" in {label["membre"] for label in read_csv(out / "labels.csv")}

        # 6, 8. --send sends what can leave; the rest is listed (to post, held back)
        sent = fr(runner, *batch, "--send", "--smtp-host", "127.0.0.1", "--smtp-port",
                  str(controller.port), "--smtp-security", "none", "--rate", "0", code=3)  # fmt: skip
        assert recorder.count == 1
        [message] = recorder.messages
        assert "<mes-donnees@parti-renaissance.fr>" in message["To"]
        parsed = parse_eml(message.as_bytes())
        assert "Amélie Durand" in parsed.get_body(("plain",)).get_content()
        [scan] = parsed.iter_attachments()  # her signed mandate, enclosed as the letter says
        assert scan.get_filename().startswith("mandat-M-")
        err = flat(sent.stderr)
        assert "lettre(s) à poster" in err and "1 e-mail(s) retenu(s)" in err
        rows = {m["membre"]: m for m in read_csv(out / "manifest.csv")}
        assert rows["Luc Blanc"]["statut du courriel"].startswith("retenu")
        assert rows["Hélène Roux"]["statut du courriel"].endswith("à poster")
        assert rows["Amélie Durand"]["statut du courriel"] == "envoyée"

    with clock.fixed(date(2026, 12, 5)):
        # the posting recorded from the manifest
        posted = fr(runner, "sent", "--from-manifest", str(out / "manifest.csv"), "--on",
                    "2026-12-04")  # fmt: skip
        assert "3 lettre(s)" in posted.stdout  # Jean-Pierre, Hélène, Luc; Amélie e-mailed
        # 9. the registered numbers added later, the manifest saved back in Windows-1252
        rows = read_csv(out / "manifest.csv")
        saved = io.StringIO()
        writer = csv.writer(saved, delimiter=";")
        writer.writerow([*rows[0], "N° recommandé"])
        posted_ones = ("Jean-Pierre Léger", "Hélène Roux", "Luc Blanc")  # Amélie's was e-mailed
        for number, row in enumerate(rows):
            lrar = f"1A0000000{number:04d}" if row["membre"] in posted_ones else ""
            writer.writerow([*row.values(), lrar])
        (out / "manifest.csv").write_bytes(saved.getvalue().encode("cp1252"))
        late = fr(runner, "sent", "--from-manifest", str(out / "manifest.csv"), "--on",
                  "2026-12-04")  # fmt: skip
        assert "3 numéro(s) de recommandé ajouté(s)" in late.stdout

        # 15. status by member, with the member column; its CSV in the one dialect
        fr(runner, "status", "--member", "léger", "--csv", str(tmp_path / "s.csv"))
        [line] = read_csv(tmp_path / "s.csv")  # the member filter: one row, hers
        assert line["membre"] == "Jean-Pierre Léger" and line["état"] == "envoyée"
        assert line["jours restants"].isdigit()
