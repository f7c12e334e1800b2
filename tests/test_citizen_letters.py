"""The citizen's letters, third read (issue 23 items 1-9, 12, 13): each point a lawyer or
a first-time user stumbled on, read back from real PDFs, real .eml files and the page."""

from __future__ import annotations

import re
import shlex
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pdfplumber
import pytest

from dsar import cli as cli_module
from dsar import letters
from dsar.app import App
from dsar.cli import cli
from dsar.render import mail

from .conftest import CITIZEN, flat, make_request, parse_eml, pdf_pages, replace_args
from .test_web import anonymous, client, draft, page_csrf  # noqa: F401 (fixtures)

DATED = [*CITIZEN, "--date", "2026-12-03", "--sms-date", "2024-06-06"]
ENSEMBLE = ["--sms-sender", "Ensemble", "--sms-text", "Votez Ensemble le 30 juin. STOP 36111"]


def write(runner, out, *extra, broker="selfcontact", ok=True):
    args = replace_args(DATED, {"--broker": broker})
    result = runner.invoke(cli, [*args, *extra, "--out", str(out)])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def only_pdf(folder):
    [pdf] = folder.glob("*.pdf")
    return pdf


def core_of(folder) -> str:
    return flat(pdf_pages(only_pdf(folder).read_bytes())[0])


# ---------------------------------------------------------------- 1. no empty window


@pytest.mark.parametrize(
    ("broker", "lang", "mark"),
    [
        ("selfcontact", "fr", "BROUILLON – adresse du destinataire à compléter"),
        ("rassemblement-national", "fr", "BROUILLON – adresse du destinataire à compléter"),
        ("selfcontact", "en", "DRAFT – recipient’s address to be completed"),
    ],
)
def test_a_letter_without_postal_address_is_a_marked_draft(runner, tmp_path, broker, lang, mark):
    result = write(runner, tmp_path / "o", "--lang", lang, broker=broker)
    core = core_of(tmp_path / "o")
    assert mark in core
    assert "adresse postale inconnue" not in core  # the old finished-looking window
    err = flat(result.stderr + result.stdout)
    assert "DRAFT" in err  # the command says so
    # and how to find the registered office, as the link it gave before
    assert "https://annuaire-entreprises.data.gouv.fr/rechercher?terme=" in err


def test_the_draft_mark_sits_in_the_envelope_window(runner, tmp_path):
    write(runner, tmp_path / "o")
    mm = 72 / 25.4
    with pdfplumber.open(only_pdf(tmp_path / "o")) as document:
        words = document.pages[0].extract_words()
    mark = next(w for w in words if w["text"] == "BROUILLON" and w["x0"] > 90 * mm)
    assert 40 * mm <= mark["top"] <= 95 * mm  # the DL window, 40-95 mm down the sheet


def test_with_the_address_the_letter_is_printable(runner, tmp_path, shipped):
    write(runner, tmp_path / "o", "--to-address", "Selfcontact\\n1 rue X\\n60400 Noyon")
    core = core_of(tmp_path / "o")
    assert "BROUILLON" not in core and "60400 Noyon" in core
    assert not make_request(shipped).printable
    assert make_request(shipped, to_address="Selfcontact\n1 rue X\n60400 Noyon").printable
    assert make_request(shipped, "renaissance").printable


def test_the_page_asks_for_the_address_before_offering_to_print(client):  # noqa: F811
    reference = draft(letter_date="2026-12-03", to_address=None)
    page = client.get(f"/letters?ref={reference}").text
    assert "à imprimer" not in page
    assert "Télécharger le brouillon" in page
    notice, form = page.index(f'id="draft-{reference}"'), page.index(f'id="contact-{reference}"')
    assert notice < page.index("Télécharger le brouillon")
    assert f'href="#contact-{reference}"' in page and form > notice


# ---------------------------------------------------------------- 2. the party letter


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_party_letter_is_conditional(runner, tmp_path, lang):
    write(runner, tmp_path / "o", "--lang", lang, broker="renaissance")
    core = core_of(tmp_path / "o")
    expected = {
        "fr": (
            "Si ce message a été envoyé à votre initiative ou pour votre compte, vous en êtes le "
            "responsable du traitement, même si un prestataire l’a envoyé",
            "sinon, veuillez m’indiquer pour le compte de qui (candidat ou structure) il l’a été",
        ),
        "en": (
            "If this message was sent on your initiative or on your behalf, you are its "
            "controller even if a provider sent it",
            "If not, please tell me on whose behalf (which candidate or body) it was sent",
        ),
    }[lang]
    for phrase in expected:
        assert phrase in core, phrase
    assert "prestataire les a envoyés" not in core  # « les » without antecedent


