"""dsar serve through Starlette's TestClient: who may use the page, and how it answers."""

from __future__ import annotations

import html
import os
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from dsar import clock, fields, i18n, registry
from dsar.app import App
from dsar.errors import DsarError, InputError
from dsar.vocabulary import RECIPIENT_KINDS
from dsar.web import guard, server, texts
from dsar.web.pages import create_app

PORT = 8765
TOKEN = "s3cret-token-for-tests"
ORIGIN = f"http://127.0.0.1:{PORT}"
SMS = "Le 9 juin, votez pour la liste de Marion Maréchal. STOP au 36111"


@pytest.fixture
def anonymous():
    """A browser that never opened the printed address."""
    return TestClient(create_app(TOKEN, PORT), base_url=ORIGIN, follow_redirects=False)


@pytest.fixture
def client(anonymous):
    """A browser that opened the printed address: it holds the cookie."""
    entered = anonymous.get(f"/?token={TOKEN}")
    assert entered.status_code == 303
    assert entered.headers["location"] == "/"  # the token leaves the address bar
    cookie = entered.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return anonymous


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_no_token_is_refused(anonymous):
    answer = anonymous.get("/")
    assert answer.status_code == 403
    assert "dsar serve" in answer.text
    assert anonymous.get("/requests").status_code == 403
    assert anonymous.get("/static/dsar.css").status_code == 403


def test_wrong_token_is_refused(anonymous):
    answer = anonymous.get("/?token=guess")
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    anonymous.cookies.set(guard.cookie_name(PORT), "guess")
    assert anonymous.get("/").status_code == 403


def test_another_host_is_refused_even_with_the_token(client):
    # DNS rebinding: evil.example resolved to 127.0.0.1 sends its own name as Host
    for host in ("evil.example", f"evil.example:{PORT}", "127.0.0.1:1", "localhost"):
        answer = client.get("/", headers={"host": host})
        assert answer.status_code == 421, host
    assert client.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200


def test_a_form_without_its_csrf_token_is_refused(client):
    answer = client.post("/identify", data={"sms_text": SMS})
    assert answer.status_code == 403
    assert "jeton de sécurité" in answer.text
    page = client.get("/").text
    wrong = client.post("/identify", data={"sms_text": SMS, "csrf": "x" + csrf_of(page)})
    assert wrong.status_code == 403


def test_a_form_from_another_origin_is_refused(client):
    page = client.get("/").text
    answer = client.post(
        "/identify",
        data={"sms_text": SMS, "csrf": csrf_of(page)},
        headers={"origin": "http://evil.example"},
    )
    assert answer.status_code == 403


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    page = client.get("/").text
    big = b"x" * (guard.UPLOAD_LIMIT + 1)
    answer = client.post(
        "/requests/DSAR-AAAA-BBBB/answer",
        data={"csrf": csrf_of(page)},
        files={"file": ("reply.pdf", big, "application/pdf")},
    )
    assert answer.status_code == 413


def test_every_page_forbids_outside_assets_and_framing(client):
    answer = client.get("/")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "http" not in re.sub(r'href="/[^"]*"', "", answer.text.split("<body>")[0])


def test_the_page_speaks_french_by_default_and_english_on_request(client):
    assert '<html lang="fr">' in client.get("/").text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Who is behind it?" in english.text
    assert '<html lang="en">' in client.get("/").text  # remembered


def test_the_other_recipients_are_listed_with_their_kind_in_the_page_language(client):
    answer = client.post("/identify", data={"csrf": page_csrf(client), "sms_text": SMS})
    assert answer.status_code == 200
    other = re.search(r'<select id="other".*?</select>', answer.text, re.S).group(0)
    assert ">Selfcontact (courtier)<" in other and ">Reconquête (parti)<" in other
    assert "(broker)" not in other and "(party)" not in other
    assert all(f"kind_{kind}" in texts.TEXTS for kind in RECIPIENT_KINDS)  # none left raw


def test_an_unknown_page_is_a_page_not_a_traceback(client):
    answer = client.get("/nowhere")
    assert answer.status_code == 404
    assert "Traceback" not in answer.text and "<html" in answer.text


# ---------------------------------------------------------------- the page calls App


def page_csrf(client) -> str:
    return csrf_of(client.get("/").text)


def error_beside(page: str, field: str) -> str:
    """The error the page shows beside a field (linked to it for screen readers)."""
    found = re.search(rf'<p class="error" id="{field}-error"><strong>⚠</strong> ([^<]*)</p>', page)
    assert found, f"no error beside {field}"
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', page)
    return html.unescape(found.group(1))


