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
from dsar.web import guard, server, words
from dsar.web.pages import create_app

from .conftest import PAGE_SECRET, SELFCONTACT_POSTAL, page_client

PORT = 8765
TOKEN = PAGE_SECRET
ORIGIN = f"http://127.0.0.1:{PORT}"
ROOT = f"/{TOKEN}"
SMS = "Le 9 juin, votez pour la liste de Marion Maréchal. STOP au 36111"


@pytest.fixture
def anonymous():
    """A browser that never opened the printed address."""
    return TestClient(create_app(TOKEN, PORT), base_url=ORIGIN, follow_redirects=False)


@pytest.fixture
def client(anonymous):
    """A browser that opened the printed address: the secret is in every path it asks."""
    entered = anonymous.get(ROOT)
    assert entered.status_code == 303 and entered.headers["location"] == f"{ROOT}/"
    assert "set-cookie" not in entered.headers  # the secret is no cookie
    return page_client(TOKEN, PORT, follow_redirects=False)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_no_token_is_refused(anonymous):
    answer = anonymous.get("/")
    assert answer.status_code == 403
    assert "dsar serve" in answer.text
    assert anonymous.get("/requests").status_code == 403
    assert anonymous.get("/static/dsar.css").status_code == 403


def test_wrong_token_is_refused(anonymous):
    for path in ("/guess/", f"{ROOT}x/", f"{ROOT[:-1]}/", f"/static{ROOT}/", f"/?token={TOKEN}"):
        answer = anonymous.get(path)
        assert answer.status_code == 403, path
        assert "set-cookie" not in answer.headers


def test_the_secret_replayed_as_a_cookie_opens_nothing(anonymous):
    """What another user's server on dsar's address could take from the browser (its
    cookies) opens nothing: the secret must be in the path."""
    for name in ("dsar_token_8765", "dsar_lang", "token"):
        anonymous.cookies.set(name, TOKEN)
    for path in ("/", "/requests", "/replies", "/static/dsar.css", "/letters?ref=x"):
        answer = anonymous.get(path, headers={"referer": f"{ORIGIN}{ROOT}/"})
        assert answer.status_code == 403, path
        assert "Mes demandes" not in answer.text


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
    assert set(RECIPIENT_KINDS) <= set(words.KINDS)  # none left raw


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


def in_page_words(check) -> str:
    """The error a library check raises, as the French page words it."""
    with i18n.using("fr"), pytest.raises(DsarError) as raised:
        check()
    with i18n.using("fr"):
        return words.said(raised.value)


def test_errors_appear_beside_their_field_in_the_page_words(client):
    answer = client.post(
        "/identify", data={"csrf": page_csrf(client), "sms_text": SMS, "sms_date": "2024-13-45"}
    )
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert error_beside(answer.text, "sms_date") == in_page_words(
        lambda: fields.iso_date("2024-13-45", "date")
    )


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
    assert error_beside(answer.text, "phone") == in_page_words(lambda: fields.phone("12"))
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
        values["to_address"] = SELFCONTACT_POSTAL
    with App() as app:
        return app.generate(broker, **(values | overrides)).reference


