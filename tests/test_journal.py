"""The journal on a real SQLite file: deadlines, states, reminders, complaints, crashes."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
from datetime import date

import pytest
from rich.console import Console

from dsar import deadlines, report
from dsar.cli import cli
from dsar.errors import JournalError
from dsar.journal import SCHEMA_VERSION, Journal

from .conftest import flat, make_request, ok, pdf_text, replace_args
from .test_generate import ISSUE_COMMAND

# the citizen's letter of test_generate, to Renaissance and dated 30 January 2026
BASE = [*replace_args(ISSUE_COMMAND, {"--broker": "renaissance", "--date": "2026-01-30"})]


@pytest.mark.parametrize(
    "receipt, extended, due",
    [
        (date(2026, 2, 2), False, date(2026, 3, 2)),
        (date(2026, 1, 31), False, date(2026, 3, 2)),  # 28 February 2026 is a Saturday
        (date(2024, 1, 31), False, date(2024, 2, 29)),
        (date(2026, 1, 31), True, date(2026, 4, 30)),
        (date(2026, 12, 15), False, date(2027, 1, 15)),
    ],
)
def test_deadline_rule(receipt, extended, due):
    assert deadlines.deadline(receipt, extended=extended) == due


def generate(runner, tmp_path, *extra):
    result = runner.invoke(
        cli, [*BASE, *extra, "--out", str(tmp_path / "letters")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return next(
        line.split()[1] for line in result.output.splitlines() if line.startswith("reference")
    )


def status_json(runner, *args):
    result = runner.invoke(cli, ["status", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {r["reference"]: r for r in json.loads(result.stdout)["requests"]}


def test_generated_request_is_recorded_privately(runner, tmp_path, dsar_home):
    ref = generate(runner, tmp_path)
    journal_file = dsar_home / "journal.sqlite3"
    assert stat.S_IMODE(os.stat(journal_file).st_mode) == 0o600
    with Journal(journal_file) as journal:
        entry = journal.entry(ref)
        assert entry.stored_state == "draft" and entry.broker == "renaissance"
        roles = {role for role, _, _ in journal.files(ref)}
        assert roles == {"pdf", "email"}
        assert "06 12 34 56 78" in flat(
            journal.db.execute(
                "SELECT body_text FROM requests WHERE reference=?", (ref,)
            ).fetchone()[0]
        )
        assert journal.request(ref).requester.phone == "+33612345678"


def test_deadline_from_receipt_overdue_and_extension(runner, tmp_path):
    ref = generate(runner, tmp_path)
    result = runner.invoke(
        cli,
        ["sent", ref, "--on", "2026-01-31", "--lrar", "1A00012345678", "--received", "2026-02-02"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "answer due by 2026-03-02" in result.output
    row = status_json(runner, "--as-of", "2026-03-01")[ref]
    assert (row["deadline"], row["state"], row["days_left"]) == ("2026-03-02", "received", 1)
    row = status_json(runner, "--as-of", "2026-03-10")[ref]
    assert (
        row["state"] == "overdue"
        and row["sent"] == "2026-01-31"
        and row["received"] == "2026-02-02"
    )
    assert list(status_json(runner, "--as-of", "2026-03-10", "--state", "overdue")) == [ref]

    ok(
        runner.invoke(
            cli, ["answer", ref, "--extension", "--on", "2026-02-20"], catch_exceptions=False
        )
    )
    row = status_json(runner, "--as-of", "2026-03-10")[ref]
    # 2 May 2026 is a Saturday (and 1 May a holiday): the three months end on Monday 4 May
    assert row["deadline"] == "2026-05-04" and row["state"] == "extended"


def test_receipt_on_31_january(runner, tmp_path):
    ref = generate(runner, tmp_path)
    ok(runner.invoke(cli, ["sent", ref, "--on", "2026-01-30", "--received", "2026-01-31"]))
    assert status_json(runner)[ref]["deadline"] == "2026-03-02"  # 28 February is a Saturday
    ok(runner.invoke(cli, ["answer", ref, "--extension", "--on", "2026-02-10"]))
    row = status_json(runner, "--as-of", "2026-03-10")[ref]
    assert row["deadline"] == "2026-04-30" and row["state"] == "extended"


def test_sending_date_stands_in_and_says_so(runner, tmp_path):
    ref = generate(runner, tmp_path)
    result = runner.invoke(cli, ["sent", ref, "--on", "2026-01-31"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "from the sending date" in result.output
    row = status_json(runner)[ref]
    assert row["deadline"] == "2026-03-02" and row["receipt_estimated"] is True
    assert "deadline estimated from the sending date 2026-01-31" in row["notes"][0]


def test_reminder_and_complaint_dossier(runner, tmp_path):
    ref = generate(runner, tmp_path)
    ok(runner.invoke(cli, ["sent", ref, "--on", "2026-01-31", "--lrar", "1A00012345678"]))
    early = runner.invoke(cli, ["remind", ref, "--on", "2026-02-15"])
    assert early.exit_code == 1 and "has not passed" in early.stderr

    out = tmp_path / "follow"
    result = runner.invoke(
        cli,
        ["remind", ref, "--on", "2026-03-10", "--format", "pdf,text", "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    text = flat(result.stdout)
    for expected in (
        "31 janvier 2026",
        ref,
        "1A00012345678",
        "2 mars 2026",  # 28 February 2026 is a Saturday: the month ends on Monday
        "25 mars 2026",
        "CNIL",
        "art. 77",
    ):
        assert expected in text, expected
    reminder_pdf = next(p for p in out.iterdir() if p.suffix == ".pdf")
    assert "1A00012345678" in pdf_text(reminder_pdf.read_bytes())
    # written is not sent: the request stays overdue until the reminder is recorded as sent
    assert status_json(runner, "--as-of", "2026-03-11")[ref]["state"] == "overdue"
    reminder_ref = reminder_pdf.name[:14]
    ok(runner.invoke(cli, ["sent", reminder_ref, "--on", "2026-03-10", "--lrar", "1A0009"]))
    assert status_json(runner, "--as-of", "2026-03-11")[ref]["state"] == "reminded"

    reply = tmp_path / "reply.pdf"
    reply.write_bytes(reminder_pdf.read_bytes())  # any real PDF stands for the broker's reply
    ok(
        runner.invoke(
            cli,
            [
                "answer",
                ref,
                "--state",
                "partial",
                "--on",
                "2026-03-20",
                "--file",
                str(reply),
                "--note",
                "no source",
            ],
            catch_exceptions=False,
        )
    )

    result = runner.invoke(
        cli,
        ["complain", ref, "--out", str(out / "cnil"), "--on", "2026-04-01"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    dossier = out / "cnil" / f"{ref}-dossier-cnil.pdf"
    whole = flat(pdf_text(dossier.read_bytes()))
    assert "Réclamation (art. 77 RGPD) contre Renaissance" in whole
    assert "3 Place de Fontenoy" in whole and "68 rue du Rocher" in whole
    assert "Demande d’accès (art. 15 RGPD)" in whole  # the original request, as sent
    assert "Annexe : fondements juridiques de la demande" in whole
    assert "Relance" in whole and "une réponse partielle" in whole
    assert f"Journal de la demande {ref}" in whole and "1A00012345678" in whole
    assert "1A0009" in whole  # the reminder's registered-letter number too
    complaint = re.search(r"^reference (\S+)$", result.output, re.M).group(1)
    ok(runner.invoke(cli, ["sent", complaint, "--on", "2026-04-01"]))  # filed
    assert status_json(runner)[ref]["state"] == "complained"


def test_a_reply_that_is_not_a_pdf_is_listed_not_bundled(runner, tmp_path):
    ref = generate(runner, tmp_path)
    ok(runner.invoke(cli, ["sent", ref, "--on", "2026-01-31"]))
    reply = tmp_path / "scan.pdf"
    reply.write_bytes(b"%PDF-1.7 truncated by the broker's mail server")
    ok(
        runner.invoke(
            cli,
            ["answer", ref, "--state", "refused", "--on", "2026-03-20", "--file", str(reply)],
            catch_exceptions=False,
        )
    )
    result = runner.invoke(
        cli,
        ["complain", ref, "--out", str(tmp_path / "cnil"), "--on", "2026-04-01"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "scan.pdf is left out of the dossier" in result.stderr
    dossier = (tmp_path / "cnil" / f"{ref}-dossier-cnil.pdf").read_bytes()
    whole = flat(pdf_text(dossier))
    assert "Demande d’accès" in whole and "scan.pdf" in whole  # listed on the proofs page


def test_reply_id(runner, tmp_path):
    ref = generate(runner, tmp_path)
    ok(runner.invoke(cli, ["sent", ref, "--on", "2026-01-31"]))
    result = runner.invoke(cli, ["answer", ref, "--state", "id-requested", "--on", "2026-02-10"])
    assert result.exit_code == 0, result.output
    assert f"dsar reply-id {ref}" in result.output
    # the demand for an ID card does not stop the clock
    assert status_json(runner, "--as-of", "2026-02-20")[ref]["days_left"] == 10
    assert status_json(runner, "--as-of", "2026-03-03")[ref]["state"] == "overdue"
    result = runner.invoke(
        cli, ["reply-id", ref, "--format", "text", "--lang", "en"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert "Art. 12(6)" in text and "Guidelines 01/2022" in text and "+33 6 12 34 56 78" in text
    assert "send a code to this number" in text


def test_unknown_reference(runner):
    result = runner.invoke(cli, ["sent", "DSAR-NOPE-NOPE", "--on", "2026-01-01"])
    assert result.exit_code == 1 and "no request DSAR-NOPE-NOPE in the journal" in result.stderr


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer than this dsar knows"):
        Journal(path)


def test_migrates_an_old_journal(tmp_path):
    from dsar import journal as journal_module

    path = tmp_path / "j.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(journal_module.MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Journal(path) as journal:
        assert journal.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        journal.db.execute("SELECT * FROM outbox").fetchall()


def test_status_table_makes_overdue_stand_out(shipped):
    request = make_request(shipped, broker="renaissance", letter_date=date(2026, 1, 30))
    ref = request.reference
    with Journal(":memory:") as journal:  # about the table, not the file
        journal.record(request, subject="s", body_text="b", medium="pdf")
        journal.mark_sent(ref, date(2026, 1, 31))
        entries = journal.entries()
    console = Console(record=True, force_terminal=True, width=140, color_system="truecolor")
    for part in report.status_tables(entries, date(2026, 3, 10)):
        console.print(part)
    styled = console.export_text(styles=True)
    overdue_line = next(line for line in styled.splitlines() if ref in line)
    assert "overdue" in overdue_line and "\x1b[" in overdue_line and "41" in overdue_line


def test_csv_and_ics_exports(runner, tmp_path):
    ref = generate(runner, tmp_path)
    ok(runner.invoke(cli, ["sent", ref, "--on", "2026-01-31", "--received", "2026-02-02"]))
    csv_file, ics_file = tmp_path / "s.csv", tmp_path / "s.ics"
    ok(
        runner.invoke(
            cli, ["status", "--csv", str(csv_file), "--ics", str(ics_file)], catch_exceptions=False
        )
    )
    # dsar's one CSV dialect: ';', UTF-8 with a BOM; days left a number, not '-276 text
    text = csv_file.read_text(encoding="utf-8")
    days_left = (date(2026, 3, 2) - date.today()).days  # the suite's frozen day
    assert text.startswith("\ufeffreference;") and f";{days_left};" in text
    assert f"{ref};renaissance;both;;2026-01-31;2026-02-02;2026-03-02" in text
    ics = ics_file.read_text()
    assert "DTSTART;VALUE=DATE:20260302" in ics and ics.startswith("BEGIN:VCALENDAR")


RECORDER = r"""
import sys
from datetime import date
from pathlib import Path
from dsar import compose, profile, registry
from dsar.journal import Journal
from dsar.paths import SHIPPED_REGISTRY