def test_errors_appear_beside_their_field_in_the_command_line_words(client):
    answer = client.post(
        "/identify", data={"csrf": page_csrf(client), "sms_text": SMS, "sms_date": "2024-13-45"}
    )
    assert answer.status_code == 400 and "Traceback" not in answer.text
    with i18n.speaking("fr"), pytest.raises(InputError) as cli_words:  # the page's language
        fields.iso_date("2024-13-45", "date")
    assert error_beside(answer.text, "sms_date") == cli_words.value.reason


def test_a_bad_phone_is_shown_beside_it_and_nothing_is_written(client):
    data = {
        "csrf": page_csrf(client),
        "sms_text": SMS,
        "recipient": "selfcontact",
        "name": "Camille Martin",
        "phone": "12",
    }
    answer = client.post("/letters/new", data=data)
    assert answer.status_code == 400
    with i18n.speaking("fr"), pytest.raises(InputError) as cli_words:
        fields.phone("12")
    assert error_beside(answer.text, "phone") == cli_words.value.reason
    assert 'value="Camille Martin"' in answer.text  # what was typed is kept
    with App() as app:
        assert app.status().entries == []


def draft(broker: str = "selfcontact", **overrides) -> str:
    values = {
        "name": "Camille Martin",
        "phone": "06 12 34 56 78",
        "sms_date": "2024-06-06",
        "sms_text": SMS,
        "formats": ("pdf",),
        "out_dir": Path(os.environ["DSAR_HOME"]) / "letters",
    }
    if broker == "selfcontact":  # an address to post it to: a draft is never recorded as sent
        values["to_address"] = "Selfcontact\nService DPO\n10 rue du Test\n69001 Lyon"
    with App() as app:
        return app.generate(broker, **(values | overrides)).reference


def test_an_overdue_request_stands_out_in_my_requests(client):
    reference = draft(letter_date="2026-01-05")
    with App() as app:
        app.sent(reference, "2026-01-06")
    page = client.get("/requests").text
    row = re.search(
        rf'<tr class="([^"]*)">\s*<th scope="row" class="ref"><a href="/requests/{reference}"', page
    )
    assert row and row.group(1) == "overdue"
    assert "6 février 2026" in page and "Selfcontact" in page


def test_a_reply_uploaded_is_kept_by_name_only_as_dsar_answer_keeps_it(client, dsar_home):
    reference = draft()
    with App() as app:
        app.sent(reference, date.today())  # an answer is to a request that was sent
    answer = client.post(
        f"/requests/{reference}/answer",
        data={"csrf": page_csrf(client), "state": "partial", "on": date.today().isoformat()},
        files={"file": ("../../outside/reply.pdf", b"%PDF-1.4 reply", "application/pdf")},
    )
    assert answer.status_code == 303
    with App() as app:
        shown = app.show(reference)
    [(role, path, _)] = [f for f in shown.files if f[0] == "reply"]
    assert path.name.endswith("-reply.pdf") and path.is_relative_to(dsar_home)
    assert path.read_bytes() == b"%PDF-1.4 reply"
    assert shown.entry.stored_state == "partial"
    assert not (dsar_home.parent / "outside").exists()


def test_a_missing_contact_is_filled_from_the_page_but_never_on_a_sent_request(client):
    reference = draft(to_address=None)
    letters = client.get(f"/letters?ref={reference}").text
    # the command line's words, in the page's language
    assert "aucune adresse e-mail" in letters and "adresse postale connue" in letters
    form = {"csrf": page_csrf(client), "ref": reference, "to_email": "dpo@selfcontact.example"}
    assert client.post(f"/letters/{reference}/contact", data=form).status_code == 303
    with App() as app:
        assert app.show(reference).request.recipient_email == "dpo@selfcontact.example"
        app.sent(reference, date.today().isoformat())
    refused = client.post(f"/letters/{reference}/contact", data=form)
    assert refused.status_code == 400 and reference in refused.text


# ---------------------------------------------------------------- what App gained for it


def test_app_keeps_the_proof_of_sending_and_shows_the_request_whole(dsar_home, tmp_path):
    reference = draft()
    receipt = tmp_path / "accuse.jpg"
    receipt.write_bytes(b"scan")
    with App() as app:
        sent = app.sent(reference, date.today().isoformat(), lrar="1A234", proofs=[receipt])
        shown = app.show(reference)
    [kept] = sent.written
    assert kept.read_bytes() == b"scan" and kept.is_relative_to(dsar_home)
    assert ("proof", kept) in [(role, path) for role, path, _ in shown.files]
    assert shown.entry.lrar_number == "1A234" and shown.page_html.lstrip().startswith(
        "<!DOCTYPE html>"
    )
    assert any("no e-mail address" in line for line in shown.warnings)
    assert [e["what"] for e in shown.events] == ["generated", "sent", "proof"]


