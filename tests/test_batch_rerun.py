"""A batch run again after its letters were posted, answered, bounced or complained
about: an e-mail queued by the first run never leaves once its request left another way
(real SMTP server, real journal, the real CLI)."""

from __future__ import annotations

import pypdf
import pytest

from dsar.cli import cli
from dsar.journal import Journal

from . import smtp_server
from .conftest import flat, ok, pdf_text, read_csv
from .test_batch import batch_args, member, sending, write_csv

# letters of 1 September 2026, posted, answered and complained about that autumn
pytestmark = pytest.mark.today("2026-12-03")


@pytest.fixture
def smtp():
    controller, recorder = smtp_server.start()
    yield controller, recorder
    controller.stop()


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
    with Journal(dsar_home / "journal.sqlite3") as journal:  # the complaint, filed
        [complaint] = journal.follow_ups(refs[2], "complaint")
    ok(runner.invoke(cli, ["sent", complaint.reference, "--on", "2026-12-03"]))

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


# ------------------------------------------------------------------ mandates


def mandate_args(association, out, path, *extra: str) -> list[str]:
    return ["mandate", "--association", str(association), "--out", str(out), *extra, str(path)]


def test_a_mandate_never_names_no_organisation(runner, tmp_path, association):
    """A sender dsar does not recognise and no --broker: the form's list « auprès des
    seuls organismes suivants » would be empty. The row is refused, counted, and named."""
    path = write_csv(
        tmp_path / "m.csv", [member(0), member(1, sms_sender="Assoc. Les Amis du 36111")]
    )
    out = tmp_path / "mandates"
    result = runner.invoke(cli, mandate_args(association, out, path))
    assert result.exit_code == 3, result.output
    assert "row 3, column sms_sender" in result.stderr and "--broker" in result.stderr
    assert "1 bad row(s) skipped" in result.stderr  # counted, as batch counts them
    assert sorted(p.name for p in out.iterdir()) == ["mandate-M-00000.pdf"]
    # named with --broker, the form lists the recipient and the sender as the message shows it
    ok(
        runner.invoke(
            cli, mandate_args(association, out, path, "--broker", "selfcontact", "--force")
        )
    )
    text = flat(pdf_text((out / "mandate-M-00001.pdf").read_bytes()))
    assert "Selfcontact" in text and "Assoc. Les Amis du 36111" in text


def test_a_batch_writes_only_to_an_organisation_the_mandate_names(runner, tmp_path, association):
    """dsar mandate without --broker names the party (Reconquête) only; a batch to
    Selfcontact under those mandates is refused row by row, saying how it knows."""
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    ok(runner.invoke(cli, mandate_args(association, tmp_path / "forms", path)))
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "pdf")
    args[args.index("renaissance")] = "selfcontact"
    result = runner.invoke(cli, args)
    assert result.exit_code == 3, result.output
    assert "row 2, column mandate_ref" in result.stderr and "names only reconquete" in (
        result.stderr
    )
    assert not list(out.glob("DSAR-*.pdf"))  # no letter under a mandate that does not cover it
    # the forms written again naming Selfcontact: the letters are written
    forms = tmp_path / "forms"
    ok(
        runner.invoke(
            cli, mandate_args(association, forms, path, "--broker", "selfcontact", "--force")
        )
    )
    ok(runner.invoke(cli, args))
    assert len(list(out.glob("DSAR-*.pdf"))) == 2


def test_the_unsigned_form_is_never_enclosed_as_a_signed_scan(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "renaissance")))
    # member 0's form scanned once signed (a new PDF, no mark); member 1's left unsigned
    scan = pypdf.PdfWriter(clone_from=forms / "mandate-M-00000.pdf")
    scan.metadata = None
    with (forms / "M-00000.pdf").open("wb") as handle:
        scan.write(handle)
    (forms / "mandate-M-00000.pdf").unlink()
    out = tmp_path / "out"
    result = runner.invoke(
        cli, batch_args(path, association, out, "--format", "email", "--mandates", str(forms))
    )
    assert result.exit_code == 0, result.output
    assert "mandate-M-00001.pdf is the unsigned form dsar mandate wrote" in flat(result.stderr)
    manifest = read_csv(out / "manifest.csv")
    assert manifest[0]["eml"] and manifest[1]["eml"] == ""
    assert manifest[1]["email_status"].startswith("held back")