def test_a_party_the_message_does_not_name_is_warned_of(runner, tmp_path):
    result = write(runner, tmp_path / "o", *ENSEMBLE, broker="rassemblement-national")
    err = flat(result.stderr)
    assert "Ensemble pour la République" in err and "not Rassemblement national" in err
    fine = write(runner, tmp_path / "p", *ENSEMBLE, broker="renaissance")  # a member
    assert "not Renaissance" not in fine.stderr
    named = write(runner, tmp_path / "q", "--sms-sender", "RN", broker="rassemblement-national")
    assert "The message names" not in named.stderr


# ---------------------------------------------------------------- 3. no guess to a broker


def test_a_broker_letter_names_no_party_unless_confirmed(runner, tmp_path):
    guess = ["--sms-sender", "Ensemble", "--sms-text", "Votez Renaissance. STOP 36111"]
    result = write(runner, tmp_path / "o", *guess)
    core = core_of(tmp_path / "o")
    assert "signé « Ensemble »" in core  # the sender as displayed is a fact
    assert "en particulier pour" not in core and "Renaissance" not in core.split("STOP")[1]
    assert "--party-confirmed renaissance" in result.stderr  # said to the person, not the broker
    write(runner, tmp_path / "c", *guess, "--party-confirmed", "rassemblement-national")
    assert "en particulier pour le Rassemblement national" in core_of(tmp_path / "c")
    refused = write(runner, tmp_path / "x", "--party-confirmed", "la-poste", ok=False)
    assert refused.exit_code != 0 and "not a party" in refused.output
    assert not (tmp_path / "x").exists()