def test_app_complete_refuses_without_a_contact(dsar_home):
    reference = draft()
    with App() as app, pytest.raises(InputError):
        app.complete(reference)


def test_reminder_and_cnil_dossier_are_one_click_each(client):
    reference = draft(letter_date="2026-01-05")
    with App() as app:
        app.sent(reference, "2026-01-06")
    reminded = client.post(f"/requests/{reference}/remind", data={"csrf": page_csrf(client)})
    assert reminded.status_code == 303, re.findall(r"class=\"error\">([^<]*)", reminded.text)
    page = client.get(reminded.headers["location"]).text
    assert "Télécharger le PDF" in page and f'href="/requests/{reference}"' in page
    # written is not sent: the reminder's own page records its sending
    reminder = parse_qs(urlsplit(reminded.headers["location"]).query)["ref"][0]
    sent = client.post(
        f"/requests/{reminder}/sent",
        data={"csrf": page_csrf(client), "on": date.today().isoformat()},
    )
    assert sent.status_code == 303, sent.text
    early = client.post(f"/requests/{reference}/complain", data={"csrf": page_csrf(client)})
    assert "portez plainte le " in html.unescape(early.text)  # in French
    with clock.fixed(date.today() + timedelta(days=20)):
        complained = client.post(
            f"/requests/{reference}/complain", data={"csrf": page_csrf(client)}
        )
    assert complained.status_code == 303, complained.text
    page = client.get(complained.headers["location"]).text
    dossier = re.search(
        r'href="(/requests/[^"]+/files/\d+)"[^>]*>Télécharger le dossier CNIL', page
    )
    assert dossier
    assert client.get(dossier.group(1)).content.startswith(b"%PDF")
    # written is not filed: the complaint's own page records its filing
    complaint = parse_qs(urlsplit(complained.headers["location"]).query)["ref"][0]
    with clock.fixed(date.today() + timedelta(days=20)):
        filed = client.post(
            f"/requests/{complaint}/sent",
            data={"csrf": page_csrf(client), "on": (date.today() + timedelta(days=20)).isoformat()},
        )
    assert filed.status_code == 303, filed.text
    with App() as app:
        assert app.show(reference).entry.stored_state == "complained"


def test_an_unexpected_failure_is_a_short_page_not_a_traceback(anonymous, monkeypatch):
    def broken(self, **_):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(App, "status", broken)
    client = TestClient(anonymous.app, base_url=ORIGIN, raise_server_exceptions=False)
    client.get(f"/?token={TOKEN}", follow_redirects=False)
    answer = client.get("/requests")
    assert answer.status_code == 500
    assert "rien n&#39;a été enregistré" in answer.text
    assert "disk on fire" not in answer.text and "Traceback" not in answer.text


def test_a_contact_kept_from_the_page_serves_the_next_letters(client):
    reference = draft()
    form = {
        "csrf": page_csrf(client),
        "ref": reference,
        "to_address": "Selfcontact\n1 rue Exemple\n60400 Noyon",
        "keep_contact": "1",
    }
    refused = client.post(f"/letters/{reference}/contact", data=form)
    assert refused.status_code == 400
    with pytest.raises(InputError) as cli_words:
        registry.contact("postal", form["to_address"], "")
    assert error_beside(refused.text, f"{reference}-source") == cli_words.value.reason
    form["source"] = "courrier reçu le 2024-06-20"
    assert client.post(f"/letters/{reference}/contact", data=form).status_code == 303
    with App() as app:
        assert "60400 Noyon" in app.show(reference).request.recipient_address
        assert any(c.kind == "postal" for c in app.broker("selfcontact").broker.contacts)


def test_serve_listens_on_the_loopback_only_with_a_fresh_token_each_run():
    first, second = server.bind(), server.bind()
    try:
        assert first.sock.getsockname()[0] == "127.0.0.1"
        assert first.token != second.token and len(first.token) >= 40
        assert first.url == f"http://127.0.0.1:{first.port}/?token={first.token}"
        with pytest.raises(DsarError, match="choose another --port"):
            server.bind(first.port)
    finally:
        first.sock.close()
        second.sock.close()


def test_details_are_saved_only_with_consent_and_then_prefilled(client, dsar_home):
    letter = {
        "csrf": page_csrf(client),
        "sms_text": SMS,
        "recipient": "selfcontact",
        "name": "Camille Martin",
        "phone": "06 12 34 56 78",
        "address": "12 rue des Lilas\n75011 Paris",
    }
    written = client.post("/letters/new", data=letter)
    assert written.status_code == 303 and written.headers["location"].startswith("/letters?ref=")
    assert not (dsar_home / "profile.yaml").exists()
    answer = client.post("/letters/new", data={**letter, "right": "access", "save_profile": "1"})
    assert answer.status_code == 303
    assert (dsar_home / "profile.yaml").stat().st_mode & 0o777 == 0o600
    page = client.post("/identify", data={"csrf": page_csrf(client), "sms_text": SMS}).text
    assert 'value="Camille Martin"' in page and "12 rue des Lilas\n75011 Paris</textarea>" in page


