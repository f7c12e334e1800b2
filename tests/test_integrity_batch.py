"""A batch sends exactly what it says, once: this run's messages, rebuilt while unsent,
claimed before they leave, with no X-Unsent on the wire."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from dsar import letters
from dsar.cli import cli
from dsar.journal import Journal
from dsar.render import mail
from dsar.sending import Smtp, SmtpSettings, send_outbox

from . import smtp_server
from .conftest import make_request, parse_eml, read_csv
from .test_batch import batch_args, batch_command, member, smtp, with_open_quote, write_csv

__all__ = ["smtp"]  # a fixture shared with test_batch


def send_args(path, association, out, port, *extra):
    return batch_command(path, association, out, port, *extra)[3:]  # without python -m dsar


def invoke(runner, args, code=0):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_send_sends_this_runs_messages_only(runner, tmp_path, association, smtp):
    controller, recorder = smtp
    earlier = write_csv(tmp_path / "earlier.csv", [member(i) for i in range(2)])
    invoke(runner, batch_args(earlier, association, tmp_path / "o1", "--format", "email"))
    now = write_csv(tmp_path / "now.csv", [member(i) for i in range(10, 13)])
    result = invoke(runner, send_args(now, association, tmp_path / "o2", controller.port))
    assert recorder.count == 3
    sent_refs = {m["X-DSAR-Reference"] for m in recorder.messages}
    manifest = list(read_csv(tmp_path / "o2" / "manifest.csv"))
    assert sent_refs == {m["reference"] for m in manifest}
    assert "2 e-mail(s) stay queued" in result.stderr and "--all-queued" in result.stderr
    invoke(runner, send_args(now, association, tmp_path / "o2", controller.port, "--all-queued"))
    assert recorder.count == 5 and set(recorder.received.values()) == {1}


def test_x_unsent_stays_in_the_file_never_on_the_wire(runner, tmp_path, association, smtp):
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0)])
    out = tmp_path / "o"
    invoke(runner, send_args(path, association, out, controller.port))
    [eml] = out.glob("*.eml")
    assert parse_eml(eml.read_bytes())["X-Unsent"] == "1"
    [arrived] = recorder.messages
    assert arrived["X-Unsent"] is None and arrived["X-DSAR-Reference"]


def test_a_queued_message_is_rebuilt_when_it_changes_a_sent_one_never(
    runner, tmp_path, association, smtp, dsar_home
):
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    out = tmp_path / "o"
    invoke(runner, batch_args(path, association, out, "--format", "email"))
    scans = tmp_path / "signed"
    scans.mkdir()
    (scans / "M-00000.pdf").write_bytes(b"%PDF-1.4 signed mandate of member 0")
    again = invoke(
        runner, batch_args(path, association, out, "--format", "email", "--mandates", str(scans))
    )
    assert "1 queued e-mail(s) rebuilt" in again.stdout
    invoke(runner, send_args(path, association, out, controller.port, "--mandates", str(scans)))
    by_ref = {m["X-DSAR-Reference"]: m for m in recorder.messages}
    manifest = {m["row"]: m for m in read_csv(out / "manifest.csv")}
    signed = by_ref[manifest["2"]["reference"]]
    assert [p.get_filename() for p in signed.walk() if p.get_filename()] == ["mandat-M-00000.pdf"]
    # the file kept for the person is the message that left
    assert (
        parse_eml((out / manifest["2"]["eml"]).read_bytes())["Message-ID"] == signed["Message-ID"]
    )
    # now sent: a new scan changes nothing, and nothing leaves twice
    (scans / "M-00001.pdf").write_bytes(b"%PDF-1.4 signed mandate of member 1")
    with Journal(dsar_home / "journal.sqlite3") as journal:
        before = journal.db.execute("SELECT reference, eml FROM outbox ORDER BY 1").fetchall()
    invoke(runner, send_args(path, association, out, controller.port, "--mandates", str(scans)))
    with Journal(dsar_home / "journal.sqlite3") as journal:
        assert (
            journal.db.execute("SELECT reference, eml FROM outbox ORDER BY 1").fetchall() == before
        )
    assert recorder.count == 2 and set(recorder.received.values()) == {1}


MEMBERS = 30  # enough for both runs to be sending at the kill; 1.5 s when paced


@pytest.mark.parametrize("rate", ["1200", "0"])
def test_two_runs_at_once_and_a_sigkill_send_each_message_once(
    tmp_path, association, smtp, dsar_home, rate
):
    """Two dsar batch --send on one new journal; one killed with SIGKILL while sending;
    the command again: every member's Message-ID exactly once on the server."""
    controller, recorder = smtp
    members_csv = write_csv(tmp_path / "members.csv", [member(i) for i in range(MEMBERS)])
    env = {**os.environ, "DSAR_HOME": str(dsar_home)}
    # paced (1,200 a minute each) so that both are still sending when one is killed; and
    # unpaced, where a message's 'sent' is committed with the next message's claim
    command = batch_command(members_csv, association, tmp_path / "out", controller.port)
    command[command.index("--rate") + 1] = rate
    first, second = (
        subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    )
    for line in first.stderr:  # wait for a line of progress: a message of its own has left
        if line.startswith("e-mail DSAR-") and line.rstrip().endswith(": sent"):
            break
    else:  # unpaced, the other run may have claimed every message first
        assert rate == "0", f"the first run sent nothing: exit {first.wait()}"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    first.stderr.close()
    err = second.stderr.read()
    assert second.wait() in (0, 3), err[-2000:]
    second.stderr.close()

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert len(recorder.received) == MEMBERS, len(recorder.received)
    assert set(recorder.received.values()) == {1}, "an e-mail arrived twice"
    with Journal(dsar_home / "journal.sqlite3") as journal:
        counts = journal.outbox_counts()
    assert counts.get("sent", 0) + counts.get("handed-over", 0) == MEMBERS, counts


