"""A batch run again after its letters were posted, answered, bounced or complained
about: an e-mail queued by the first run never leaves once its request left another way
(real SMTP server, real journal, the real CLI)."""

from __future__ import annotations

import pytest

from dsar.cli import cli
from dsar.journal import Journal

from . import smtp_server
from .conftest import ok, read_csv
from .test_batch import batch_args, member, write_csv


@pytest.fixture
def smtp():
    controller, recorder = smtp_server.start()
    yield controller, recorder
    controller.stop()


def sending(port: int, *extra: str) -> list[str]:
    return [
        "--send",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--smtp-security",
        "none",
        "--rate",
        "0",
        *extra,
    ]


@pytest.mark.parametrize("all_queued", [False, True])
def test_a_rerun_never_sends_an_e_mail_whose_letter_was_posted_answered_or_complained(
    runner, tmp_path, association, dsar_home, smtp, all_queued
):
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(i) for i in range(4)])
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "pdf,email", "--date", "2026-09-01")
    ok(runner.invoke(cli, args, catch_exceptions=False))  # letters and queued e-mails
    refs = [row["reference"] for row in read_csv(out / "manifest.csv")]
    # the letters were posted, and life went on for three of them
    ok(runner.invoke(cli, ["sent", "--from-manifest", str(out), "--on", "2026-09-02"]))
    ok(runner.invoke(cli, ["answer", refs[0], "--state", "answered", "--on", "2026-09-20"]))
    ok(runner.invoke(cli, ["answer", refs[1], "--state", "undelivered", "--on", "2026-09-10"]))
    ok(runner.invoke(cli, ["answer", refs[2], "--state", "refused", "--on", "2026-09-20"]))
    ok(runner.invoke(cli, ["complain", refs[2], "--out", str(tmp_path / "cnil")]))

    extra = ("--all-queued",) if all_queued else ()
    dry = runner.invoke(cli, [*args, *sending(controller.port, "--dry-run", *extra)])
    assert dry.exit_code == 0, dry.output
    assert "would send" not in dry.stdout  # it says what the real run does: nothing leaves
    assert "stay queued" not in dry.stderr
    assert "4 queued e-mail(s) would be withdrawn" in dry.stderr

    real = runner.invoke(cli, [*args, *sending(controller.port, *extra)])
    assert real.exit_code == 0, real.output
    assert recorder.count == 0  # not one e-mail left
    assert "4 queued e-mail(s) withdrawn, never sent" in real.stderr
    with Journal(dsar_home / "journal.sqlite3") as journal:
        assert journal.outbox_counts() == {"withdrawn": 4}
        # the complaint stays the last step: no 'sent' recorded after it
        steps = [e["what"] for e in journal.events(refs[2])]
        assert steps[-1] == "e-mail-withdrawn" and "complained" in steps
        assert steps.count("sent") == 1
        assert journal.stored_state(refs[2]) == "complained"
    manifest = read_csv(out / "manifest.csv")
    assert all(row["email_status"].startswith("withdrawn") for row in manifest)


def test_the_claim_withdraws_an_e_mail_whose_request_was_posted_meanwhile(
    tmp_path, association, dsar_home, smtp, runner
):
    """Recorded as posted between the queueing and the sending (another terminal): the
    claim, in the transaction that takes the message, withdraws it."""
    from dsar.sending import Smtp, SmtpSettings, send_outbox

    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    out = tmp_path / "out"
    ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf,email")))
    refs = [row["reference"] for row in read_csv(out / "manifest.csv")]
    ok(runner.invoke(cli, ["sent", refs[0], "--on", "2026-12-03"]))
    with Journal(dsar_home / "journal.sqlite3") as journal:
        settings = SmtpSettings("127.0.0.1", controller.port, security="none", rate_per_minute=0)
        counts = send_outbox(journal, Smtp(settings), sender_for=lambda ref: "a@example.org")
        assert counts == {"withdrawn": 1, "sent": 1}
        assert journal.outbox_status(refs[0])[0] == "withdrawn"
    assert recorder.count == 1
