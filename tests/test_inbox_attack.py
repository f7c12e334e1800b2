"""dsar inbox against an attacker (the review of 2026-12-03): forged headers from an
unrelated domain are only proposed, a late acknowledgement never restarts the deadline,
two references go to the person, hostile names and charsets never crash a run or the
review, a confirmation is recorded once, evidence is what its name says."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from dsar import clock, follow
from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError
from dsar.inbox import apply, match
from dsar.paths import Paths
from dsar.safety import printable
from tests.inbox_setup import REGISTRY, SENT_DAY, TODAY, make_requests, sent_request
from tests.test_inbox import entry, inbox, read_json

EVIL = "evil-unrelated.example"


@pytest.fixture
def made(tmp_path, dsar_home):
    return make_requests(tmp_path, ["datacontact", "sondage-express", "fichiers-france"])


def message(
    sender: str, subject: str, text: str, *, day="Mon, 02 Nov 2026 10:00:00 +0100", **headers
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = headers.pop("to", "camille@example.org")
    mail["Subject"] = subject
    mail["Date"] = day
    mail["Message-ID"] = headers.pop("message_id", f"<{abs(hash((sender, subject, text)))}@x>")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


def write(folder: Path, name: str, mail: EmailMessage | bytes) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(mail if isinstance(mail, bytes) else mail.as_bytes())
    return path


ACK = "Nous avons bien reçu votre demande."


def forged(made) -> dict[str, EmailMessage | bytes]:
    """The four ways an unrelated domain's message named a request and was applied."""
    datacontact, sondage = made["datacontact"], made["sondage-express"]
    in_reply = message(
        f"Support <noreply@{EVIL}>", "Re: votre demande", ACK, In_Reply_To=datacontact["message_id"]
    )
    returned = message(f"someone@{EVIL}", "Accusé de réception", ACK)
    inner = EmailMessage()
    inner["Message-ID"] = made["fichiers-france"]["message_id"]
    inner["Subject"] = "whatever"
    inner.set_content("x")
    returned.add_attachment(inner)
    subaddress = message(
        f"noreply@{EVIL}",
        "Accusé de réception",
        ACK,
        Cc=f"nobody+{datacontact['reference']}@{EVIL}",
    )
    bounce = (  # a delivery report naming the address the request went to
        f"From: MAILER-DAEMON@{EVIL}\nTo: camille@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\nDate: Mon, 02 Nov 2026 10:00:00 +0100\n"
        f"Message-ID: <forged-2@{EVIL}>\nMIME-Version: 1.0\nContent-Type: multipart/report;"
        ' report-type=delivery-status; boundary="BB"\n\n--BB\nContent-Type: text/plain\n\n'
        f"Your message about {sondage['reference']} could not be delivered.\n\n--BB\n"
        "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.evil\n\n"
        "Final-Recipient: rfc822; rgpd@sondage-express.example\nAction: failed\n"
        "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--BB--\n"
    ).encode()
    return {"in-reply-to": in_reply, "returned": returned, "sub": subaddress, "bounce": bounce}


@pytest.mark.parametrize("way", ["in-reply-to", "returned", "sub", "bounce"])
def test_a_message_from_an_unrelated_domain_is_proposed_never_applied(runner, made, tmp_path, way):
    path = write(tmp_path / "in", f"{way}.eml", forged(made)[way])
    (outcome,) = read_json(runner, str(path))
    assert outcome["applied"] is False and outcome["status"] in ("review", "unmatched")
    assert outcome["matched_by"] != "subaddress"  # that request asked for no sub-address
    for slug in ("datacontact", "sondage-express", "fichiers-france"):
        assert entry(made[slug]["reference"]).stored_state == "sent"
        assert entry(made[slug]["reference"]).received_on is None


def test_a_public_suffix_is_no_organisation():
    assert not match.related("fr", frozenset({"datacontact.fr"}))
    assert not match.related("gouv.fr", frozenset({"cnil.gouv.fr"}))
    assert not match.related("co.uk", frozenset({"shop.co.uk"}))
    assert not match.related("example", frozenset({"datacontact.example"}))
    assert not match.related("evil.co.uk", frozenset({"shop.co.uk"}))
    assert match.related("mail.datacontact.fr", frozenset({"datacontact.fr"}))
    assert match.related("datacontact.fr", frozenset({"www.datacontact.fr"}))


