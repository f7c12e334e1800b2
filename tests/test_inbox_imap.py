"""dsar inbox over IMAP, against a real Dovecot (tests/dovecot.py): TLS verified with the
test's CA, read-only (no flag changes, nothing moved), incremental by UIDVALIDITY + UID."""

from __future__ import annotations

import json
import time

import pytest

from tests.dovecot import PASSWORD, Dovecot
from tests.inbox_setup import make_requests, write_corpus
from tests.test_inbox import inbox, journal


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:  # fails, never skips, when Dovecot cannot start
        yield server


@pytest.fixture
def folder(dovecot, tmp_path, dsar_home, monkeypatch, request):
    """A folder of its own per test, filled with the corpus by APPEND."""
    made = make_requests(tmp_path)
    replies = sorted(write_corpus(tmp_path / "replies", made).glob("*.eml"))
    name = f"dsar{request.node.name.replace('_', '')[-20:]}"
    dovecot.append([path.read_bytes() for path in replies[:40]], folder=name)
    monkeypatch.setenv("DSAR_IMAP_PASSWORD", PASSWORD)
    return name, replies


def test_two_runs_record_nothing_twice_and_change_nothing_on_the_server(
    runner, dovecot, folder, dsar_home
):
    name, replies = folder
    flags_before = dovecot.flags(name)
    url = dovecot.url(name)
    first = inbox(runner, url, "--imap-ca", str(dovecot.ca), "--json")
    assert first.exit_code == 0, first.output
    dovecot.logged_in()
    assert len(json.loads(first.output)) == 40
    db = journal(dsar_home)
    events = db.execute("SELECT count(*) FROM events").fetchone()[0]
    again = inbox(runner, url, "--imap-ca", str(dovecot.ca))
    assert again.exit_code == 0, again.output
    dovecot.logged_in()
    assert dovecot.sessions()[-1]["body_count"] == 0  # it fetched nothing again
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == events
    assert db.execute("SELECT count(*) FROM inbox_messages").fetchone()[0] == 40
    # read-only: the same messages with the same flags (\Seen untouched by BODY.PEEK)
    assert dovecot.flags(name) == flags_before
    sessions = dovecot.sessions()
    assert all(s["deleted"] == 0 and s["expunged"] == 0 for s in sessions)


def test_second_run_fetches_only_new_uids(runner, dovecot, folder):
    name, replies = folder
    url = dovecot.url(name)
    assert inbox(runner, url, "--imap-ca", str(dovecot.ca)).exit_code == 0
    dovecot.logged_in()
    dovecot.append([path.read_bytes() for path in replies[40:45]], folder=name)
    second = inbox(runner, url, "--imap-ca", str(dovecot.ca), "--json")
    assert second.exit_code == 0, second.output
    dovecot.logged_in()
    assert sorted(o["where"] for o in json.loads(second.output)) == [
        f"{name} UID {uid}" for uid in range(41, 46)
    ]
    assert dovecot.sessions()[-1]["body_count"] == 5


def test_starttls_reads_the_same_folder(runner, dovecot, folder):
    name, _replies = folder
    url = dovecot.url(name, port=dovecot.imap_port)
    result = inbox(
        runner, url, "--imap-security", "starttls", "--imap-ca", str(dovecot.ca), "--json"
    )
    assert result.exit_code == 0, result.output
    dovecot.logged_in()
    assert len(json.loads(result.output)) == 40


def test_an_untrusted_certificate_is_refused(runner, dovecot, folder, dsar_home):
    name, _replies = folder
    result = inbox(runner, dovecot.url(name))  # the system's CAs do not know the test's
    assert result.exit_code == 1
    assert "--imap-ca" in result.output and "Traceback" not in result.output
    time.sleep(0.5)  # a login would be logged by now: there was none
    assert len(dovecot.sessions()) == dovecot.expected


def test_plaintext_login_is_refused_unless_allowed(runner, dovecot, folder):
    name, _replies = folder
    url = dovecot.url(name, port=dovecot.imap_port)
    result = inbox(runner, url, "--imap-security", "none")
    assert result.exit_code == 2
    assert "--allow-plaintext-auth" in result.output


def test_wrong_password_is_a_message(runner, dovecot, folder, monkeypatch):
    name, _replies = folder
    monkeypatch.setenv("DSAR_IMAP_PASSWORD", "wrong")
    result = inbox(runner, dovecot.url(name), "--imap-ca", str(dovecot.ca))
    assert result.exit_code == 1
    assert "refused" in result.output and "Traceback" not in result.output