def test_one_child_reads_every_member_s_scan_and_one_that_kills_it_costs_only_itself(
    runner, tmp_path, association, monkeypatch
):
    """Each member's scan was read by a child of its own (~80 ms to start: a batch with
    --mandates ran 10x slower than one without). One child reads them all now; a scan
    that kills it (as a hostile one makes qpdf crash: here a real SIGSEGV sent to the
    child) is read again by a child of its own, and the members after it are told apart
    as before."""
    import signal

    from dsar.render import outside

    path = write_csv(tmp_path / "m.csv", [member(i) for i in range(6)])
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "renaissance")))
    for signed in (1, 3, 5):  # scanned once signed: a new PDF, without dsar's mark
        scan = pypdf.PdfWriter(clone_from=forms / f"mandate-M-0000{signed}.pdf")
        scan.metadata = None
        with (forms / f"M-0000{signed}.pdf").open("wb") as handle:
            scan.write(handle)
    started, ask = [], outside.FormReader._ask

    def crashing(reader, scan):
        if scan.name == "M-00003.pdf":  # the child dies reading it
            reader._child.send_signal(signal.SIGSEGV)
            reader._child.wait()
        return ask(reader, scan)

    monkeypatch.setattr(outside.FormReader, "_ask", crashing)
    popen = outside.subprocess.Popen  # subprocess.run starts its child by it too

    def counting(command, *args, **kwargs):
        started.append(command[3])  # the child's command
        return popen(command, *args, **kwargs)

    monkeypatch.setattr(outside.subprocess, "Popen", counting)
    out = tmp_path / "out"
    result = runner.invoke(
        cli, batch_args(path, association, out, "--format", "email", "--mandates", str(forms))
    )
    assert result.exit_code == 0, result.output
    # a child for the scans, M-00003's alone again, a child for the scans after it
    assert started == ["forms", "form", "forms"]
    said = flat(result.stderr)
    for unsigned in (0, 2, 4):
        assert f"mandate-M-0000{unsigned}.pdf is the unsigned form" in said
    manifest = read_csv(out / "manifest.csv")
    assert [bool(row["eml"]) for row in manifest] == [False, True, False, True, False, True]


def annotated(form, subtype: str) -> None:
    """The form with an annotation of `subtype` added on its first page, as a PDF reader
    saves it (dsar's mark kept in the document information)."""
    import pikepdf

    with pikepdf.open(form, allow_overwriting_input=True) as document:
        note = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name(subtype),
            Rect=[100, 100, 200, 140],
            Contents=pikepdf.String("à voir"),
        )
        document.pages[0].Annots = document.make_indirect(pikepdf.Array([note]))
        document.save(form)


def test_a_note_on_the_form_is_no_signature_a_drawn_line_is(runner, tmp_path, association):
    """A sticky note, a highlight or a popup left on the unsigned form made it count as
    signed and go out as « mandat signé » (fourth read, attacker's 4): only a drawn, stamped
    or typed annotation (or a form field) is a signature on screen."""
    path = write_csv(tmp_path / "m.csv", [member(0), member(1), member(2)])
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "renaissance")))
    annotated(forms / "mandate-M-00000.pdf", "/Text")
    annotated(forms / "mandate-M-00001.pdf", "/Highlight")
    annotated(forms / "mandate-M-00002.pdf", "/Ink")
    out = tmp_path / "out"
    result = runner.invoke(
        cli, batch_args(path, association, out, "--format", "email", "--mandates", str(forms))
    )
    said = flat(result.stderr)
    assert "mandate-M-00000.pdf is the unsigned form" in said
    assert "mandate-M-00001.pdf is the unsigned form" in said
    assert "mandate-M-00002.pdf is the unsigned form" not in said
    manifest = read_csv(out / "manifest.csv")
    assert [bool(row["eml"]) for row in manifest] == [False, False, True]


def test_a_corrected_row_is_told_to_get_a_new_form(runner, tmp_path, association):
    """A row without mandate_ref gets its number from the phone: corrected, it has a new
    number, no form and no scan; the run says to write its form again."""
    path = write_csv(tmp_path / "m.csv", [member(0, mandate_ref=""), member(1, mandate_ref="")])
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "renaissance")))
    write_csv(
        path, [member(0, mandate_ref=""), member(1, mandate_ref="", phone="+33 6 99 88 77 66")]
    )
    result = runner.invoke(
        cli,
        batch_args(
            path, association, tmp_path / "o", "--format", "email", "--mandates", str(forms)
        ),
    )
    assert result.exit_code == 0, result.output
    assert "run dsar mandate again" in flat(result.stderr)