def test_an_overdue_request_stands_out_in_my_requests(client):
    reference = draft(letter_date="2026-01-05")
    with App() as app:
        app.sent(reference, "2026-01-06")
    page = client.get("/requests").text
    row = re.search(
        rf'<tr class="([^"]*)">\s*<th scope="row" class="ref"[^>]*><a href="{ROOT}/requests/{reference}"',
        page,
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
    # the page's words, in the page's language: no command to type
    assert "ne connaît ni adresse e-mail ni adresse postale" in html.unescape(letters)
    assert not re.search(r"(?<![\w-])--[a-z]", letters) and "add-contact" not in letters
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
    assert "Télécharger le PDF" in page and f'href="{ROOT}/requests/{reference}"' in page
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
        rf'href="({ROOT}/requests/[^"]+/files/\d+)"[^>]*>Télécharger le dossier CNIL', page
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
    client = page_client(TOKEN, PORT, raise_server_exceptions=False)
    answer = client.get("/requests")
    assert answer.status_code == 500
    assert "rien n'a été enregistré" in answer.text
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
    words_ = in_page_words(lambda: registry.contact("postal", form["to_address"], ""))
    assert error_beside(refused.text, f"{reference}-source") == words_
    form["source"] = "courrier reçu le 2024-06-20"
    assert client.post(f"/letters/{reference}/contact", data=form).status_code == 303
    with App() as app:
        assert "60400 Noyon" in app.show(reference).request.recipient_address
        assert any(c.kind == "postal" for c in app.broker("selfcontact").broker.contacts)


def test_serve_listens_on_the_loopback_only_with_a_fresh_token_each_run():
    first, second = server.bind(), server.bind()
    try:
        host = first.sock.getsockname()[0]
        assert host.startswith("127.") and not host.startswith("127.0.0.")  # its own
        assert first.host != second.host and first.token != second.token
        assert len(first.token) >= 40
        assert first.url == f"http://{host}:{first.port}/{first.token}/"
        with pytest.raises(DsarError, match="choose another --port"):
            server.bind(first.port, first.host)
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
    assert written.status_code == 303 and written.headers["location"].startswith(
        f"{ROOT}/letters?ref="
    )
    assert not (dsar_home / "profile.yaml").exists()
    answer = client.post("/letters/new", data={**letter, "right": "access", "save_profile": "1"})
    assert answer.status_code == 303
    assert (dsar_home / "profile.yaml").stat().st_mode & 0o777 == 0o600
    page = client.post("/identify", data={"csrf": page_csrf(client), "sms_text": SMS}).text
    assert 'value="Camille Martin"' in page and "12 rue des Lilas\n75011 Paris</textarea>" in page


def test_the_language_links_stay_on_this_site(client):
    page = client.get("/%2Fevil.example/x").text  # the path //evil.example/x
    assert 'href="//' not in page and f'href="{ROOT}/evil.example/x?lang=en"' in page


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
    # the proof under the name it was given, not its SHA-256
    assert "Envoi enregistré" in page and ">accusé de réception.jpg</a>" in page
    with App() as app:
        shown = app.show(reference)
    assert shown.entry.lrar_number == "1A23456789012" and shown.entry.deadline is not None
    [proof] = [path for role, path, _ in shown.files if role == "proof"]
    assert proof.read_bytes() == b"\xff\xd8scan"
    bad = client.post(
        f"/requests/{reference}/sent", data={"csrf": page_csrf(client), "on": "2026-02-30"}
    )
    assert bad.status_code == 400
    assert error_beside(bad.text, "sent-on") == in_page_words(
        lambda: fields.iso_date("2026-02-30", "on")
    )


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
    eml = re.search(r'href="([^"]+)"[^>]*>Télécharger l.e-mail', page).group(1)
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


def test_the_host_check_follows_the_address_served():
    """On its own loopback address, dsar answers to that address alone: 127.0.0.1 and
    localhost are other servers' names."""
    own = page_client(TOKEN, PORT, host="127.9.8.7", base_url="http://testserver")
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", "127.9.8.7:1"):
        assert own.get("/", headers={"host": host}).status_code == 421, host
    assert own.get("/", headers={"host": f"127.9.8.7:{PORT}"}).status_code == 200


# ---------------------------------------------------------------- words and forms (issue 18/21/23)


def test_two_requests_at_once_in_french_and_english_each_get_their_own_words(client):
    """The language is held per request (a context variable), not switched for the
    process: a French and an English request served at the same time never swap words,
    the library's errors included (they are worded in the request's worker thread)."""
    import concurrent.futures

    csrf = page_csrf(client)

    def post(lang: str):
        data = {"csrf": csrf, "sms_text": SMS, "sms_date": "2024-13-45"}
        return client.post(f"/identify?lang={lang}", data=data).text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(post, ["fr", "en"] * 20))
    for lang, page in zip(["fr", "en"] * 20, pages, strict=True):
        said = error_beside(page, "sms_date")
        if lang == "fr":
            assert "n'est pas une date" in said and "Qui est derrière" in page
        else:
            assert "is not a date" in said and "Who is behind it?" in page
    assert i18n.language() == "en"  # the process's own language is left alone


