"""A broker's reply is a file from outside: whatever it holds, `complain` goes on, the
file is kept as evidence, left out of the dossier and listed there with why; and a
complaint exists whole (letter, dossier, journal step) or not at all.

The hostile PDFs are made by tests/hostile_pdfs.py into the test's folder. The complaint
runs as the real command in a subprocess: on a file that kills the process (the
reference chain), the test sees an exit code instead of losing pytest with it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from dsar import followup
from dsar.app import App
from dsar.errors import DsarError
from dsar.paths import Paths

from . import hostile_pdfs
from .conftest import flat, pdf_pages, pdf_text, serving

PERSON = {
    "name": "Camille Martin",
    "phone": "06 12 34 56 78",
    "email": "camille@example.org",
    "address": "12 rue des Lilas\n75011 Paris",
}


def answered_with(dsar_home: Path, tmp_path: Path, reply: Path) -> str:
    """A request to Renaissance, sent, answered with `reply`: its reference."""
    with App(Paths(config_dir=dsar_home, data_dir=dsar_home)) as app:
        reference = app.generate(
            "renaissance",
            **PERSON,
            formats="pdf",
            out_dir=tmp_path / "letters",
            letter_date="2026-01-30",
        ).reference
        app.sent(reference, "2026-01-31")
        app.answer(reference, "2026-03-20", state="refused", files=[reply])
    return reference


def complain(dsar_home: Path, reference: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dsar", "complain", reference, "--out", str(out)]
        + ["--on", "2026-04-01"],
        capture_output=True,
        text=True,
        env={**os.environ, "DSAR_HOME": str(dsar_home)},
        timeout=300,
    )


# the reason the dossier's last page gives (in French: it goes to the CNIL)
WHY = {
    "chain": "limites de dsar",
    "encrypted": "protégé par un mot de passe, non joint",
    "truncated": "pas un PDF lisible",
    "many-pages": "trop de pages",
    "image-bomb": "image démesurée",
}


@pytest.mark.parametrize("kind", list(hostile_pdfs.CORPUS))
def test_a_hostile_reply_is_kept_left_out_of_the_dossier_and_said_why(kind, dsar_home, tmp_path):
    reply = hostile_pdfs.CORPUS[kind](tmp_path)
    reference = answered_with(dsar_home, tmp_path, reply)
    out = tmp_path / "cnil"
    done = complain(dsar_home, reference, out)
    assert done.returncode == 0, done.stderr  # no crash (-11), no traceback (1)
    assert "Traceback" not in done.stderr
    with App(Paths(config_dir=dsar_home, data_dir=dsar_home)) as app:
        # the complaint written is a draft: the request is complained about once it is filed
        [complaint] = app.journal.follow_ups(reference, "complaint")
        app.sent(complaint.reference, app.today())
        assert app.journal.entry(reference).stored_state == "complained"
        [(_role, kept, sha)] = app.journal.files(reference, "reply")
    assert kept.read_bytes() == reply.read_bytes()  # the evidence, intact
    assert sha in done.stderr  # the person is told which file stays out (named by its hash)
    pages = pdf_pages((out / f"{reference}-dossier-cnil.pdf").read_bytes())
    assert len(pages) < 20  # not the 10,000 pages
    last = flat(pages[-1])  # the proofs page lists it, with why
    assert WHY[kind] in last and sha in last.split("non jointes")[1]


def test_a_good_reply_is_still_joined(dsar_home, tmp_path, pdf_renderer):
    reply = tmp_path / "reply.pdf"
    reply.write_bytes(pdf_renderer.render_html("<p>Réponse du courtier : refus motivé</p>"))
    reference = answered_with(dsar_home, tmp_path, reply)
    done = complain(dsar_home, reference, tmp_path / "cnil")
    assert done.returncode == 0, done.stderr
    whole = flat(pdf_text((tmp_path / "cnil" / f"{reference}-dossier-cnil.pdf").read_bytes()))
    assert "Réponse du courtier : refus motivé" in whole
    # no file listed as left out (the letter's own « pièce non jointe » names missing proofs)
    assert not any(why in whole for why in WHY.values())


@pytest.mark.parametrize("failing", ["dossier", "journal"])
def test_a_complaint_is_whole_or_not_at_all(failing, dsar_home, tmp_path, monkeypatch):
    reply = tmp_path / "reply.pdf"
    reply.write_bytes(b"%PDF-1.7 not much")
    reference = answered_with(dsar_home, tmp_path, reply)

    def broken(*args, **kwargs):
        raise DsarError("the disk is full")

    if failing == "dossier":  # the dossier cannot be made: nothing may be written
        monkeypatch.setattr(followup, "dossier", broken)
    else:  # the transaction's last write fails: the step and rows before it are undone
        from dsar.journal import Journal

        event = Journal._event

        def last_fails(self, db, reference, what, *args, **kwargs):
            if what == "generated":
                broken()
            return event(self, db, reference, what, *args, **kwargs)

        monkeypatch.setattr(Journal, "_event", last_fails)
    out = tmp_path / "cnil"
    with App(Paths(config_dir=dsar_home, data_dir=dsar_home)) as app:
        before = app.references()
        with pytest.raises(DsarError):
            app.complain(reference, on="2026-04-01", out_dir=out)
        assert app.references() == before  # no complaint recorded
        assert app.journal.entry(reference).stored_state == "refused"
        assert not any(e["what"] == "complained" for e in app.journal.events(reference))
    assert not out.exists() or not list(out.iterdir())
    monkeypatch.undo()
    with App(Paths(config_dir=dsar_home, data_dir=dsar_home)) as app:  # and it can be redone
        assert app.complain(reference, on="2026-04-01", out_dir=out).dossier.is_file()


def test_the_page_survives_a_reply_that_kills_qpdf(dsar_home, tmp_path):
    reference = answered_with(dsar_home, tmp_path, hostile_pdfs.chain(tmp_path))
    with serving(dsar_home, tmp_path) as address:
        where = urlsplit(address)
        browser = HTTPConnection(where.hostname, where.port, timeout=300)

        def ask(method, path, body=None, headers=()):
            browser.request(method, path, body, dict(headers))
            answer = browser.getresponse()
            return answer, answer.read().decode()

        root = where.path.rstrip("/")  # the page's secret, first in every path
        _, page = ask("GET", f"{root}/requests/{reference}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        answer, text = ask(
            "POST",
            f"{root}/requests/{reference}/complain",
            urlencode({"csrf": csrf}),
            {
                "origin": f"http://{where.netloc}",
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        assert answer.status == 303, text
        # the same server still answers: the crash stayed in the child
        assert ask("GET", f"{root}/requests/{reference}")[0].status == 200
        assert list(dsar_home.rglob("*dossier-cnil.pdf"))