def test_the_language_links_stay_on_this_site(client):
    page = client.get("/%2Fevil.example/x").text  # the path //evil.example/x
    assert 'href="//' not in page and 'href="/evil.example/x?lang=en"' in page


def test_recording_the_sending_keeps_its_proof_and_starts_the_deadline(client):
    reference = draft()
    today = date.today().isoformat()
    answer = client.post(
        f"/requests/{reference}/sent",
        data={"csrf": page_csrf(client), "on": today, "lrar": "1A23456789012", "received": today},
        files={"proof": ("accusé de réception.jpg", b"\xff\xd8scan", "image/jpeg")},
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=sent")
    page = client.get(answer.headers["location"]).text
    assert "Envoi enregistré" in page and "accusé_de_réception.jpg" in page
    with App() as app:
        shown = app.show(reference)
    assert shown.entry.lrar_number == "1A23456789012" and shown.entry.deadline is not None
    [proof] = [path for role, path, _ in shown.files if role == "proof"]
    assert proof.read_bytes() == b"\xff\xd8scan"
    bad = client.post(
        f"/requests/{reference}/sent", data={"csrf": page_csrf(client), "on": "2026-02-30"}
    )
    assert bad.status_code == 400
    with i18n.speaking("fr"), pytest.raises(InputError) as cli_words:
        fields.iso_date("2026-02-30", "on")
    assert error_beside(bad.text, "sent-on") == cli_words.value.reason


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300), sender=st.text(max_size=80), day=st.text(max_size=12))
@example(text="<script>alert(1)</script>{{ 7*7 }}", sender='"><img src=x>', day="2024-06-06")
def test_any_text_typed_is_an_answer_never_a_traceback(client, text, sender, day):
    data = {"csrf": page_csrf(client), "sms_text": text, "sms_sender": sender, "sms_date": day}
    answer = client.post("/identify", data=data)
    assert answer.status_code in (200, 400)
    assert "<html" in answer.text and "Traceback" not in answer.text
    assert "<script" not in answer.text.lower()  # what was typed comes back escaped


def test_a_recipient_with_an_e_mail_gets_a_mailto_link_and_the_eml(client):
    reference = draft(
        "renaissance", email="camille@example.org", sms_date=None, formats=("pdf", "email")
    )
    page = client.get(f"/letters?ref={reference}").text
    assert 'href="mailto:mes-donnees@parti-renaissance.fr?subject=' in page
    eml = re.search(r'href="([^"]+)"[^>]*>Télécharger l&#39;e-mail', page).group(1)
    assert b"X-DSAR-Reference: " + reference.encode() in client.get(eml).content
    assert "Contact manquant" not in page


def test_writing_the_same_letter_again_replaces_its_draft_but_never_a_sent_one(client):
    letter = {
        "csrf": page_csrf(client),
        "sms_text": SMS,
        "recipient": "renaissance",  # an address to post it to: it may be recorded as sent
        "name": "Camille Martin",
        "phone": "06 12 34 56 78",
    }
    first = client.post("/letters/new", data=letter)
    # back, the name corrected: the same request (phone, recipient, right, day)
    letter = {**letter, "name": "Camille Martin-Roux"}
    again = client.post("/letters/new", data=letter)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]  # the same request
    reference = first.headers["location"].split("ref=")[1]
    # fr and en letters of one request never share files: the English one is its own
    english = client.post("/letters/new", data={**letter, "letter_lang": "en"})
    assert english.status_code == 303 and english.headers["location"] != again.headers["location"]
    with App() as app:
        assert app.show(reference).request.requester.name == "Camille Martin-Roux"
        app.sent(reference, date.today().isoformat())
    refused = client.post("/letters/new", data=letter)
    # refused before any file is written, in the words that say why
    assert refused.status_code == 400 and reference in refused.text
    with App() as app:  # the letter that left is kept
        assert app.show(reference).request.requester.name == "Camille Martin-Roux"


def test_a_body_sent_without_its_length_is_cut_at_the_limit(client):
    csrf = page_csrf(client)

    def chunks():  # what a client that hides the size sends: chunk after chunk
        yield f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode()
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="r.pdf"\r\n\r\n'
        for _ in range(guard.UPLOAD_LIMIT // (1 << 20) + 2):
            yield b"x" * (1 << 20)

    answer = client.post(
        "/requests/DSAR-AAAA-BBBB/answer",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413 and "Traceback" not in answer.text