BAD_VALUES = {
    "/identify": {"channel": "evil", "sms_date": "2024-02-30", "sms_text": "a\x00b"},
    # the message's own fields travel hidden in the letters form: tampered, they are
    # shown beside the message form's fields
    "/letters/new?tampered": {"channel": "evil"},
    "/letters/new": {
        "right": "all",
        "letter_lang": "de",
        "phone": "12",
        "email": "nope",
        "name": "x" * 300,
    },
}


@pytest.mark.parametrize("path", list(BAD_VALUES))
def test_every_form_field_is_checked_and_every_error_listed_at_once(client, path):
    """channel=evil was a template error ('dict object' has no attribute 'evil'); now
    each bad value is an error beside its field, all listed at the top, linked to it,
    in the page's words (no --flag), and nothing is written."""
    bad = BAD_VALUES[path]
    data = {"csrf": page_csrf(client), "sms_text": SMS, "recipient": "selfcontact", **bad}
    data.setdefault("name", "Camille Martin")
    answer = client.post(path, data=data)
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert "erreur de modèle" not in answer.text and "dict object" not in answer.text
    summary = re.search(r'<ul class="errors">(.*?)</ul>', answer.text, re.S).group(1)
    for field in bad:
        assert error_beside(answer.text, field), field
        assert f'href="#{field}"' in summary, field
    assert "--" not in summary
    with App() as app:
        assert app.status().entries == []


def test_the_request_forms_check_their_fields(client):
    reference = draft()
    for action, bad in (
        ("sent", {"on": "2026-13-01", "received": "demain", "lrar": "1\n2"}),
        ("answer", {"on": "never", "state": "evil", "note": "\x07"}),
    ):
        answer = client.post(
            f"/requests/{reference}/{action}", data={"csrf": page_csrf(client), **bad}
        )
        assert answer.status_code == 400, action
        for field in bad:
            assert error_beside(answer.text, f"{action}-{field}"), (action, field)
    # nothing given: said beside the date, in the page's words
    empty = client.post(f"/requests/{reference}/sent", data={"csrf": page_csrf(client)})
    assert empty.status_code == 400 and "--" not in error_beside(empty.text, "sent-on")
    with App() as app:
        assert app.show(reference).entry.stored_state == "draft"


def test_the_lifecycle_refuses_a_date_beside_its_field_and_an_answer_lacking_an_item(client):
    """The lifecycle's date rules name the date they refuse: the page shows the refusal
    beside that field, not only above the form; an item of Art. 15 the vocabulary does
    not know is a field error too."""
    reference = draft()
    future = (date.today() + timedelta(days=3)).isoformat()
    answer = client.post(
        f"/requests/{reference}/sent", data={"csrf": page_csrf(client), "on": future}
    )
    assert answer.status_code == 400 and error_beside(answer.text, "sent-on")
    with App() as app:
        app.sent(reference, date.today())
    answer = client.post(
        f"/requests/{reference}/answer",
        data={
            "csrf": page_csrf(client),
            "on": date.today().isoformat(),
            "state": "partial",
            "missing": ["source", "evil"],
        },
    )
    assert answer.status_code == 400 and error_beside(answer.text, "answer-missing")
    assert 'href="#answer-missing"' in answer.text  # listed at the top, linked to its boxes
    with App() as app:
        assert app.show(reference).entry.stored_state == "sent"