def _queue_three(journal, shipped, env) -> list[str]:
    references = []
    for i in range(3):
        request = make_request(shipped, phone=f"06 12 34 56 7{i}")
        letter = letters.render(request, env)
        message = mail.build(letter)
        journal.record(request, subject=letter.subject, body_text="b", medium="email")
        journal.queue(
            request.reference, message["Message-ID"], f"r{i}@example.org", mail.to_bytes(message)
        )
        references.append(request.reference)
    return references


@pytest.mark.parametrize("rate", [0, 6000])
def test_a_claim_is_committed_before_its_message_leaves(shipped, env, tmp_path, rate):
    """Without a rate limit 'sent' waits for the next commit, but never a claim: as each
    message is about to leave, another connection to the journal already sees it claimed
    by this process, and the message before it settled."""
    controller, _recorder = smtp_server.start()
    seen = []

    def sender_for(reference: str) -> str:
        with Journal(tmp_path / "journal.sqlite") as other:  # as another run would read it
            row = other.db.execute(
                "SELECT status, claimed_by FROM outbox WHERE reference = ?", (reference,)
            ).fetchone()
            settled = other.outbox_counts()
        seen.append((row["status"], row["claimed_by"].rpartition(":")[2], settled))
        return "x@example.org"

    try:
        with Journal(tmp_path / "journal.sqlite") as journal:
            _queue_three(journal, shipped, env)
            settings = SmtpSettings("127.0.0.1", controller.port, "none", rate_per_minute=rate)
            counts = send_outbox(journal, Smtp(settings), sender_for=sender_for)
            final = journal.outbox_counts()
    finally:
        controller.stop()
    assert counts == {"sent": 3}
    assert final == {"sent": 3}
    assert [(status, pid) for status, pid, _ in seen] == [("sending", str(os.getpid()))] * 3
    # each message before the one leaving is settled where another run can see it
    for number, (_status, _pid, settled) in enumerate(seen):
        assert settled.get("sent", 0) + settled.get("handed-over", 0) == number, settled


def test_send_outbox_refuses_to_claim_inside_a_group(shipped, env, tmp_path):
    """A claim made inside Journal.grouped() would be a savepoint no other run sees."""
    with Journal(tmp_path / "journal.sqlite") as journal:
        _queue_three(journal, shipped, env)
        settings = SmtpSettings("127.0.0.1", 9, "none", rate_per_minute=0)
        with journal.grouped(), pytest.raises(RuntimeError, match="claims would not commit"):
            send_outbox(journal, Smtp(settings), sender_for=lambda ref: "x@example.org")
        assert journal.outbox_counts() == {"queued": 3}


# ------------------------------------------------------------------ what a run reports

TWINS = """\
brokers:
  - {slug: twin-a, kind: broker, name: Twin Data, quality: unverified}
  - {slug: twin-b, kind: broker, name: Twin Data, quality: unverified}
"""


