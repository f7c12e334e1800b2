"""Mass requests under mandate: bad rows, outputs, and sending that survives SIGKILL."""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pypdf
import pytest

from dsar import batch, members
from dsar.cli import cli
from dsar.journal import Journal

from . import smtp_server
from .conftest import ASSOCIATION, flat, ok, parse_eml, pdf_text, read_csv, scan_of

HEADER = list(members.COLUMNS)  # the English column names


def member(i: int, **changes) -> list[str]:
    row = {
        "name": f"Membre {i}",
        "address": f"{i} rue des Lilas\n75011 Paris",
        "phone": f"+33 6 {10 + i // 10000:02d} {i // 100 % 100:02d} {i % 100:02d} 00"[:17],
        "email": f"membre{i}@example.org",
        "sms_date": "2024-06-06",
        "sms_sender": "Reconquête",
        "sms_text": "Le 9 juin, votez ; STOP au 36111",
        "broker": "",
        "mandate_date": "2025-11-01",  # before every letter the tests date
        "mandate_ref": f"M-{i:05d}",
    }
    row.update(changes)
    return [row[c] for c in HEADER]


def write_csv(path: Path, rows: list[list[str]], delimiter=";", bom=True, tail: str = "") -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows([HEADER, *rows])
        handle.write(tail)
    return path


def with_open_quote(path: Path, before: int, after: int) -> Path:
    """`before` members, a row whose quote is never closed, `after` members more; no cell
    needs quoting, so the open quote takes in every row after it."""
    plain = {"address": "1 rue des Lilas 75011 Paris", "sms_text": "Votez. STOP au 36111"}
    rows = [member(i, **plain) for i in range(before + after)]
    write_csv(path, rows[:before])
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write('Oops;"12 rue sans fin;0611111111;;;;;;2026-11-01;M-OPEN\n')
        csv.writer(handle, delimiter=";").writerows(rows[before:])
    return path


def batch_args(path: Path, association: Path, out: Path, *extra: str) -> list[str]:
    # e-mails without signed scans are held back: these tests send them, the mandate
    # offered on request (test_signed_mandate_is_attached_to_the_email gives the scans)
    if any("email" in x for x in extra) and "--mandates" not in extra:
        extra = (*extra, "--mandate-on-request")
    return [
        "batch",
        str(path),
        "--broker",
        "renaissance",
        "--association",
        str(association),
        "--out",
        str(out),
        *extra,
    ]


def test_bad_rows_are_reported_and_good_rows_done(runner, tmp_path, association):
    rows = [member(i) for i in range(6)]
    rows[1] = member(1, phone="")  # row 3
    rows[2] = member(2, email="camille@")  # row 4
    rows[3] = member(3, broker="nobody")  # row 5
    rows[4] = member(4, sms_date="2024-02-30")  # row 6
    # row 8: text after a closing quote (a quote open at the end of the file stops the
    # run instead: test_hostile_inputs)
    tail = 'Broken;"5 rue"x;0611111111;;;;;;2026-11-01;M-BROKEN\n'
    path = write_csv(tmp_path / "members.csv", rows, tail=tail)
    out = tmp_path / "out"
    scans = tmp_path / "scans"  # the signed mandates: an e-mail without one is held back
    scans.mkdir()
    for i in range(6):
        (scans / f"M-{i:05d}.pdf").write_bytes(b"%PDF-1.4 signed")
    args = batch_args(path, association, out, "--workers", "1", "--mandates", str(scans))
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 3
    err = result.stderr
    assert "row 3, column phone: empty; it is required" in err
    assert "row 4, column email: 'camille@' is not a valid e-mail address" in err
    assert "row 5, column broker: unknown broker 'nobody'" in err
    assert "row 6, column sms_date: '2024-02-30' is not a date" in err
    assert "row 8, column -: broken quoting" in err
    assert "2 request(s)" in result.stdout and "5 bad row(s) skipped" in result.stdout
    assert "CSV rows" in err and "7/7" in err  # the bar counts rows, bad ones too, and says so

    manifest = list(read_csv(out / "manifest.csv"))
    assert [m["row"] for m in manifest] == ["2", "3", "4", "5", "6", "7", "8"]  # bad rows too
    manifest = [m for m in manifest if m["reference"]]
    assert [m["row"] for m in manifest] == ["2", "7"]
    pdf = out / manifest[0]["pdf"]
    text = flat(pdf_text(pdf.read_bytes()))
    assert "L’Association Halte aux SMS vous écrit pour moi en vertu de mon mandat" in text
    assert "n° M-00000" in text and "mandat signé (M-00000)" in text and "art. 1984" in text
    assert "2021-070" in text and "droits@halte-sms.example" in text
    assert "80(1)" not in text  # the association does not say it qualifies
    message = parse_eml((out / manifest[0]["eml"]).read_bytes())
    assert message["From"].addresses[0].addr_spec == "droits@halte-sms.example"
    assert message["To"].addresses[0].addr_spec == "mes-donnees@parti-renaissance.fr"

    duplex = pypdf.PdfReader(out / "print-duplex.pdf")
    first = len(pypdf.PdfReader(pdf).pages)
    assert len(duplex.pages) % 2 == 0 and len(duplex.pages) >= 2 * first
    assert "M-00005" in duplex.pages[first + first % 2].extract_text()  # 2nd letter on an odd page