def test_a_late_acknowledgement_never_restarts_the_deadline(runner, made, tmp_path):
    reference = made["datacontact"]["reference"]
    before = entry(reference)
    assert before.dates.answer_due < date(2026, 11, 10)  # overdue by then
    late = message(
        "DPO <dpo@datacontact.example>",
        f"Accusé de réception {reference}",
        ACK,
        day="Tue, 10 Nov 2026 09:00:00 +0100",
    )
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "late.eml", late)))
    assert outcome["reference"] == reference and outcome["applied"] is False
    assert entry(reference).received_on is None


def test_an_acknowledgement_after_an_answer_is_no_receipt(runner, made, tmp_path, dsar_home):
    reference = made["datacontact"]["reference"]
    with clock.fixed(TODAY), App(Paths.from_env(), registries=[REGISTRY]) as app:
        app.answer(reference, date(2026, 9, 10), state="id-requested")
        # the lifecycle refuses a receipt after the answer, whoever asks
        with pytest.raises(DsarError):
            app.sent(reference, SENT_DAY, received=date(2026, 9, 20))
    ack = message(
        "DPO <dpo@datacontact.example>",
        f"Accusé de réception {reference}",
        ACK,
        day="Fri, 25 Sep 2026 09:00:00 +0200",
    )
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "ack.eml", ack)))
    assert outcome["applied"] is False
    assert entry(reference).received_on is None
    assert entry(reference).stored_state == "id-requested"


def test_an_out_of_office_is_no_receipt(runner, made, tmp_path):
    reference = made["datacontact"]["reference"]
    away = message(
        "DPO <dpo@datacontact.example>",
        f"Réponse automatique : {reference}",
        "Je suis absente jusqu'au 20 septembre.",
        day="Thu, 03 Sep 2026 09:00:00 +0200",
        Auto_Submitted="auto-replied",
    )
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "away.eml", away)))
    assert outcome["reference"] == reference
    assert outcome["applied"] is False and outcome["status"] == "review"
    assert entry(reference).received_on is None


def test_a_reply_naming_two_requests_of_its_sender_goes_to_the_person(
    runner, made, tmp_path, dsar_home
):
    with clock.fixed(TODAY), App(Paths.from_env(), registries=[REGISTRY]) as app:
        other = sent_request(
            app,
            "datacontact",
            tmp_path / "letters2",
            name="Dominique Petit",
            phone="06 98 76 54 32",
            email="dominique@example.org",
        ).reference
    mine = made["datacontact"]["reference"]
    both = message(
        "DPO <dpo@datacontact.example>",
        "Vos demandes",
        f"Le dossier {other} est en cours. Pour {mine} : nous avons bien reçu votre demande.",
        day="Thu, 03 Sep 2026 09:00:00 +0200",
    )
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "two.eml", both)))
    assert outcome["applied"] is False and outcome["reference"] is None
    assert sorted(outcome["facts"]["candidates"]) == sorted([mine, other])
    assert entry(mine).received_on is None and entry(other).received_on is None


LONG = "数" * 80 + ".pdf"  # 324 bytes of UTF-8: over any file system's 255


def test_an_attachment_name_of_80_cjk_characters_is_kept(runner, made, tmp_path, dsar_home):
    reference = made["datacontact"]["reference"]
    answer = message("dpo@datacontact.example", f"Re: {reference}", "Voici vos données.")
    answer.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename=LONG)
    result = inbox(runner, str(write(tmp_path / "in", "long.eml", answer)))
    assert result.exit_code == 0, result.output
    kept = [p for p in (dsar_home / "attachments").iterdir() if p.name.endswith(".pdf")]
    assert len(kept) == 1 and len(kept[0].name.encode()) <= 255
    assert kept[0].read_bytes() == b"%PDF-1.4 data"
    assert "数" in kept[0].name  # the sender's name still shows, cut from its start