def test_dry_run_without_send_is_refused_and_writes_nothing(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0)])
    out = tmp_path / "o"
    result = runner.invoke(cli, batch_args(path, association, out, "--dry-run"))
    assert result.exit_code == 2 and "--dry-run" in result.stderr
    assert not out.exists()


def test_an_ambiguous_broker_cell_is_a_bad_row_and_every_row_is_in_the_manifest(
    runner, tmp_path, association
):
    twins = tmp_path / "twins.yaml"
    twins.write_text(TWINS)
    rows = [member(0), member(1, broker="Twin Data"), member(2, phone="")]
    path = write_csv(tmp_path / "m.csv", rows)
    out = tmp_path / "o"
    args = [*batch_args(path, association, out, "--format", "email"), "--registry", str(twins)]
    result = invoke(runner, args, code=3)
    assert (
        "row 3, column broker: 'Twin Data' names several entries: twin-a, twin-b" in result.stderr
    )
    manifest = list(read_csv(out / "manifest.csv"))
    assert [(m["row"], m["member"]) for m in manifest] == [
        ("2", "Membre 0"),
        ("3", "Membre 1"),
        ("4", "Membre 2"),
    ]
    assert manifest[1]["email_status"].startswith("bad row: broker:")
    assert manifest[2]["email_status"] == "bad row: phone: empty; it is required"


def test_an_unclosed_quote_stops_at_the_row_where_it_opened(runner, tmp_path, association):
    path = with_open_quote(tmp_path / "m.csv", 100, 100)  # opened in row 102
    out = tmp_path / "o"
    result = runner.invoke(cli, batch_args(path, association, out, "--format", "email"))
    assert result.exit_code == 1, result.output
    assert "row 102 (line" in result.stderr and "never closed" in result.stderr
    assert "Traceback" not in result.output
    french = runner.invoke(cli, ["--ui-lang", "fr", *batch_args(path, association, out)])
    assert french.exit_code == 1 and "ligne 102 (ligne de texte" in french.stderr
    assert "n'est jamais fermé" in french.stderr and "never closed" not in french.stderr
    manifest = list(read_csv(out / "manifest.csv"))  # written all the same, in French
    assert len(manifest) == 100 and manifest[-1]["ligne"] == "101"


def test_mandate_exits_non_zero_when_every_row_is_bad(runner, tmp_path, association):
    # a missing mandate reference is made (dsar mandate writes the forms): a bad path is not
    path = write_csv(tmp_path / "m.csv", [member(0, phone=""), member(1, mandate_ref="../x")])
    out = tmp_path / "forms"
    result = runner.invoke(
        cli, ["mandate", "--association", str(association), "--out", str(out), str(path)]
    )
    assert result.exit_code == 3 and "wrote 0 mandate form(s)" in result.stdout
    assert "row 2, column phone" in result.stderr and "row 3, column mandate_ref" in result.stderr


# ------------------------------------------------------------------ nothing outside its place


@pytest.mark.parametrize("reference", ["../x", "/tmp/victim/x", "a/b", "..", ".hidden", "a\\b"])
def test_a_mandate_ref_that_is_a_path_is_a_bad_row(runner, tmp_path, association, reference):
    outside = tmp_path / "victim"
    outside.mkdir()
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4 not for the broker")  # what ../x would attach
    scans = tmp_path / "scans"
    (scans / "a").mkdir(parents=True)
    (scans / "a" / "b.pdf").write_bytes(b"%PDF-1.4 in a subfolder")
    ref = reference.replace("/tmp/victim", str(outside))
    path = write_csv(tmp_path / "m.csv", [member(0), member(1, mandate_ref=ref)])
    out = tmp_path / "o"
    result = invoke(
        runner,
        [
            *batch_args(path, association, out, "--format", "email", "--mandates", str(scans)),
            "--mandate-on-request",  # member 0 has no scan: sent, the mandate on request
        ],
        code=3,
    )
    assert "row 3, column mandate_ref" in result.stderr
    assert len(list(out.glob("*.eml"))) == 1
    forms = tmp_path / "forms"
    mandate = runner.invoke(
        cli, ["mandate", "--association", str(association), "--out", str(forms), str(path)]
    )
    assert mandate.exit_code == 3 and "row 3, column mandate_ref" in mandate.stderr
    assert sorted(p.name for p in forms.iterdir()) == ["mandate-M-00000.pdf"]
    assert list(outside.iterdir()) == [] and not (tmp_path / "mandate-x.pdf").exists()