# ------------------------------------------------------------------ bounces


DSN = """\
Content-Type: multipart/report; report-type="delivery-status"; boundary="b0"
MIME-Version: 1.0
From: MAILER-DAEMON@smtp.halte-sms.example (Mail Delivery System)
To: droits@halte-sms.example
Subject: Undelivered Mail Returned to Sender
Date: Thu, 03 Dec 2026 10:05:00 +0100
Message-ID: <{n}-bounce@smtp.halte-sms.example>
Auto-Submitted: auto-replied

--b0
Content-Type: text/plain; charset="utf-8"

Your message could not be delivered to <mes-donnees@parti-renaissance.fr>: 550 5.1.1

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; smtp.halte-sms.example

Final-Recipient: rfc822; mes-donnees@parti-renaissance.fr
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b0
Content-Type: message/rfc822

From: droits@halte-sms.example
To: mes-donnees@parti-renaissance.fr
Subject: request
Date: Thu, 03 Dec 2026 10:00:00 +0100
Message-ID: {message_id}

(the request)

--b0--
"""


def test_a_bounce_stops_only_the_e_mail_that_bounced(
    runner, tmp_path, association, dsar_home, smtp
):
    controller, _recorder = smtp
    from .conftest import parse_eml

    # member 0: the letter posted, its e-mail never sent (still queued)
    path = write_csv(tmp_path / "m.csv", [member(0)])
    posted = tmp_path / "posted"
    ok(
        runner.invoke(
            cli,
            batch_args(path, association, posted, "--format", "pdf,email", "--date", "2026-11-20"),
        )
    )
    ok(runner.invoke(cli, ["sent", "--from-manifest", str(posted), "--on", "2026-11-23"]))
    # member 1: e-mailed only, by the batch
    other = write_csv(tmp_path / "o.csv", [member(1)])
    mailed = tmp_path / "mailed"
    args = batch_args(other, association, mailed, "--format", "email", "--date", "2026-11-20")
    ok(runner.invoke(cli, [*args, *sending(controller.port)]))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    refs = {}
    for n, folder in enumerate((posted, mailed)):
        [row] = read_csv(folder / "manifest.csv")
        refs[folder.name] = row["reference"]
        message_id = parse_eml((folder / row["eml"]).read_bytes())["Message-ID"]
        (inbox / f"{n}.eml").write_text(DSN.format(n=n, message_id=message_id))

    dry = runner.invoke(cli, ["inbox", str(inbox), "--dry-run"])
    real = runner.invoke(cli, ["inbox", str(inbox)])
    assert dry.exit_code == 0 and real.exit_code == 0, dry.output + real.output
    summary = [line for line in real.stdout.splitlines() if line.startswith("in all")]
    assert summary and summary == [
        line for line in dry.stdout.splitlines() if line.startswith("in all")
    ]  # the dry run counts as the real run does
    with Journal(dsar_home / "journal.sqlite3") as journal:
        letter = journal.entry(refs["posted"])
        assert letter.stored_state == "sent" and letter.sent_on.isoformat() == "2026-11-23"
        assert not journal.files(refs["posted"], "reply")  # our own message is no reply
        email = journal.entry(refs["mailed"])
        assert email.stored_state == "undelivered"
        assert journal.files(refs["mailed"], "bounce") and not journal.files(
            refs["mailed"], "reply"
        )


# ------------------------------------------------------------------ counts and next steps