def test_a_proof_named_in_80_cjk_characters_is_kept(runner, made, tmp_path):
    proof = tmp_path / LONG
    proof.write_bytes(b"%PDF-1.4 proof")
    with clock.fixed(TODAY):
        result = runner.invoke(
            cli,
            ["sent", made["datacontact"]["reference"], "--proof", str(proof)],
        )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_a_lying_charset_or_deep_nesting_keeps_sender_and_subject(runner, made, tmp_path):
    reference = made["datacontact"]["reference"]
    undefined = (
        f"From: rgpd@datacontact.example\nSubject: Re: {reference}\nMessage-ID: <u1@d>\n"
        "Date: Mon, 02 Nov 2026 10:00:00 +0100\nContent-Type: text/plain; charset=undefined\n\n"
        "Voici vos donnees.\n"
    ).encode()
    head = (
        f"From: dpo@datacontact.example\nSubject: Re: {reference}\nMessage-ID: <deep@d>\n"
        "Date: Mon, 02 Nov 2026 10:00:00 +0100\n"
    )
    deep = head + "Content-Type: message/rfc822\n\n" + "Content-Type: message/rfc822\n\n" * 2000
    folder = tmp_path / "in"
    write(folder, "undefined.eml", undefined)
    write(folder, "deep.eml", deep.encode())
    outcomes = read_json(runner, str(folder))
    assert {o["sender"] for o in outcomes} == {
        "rgpd@datacontact.example",
        "dpo@datacontact.example",
    }
    assert all(o["subject"] == f"Re: {reference}" for o in outcomes)
    review = inbox(runner, "--review", input="s\ns\n")
    assert review.exit_code == 0, review.output
    assert "dpo@datacontact.example" in review.output


def test_two_confirmations_of_one_reply_record_it_once(runner, made, tmp_path, dsar_home):
    reference = made["datacontact"]["reference"]
    ask = message(
        "dpo@datacontact.example",
        f"Re: {reference}",
        "Merci de nous envoyer une copie de votre pièce d'identité.",
        day="Thu, 10 Sep 2026 09:00:00 +0200",
    )
    assert inbox(runner, str(write(tmp_path / "in", "id.eml", ask))).exit_code == 0
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        (item,) = apply.pending(app)
    inside, results = threading.Event(), []
    record = apply.record

    def slow_record(*args, **kwargs):  # the first one holds its transaction a while
        inside.set()
        time.sleep(0.5)
        return record(*args, **kwargs)

    def confirm(first: bool):  # the day is fixed once, below: clock.fixed is process-wide
        with App(Paths.from_env(), registries=[REGISTRY]) as app:
            try:
                results.append(apply.confirm(app, item["id"], "identity-request"))
            except DsarError as exc:
                results.append(exc)

    # entered by both threads, clock.fixed's restore interleaved and left the day fixed
    # for the worker's later tests ("sent on 2026-12-03 is in the future (today is
    # 2026-11-16)" in test_batch_rerun)
    with clock.fixed(TODAY), pytest.MonkeyPatch.context() as patch:
        patch.setattr(apply, "record", slow_record)
        first = threading.Thread(target=confirm, args=(True,))
        first.start()
        assert inside.wait(30)
        patch.setattr(apply, "record", record)
        second = threading.Thread(target=confirm, args=(False,))
        second.start()
        first.join(60)
        second.join(60)
    assert sum(isinstance(r, str) for r in results) == 1
    assert sum(isinstance(r, DsarError) for r in results) == 1
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        answers = app.journal.db.execute(
            "SELECT what FROM events WHERE reference = ? AND what LIKE '%answer%'", (reference,)
        ).fetchall()
    assert len(answers) == 1


def test_skip_takes_only_a_message_that_waits(runner, made, tmp_path):
    reference = made["datacontact"]["reference"]
    ack = message(
        "dpo@datacontact.example",
        f"Accusé de réception {reference}",
        ACK,
        day="Thu, 03 Sep 2026 09:00:00 +0200",
    )
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "ack.eml", ack)))
    assert outcome["applied"] is True
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        (row,) = app.journal.db.execute("SELECT id FROM inbox_messages").fetchall()
        for number in (row[0], 999):
            with pytest.raises(DsarError):
                apply.skip(app, number)
        status = app.journal.db.execute("SELECT status FROM inbox_messages").fetchone()[0]
    assert status == "applied"


