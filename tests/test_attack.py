"""Attacks from outside, each reproduced, each kept out: one test per finding."""

from __future__ import annotations

import asyncio
import hashlib
import re
import stat
from datetime import date
from pathlib import Path

import pytest

from dsar import clock, safety, sending
from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError
from dsar.web import guard

from .conftest import CITIZEN, PAGE_SECRET, page_client
from .test_batch import batch_args, member, write_csv

TOKEN = PAGE_SECRET
PORT = 8765


def asgi_get(app, raw_path: str, query: str) -> tuple[int, dict[bytes, bytes]]:
    """One GET as a browser's raw request line reaches the server: the path unnormalised
    (a test client would clean '//host' away before sending it)."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": raw_path,
        "raw_path": raw_path.encode("utf-8"),
        "query_string": query.encode(),
        "headers": [(b"host", f"127.0.0.1:{PORT}".encode())],
    }
    answer: dict = {}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = dict(message["headers"])

    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["headers"]


async def _never(scope, receive, send):  # the page behind the guard: not reached here
    raise AssertionError("the guard answers the printed address itself")


@pytest.mark.parametrize(
    "path", ["//evil.example/", "/\\evil.example", f"//{TOKEN}/", f"/\\{TOKEN}/", f"/{TOKEN}\\"]
)
def test_an_address_without_the_secret_first_is_refused_never_sent_on(path):
    status, headers = asgi_get(guard.Guard(_never, token=TOKEN, port=PORT), path, f"token={TOKEN}")
    assert status == 403 and b"location" not in headers


def test_the_secret_alone_is_sent_on_under_itself_only():
    status, headers = asgi_get(guard.Guard(_never, token=TOKEN, port=PORT), f"/{TOKEN}", "lang=en")
    assert status == 303
    assert headers[b"location"] == f"/{TOKEN}/?lang=en".encode()


def test_every_folder_dsar_creates_for_letters_is_private(runner, tmp_path, dsar_home):
    out = tmp_path / "new" / "letters"
    result = runner.invoke(
        cli,
        [*CITIZEN, "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert list(out.glob("*.pdf"))
    for folder in (out, out.parent, dsar_home):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_an_smtp_answer_reaches_the_journal_and_manifest_as_plain_text():
    # what a hostile or broken server may answer to MAIL FROM: colours, an OSC 8 link
    reply = b"\x1b[31mRED\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 " + b"x" * 5000
    failure = sending.PermanentFailure(550, reply)
    assert "\x1b" not in str(failure) and "\x07" not in str(failure)
    assert failure.text.startswith("[31mRED]8;;http://evil.example")
    assert len(failure.text) <= sending.MAX_SERVER_TEXT


@pytest.mark.parametrize(
    "args, code",
    [
        (["generate", "--broker", "selfcontact", "--name", "C M", "--sms-text-file"], 2),
        (["identify", "--text-file"], 2),
        (["brokers", "list", "--registry"], 1),  # a registry file is dsar's input, not a value
    ],
)
def test_a_file_without_end_is_refused_not_read_forever(runner, args, code):
    # before: read whole, past any limit (stat() gave 0 bytes): memory ran out or it hung
    result = runner.invoke(cli, [*args, "/dev/zero"])
    assert result.exit_code == code, result.output
    assert "/dev/zero" in result.output
    assert "Traceback" not in result.output


def test_an_association_file_without_end_is_refused(tmp_path):
    with pytest.raises(DsarError, match="larger than"):
        safety.read_yaml_file(Path("/dev/zero"))


def test_an_imported_record_of_any_shape_is_reported_never_a_traceback(runner, tmp_path):
    records = [
        "[1]",
        "null",
        '{"slug": "ab", "name": "A", "address": 5}',
        '{"slug": "ab", "name": "A", "runs": [1]}',
        '{"slug": "ab", "name": "A", "email": ["x@example.org"]}',
        '{"slug": "ab", "name": null}',
        '{"slug": "ok", "name": "Ok", "web": "\\u001b]8;;http://evil.example\\u0007x"}',
    ]
    source = tmp_path / "companies.jsonl"
    source.write_text("\n".join(records) + "\n")
    output = tmp_path / "imported.yaml"
    result = runner.invoke(
        cli, ["brokers", "import", "datenanfragen", str(source), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    for line in ("line 1: skipped", "line 2: skipped", "line 3: skipped", "line 5: skipped"):
        assert line in result.output
    assert "imported 1 entries" in result.output


@pytest.mark.parametrize("name", ["a" * 300 + ".pdf", "é" * 200 + ".pdf"])
def test_an_upload_with_a_name_too_long_for_the_disk_is_kept(dsar_home, name):
    client = page_client(TOKEN, PORT, follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    with App() as app:
        reference = app.generate(
            "renaissance",  # a postal address: the letter may be posted
            name="Camille Martin",
            phone="06 12 34 56 78",
            formats=("pdf",),
            out_dir=dsar_home / "letters",
        ).reference
        app.sent(reference, date.today())  # an answer is to a request that was sent
    answer = client.post(
        f"/requests/{reference}/answer",
        data={"csrf": csrf, "state": "partial", "on": date.today().isoformat()},
        files={"file": (name, b"%PDF-1.4 reply", "application/pdf")},
    )
    # before: 'File name too long', a 500 page and a traceback in the server's log
    assert answer.status_code == 303, answer.text
    with App() as app:
        [reply] = [f for f in app.show(reference).files if f[0] == "reply"]
    assert reply[1].read_bytes() == b"%PDF-1.4 reply" and reply[1].name.endswith(".pdf")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 1: nested too deeply"),
        (b'{"slug": "a", "name": "A"}\n{"slug": "b", "name": "B\xff"}\n', "line 2: not UTF-8"),
    ],
)
def test_an_import_file_nested_deep_or_not_utf8_is_an_error_not_a_traceback(
    runner, tmp_path, content, said
):
    source = tmp_path / "companies.jsonl"
    source.write_bytes(content)
    output = tmp_path / "imported.yaml"
    result = runner.invoke(
        cli, ["brokers", "import", "datenanfragen", str(source), "--output", str(output)]
    )
    assert result.exit_code == 1, result.output
    assert said in result.output
    assert not output.exists()


def test_an_import_folder_with_a_file_not_in_utf8_is_an_error(runner, tmp_path):
    (tmp_path / "companies").mkdir()
    (tmp_path / "companies" / "a.json").write_bytes(b'{"name": "\xff"}')
    output = tmp_path / "imported.yaml"
    result = runner.invoke(
        cli, ["brokers", "import", "datenanfragen", str(tmp_path), "--output", str(output)]
    )
    assert result.exit_code == 1, result.output
    assert "a.json: not UTF-8" in result.output


def test_a_profile_detail_that_is_not_text_is_refused_not_signed(runner, dsar_home, tmp_path):
    dsar_home.mkdir(parents=True, exist_ok=True)
    (dsar_home / "profile.yaml").write_text(
        "name: {a: 1}\nemail: a@example.org\nphone: '06 12 34 56 78'\n"
    )
    out = tmp_path / "letters"
    result = runner.invoke(cli, ["generate", "--broker", "renaissance", "--out", str(out)])
    # before: a letter signed "{'a': 1}"
    assert result.exit_code == 1, result.output
    assert "'name' should be text" in result.output
    assert not out.exists()


def test_an_association_detail_that_is_not_text_is_refused(runner, tmp_path):
    association = tmp_path / "association.yaml"
    association.write_text(
        "name: [a, b]\naddress: '1 rue\n75001 Paris'\nemail: a@example.org\nrepresentative: R\n"
    )
    members = write_csv(tmp_path / "members.csv", [member(1)])
    out = tmp_path / "out"
    result = runner.invoke(cli, batch_args(members, association, out, "--workers", "1"))
    # before: e-mails from "['a', 'b']" <a@example.org>
    assert result.exit_code == 1, result.output
    assert "'name' should be text" in result.output
    assert not list(out.glob("*.eml"))


def test_a_second_complaint_with_force_never_touches_the_one_that_was_sent(runner, tmp_path):
    letters = tmp_path / "letters"
    with clock.fixed(date(2026, 8, 1)), App() as app:
        reference = app.generate(
            "renaissance",
            name="Camille Martin",
            phone="06 12 34 56 78",
            formats=("pdf",),
            out_dir=letters,
        ).reference
        app.sent(reference, "2026-08-01")
    with clock.fixed(date(2026, 11, 23)):
        with App() as app:
            complaint = app.complain(reference, out_dir=letters)
            app.sent(complaint.reference, "2026-11-23")
            kept = app.show(complaint.reference)
        [(_role, path, sha)] = [f for f in kept.files if f[0] == "pdf"]
        before = path.read_bytes()
        with App() as app, pytest.raises(DsarError, match="never rewritten"):
            app.complain(reference, out_dir=letters, force=True)
    # before: written over, then removed when the journal refused to record it
    assert path.read_bytes() == before
    assert hashlib.sha256(before).hexdigest() == sha