def test_next_steps_and_dates_say_what_remains(runner, tmp_path, association, dsar_home):
    path = write_csv(tmp_path / "m.csv", [member(0)])
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "pdf", "--date", "2026-09-01")
    assert "Next: post the 1 printed letter(s)" in ok(runner.invoke(cli, args)).stdout
    ok(runner.invoke(cli, ["sent", "--from-manifest", str(out), "--on", "2026-09-02"]))
    again = ok(runner.invoke(cli, args))
    assert "Next: post" not in again.stdout and "recorded as sent or posted" in again.stdout
    # reminded: the CSV's deadline is the table's, the final one the days left count to
    [row] = read_csv(out / "manifest.csv")
    reminded = ok(runner.invoke(cli, ["remind", row["reference"], "--format", "pdf"]))
    assert list(out.glob("*relance*.pdf"))  # beside the request's letter, not ./letters/
    reminder = next(
        w for w in reminded.stdout.split() if w.startswith("DSAR-") and w != row["reference"]
    )
    ok(runner.invoke(cli, ["sent", reminder.strip(".,:;"), "--on", "2026-12-03"]))
    import json

    shown = json.loads(ok(runner.invoke(cli, ["status", "--json"])).stdout)
    due = next(r["due"] for r in shown["requests"] if r["reference"] == row["reference"])
    written = ok(runner.invoke(cli, ["status", "--csv", str(tmp_path / "s.csv")]))
    assert written.stdout.strip() == f"wrote {tmp_path / 's.csv'}"  # no table on screen
    [line] = [r for r in read_csv(tmp_path / "s.csv") if r["reference"] == row["reference"]]
    assert line["deadline"] == due


def test_a_draft_without_any_contact_is_not_said_to_be_posted(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0)])
    args = batch_args(path, association, tmp_path / "o", "--format", "pdf,email")
    args[args.index("renaissance")] = "selfcontact"  # no e-mail, no postal address
    ok(runner.invoke(cli, [*args, "--broker", "selfcontact"]))
    [row] = read_csv(tmp_path / "o" / "manifest.csv")
    assert (
        row["email_status"].startswith("draft to complete") and "to post" not in row["email_status"]
    )


def test_a_batch_s_reminders_are_written_once_printed_and_posted(
    runner, tmp_path, association, dsar_home
):
    """New user, item 5: dsar remind --batch DIR writes a reminder for each request of the
    batch overdue, with a print file and a manifest; a rerun writes none twice."""
    path = write_csv(tmp_path / "m.csv", [member(i) for i in range(3)])
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "pdf", "--date", "2026-09-01")
    ok(runner.invoke(cli, args, catch_exceptions=False))
    refs = [row["reference"] for row in read_csv(out / "manifest.csv")]
    ok(runner.invoke(cli, ["sent", "--from-manifest", str(out), "--on", "2026-09-02"]))
    ok(runner.invoke(cli, ["answer", refs[0], "--state", "answered", "--on", "2026-09-20"]))

    done = ok(runner.invoke(cli, ["remind", "--batch", str(out), "--on", "2026-12-03"]))
    reminders = out / "reminders"
    rows = read_csv(reminders / "manifest.csv")
    assert len(rows) == 2  # the answered request gets none
    text = flat(pdf_text((reminders / "print-duplex.pdf").read_bytes()))
    for original in refs[1:]:
        assert original in text  # each reminder cites its request
    assert refs[0] not in text
    assert "dsar sent --from-manifest" in done.stdout
    again = ok(runner.invoke(cli, ["remind", "--batch", str(out), "--on", "2026-12-03"]))
    assert "2 reminder(s) (2 written by an earlier run)" in again.stdout
    with Journal(dsar_home / "journal.sqlite3") as journal:
        for original in refs[1:]:
            assert len(journal.follow_ups(original, "reminder")) == 1  # exactly once
    posted = ["sent", "--from-manifest", str(reminders), "--on", "2026-12-03"]
    ok(runner.invoke(cli, posted))
    with Journal(dsar_home / "journal.sqlite3") as journal:
        assert {journal.stored_state(r["reference"]) for r in rows} == {"sent"}
    # neither a reference nor --batch: a usage error
    assert runner.invoke(cli, ["remind"]).exit_code == 2


def test_letters_e_mailed_by_this_run_are_neither_printed_nor_labelled(
    runner, tmp_path, association, smtp
):
    """--format pdf,email,labels --send: the print file and the labels were made before
    the e-mails left, and kept every letter the same run e-mailed (the third review's
    attacker, finding 2): printed, it went out twice. A member whose e-mail is held back
    (no signed scan) is not printed either: its letter says the scan is enclosed."""
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "renaissance")))
    scan = pypdf.PdfWriter(clone_from=forms / "mandate-M-00000.pdf")
    scan.metadata = None  # member 0's signed scan; member 1's form left unsigned
    with (forms / "M-00000.pdf").open("wb") as handle:
        scan.write(handle)
    out = tmp_path / "out"
    args = batch_args(
        path, association, out, "--format", "pdf,email,labels", "--mandates", str(forms)
    )
    args += sending(controller.port)
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert len(recorder.messages) == 1  # member 0's
    assert not (out / "print-duplex.pdf").exists() and read_csv(out / "labels.csv") == []
    assert [row["pdf"] != "" for row in read_csv(out / "manifest.csv")] == [True, True]