def test_a_file_already_at_the_evidence_name_is_never_taken_for_the_evidence(
    runner, made, tmp_path, dsar_home
):
    import hashlib

    reference = made["datacontact"]["reference"]
    answer = message("dpo@datacontact.example", f"Re: {reference}", "Voici vos données.")
    data = answer.as_bytes()
    sha = hashlib.sha256(data).hexdigest()
    kept = dsar_home / "attachments"
    kept.mkdir(mode=0o700)
    planted = kept / f"{sha}-message.eml"
    planted.write_bytes(b"")
    planted.chmod(0o644)
    result = inbox(runner, str(write(tmp_path / "in", "a.eml", data)))
    assert result.exit_code != 0
    assert "Traceback" not in result.output and str(planted.name) in result.output
    assert planted.read_bytes() == b""  # never overwritten either
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        rows = app.journal.db.execute("SELECT count(*) FROM inbox_messages").fetchone()[0]
    assert rows == 0


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u200f", "\x1b"])
def test_bidi_controls_never_reach_the_terminal(control):
    assert printable(f"facture{control}fdp.exe") == "facturefdp.exe"


@pytest.mark.parametrize("source", ["imaps://u@[::1/x", "imaps://u:SECRET@h/INBOX"])
def test_a_bad_imap_address_is_refused_without_traceback_or_password(runner, made, source):
    result = inbox(runner, source)
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "SECRET" not in result.output
    assert not isinstance(result.exception, ValueError)


def test_a_reused_message_id_with_another_body_is_a_new_message(runner, made, tmp_path):
    reference = made["datacontact"]["reference"]
    first = message(
        "dpo@datacontact.example",
        f"Re: {reference}",
        ACK,
        day="Mon, 07 Sep 2026 10:00:00 +0200",
        message_id="<ticket-1@datacontact.example>",
    )
    second = message(
        "dpo@datacontact.example",
        f"Re: {reference}",
        "Nous refusons votre demande.",
        day="Mon, 28 Sep 2026 10:00:00 +0200",
        message_id="<ticket-1@datacontact.example>",
    )
    assert len(read_json(runner, str(write(tmp_path / "a", "1.eml", first)))) == 1
    (outcome,) = read_json(runner, str(write(tmp_path / "b", "2.eml", second)))
    assert outcome["kind"] == "refusal" and outcome["reference"] == reference
    # the first again, from another mailbox (CRLF line ends): already read
    copy = first.as_bytes().replace(b"\n", b"\r\n")
    assert read_json(runner, str(write(tmp_path / "c", "1.eml", copy))) == []


def test_an_inbox_read_before_the_body_hash_keeps_its_rows(runner, made, tmp_path, dsar_home):
    from dsar.inbox import store

    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        db = app.journal.db
        with app.journal.transaction():
            for statement in store.MIGRATIONS[0].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO inbox_schema VALUES (1)")
            db.execute(
                "INSERT INTO inbox_messages (sha256, message_id, source, seen_at, sender, "
                "subject, kind, evidence, facts, path, status) VALUES ('abc', '<old@x>', 's', "
                "'t', 'a@b.example', 'old', 'other', '[]', '{}', '/p', 'review')"
            )
            db.execute("INSERT INTO inbox_attachments VALUES (1, 'n', 'text/plain', '/q', 'd')")
    old = message("a@b.example", "old", "Bonjour", message_id="<old@x>")
    assert read_json(runner, str(write(tmp_path / "in", "old.eml", old))) == []  # known
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        (row,) = apply.pending(app)
    assert row["subject"] == "old" and row["attachments"][0]["path"] == "/q"