def test_identify_generate_never_writes_a_low_confidence_guess(runner, tmp_path):
    ok_init = runner.invoke(cli, ["init", "--name", "C M", "--phone", "0612345678"])
    assert ok_init.exit_code == 0, ok_init.output
    out = tmp_path / "l"
    args = ["identify", "--date", "2024-06-30", "--sender", "Ensemble", "--text", "Votez Ensemble"]
    result = runner.invoke(cli, [*args, "--generate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = {p.stem.split("-", 3)[-1] for p in out.glob("*.pdf")}
    assert written == {"selfcontact"}  # the known sender; Renaissance was only a guess
    for pdf in out.glob("*.pdf"):
        assert "en particulier pour" not in flat(" ".join(pdf_pages(pdf.read_bytes())))


def test_the_page_names_a_party_to_brokers_only_when_ticked(client):  # noqa: F811
    csrf = page_csrf(client)
    found = client.post(
        "/identify",
        data={
            "csrf": csrf,
            "sms_text": "Votez Ensemble",
            "sms_sender": "Ensemble",
            "sms_date": "2024-06-30",
        },
    ).text
    # Renaissance is offered, unticked (a coalition names no party); Selfcontact ticked
    assert re.search(r'value="renaissance"(?![^>]*checked)', found)
    assert re.search(r'value="selfcontact"[^>]*checked', found)
    assert 'name="party_confirmed" value="renaissance"' in found
    base = {
        "csrf": csrf,
        "sms_text": "Votez Ensemble",
        "sms_sender": "Ensemble",
        "sms_date": "2024-06-30",
        "recipient": "selfcontact",
        "name": "Camille Martin",
        "phone": "06 12 34 56 78",
    }
    made = client.post("/letters/new", data=base)
    assert made.status_code == 303
    ticked = client.post(
        "/letters/new", data=base | {"right": "access", "party_confirmed": "renaissance"}
    )
    assert ticked.status_code == 303
    with App() as app:
        requests = [app.show(e.reference).request for e in app.status().entries]
    assert sorted(str(r.campaign_party and r.campaign_party.slug) for r in requests) == [
        "None",
        "renaissance",
    ]


# ---------------------------------------------------------------- 9. French and layout


def test_no_france_on_a_domestic_window_but_from_abroad(shipped, env):
    paris = letters.render(make_request(shipped, "renaissance"), env)
    assert letters.context(paris.request)["recipient_window"].splitlines()[-1] == "75008 Paris"
    brussels = make_request(shipped, "renaissance", address="Rue Haute 1\n1000 Bruxelles\nBelgique")
    assert letters.window_address(brussels).splitlines()[-1] == "France"


def test_room_to_sign_and_the_registered_line_on_one_line(runner, tmp_path):
    write(runner, tmp_path / "o", "--lang", "en", "--lrar", broker="renaissance")
    mm = 72 / 25.4
    with pdfplumber.open(only_pdf(tmp_path / "o")) as document:
        words = document.pages[0].extract_words()
    registered, receipt = (
        next(w for w in words if w["text"] == t) for t in ("Registered", "receipt")
    )
    assert abs(registered["top"] - receipt["top"]) < 1  # one line
    closing = next(w for w in words if w["text"] == "faithfully,")
    name = [w for w in words if w["text"] == "Martin"][-1]  # the typed name under it
    assert name["top"] - closing["bottom"] >= 12 * mm  # a handwritten signature fits


# ---------------------------------------------------------------- 12. short mailto


@pytest.mark.parametrize("right", ["access", "erasure", "both"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_mailto_stays_short_and_the_eml_carries_the_whole_letter(shipped, env, right, lang):
    request = make_request(shipped, "renaissance", right=right, lang=lang, name="É" * 200)
    letter = letters.render(request, env)
    link = mail.mailto(letter)
    assert len(link) < 1800
    body = unquote(link.partition("&body=")[2])
    assert request.reference in body and ("Collez" in body or "Paste" in body)
    whole = parse_eml(mail.to_bytes(mail.build(letter))).get_body(("plain",)).get_content()
    assert "12(5)" in whole  # the annex: the .eml is the letter in full


def test_the_page_gives_the_text_to_copy_without_script(client):  # noqa: F811
    reference = draft(
        "renaissance",
        email="camille@example.org",
        formats=("pdf", "email"),
        letter_date="2026-12-03",
    )
    page = client.get(f"/letters?ref={reference}").text
    block = re.search(
        r"<details class=\"copy\">.*?<textarea[^>]*readonly[^>]*>(.*?)</textarea>", page, re.S
    )
    assert block and "<script" not in page
    text = unescape(block.group(1))
    assert "Je vous prie d’agréer" in text and "Annexe" in text
    mailto = unescape(re.search(r'href="(mailto:[^"]+)"', page).group(1))
    assert len(mailto) < 1800


# ---------------------------------------------------------------- 13. identify


def test_identify_explains_confidence_and_proposes_only_the_likely(runner):
    text = "Votez Valérie Hayer, liste soutenue par Emmanuel Macron. STOP 36111"
    result = runner.invoke(
        cli, ["identify", "--date", "2024-06-06", "--sender", "Renaissance", "--text", text]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "low = one clue only" in flat(out)
    proposed, _sep, unlikely = out.partition("Less likely")
    assert "--broker la-poste" not in proposed  # a 2017 campaign by post
    assert "--broker la-poste" in unlikely
    assert "--broker renaissance" in proposed  # the message names it


@pytest.mark.parametrize("sender", ["NFP", "Nouveau Front populaire"])
def test_identify_recognises_the_2024_alliances(runner, sender):
    result = runner.invoke(cli, ["identify", "--date", "2024-06-25", "--sender", sender])
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert "an alliance (2024: La France insoumise, Les Écologistes" in out
    proposed = out.partition("Less likely")[0]
    assert "--broker lfi" not in proposed and "--broker les-ecologistes" not in proposed


def run_from_a_venv_off_the_path(monkeypatch, tmp_path, command: str) -> Path:
    """dsar run as .venv/bin/dsar COMMAND from tmp_path, with no dsar on the PATH."""
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "dsar").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(cli_module.sys, "argv", [".venv/bin/dsar", command])
    return venv


def test_commands_are_printed_as_dsar_runs(monkeypatch, tmp_path):
    venv = run_from_a_venv_off_the_path(monkeypatch, tmp_path, "identify")
    assert cli_module.program_name() == ".venv/bin/dsar"
    monkeypatch.setattr(cli_module.shutil, "which", lambda name: str(venv / "dsar"))
    assert cli_module.program_name() == "dsar"
    monkeypatch.setattr(cli_module.sys, "argv", ["/somewhere/else.py"])
    monkeypatch.setattr(cli_module.shutil, "which", lambda name: None)
    assert shlex.split(cli_module.program_name())[1:] == ["-m", "dsar"]


def test_generate_says_how_to_run_dsar_when_it_is_not_on_the_path(runner, tmp_path, monkeypatch):
    run_from_a_venv_off_the_path(monkeypatch, tmp_path, "generate")
    result = write(runner, tmp_path / "o")
    assert "type .venv/bin/dsar where these lines say dsar" in flat(result.stderr)
    assert "source .venv/bin/activate" in result.stderr