reg = registry.Registry.load([SHIPPED_REGISTRY])
journal = Journal(Path(sys.argv[1]))
out = Path(sys.argv[2])
out.mkdir(exist_ok=True)
person = profile.requester("Camille", "", "0612345678", None)
for i in range(100000):
    request = compose.build_request(reg, "renaissance", person, compose.evidence(),
                                    letter_date=date(2026, 1, 1), place=str(i))
    request = request.__class__(**{**request.__dict__, "reference": f"R{i:06d}"})
    files = {}
    for n in range(30):  # many rows per transaction: a kill lands inside one
        path = out / f"R{i:06d}-{n}.txt"
        path.write_text("x" * 1000)
        files[f"f{n}"] = path
    print(i, flush=True)  # about to record: the test kills it inside this transaction
    journal.record(request, subject="s", body_text="b" * 5000, medium="pdf", files=files)
"""


def test_sigkill_while_recording_leaves_journal_whole(tmp_path):
    path = tmp_path / "journal.sqlite3"
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    for recorded in (3, 10, 25):  # kill at different points of the run
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(tmp_path / "f")],
            stdout=subprocess.PIPE,
            text=True,
        )
        # each line is a record starting: after the last one read, the kill lands inside it
        for _ in range(recorded):
            line = proc.stdout.readline()
            assert line.strip().isdigit(), line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        refs = [r[0] for r in db.execute("SELECT reference FROM requests")]
        assert refs, "nothing was recorded"
        for ref in refs:  # fully recorded: the row, its 30 files and its event
            assert (
                db.execute("SELECT count(*) FROM files WHERE reference=?", (ref,)).fetchone()[0]
                == 30
            )
            assert (
                db.execute("SELECT count(*) FROM events WHERE reference=?", (ref,)).fetchone()[0]
                >= 1
            )
        orphans = db.execute(
            "SELECT count(*) FROM files WHERE reference NOT IN (SELECT reference FROM requests)"
        ).fetchone()[0]
        assert orphans == 0
        db.close()
    with Journal(path) as journal:  # and it opens again for the next run
        assert journal.entries()