def test_two_parties_ticked_is_an_error_beside_the_ticks(client):
    csrf = page_csrf(client)
    message = {"sms_text": "Votez Ensemble", "sms_sender": "Ensemble", "sms_date": "2024-06-30"}
    answer = client.post(
        "/letters/new",
        data={
            "csrf": csrf,
            **message,
            "recipient": "selfcontact",
            "name": "Camille Martin",
            "phone": "06 12 34 56 78",
            "party_confirmed": ["renaissance", "reconquete"],
        },
    )
    assert answer.status_code == 400
    assert 'id="party_confirmed-error"' in answer.text and 'href="#party_confirmed"' in answer.text
    with App() as app:
        assert app.status().entries == []


def test_a_letters_form_posted_twice_at_once_shows_the_letter_written_by_the_first(client):
    """A double click posted the form twice: the second answered '…pdf existe déjà ;
    utilisez --force' although the letter was written. Both now land on the letter."""
    import concurrent.futures

    letter = {
        "csrf": page_csrf(client),
        "sms_text": SMS,
        "recipient": ["selfcontact", "reconquete"],
        "name": "Camille Martin",
        "phone": "06 12 34 56 78",
        "email": "camille@example.org",
    }
    for _ in range(3):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: client.post("/letters/new", data=letter), range(2)))
        assert [a.status_code for a in answers] == [303, 303], [
            re.findall(r'class="error">([^<]*)', a.text) for a in answers
        ]
        assert answers[0].headers["location"] == answers[1].headers["location"]
    with App() as app:
        assert len(app.status().entries) == 2


def test_no_command_line_word_and_no_english_on_the_french_pages(client):
    """Issue 23 item 10: the page speaks French in French; links are links."""
    reference = draft(to_address=None)  # its missing contact shown, with where to look
    i18n.missing.clear()
    pages = {
        "letters": client.get(f"/letters?ref={reference}").text,
        "request": client.get(f"/requests/{reference}").text,
        "requests": client.get("/requests").text,
        "message": client.post("/identify", data={"csrf": page_csrf(client), "sms_text": SMS}).text,
    }
    for name, page in pages.items():
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        assert not re.search(r"(?<![\w-])--[a-z]", text), name
        for english in ENGLISH_WORDS:
            assert not re.search(rf"\b{english}\b", text), (name, english)
    assert not i18n.missing, f"no French for {sorted(i18n.missing)}"
    letters = pages["letters"]
    assert (
        'href="https://annuaire-entreprises.data.gouv.fr/rechercher?terme=Selfcontact"' in letters
    )
    assert 'href="http://www.selfcontact.com"' in letters
    assert "Note du registre" in letters and "Aucune adresse postale" in letters


# words that would betray an untranslated string on a French page
ENGLISH_WORDS = (
    "the",
    "and",
    "quality",
    "broker",
    "party",
    "authority",
    "partial",
    "Note:",
    "Supply",
    "Download",
    "Record",
    "Missing",
    "where",
    "found",
)


def test_the_favicon_is_served_from_the_page_itself(client):
    page = client.get("/").text
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert icon.startswith(f"{ROOT}/static/")
    assert client.get(icon).status_code == 200


def test_every_error_code_is_worded_by_each_face_in_french_and_english():
    """A library error is a code, a field and parameters: the command line names fields
    as options, the page by their labels, never as `--flags`; both in French too."""
    import string

    from dsar.cli_i18n import cli_words
    from dsar.errors import MESSAGES, Field

    i18n.missing.clear()
    for code, message in MESSAGES.items():
        names = {n for _, n, _, _ in string.Formatter().parse(message) if n and n != "field"}
        error = DsarError(code, field="phone", **{n: Field("email") for n in names})
        for lang in ("fr", "en"):
            with i18n.using(lang):
                page, cli = words.said(error), cli_words(error)
            assert "--" not in page, (code, lang, page)
            assert "Votre e-mail" in page or "Your e-mail" in page or "email" not in names
            assert "--email" in cli or "email" not in names
    assert not i18n.missing, f"no French for {sorted(i18n.missing)}"