def test_a_row_corrected_into_a_bad_row_takes_its_earlier_letter_out_of_the_run(
    runner, tmp_path, association, smtp
):
    """A member's mandate date corrected to a day after the letter: the rerun made the row
    a bad row, but kept the earlier letter as one « not in this CSV », in the print file,
    and --send sent its queued e-mail, claiming the mandate of the old date (the third
    review's attacker, finding 3)."""
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    out = tmp_path / "out"
    args = batch_args(
        path, association, out, "--format", "pdf,email,labels", "--date", "2026-12-01"
    )
    ok(runner.invoke(cli, args))  # two letters, two e-mails queued
    write_csv(path, [member(0), member(1, mandate_date="2026-12-15")])
    result = runner.invoke(cli, [*args, *sending(controller.port)])
    assert result.exit_code == 3, result.output  # a bad row
    assert len(recorder.messages) == 1
    manifest = read_csv(out / "manifest.csv")
    assert [r["email_status"] for r in manifest if r["member"] == "Membre 0"] == ["sent"]
    assert [row["member"] for row in manifest].count("Membre 1") == 1
    assert "not in this CSV" not in flat(result.stderr + result.stdout)
    # member 0's letter was e-mailed, member 1's is out: nothing to print, no label
    assert not (out / "print-duplex.pdf").exists()
    assert read_csv(out / "labels.csv") == []
    # corrected back, the member's letter is made and queued again
    write_csv(path, [member(0), member(1)])
    again = runner.invoke(cli, [*args, *sending(controller.port)])
    assert again.exit_code == 0, again.output
    assert len(recorder.messages) == 2


def test_a_letter_saying_the_mandate_is_enclosed_is_not_printed_without_its_scan(
    runner, tmp_path, association
):
    """--mandates given, one member's scan missing: the e-mail was held back but the PDF
    went into the print file saying « mandat … joint » and « Pièce jointe : mandat signé »
    (the third review's lawyer, finding 6; LEGAL.md: enclosed only when it is)."""
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "renaissance")))
    scan = pypdf.PdfWriter(clone_from=forms / "mandate-M-00001.pdf")
    scan.metadata = None  # member 1's signed scan; member 0's form never came back
    with (forms / "M-00001.pdf").open("wb") as handle:
        scan.write(handle)
    (forms / "mandate-M-00000.pdf").unlink()
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "pdf,labels", "--mandates", str(forms))
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "1 letter(s) not printed nor labelled" in flat(result.stderr)
    assert "(M-00000)" in flat(result.stderr)
    printed = flat(pdf_text((out / "print-duplex.pdf").read_bytes()))
    assert "Pour Membre 1" in printed and "Pour Membre 0" not in printed
    assert [row["member"] for row in read_csv(out / "labels.csv")] == ["Membre 1"]


def test_a_posting_recorded_from_a_folder_whose_letter_was_written_again_elsewhere_is_refused(
    runner, tmp_path, association
):
    """A batch run into out/, then again into out-aout/ dated 1 August: the request was
    remade there and the journal holds that letter; dsar sent --from-manifest out/ recorded
    the stale folder's posting, and the dossier showed a letter other than the one posted
    (the third review's new user, finding 1)."""
    path = write_csv(tmp_path / "m.csv", [member(0)])
    first, second = tmp_path / "out", tmp_path / "out-aout"
    ok(runner.invoke(cli, batch_args(path, association, first, "--date", "2026-12-01")))
    ok(runner.invoke(cli, batch_args(path, association, second, "--date", "2026-08-01")))
    stale = runner.invoke(
        cli, ["sent", "--from-manifest", str(first / "manifest.csv"), "--on", "2026-12-03"]
    )
    assert stale.exit_code != 0
    assert f"written again in {second}" in flat(stale.output)
    [row] = read_csv(first / "manifest.csv")
    assert state_of(runner, row["reference"]) == "draft"
    ok(
        runner.invoke(
            cli, ["sent", "--from-manifest", str(second / "manifest.csv"), "--on", "2026-12-03"]
        )
    )
    assert state_of(runner, row["reference"]) == "sent"


