"""dsar serve through Starlette's TestClient: who may use the page, and how it answers."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from dsar.web import guard
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
    anonymous.cookies.set(guard.COOKIE, "guess")
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
    assert "token" in answer.text
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


def test_an_unknown_page_is_a_page_not_a_traceback(client):
    answer = client.get("/nowhere")
    assert answer.status_code == 404
    assert "Traceback" not in answer.text and "<html" in answer.text