def test_print_volumes_hold_the_letters_in_row_order(runner, tmp_path, association, monkeypatch):
    # a volume per VOLUME letters, each holding its own rows, in order; chunks of two
    # letters go to the worker processes and each volume is joined once its rows are done
    monkeypatch.setattr(batch, "VOLUME", 2)
    monkeypatch.setattr(batch, "CHUNK", 2)
    path = write_csv(tmp_path / "members.csv", [member(i) for i in range(5)])
    out = tmp_path / "out"
    result = runner.invoke(
        cli, batch_args(path, association, out, "--format", "pdf"), catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert not (out / "print-duplex.pdf").exists()
    volumes = sorted(out.glob("print-duplex-*.pdf"))
    assert [v.name for v in volumes] == [f"print-duplex-00{n}.pdf" for n in (1, 2, 3)]
    manifest = list(read_csv(out / "manifest.csv"))
    pages = len(pypdf.PdfReader(out / manifest[0]["pdf"]).pages)
    starts = [0, pages + pages % 2]  # each letter on a right-hand page
    refs = iter(f"M-{i:05d}" for i in range(5))
    for volume, count in zip(volumes, (2, 2, 1), strict=True):
        reader = pypdf.PdfReader(volume)
        assert len(reader.pages) == count * (pages + pages % 2)
        for start in starts[:count]:
            assert next(refs) in reader.pages[start].extract_text()


def test_print_volumes_keep_row_order_when_recipients_differ_in_kind(
    runner, tmp_path, association, monkeypatch
):
    # letters wait in a chunk per annex (a party's, a broker's): their chunks are laid out
    # out of row order, and a volume is joined only once all its rows are written
    monkeypatch.setattr(batch, "VOLUME", 2)
    monkeypatch.setattr(batch, "CHUNK", 2)
    monkeypatch.setattr(batch, "_in_process", lambda options: True)
    kinds = ["renaissance", "tagadamedia", "renaissance", "renaissance", "tagadamedia"]
    rows = [member(i, broker=slug) for i, slug in enumerate(kinds)]
    path = write_csv(tmp_path / "members.csv", rows)
    out = tmp_path / "out"
    ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    volumes = sorted(out.glob("print-duplex-*.pdf"))
    assert len(volumes) == 3
    refs = [f"M-{i:05d}" for i in range(5)]
    found = []  # each volume's members, in the order its pages name them
    for volume in volumes:
        text = flat(pdf_text(volume.read_bytes()))
        found.append(sorted((ref for ref in refs if ref in text), key=text.index))
    assert found == [["M-00000", "M-00001"], ["M-00002", "M-00003"], ["M-00004"]]


def test_a_run_that_stops_leaves_no_print_volume(runner, tmp_path, association, monkeypatch):
    # volumes are joined while the run goes on; one covering the first rows of a run that
    # then stops would be printed now, and printed again with the rerun's volumes
    monkeypatch.setattr(batch, "VOLUME", 2)
    monkeypatch.setattr(batch, "CHUNK", 1)  # each letter written as soon as it is read
    monkeypatch.setattr(batch, "_in_process", lambda options: True)
    rows = [member(i) for i in range(4)] + [member(4, phone="12")]
    path = write_csv(tmp_path / "members.csv", rows)
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--format", "pdf", "--strict")
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "row 6, column phone" in result.stderr, result.output
    assert len(list(out.glob("DSAR-*.pdf"))) == 4  # the letters before the bad row
    assert sorted(p.name for p in out.glob("*print-duplex*")) == []  # nor a hidden one
    # the rerun without the bad row: every volume, under its own name
    path = write_csv(tmp_path / "members.csv", rows[:4])
    ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    volumes = sorted(p.name for p in out.glob("*print-duplex*"))
    assert volumes == ["print-duplex-001.pdf", "print-duplex-002.pdf"]


def test_a_rerun_with_fewer_members_leaves_no_stale_print_volume(
    runner, tmp_path, association, monkeypatch
):
    # the members who withdrew are taken out of the CSV and the batch is run again in the
    # same folder: a volume of the first run left there would still post their letters
    monkeypatch.setattr(batch, "VOLUME", 2)
    monkeypatch.setattr(batch, "_in_process", lambda options: True)
    out = tmp_path / "out"
    path = write_csv(tmp_path / "members.csv", [member(i) for i in range(5)])
    ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    assert len(list(out.glob("print-duplex-*.pdf"))) == 3
    (out / "print-duplex.txt").write_text("the person's own notes")  # not a print file
    # the letters of the members who withdrew are forgotten: the folder's files drop them
    for row in read_csv(out / "manifest.csv")[2:]:
        ok(runner.invoke(cli, ["forget", row["reference"]]))
    path = write_csv(tmp_path / "members.csv", [member(i) for i in range(2)])
    result = ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    assert sorted(p.name for p in out.glob("*print-duplex*")) == [
        "print-duplex.pdf",
        "print-duplex.txt",
    ]
    assert "print-duplex.pdf" in result.stdout
    text = flat(pdf_text((out / "print-duplex.pdf").read_bytes()))
    assert "M-00001" in text and "M-00002" not in text


def test_a_posted_letter_moved_out_of_the_folder_is_not_needed_again(
    runner, tmp_path, association, dsar_home
):
    # posted, recorded, its PDF moved to an archive; then the batch is run again: a
    # posted letter is printed no more (it stopped the run, the print file wanting it)
    path = write_csv(tmp_path / "members.csv", [member(i) for i in range(2)])
    out = tmp_path / "out"
    ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    today = date.today().isoformat()
    ok(runner.invoke(cli, ["sent", "--from-manifest", str(out / "manifest.csv"), "--on", today]))
    gone = sorted(out.glob("DSAR-*.pdf"))[0]
    gone.rename(tmp_path / gone.name)
    result = ok(runner.invoke(cli, batch_args(path, association, out, "--format", "pdf")))
    assert not list(out.glob("print-duplex*")) and not (out / gone.name).exists()
    assert "recorded as sent or posted" in result.stdout


def test_members_are_counted_as_the_csv_reader_reads_them(tmp_path):
    # a batch of at most one chunk is laid out in this process, without recycling: a
    # file of many members must never pass for a few, whatever its line ends
    def csv_file(name: str, count: int, lineterminator: str = "\r\n", **changes) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator=lineterminator)
            writer.writerows([HEADER, *(member(i, **changes) for i in range(count))])
        return path

    # old Mac line ends: not one \n in the file, which members.read reads whole
    lone_cr = csv_file("lone-cr.csv", 300, "\r", address="1 rue des Lilas, 75011 Paris")
    assert b"\n" not in lone_cr.read_bytes()
    assert len([m for m in members.read(lone_cr) if isinstance(m, members.Member)]) == 300
    assert members.count(lone_cr) == 300 > batch.CHUNK
    # a two-line address is one member, not two
    assert members.count(csv_file("twenty.csv", 20)) == 20 == batch.CHUNK
    assert members.count(csv_file("twenty-one.csv", 21)) == 21
    # App.batch hands its count to the run, which decides by it
    options = batch.BatchOptions(None, None, tmp_path, ("pdf",), members=20)
    assert batch._in_process(options)
    assert not batch._in_process(dataclasses.replace(options, members=21))
    assert not batch._in_process(dataclasses.replace(options, members=None))  # not counted