def state_of(runner, reference: str) -> str:
    import json

    shown = ok(runner.invoke(cli, ["show", reference, "--json"])).stdout
    return json.loads(shown)["state"]


def test_a_letter_dated_after_today_is_never_e_mailed_today(runner, tmp_path, association, smtp):
    """--date 2027-07-01 --send: the e-mail left on 3 December 2026 with its Date header of
    that day and a letter dated July; dsar show listed « sent » before « generated » (the
    third review's attacker, finding 4)."""
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0)])
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "email", "--date", "2027-07-01")
    refused = runner.invoke(cli, [*args, *sending(controller.port)])
    assert refused.exit_code == 2 and "after today" in flat(refused.stderr)
    assert recorder.messages == [] and not out.exists()


def test_dsar_mandate_run_again_after_fixing_rows_writes_the_rest(runner, tmp_path, association):
    """The README's dsar mandate without --broker: a row whose sender dsar does not know
    (« Marion Maréchal ») was a bad row told to rewrite the sender (evidence); fixed and
    run again, the command stopped on the first row's form « already exists; use --force »
    and wrote nothing (the third review's new user, finding 7)."""
    text = "Le 9 juin, votez pour la liste de Marion Maréchal. STOP au 36111"
    rows = [member(0), member(1, sms_sender="Marion Maréchal", sms_text=text)]
    path = write_csv(tmp_path / "m.csv", rows)
    forms = tmp_path / "forms"
    first = runner.invoke(cli, mandate_args(association, forms, path))
    assert first.exit_code == 3
    said = flat(first.stderr)
    assert "broker column (Destinataire)" in said and "it is evidence" in said
    assert "dsar identify reads this message as Reconquête's: broker column reconquete" in said
    kept = (forms / "mandate-M-00000.pdf").read_bytes()
    write_csv(path, [member(0), member(1, sms_sender="Marion Maréchal", sms_text=text,
                                          broker="reconquete")])  # fmt: skip
    again = runner.invoke(cli, mandate_args(association, forms, path))
    assert again.exit_code == 0, again.output
    assert (
        "wrote 1 mandate form(s)" in again.stdout and "1 written by an earlier run" in again.stdout
    )
    assert (forms / "mandate-M-00001.pdf").is_file()
    assert (forms / "mandate-M-00000.pdf").read_bytes() == kept


def test_a_scan_that_stalls_the_reader_costs_its_time_limit_once(tmp_path, monkeypatch):
    """A file that stalled the shared child waited the wall-clock limit there, then as
    long again in a child of its own (second read of the third review): stalled, it is
    not a form, asked once; the next file gets a fresh child."""
    import signal

    from dsar import mandates
    from dsar.render import outside

    monkeypatch.setattr(outside, "WALL_SECONDS", 1)
    blank = pypdf.PdfWriter()
    blank.add_blank_page(595, 842)
    scan = tmp_path / "scan.pdf"
    with scan.open("wb") as handle:
        blank.write(handle)
    started = []
    popen = outside.subprocess.Popen

    def counting(command, *args, **kwargs):
        started.append(command[3])
        return popen(command, *args, **kwargs)

    monkeypatch.setattr(outside.subprocess, "Popen", counting)
    with mandates.form_reader() as reader:
        assert reader.is_form(scan) is False  # the child started and answered
        reader._child.send_signal(signal.SIGSTOP)  # then hangs on the next file
        assert reader.is_form(scan) is False
        assert reader.is_form(scan) is False  # a fresh child for the file after
    assert started == ["forms", "forms"]


def test_a_row_made_unreadable_takes_its_earlier_letter_out_of_the_run(
    runner, tmp_path, association, smtp
):
    """The same as a mandate date corrected wrong, for a cell the reading refuses (an SMS
    date « 2024-13-45 »): the earlier letter was kept as one of a member « not in this
    CSV » and --send sent it (second read of today's fixes, finding 1)."""
    controller, recorder = smtp
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "email", "--date", "2026-12-01")
    ok(runner.invoke(cli, args))
    write_csv(path, [member(0), member(1, sms_date="2024-13-45")])
    result = runner.invoke(cli, [*args, *sending(controller.port)])
    assert result.exit_code == 3, result.output
    assert len(recorder.messages) == 1
    assert "not in this CSV" not in flat(result.stderr + result.stdout)
    manifest = read_csv(out / "manifest.csv")
    assert [row["member"] for row in manifest].count("Membre 1") == 1
