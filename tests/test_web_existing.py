"""The page meets a request the command line wrote: it shows it, never replaces it (the
journal and the file in ./letters/ would part ways)."""

from __future__ import annotations

import hashlib

import pytest

from dsar.app import App

from .conftest import page_client
from .test_web import PORT, SMS, TOKEN, page_csrf


@pytest.fixture
def client():
    """A browser that opened the printed address (test_web's)."""
    return page_client(TOKEN, PORT, follow_redirects=False)


def test_the_page_redoes_a_command_line_draft_in_its_own_folder(client, tmp_path):
    """A draft never left: the page redoes it in place, where the command line wrote it,
    so that files and journal stay together (new user, item 2: the page handed back the
    old draft without the pasted message). A letter that left is never rewritten
    (lifecycle's 'redo' rule, tested in test_lifecycle)."""
    cli_letters = tmp_path / "letters"  # the command line's ./letters/
    with App() as app:
        written = app.generate(
            "selfcontact",
            name="Camille Martin",
            phone="06 12 34 56 78",
            sms_text=SMS,
            sms_date=None,
            formats=("pdf",),
            out_dir=cli_letters,
        )
    [pdf] = cli_letters.glob("*.pdf")
    before = hashlib.sha256(pdf.read_bytes()).hexdigest()
    letter = {
        "csrf": page_csrf(client),
        "sms_text": SMS,
        "recipient": "selfcontact",
        "name": "Camille Martin-Roux",  # the same number, recipient, right and day
        "phone": "06 12 34 56 78",
    }
    answer = client.post("/letters/new", data=letter)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/{TOKEN}/letters?ref={written.reference}"  # shown
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() != before  # redone, in place
    assert list(cli_letters.glob("*.pdf")) == [pdf]
    with App() as app:
        [(_role, path, _sha)] = app.journal.files(written.reference)
        assert path.resolve() == pdf.resolve()  # the journal names the file redone
        assert app.show(written.reference).request.requester.name == "Camille Martin-Roux"