def test_a_members_csv_that_is_a_pipe_is_refused_by_name(runner, tmp_path, association):
    fifo = tmp_path / "members.csv"
    os.mkfifo(fifo)  # what <(...) gives: it could be read only once
    result = runner.invoke(cli, batch_args(fifo, association, tmp_path / "out"))
    assert result.exit_code == 1 and "not a file; save the members' CSV" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_file_not_in_utf8_is_refused_before_any_work(runner, tmp_path, association):
    path = write_csv(tmp_path / "members.csv", [member(i) for i in range(300)])
    with path.open("ab") as handle:  # a Latin-1 row far past the first read block
        handle.write("Hélène;x;0611111111;;;;;;2026-11-01;M-LATIN\n".encode("latin-1"))
    out = tmp_path / "out"
    result = runner.invoke(cli, batch_args(path, association, out), catch_exceptions=False)
    assert result.exit_code == 1
    # judged UTF-8 from its start, the byte further on is named, with what to do
    assert "read as UTF-8" in result.stderr and "byte" in result.stderr
    assert "save it from your spreadsheet as 'CSV UTF-8'" in result.stderr
    assert not out.exists()


def test_strict_stops_at_first_bad_row(runner, tmp_path, association):
    path = write_csv(
        tmp_path / "m.csv", [member(0, phone="12"), member(1)], delimiter=",", bom=False
    )
    result = runner.invoke(
        cli, batch_args(path, association, tmp_path / "o", "--strict", "--format", "email")
    )
    assert (
        result.exit_code == 1
        and "row 2, column phone" in result.stderr
        and "--strict" in result.stderr
    )