def test_a_message_over_the_evidence_limit_is_listed_by_its_headers(
    runner, made, tmp_path, dsar_home
):
    from dsar.files import MAX_EVIDENCE_BYTES

    reference = made["datacontact"]["reference"]
    head = message("dpo@datacontact.example", f"Accusé de réception {reference}", ACK)
    big = head.as_bytes() + b"x" * (MAX_EVIDENCE_BYTES + 1)
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "big.eml", big)))
    assert outcome["status"] == "review" and outcome["applied"] is False
    assert outcome["sender"] == "dpo@datacontact.example" and reference in outcome["subject"]
    assert "big.eml" in " ".join(outcome["evidence"])  # where the person finds it
    kept = list((dsar_home / "attachments").iterdir())
    assert sum(p.stat().st_size for p in kept) < 1 << 20  # not copied
    assert entry(reference).received_on is None
    assert read_json(runner, str(tmp_path / "in" / "big.eml")) == []  # known next time


def test_html_text_keeps_the_words_and_drops_scripts():
    from dsar.inbox.parse import _html_text

    html = "<p>Voici &amp; <b>vos</b></p><script>a='<p>x'</script> données <STYLE>s</style >fin"
    assert " ".join(_html_text(html).split()) == "Voici & vos données fin"
    assert _html_text("<script" * 9000).strip() == ""
    assert _html_text("a < b") == "a < b"


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_a_run_survives_a_worker_killed_under_it(made, tmp_path, dsar_home):
    import mailbox
    import os
    import signal
    import subprocess
    import sys

    box = mailbox.mbox(tmp_path / "many.mbox")
    text = "<p>" + "Bonjour, voici un long message. " * 2000 + "</p>"
    count = 600  # enough for the workers to start; small enough for a loaded CI machine
    for number in range(count):
        mail = message(f"m{number}@nowhere.example", f"n{number}", "x", message_id=f"<m{number}@x>")
        mail.add_alternative(text, subtype="html")
        box.add(mail.as_bytes())
    box.close()
    out_file, err_file = (tmp_path / "out.json").open("wb"), (tmp_path / "err").open("wb")
    run = subprocess.Popen(  # its output to files: a full pipe would block it, not a bug
        [sys.executable, "-m", "dsar", "inbox", str(tmp_path / "many.mbox"), "--json"],
        stdout=out_file,
        stderr=err_file,
    )
    killed = False
    deadline = time.monotonic() + 300  # a loaded machine starts the workers late
    while run.poll() is None and not killed and time.monotonic() < deadline:
        grandchildren = [p for p in _descendants(run.pid) if p not in _children(run.pid)]
        if grandchildren:  # a worker of the forkserver: killed as an OOM killer would
            time.sleep(0.3)
            os.kill(grandchildren[-1], signal.SIGKILL)
            killed = True
        time.sleep(0.02)
    try:
        run.wait(timeout=300)
    except subprocess.TimeoutExpired:
        for pid in _descendants(run.pid):
            os.kill(pid, signal.SIGKILL)
        run.kill()
        pytest.fail("the run hung after its worker died")
    assert killed
    assert run.returncode == 0, (tmp_path / "err").read_text()
    assert len(json.loads((tmp_path / "out.json").read_text())) == count


def _children(pid: int) -> list[int]:
    return [p for p in _descendants(pid) if _parent(p) == pid]


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except OSError:
        return -1


@pytest.mark.parametrize("command", [["sent", "--from-manifest"], ["status", "--batch"]])
def test_a_sheet_that_is_no_file_is_refused(command, dsar_home):
    import subprocess
    import sys

    args = [*command, "/dev/zero"] + (["--on", "2026-11-01"] if command[0] == "sent" else [])
    done = subprocess.run(
        [sys.executable, "-m", "dsar", *args], capture_output=True, timeout=60, text=True
    )
    assert done.returncode != 0 and "/dev/zero" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_single_message_under_any_name_is_read_and_an_empty_mbox_said(runner, made, tmp_path):
    reference = made["datacontact"]["reference"]
    reply = write(
        tmp_path,
        "reply.txt",
        message("dpo@datacontact.example", f"Re: {reference}", "Voici vos données."),
    )
    (outcome,) = read_json(runner, str(reply))
    assert outcome["reference"] == reference
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    result = inbox(runner, str(empty))
    assert result.exit_code == 0 and "empty.mbox" in result.output


