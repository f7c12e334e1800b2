"""dsar serve driven in a real headless browser: Playwright with Debian's chromium.

The server is the real `dsar serve` command in a subprocess, on 127.0.0.1, with its
DSAR_HOME in tmp_path; the browser does what a person does, from the pasted message to
the letter to "Mes demandes", on a desktop (1280 px) and a phone (390 px): after each
submit the result is in view, and the French page holds no `--flag` and no English.
DSAR_SCREENSHOTS=DIR keeps a screenshot of each screen. Chromium or Playwright missing
is a failure, never a skip.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from dsar.deadlines import deadline as answer_due
from dsar.fields import long_date

from .conftest import flat, pdf_text, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# FACTS.md: the Reconquête SMS of 2024-06-06, sent through Selfcontact
SMS = "Le 9 juin, votez pour la liste de Marion Maréchal ! STOP au 36111"
# words that betray an untranslated string on the French page (whole words)
ENGLISH = (
    "the",
    "and",
    "with",
    "your",
    "quality",
    "broker",
    "party",
    "authority",
    "partial",
    "unverified",
    "Supply",
    "Download",
    "Record",
    "Missing",
    "found",
    "give",
    "registry",
    "where",
)
WIDTHS = {"desktop": 1280, "phone": 390}

try:
    from playwright import sync_api
except ImportError:  # the test then fails, here as in CI: it never skips
    sync_api = None
expect = sync_api.expect if sync_api else None


@pytest.fixture
def served(tmp_path, dsar_home):
    """`dsar serve` as a person starts it; its first line is the address to open."""
    with serving(dsar_home, tmp_path) as address:
        yield address


@pytest.fixture(params=list(WIDTHS))
def page(request):
    # bash scripts/test.sh installs both; a test that cannot start its browser fails
    if sync_api is None:
        pytest.fail("Playwright is missing: run bash scripts/test.sh (the [test] extra)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bash scripts/test.sh (Debian's chromium)")
    width = WIDTHS[request.param]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            accept_downloads=True,
            locale="fr-FR",
            viewport={"width": width, "height": 844 if width < 600 else 900},
            is_mobile=width < 600,
            has_touch=width < 600,
        )
        page = context.new_page()
        page.width_name = request.param
        yield page
        browser.close()


def shoot(page, name: str, *, full_page: bool = False) -> None:
    folder = os.environ.get("DSAR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        path = Path(folder) / f"{page.width_name}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)


def speaks_french(page) -> None:
    """No command-line word and no English word on the page, and nothing wider than
    the window (a phone would scroll sideways)."""
    text = page.locator("body").inner_text()
    assert not re.search(r"(?<![\w-])--[a-z]", text), re.search(r".{40}--[a-z].{40}", text)
    for word in ENGLISH:
        found = re.search(rf"(?<![\w'’-]){word}(?![\w'’-])", text)
        assert not found, (
            f"English on the French page: {text[found.start() - 60 : found.end() + 60]!r}"
        )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_from_the_message_to_the_letter_to_my_requests(served, page, dsar_home):
    page.goto(served)
    # the secret stays in the address, never in a cookie (another port would get it)
    assert page.url == served and not page.context.cookies()
    speaks_french(page)

    # 1. the message; a date that cannot be: the error is in view, at the top, linked
    page.get_by_label("Texte du message").fill(SMS)
    page.get_by_label("Expéditeur affiché").fill("Marion Maréchal")
    page.get_by_label("Reçu le").fill("2024-06-06")
    page.get_by_role("button", name="Qui est derrière ?").click()

    # 2. who is behind it: in view, the party and the broker both proposed
    found = page.locator("#found")
    expect(page.locator("#h-found")).to_be_in_viewport()
    expect(found).to_contain_text("Reconquête")
    expect(found).to_contain_text("Selfcontact")
    expect(found).to_contain_text("36111")
    expect(page.get_by_label("Reconquête", exact=True)).to_be_checked()
    expect(page.get_by_label("Selfcontact", exact=True)).to_be_checked()
    speaks_french(page)
    shoot(page, "1-found")

    # 3. details with a phone that is no phone: every error listed above the form, in view
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse postale").fill("12 rue des Lilas\n75011 Paris")
    page.get_by_label("Numéro qui a reçu le message").fill("12")
    page.get_by_label("Votre e-mail (pour la réponse)").fill("camille@example.org")
    page.get_by_role("button", name="Écrire la lettre").click()
    summary = page.locator("#errors")
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("link", name="Numéro qui a reçu le message")).to_be_visible()
    speaks_french(page)
    shoot(page, "2-errors")
    summary.get_by_role("link", name="Numéro qui a reçu le message").click()
    expect(page.get_by_label("Numéro qui a reçu le message")).to_be_in_viewport()
    page.get_by_label("Numéro qui a reçu le message").fill("06 12 34 56 78")
    page.get_by_label("Accès et effacement").check()
    page.get_by_label("français").check()
    page.get_by_role("button", name="Écrire la lettre").click()

    # the letters: in view, one per recipient, each previewed, with its downloads
    expect(page.get_by_role("heading", name="Vos lettres")).to_be_in_viewport()
    letters = page.locator("article.letter")
    expect(letters).to_have_count(2)
    selfcontact = letters.filter(has_text="Selfcontact")
    expect(selfcontact).to_contain_text("Contact manquant")  # no address in any source
    # the company directory and the broker's site, as links
    directory = selfcontact.get_by_role("link", name=re.compile("annuaire officiel"))
    assert directory.get_attribute("href").startswith("https://annuaire-entreprises.data.gouv.fr/")
    assert selfcontact.get_by_role("link", name="son site").get_attribute("href").startswith("http")
    reference = selfcontact.locator(".ref").inner_text()
    for title in page.locator("iframe").evaluate_all("frames => frames.map(f => f.title)"):
        frame = page.frame_locator(f'iframe[title="{title}"]')
        expect(frame.locator("body")).to_contain_text("Camille Martin")
    expect(selfcontact.get_by_role("link", name=re.compile("PDF"))).to_be_visible()
    speaks_french(page)
    shoot(page, "3-letters")
    selfcontact.locator(".warning").scroll_into_view_if_needed()
    shoot(page, "3-missing-contact")

    # a contact kept without saying where it was found: the error in view, in French
    selfcontact.get_by_label("Son e-mail (protection des données)").fill("dpo@selfcontact.example")
    selfcontact.get_by_label("L'enregistrer aussi pour mes prochaines lettres").check()
    selfcontact.get_by_role("button", name="Réécrire la lettre avec ce contact").click()
    errors = page.locator(f"#{reference}-errors")
    expect(errors).to_be_in_viewport()
    expect(errors).to_contain_text("Où l'avez-vous trouvée ?")
    speaks_french(page)
    shoot(page, "4-contact-error")
    # then with its postal address and where it was found: the letter can be posted
    selfcontact = page.locator("article.letter").filter(has_text="Selfcontact")
    selfcontact.get_by_label("Son adresse postale").fill(
        "Selfcontact\nService DPO\n10 rue du Test\n69001 Lyon"
    )
    selfcontact.get_by_label("Où l'avez-vous trouvée ?").fill("politique de confidentialité")
    selfcontact.get_by_role("button", name="Réécrire la lettre avec ce contact").click()
    expect(page.locator("article.letter").filter(has_text="Selfcontact")).not_to_contain_text(
        "Contact manquant"
    )

    # my requests: the request is there, to send, every column's content in view
    page.get_by_role("link", name="Mes demandes").first.click()
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("à envoyer")
    for cell in row.locator("th, td").all():
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    speaks_french(page)
    shoot(page, "5-requests", full_page=True)
    page.get_by_role("link", name=f"Ouvrir {reference}").click()

    # record it as sent today with its proof: the result in view, the deadline shown
    page.get_by_label("Numéro du recommandé (facultatif)").fill("1A23456789012")
    page.get_by_label("Preuve (scan ou photo, 25 Mo au plus)").set_input_files(
        files=[{"name": "accusé de réception.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8"}]
    )
    page.get_by_role("button", name="Enregistrer l'envoi").click()
    expect(page.get_by_role("status")).to_be_in_viewport()
    expect(page.get_by_role("status")).to_contain_text("Envoi enregistré")
    deadline = long_date(answer_due(date.today()), "fr")  # rolls past a weekend or holiday
    expect(page.locator("dd.deadline")).to_contain_text(deadline)
    # the proof under the name it was given, not its SHA-256
    expect(page.get_by_role("link", name="accusé de réception.jpg")).to_be_visible()
    speaks_french(page)
    shoot(page, "6-request")
    page.get_by_role("link", name="Retour à mes demandes").first.click()
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("envoyée")
    expect(row).to_contain_text(deadline)
    shoot(page, "7-requests-sent", full_page=True)

    # the PDF, downloaded as a person does, holds the number and the articles
    page.get_by_role("link", name=f"Ouvrir {reference}").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(rf"{reference}-selfcontact\.pdf")).click()
    text = flat(pdf_text(Path(download.value.path()).read_bytes()).replace("\u00a0", " "))
    for expected in ("06 12 34 56 78", reference, "STOP au 36111", "15(1)", "17(1)", "21(2)"):
        assert expected in text, expected


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_a_draft_from_the_command_line_is_redone_with_the_message_pasted_on_the_page(
    served, page, dsar_home, tmp_path
):
    """A draft that never left may be rewritten: the page redoes the command line's draft
    (same reference, same folder) with the SMS pasted, instead of handing back the old
    one without it."""
    from click.testing import CliRunner

    from dsar.cli import cli

    person = ["--name", "Camille Martin", "--phone", "06 12 34 56 78"]
    person += ["--email", "camille@example.org", "--address", "12 rue des Lilas\n75011 Paris"]
    drafted = CliRunner().invoke(
        cli, ["generate", "--broker", "selfcontact", *person, "--out", str(tmp_path / "cli")]
    )
    assert drafted.exit_code == 0, drafted.output
    [old] = (tmp_path / "cli").glob("*-selfcontact.pdf")
    assert "STOP au 36111" not in flat(pdf_text(old.read_bytes()))
    page.goto(served)
    page.get_by_label("Texte du message").fill(SMS)
    page.get_by_label("Expéditeur affiché").fill("Marion Maréchal")
    page.get_by_label("Reçu le").fill("2024-06-06")
    page.get_by_role("button", name="Qui est derrière ?").click()
    page.get_by_label("Reconquête", exact=True).uncheck()
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse postale").fill("12 rue des Lilas\n75011 Paris")
    page.get_by_label("Numéro qui a reçu le message").fill("06 12 34 56 78")
    page.get_by_label("Votre e-mail (pour la réponse)").fill("camille@example.org")
    page.get_by_label("Accès et effacement").check()
    page.get_by_label("français").check()
    page.get_by_role("button", name="Écrire la lettre").click()
    selfcontact = page.locator("article.letter").filter(has_text="Selfcontact")
    expect(selfcontact).to_have_count(1)
    assert selfcontact.locator(".ref").inner_text() == old.name.split("-selfcontact")[0]
    with page.expect_download() as download:
        selfcontact.get_by_role("link", name=re.compile("PDF")).first.click()
    downloaded = Path(download.value.path()).read_bytes()
    assert "STOP au 36111" in flat(pdf_text(downloaded))
    assert downloaded == old.read_bytes()  # redone in place: the command line's file too