def test_rerun_does_nothing_twice(runner, tmp_path, association, dsar_home):
    path = write_csv(tmp_path / "m.csv", [member(i) for i in range(3)])
    args = batch_args(path, association, tmp_path / "o", "--format", "email")
    args.append("--mandate-on-request")
    assert runner.invoke(cli, args, catch_exceptions=False).exit_code == 0
    again = runner.invoke(cli, args, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "3 request(s) (3 already done by an earlier run)" in again.stdout
    with Journal(dsar_home / "journal.sqlite3") as journal:
        assert journal.outbox_counts() == {"queued": 3}


def test_mandate_forms(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0), member(1, phone="")])
    out = tmp_path / "mandates"
    result = runner.invoke(
        cli,
        ["mandate", "--association", str(association), "--out", str(out), str(path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 3, result.output  # a bad row, as batch says it
    assert "wrote 1 mandate form(s)" in result.stdout and "row 3, column phone" in result.stderr
    assert re.search(r"mandate forms .* 1/1", result.stderr)  # progress, as a batch's (item 3)
    text = flat(pdf_text((out / "mandate-M-00000.pdf").read_bytes()))
    for expected in (
        "Membre 0",
        "Association Halte aux SMS",
        "Dominique Durand",
        "art. 15",
        "article 1984 du Code civil",
        "Reconquête",  # the party the message names: a controller the member authorises
        "deux ans",
        "2021-070",
        "Bon pour mandat",
    ):
        assert expected in text, expected
    assert "80(1)" not in text  # association.yaml does not say it qualifies
    ok(runner.invoke(cli, ["mandate", "--association", str(association), "--out", str(out)]))
    assert "Fait à" in pdf_text((out / "mandate-blank.pdf").read_bytes())


# ------------------------------------------------------------------ sending


def sending(port: int, *extra: str) -> list[str]:
    """--send to the test server, as fast as it takes them."""
    return [
        *("--send", "--smtp-host", "127.0.0.1", "--smtp-port", str(port)),
        *("--smtp-security", "none", "--rate", "0", "--retry-backoff", "0.05"),
        *extra,
    ]


def batch_command(csv_path, association, out, port, *extra):
    """The real CLI in its own process, sending to the test server."""
    return [
        sys.executable,
        "-m",
        "dsar",
        *batch_args(csv_path, association, out, "--format", "email", *sending(port, *extra)),
    ]


@pytest.fixture
def smtp():
    controller, recorder = smtp_server.start()
    yield controller, recorder
    controller.stop()


def test_sigkill_midway_then_rerun_sends_each_exactly_once(tmp_path, association, smtp, dsar_home):
    controller, recorder = smtp
    members_csv = write_csv(tmp_path / "members.csv", [member(i) for i in range(100)])
    command = batch_command(members_csv, association, tmp_path / "out", controller.port)
    env = {**os.environ, "DSAR_HOME": str(dsar_home)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    arrived = recorder.wait_for(30, timeout=120)  # the server saw 30 e-mails: kill mid-send
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = recorder.count
    assert arrived and 30 <= killed_at < 100, killed_at  # it really was killed partway

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert len(recorder.received) == 100
    assert set(recorder.received.values()) == {1}, "an e-mail arrived twice"
    with Journal(dsar_home / "journal.sqlite3") as journal:
        counts = journal.outbox_counts()
    # one message may have been on the wire when the kill came: recorded as handed over,
    # never sent again, shown as unconfirmed
    assert counts.get("sent", 0) + counts.get("handed-over", 0) == 100 and len(counts) <= 2


def test_451_550_and_a_dropped_connection(tmp_path, association, smtp, dsar_home):
    controller, recorder = smtp
    rows = [member(i) for i in range(30)]
    members_csv = write_csv(tmp_path / "members.csv", rows)
    # every member writes to Renaissance, so the server's answers steer by recipient
    recorder.temporary["mes-donnees@parti-renaissance.fr"] = 3  # three 451s, then accepted
    recorder.drop_once.add("mes-donnees@parti-renaissance.fr")
    env = {**os.environ, "DSAR_HOME": str(dsar_home)}
    result = subprocess.run(
        batch_command(members_csv, association, tmp_path / "out", controller.port),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(recorder.received) == 30 and set(recorder.received.values()) == {1}
    assert (
        recorder.drop_once == set() and recorder.temporary["mes-donnees@parti-renaissance.fr"] == 0
    )
    with Journal(dsar_home / "journal.sqlite3") as journal:  # the retries were real
        retried = journal.db.execute("SELECT count(*) FROM outbox WHERE attempts > 1").fetchone()[0]
        assert retried >= 1 and journal.outbox_counts() == {"sent": 30}

    # now the server refuses for good: every request is marked failed with its words
    recorder.permanent.add("mes-donnees@parti-renaissance.fr")
    more = write_csv(tmp_path / "more.csv", [member(i) for i in range(100, 103)])
    result = subprocess.run(
        batch_command(more, association, tmp_path / "out2", controller.port),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 3 and "3 failed" in result.stdout
    manifest = list(read_csv(tmp_path / "out2" / "manifest.csv"))
    assert all(
        m["email_status"].startswith("failed: 550 5.1.1 mailbox unavailable") for m in manifest
    )
    assert len(recorder.received) == 30


def test_signed_mandate_is_attached_to_the_email(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0), member(1)])
    scans = tmp_path / "signed"
    ok(
        runner.invoke(
            cli,
            ["mandate", "--association", str(association), "--out", str(scans), str(path)]
            + ["--broker", "renaissance"],  # the recipient the batch writes to, named
            catch_exceptions=False,
        )
    )
    scan_of(scans / "mandate-M-00000.pdf", scans / "M-00000.pdf")  # the signed form, scanned
    (scans / "mandate-M-00000.pdf").unlink()
    (scans / "mandate-M-00001.pdf").unlink()  # not signed yet
    out = tmp_path / "o"
    result = runner.invoke(
        cli,
        batch_args(path, association, out, "--format", "email", "--mandates", str(scans)),
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    # the member without a signed scan is held back, not told "enclosed"
    assert "1 e-mail(s) held back, not sent: no signed mandate scan to enclose (M-00001)" in (
        result.stderr
    )
    manifest = list(read_csv(out / "manifest.csv"))
    signed = parse_eml((out / manifest[0]["eml"]).read_bytes())
    [attachment] = list(signed.iter_attachments())
    assert attachment.get_filename() == "mandat-M-00000.pdf"
    assert "Membre 0" in pdf_text(attachment.get_content())
    assert "(n° M-00000, joint" in flat(signed.get_body(("plain",)).get_content())
    assert manifest[1]["eml"] == "" and manifest[1]["email_status"].startswith("held back")


@pytest.mark.parametrize(
    ("broker", "formats", "said", "not_said"),
    [
        ("renaissance", "email", "Next: send the 1 e-mail(s) with the same command", "No e-mail"),
        # Selfcontact has no e-mail: --send would be refused, so the next step is not that
        ("selfcontact", "email", "No e-mail to send and no letter to post", "--send"),
        # nor a postal address: its letters are drafts, out of print, never to be posted
        ("selfcontact", "pdf,email", "No e-mail to send and no letter to post", "Post the"),
        # La Poste has a postal address and no e-mail: its letters are to be posted
        ("la-poste", "pdf,email", "in the registry. Post the letters", "--send"),
    ],
)
def test_batch_suggests_sending_only_e_mails_that_can_leave(
    runner, tmp_path, dsar_home, broker, formats, said, not_said
):
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)
    path = write_csv(tmp_path / "members.csv", [member(1)])
    args = batch_args(path, association, tmp_path / "out", "--format", formats)
    result = ok(runner.invoke(cli, [*args, "--broker", broker]))
    assert said in result.stdout and not_said not in result.stdout


def test_a_batch_of_drafts_alone_says_none_left(runner, tmp_path, dsar_home):
    """Every letter a draft (the recipient's address unknown): the summary ended with
    « Every letter of this batch that can leave is recorded as sent or posted … follow the
    answers » although nothing left (the third review's attacker 10, new user 8)."""
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)
    path = write_csv(tmp_path / "members.csv", [member(1), member(2)])
    args = batch_args(path, association, tmp_path / "out", "--broker", "selfcontact")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "drafts without" in result.stderr
    assert "recorded as sent or posted" not in result.stdout


def test_batch_next_steps_say_what_can_leave(runner, tmp_path, dsar_home):
    """New user, item 9: e-mails all held back (no scan) are no 'send them with --send';
    drafts without the recipient's address are neither 'to post' nor told --to-address;
    letters e-mailed are not 'recorded as posted'."""
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)
    rows = [member(1, broker="renaissance"), member(2, broker="selfcontact")]
    path = write_csv(tmp_path / "members.csv", rows)
    args = ["batch", str(path), "--association", str(association), "--out", str(tmp_path / "o")]
    args += ["--workers", "1"]
    neither = runner.invoke(cli, ["batch", "--association", str(association), "--out", "o"])
    assert neither.exit_code == 2 and "not both" not in neither.output  # item 17
    held = ok(runner.invoke(cli, args))
    assert "Next: send" not in held.stdout  # Renaissance's e-mail is held back: no scan
    assert "held back" in held.stderr
    drafts = next(line for line in held.stderr.splitlines() if "drafts without" in line)
    assert "dsar brokers add-contact selfcontact --postal" in drafts
    assert "--to-address" not in drafts
    controller, recorder = smtp_server.start()
    try:
        sent = ok(runner.invoke(cli, [*args, "--mandate-on-request", *sending(controller.port)]))
    finally:
        controller.stop()
    assert len(recorder.messages) == 1
    assert "to post, their recipient has no e-mail" not in sent.stderr  # a draft is not
    assert "recorded as posted" not in sent.stdout  # it was e-mailed
    # the draft is neither sent nor posted: the sentence says so
    assert "Every letter of this batch that can leave is recorded as sent" in sent.stdout