def test_a_reply_from_a_stranger_is_flagged_never_confirmed_by_enter_nor_said_theirs(
    runner, made, tmp_path
):
    """Anyone can quote a reference: a reply from an unrelated sender is proposed with a
    warning, Enter skips it, and once the person confirms it all the same, the next
    letter does not say the e-mail came from the recipient. Long lines are shown whole."""
    reference = made["datacontact"]["reference"]
    padding = "Nous vous remercions de votre message et de votre patience dans ce dossier, " * 2
    phish = message(
        f"Service Client <support@{EVIL}>",
        f"Re: {reference}",
        f"Bonjour,\n{padding}votre numéro nous a été fourni par QuizWorld.\nCordialement",
    )
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "phish.eml", phish)))
    assert outcome["reference"] == reference and outcome["trusted"] is False
    result = inbox(runner, "--review", input="\n")
    assert result.exit_code == 0, result.output
    assert f"support@{EVIL}" in result.output and "warning" in result.output
    shown = " ".join(line[6:] for line in result.output.splitlines() if line.startswith("    |"))
    assert "QuizWorld" in shown  # past the first 100 characters of its line
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        (item,) = store_rows(app, "skipped")
        app.journal.db.execute("UPDATE inbox_messages SET status = 'review' WHERE id = ?", (item,))
        app.journal.db.commit()
    result = inbox(runner, "--review", input="c\nn\n")
    assert result.exit_code == 0, result.output
    assert entry(reference).stored_state == "answered"
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        cause = follow.cause(app.journal, reference, app.registry.brokers["quizworld"])
    assert cause.kind == "source-named" and cause.organisation == "QuizWorld"
    assert cause.sender is None  # no "(courriel reçu de DataContact)"


def store_rows(app, status: str) -> list[int]:
    return [
        row[0]
        for row in app.journal.db.execute(
            "SELECT id FROM inbox_messages WHERE status = ?", (status,)
        )
    ]


def test_a_reply_dated_in_the_future_is_recorded_on_the_day_given_and_the_review_goes_on(
    runner, made, tmp_path
):
    datacontact, sondage = made["datacontact"]["reference"], made["sondage-express"]["reference"]
    future = message(
        "dpo@datacontact.example",
        f"Re: {datacontact}",
        "Merci de nous envoyer une copie de votre pièce d'identité.",
        day="Mon, 05 Oct 2099 10:00:00 +0200",
    )
    later = message(
        "rgpd@sondage-express.example",
        f"Re: {sondage}",
        "Merci de nous envoyer une copie de votre pièce d'identité.",
        day="Tue, 06 Oct 2026 10:00:00 +0200",
    )
    folder = tmp_path / "in"
    write(folder, "1-future.eml", future)
    write(folder, "2-later.eml", later)
    assert inbox(runner, str(folder)).exit_code == 0
    # confirm as dated (refused, said), then give the day it came, then the next message
    result = inbox(runner, "--review", input="c\nd\n2026-10-05\nc\nc\n")
    assert result.exit_code == 0, result.output
    assert "2099-10-05" in result.output
    assert entry(datacontact).stored_state == "id-requested"
    assert entry(datacontact).answered_on == date(2026, 10, 5)
    assert entry(sondage).stored_state == "id-requested"


@pytest.mark.parametrize(
    "words",
    [
        "Nous refusons de donner suite à votre demande, que nous estimons abusive.",
        "Votre demande, que nous jugeons abusive, ne sera pas traitée.",
    ],
)
def test_a_refusal_in_other_words_is_a_refusal(runner, made, tmp_path, words):
    reference = made["datacontact"]["reference"]
    refusal = message("dpo@datacontact.example", f"Re: {reference}", f"Bonjour,\n{words}\n")
    (outcome,) = read_json(runner, str(write(tmp_path / "in", "refusal.eml", refusal)))
    assert outcome["reference"] == reference and outcome["kind"] == "refusal"
