"""dsar serve driven in a real headless browser: Playwright with Debian's chromium.

The server is the real `dsar serve` command in a subprocess, on 127.0.0.1, with its
DSAR_HOME in tmp_path; the browser does what a person does, from the pasted message to
a request recorded as sent. DSAR_SCREENSHOTS=DIR keeps a screenshot of each screen.
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

try:
    from playwright import sync_api
except ImportError:  # the test then fails, here as in CI: it never skips
    sync_api = None


@pytest.fixture
def served(tmp_path, dsar_home):
    """`dsar serve` as a person starts it; its first line is the address to open."""
    with serving(dsar_home, tmp_path) as address:
        yield address


@pytest.fixture
def page():
    # bash scripts/test.sh installs both; a test that cannot start its browser fails
    if sync_api is None:
        pytest.fail("Playwright is missing: run bash scripts/test.sh (the [test] extra)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bash scripts/test.sh (Debian's chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            accept_downloads=True, locale="fr-FR", viewport={"width": 1100, "height": 900}
        )
        yield context.new_page()
        browser.close()


def shoot(page, name: str, *, full_page: bool = True) -> None:
    folder = os.environ.get("DSAR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def test_from_the_pasted_message_to_a_request_recorded_as_sent(served, page, dsar_home):
    expect = sync_api.expect
    page.goto(served)
    assert "token" not in page.url  # moved into the cookie

    # 1. the message
    page.get_by_label("Texte du message").fill(SMS)
    page.get_by_label("Expéditeur affiché").fill("Marion Maréchal")
    page.get_by_label("Reçu le").fill("2024-06-06")
    page.get_by_role("button", name="Qui est derrière ?").click()

    # 2. who is behind it: the party and the broker, both proposed
    found = page.locator("#found")
    expect(found).to_contain_text("Reconquête")
    expect(found).to_contain_text("Selfcontact")
    expect(found).to_contain_text("36111")
    expect(page.get_by_label("Reconquête", exact=True)).to_be_checked()
    expect(page.get_by_label("Selfcontact", exact=True)).to_be_checked()
    shoot(page, "1-message")

    # 3. details, right, language
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse postale").fill("12 rue des Lilas\n75011 Paris")
    page.get_by_label("Numéro qui a reçu le message").fill("06 12 34 56 78")
    page.get_by_label("Votre e-mail (pour la réponse)").fill("camille@example.org")
    page.get_by_label("Accès et effacement").check()
    page.get_by_label("français").check()
    page.get_by_role("button", name="Écrire la lettre").click()

    # the letters: one per recipient, each previewed, with its downloads
    expect(page.get_by_role("heading", name="Vos lettres")).to_be_visible()
    letters = page.locator("article.letter")
    expect(letters).to_have_count(2)
    selfcontact = letters.filter(has_text="Selfcontact")
    expect(selfcontact).to_contain_text("Contact manquant")  # no address in any source
    reference = selfcontact.locator(".ref").inner_text()
    for title in page.locator("iframe").evaluate_all("frames => frames.map(f => f.title)"):
        frame = page.frame_locator(f'iframe[title="{title}"]')
        expect(frame.locator("body")).to_contain_text("Camille Martin")
    expect(selfcontact.get_by_role("link", name=re.compile("PDF"))).to_be_visible()
    # the preview frames stay blank in a full-page capture: the window as a person sees it
    page.set_viewport_size({"width": 1100, "height": 1400})
    shoot(page, "2-letter", full_page=False)

    # my requests: the request is there, to send
    page.get_by_role("link", name="Mes demandes").first.click()
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("à envoyer")
    page.get_by_role("link", name=f"Ouvrir {reference}").click()

    # record it as sent today: the one-month deadline appears
    page.get_by_label("Numéro du recommandé (facultatif)").fill("1A23456789012")
    page.get_by_role("button", name="Enregistrer l'envoi").click()
    expect(page.get_by_role("status")).to_contain_text("Envoi enregistré")
    deadline = long_date(answer_due(date.today()), "fr")  # rolls past a weekend or holiday
    expect(page.locator("dd.deadline")).to_contain_text(deadline)
    shoot(page, "4-request")
    page.get_by_role("link", name="Retour à mes demandes").click()
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("envoyée")
    expect(row).to_contain_text(deadline)
    shoot(page, "3-requests")

    # the PDF, downloaded as a person does, holds the number and the articles
    page.get_by_role("link", name=f"Ouvrir {reference}").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(rf"{reference}-selfcontact\.pdf")).click()
    text = flat(pdf_text(Path(download.value.path()).read_bytes()).replace("\u00a0", " "))
    for expected in ("06 12 34 56 78", reference, "STOP au 36111", "15(1)", "17(1)", "21(2)"):
        assert expected in text, expected
