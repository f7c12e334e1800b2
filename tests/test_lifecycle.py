"""Issue 18, items 1-5: one lifecycle, one date function, one clock, the follows
column and formats as rows, and follow-up letters that say what was recorded. Each
test reproduces a defect the issue lists; the clock is frozen in every one."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from datetime import date

import pytest
from click.testing import CliRunner

from dsar import clock, journal, lifecycle
from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError
from dsar.journal import Journal, request_to_json
from dsar.paths import Paths

from .conftest import flat, make_request, pdf_pages, pdf_text
from .test_web import anonymous, client, page_csrf  # noqa: F401 (fixtures)

PERSON = {
    "name": "Camille Martin",
    "phone": "06 12 34 56 78",
    "email": "camille@example.org",
    "address": "12 rue des Lilas\n75011 Paris",
}
LYON = "Selfcontact\nService DPO\n10 rue du Test\n69001 Lyon"


def app_on(home, day: date) -> App:
    return App(Paths(config_dir=home, data_dir=home), clock=lambda: day)


def request(app: App, out, broker="renaissance", formats="pdf", **extra) -> str:
    return app.generate(
        broker,
        **PERSON,
        sms_date="2026-09-28",
        formats=formats,
        letter_date=date(2026, 10, 1),
        out_dir=out,
        **extra,
    ).reference


def text_of(path) -> str:
    return flat(pdf_text(path.read_bytes()))


# ---------------------------------------------------------------- the table, the dates


def test_the_table_names_every_stored_state_and_action():
    table = lifecycle.table_text()
    for action in lifecycle.ACTIONS:
        assert action in table
    starts = {s for a in lifecycle.TABLE for s in a.starts}
    assert set(lifecycle.STORED) - {"closed"} <= starts | {"closed"}


def test_a_reminder_dated_10_december_does_not_demand_an_answer_on_christmas_day():
    # 25 December: holiday; 26th a Saturday, 27th a Sunday: Monday 28th
    assert lifecycle.final_date(date(2026, 12, 10)) == date(2026, 12, 28)
    assert lifecycle.final_date(date(2026, 11, 3)) == date(2026, 11, 18)  # a Wednesday


def test_writing_a_reminder_neither_reminds_nor_starts_its_days_until_it_is_sent(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 10)) as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01", received="2026-10-02")
        reminder = app.remind(ref, on="2026-12-10", formats="pdf", out_dir=tmp_path / "r")
        assert reminder.final_deadline == date(2026, 12, 28)
        entry = app.journal.entry(ref)
        assert entry.stored_state == "received" and entry.state(app.today()) == "overdue"
        assert entry.reminded_on is None and entry.due == date(2026, 11, 2)
        # before: "Réponse due le 23 novembre" with "Jours restants 15" on the page
        assert "25 décembre" not in text_of(reminder.written[0])
        assert "28 décembre 2026" in text_of(reminder.written[0])
        app.sent(reminder.reference, "2026-12-10", lrar="1A22")
        entry = app.journal.entry(ref)
        assert entry.stored_state == "reminded" and entry.reminded_on == date(2026, 12, 10)
        assert entry.due == date(2026, 12, 28) and entry.days_left(app.today()) == 18
        assert app.journal.entry(reminder.reference).follows == ref


def test_the_page_and_the_command_line_show_one_date_and_its_days(client, tmp_path):  # noqa: F811
    with clock.fixed(date(2026, 12, 10)), App() as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01", received="2026-10-02")
        reminder = app.remind(ref, on="2026-12-10", formats="pdf", out_dir=tmp_path / "r")
        app.sent(reminder.reference, "2026-12-10")
        shown = app.details(ref)
        page = html.unescape(client.get("/requests").text)
        one = html.unescape(client.get(f"/requests/{ref}").text)
    assert shown["due"] == "2026-12-28" and shown["days_left"] == 18
    row = re.search(rf"{ref}.*?</tr>", page, re.S).group(0)
    assert "28 décembre 2026" in row and ">18<" in row and "2 novembre" not in row
    assert "Dernier délai fixé par la relance" in one and "28 décembre 2026" in one


def test_the_page_offers_only_the_actions_the_lifecycle_allows(client, tmp_path):  # noqa: F811
    with clock.fixed(date(2026, 12, 10)), App() as app:
        ref = request(app, tmp_path / "l")
    draft = client.get(f"/requests/{ref}").text
    assert f"/requests/{ref}/sent" in draft
    for action in ("remind", "complain", "answer"):
        assert f"/requests/{ref}/{action}" not in draft, action
    with clock.fixed(date(2026, 12, 10)):
        refused = client.post(f"/requests/{ref}/remind", data={"csrf": page_csrf(client)})
        assert refused.status_code == 400
        with App() as app:
            app.sent(ref, "2026-10-01")
        overdue = client.get(f"/requests/{ref}").text
    for action in ("remind", "complain", "answer"):
        assert f"/requests/{ref}/{action}" in overdue, action
    assert f"/requests/{ref}/sent" not in overdue  # what comes next, not what was done


def test_the_command_line_prints_the_next_actions_as_commands(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 10)) as app:
        ref = request(app, tmp_path / "l")
        assert lifecycle.commands(app.journal.entry(ref), app.today()) == [
            f"dsar sent {ref} --on YYYY-MM-DD",
            f"dsar forget {ref}",
        ]
        app.sent(ref, "2026-10-01")
        assert app.details(ref)["next"] == [
            f"dsar answer {ref} --extension --on YYYY-MM-DD",
            f"dsar answer {ref} --state STATE --on YYYY-MM-DD [--missing ITEMS]",
            f"dsar remind {ref}",
            f"dsar complain {ref} --out DIR",
        ]


# ---------------------------------------------------------------- one clock


def test_the_apps_clock_reaches_the_journal(tmp_path):
    with app_on(tmp_path / "h", date(2026, 1, 10)) as app:
        ref = app.generate(
            "renaissance", **PERSON, formats="pdf", letter_date=date(2026, 1, 5), out_dir=tmp_path
        ).reference
        # the real today is later; the App's is 10 January: the 20th is in its future
        with pytest.raises(DsarError, match="future"):
            app.sent(ref, "2026-01-20")
    with app_on(tmp_path / "h", date(2031, 1, 1)) as app:
        app.sent(ref, "2030-06-01")  # after the real today, before the App's
        assert app.journal.entry(ref).sent_on == date(2030, 6, 1)
    given = Journal(tmp_path / "h" / "journal.sqlite3")
    with (
        App(
            Paths(config_dir=tmp_path, data_dir=tmp_path),
            journal=given,
            clock=lambda: date(2026, 1, 6),
        ) as app,
        pytest.raises(DsarError, match="future"),
    ):
        app.answer(ref, "2030-07-01", state="partial")


# ---------------------------------------------------------------- one transaction


def test_sent_never_undoes_an_answer_and_forget_never_drops_a_sent_request(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 10)) as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01")
        app.answer(ref, "2026-10-20", state="partial")
        app.sent(ref, "2026-10-01", lrar="1A99")  # a number recorded late
        assert app.journal.entry(ref).stored_state == "partial"
        assert app.journal.entry(ref).lrar_number == "1A99"
        with pytest.raises(DsarError, match="not a draft"):
            app.forget(ref)


def test_a_refused_redo_leaves_the_sent_letters_files_as_they_were(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 10)) as app:
        ref = request(app, tmp_path / "l")
        [(_role, pdf, sha)] = app.journal.files(ref)
        before = pdf.read_bytes()
        app.sent(ref, "2026-10-01")
        with pytest.raises(DsarError, match="never rewritten"):
            app.journal.record(app.journal.request(ref), subject="x", body_text="y", medium="pdf")
        assert pdf.read_bytes() == before and not list(pdf.parent.glob(".*.tmp"))


# ---------------------------------------------------------------- follows, media, missing


def test_a_journal_of_the_old_schema_is_migrated(shipped, tmp_path):
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    for step in journal.MIGRATIONS[:3]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 3")
    first, reminder = make_request(shipped), make_request(shipped, right="access")
    for req, kind, medium, state in (
        (first, "request", "pdf,email", "reminded"),
        (reminder, "reminder", "pdf", "draft"),
    ):
        db.execute(
            "INSERT INTO requests (reference, created_at, kind, broker, right, lang, medium,"
            " request_json, subject, body_text, state, reminded_on)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                req.reference,
                "2026-11-23T10:00:00",
                kind,
                "selfcontact",
                req.right,
                "fr",
                medium,
                request_to_json(req),
                "s",
                "b",
                state,
                "2026-11-25" if kind == "request" else None,
            ),
        )
    db.execute(
        "INSERT INTO events (reference, at, on_date, what, detail) VALUES (?,?,?,?,?)",
        (first.reference, "2026-11-25T10:00:00", "2026-11-25", "reminded", reminder.reference),
    )
    db.commit()
    db.close()
    with Journal(path, clock=lambda: date(2026, 12, 3)) as migrated:
        entry = migrated.entry(first.reference)
        assert entry.medium == ("pdf", "email") and entry.letter_date == date(2026, 11, 23)
        assert entry.reminder_dated == date(2026, 11, 25)
        assert entry.final_deadline == date(2026, 12, 10)
        assert migrated.entry(reminder.reference).follows == first.reference
        columns = [r[1] for r in migrated.db.execute("PRAGMA table_info(requests)")]
        assert "medium" not in columns and "follows" in columns
        assert migrated.db.execute("PRAGMA user_version").fetchone()[0] == journal.SCHEMA_VERSION


def answer_missing(runner, ref, items):
    args = ["answer", ref, "--state", "partial", "--on", "2026-10-20", "--missing", items]
    return runner.invoke(cli, args)


def test_missing_items_are_words_of_the_vocabulary(tmp_path):
    runner = CliRunner()
    with clock.fixed(date(2026, 12, 10)):
        with App() as app:
            ref = request(app, tmp_path / "l")
            app.sent(ref, "2026-10-01")
        bad = answer_missing(runner, ref, "source,origin")
        assert bad.exit_code == 2 and "origin" in bad.output and "missing" in bad.output
        good = answer_missing(runner, ref, "source,copy,recipients")
        assert good.exit_code == 0, good.output
        shown = json.loads(runner.invoke(cli, ["show", ref, "--json"]).output)
    assert shown["missing"] == ["recipients", "source", "copy"]  # in the order of Art. 15


def test_the_page_records_what_an_answer_lacks(client, tmp_path):  # noqa: F811
    with clock.fixed(date(2026, 12, 10)):
        with App() as app:
            ref = request(app, tmp_path / "l")
            app.sent(ref, "2026-10-01")
        done = client.post(
            f"/requests/{ref}/answer",
            data={
                "csrf": page_csrf(client),
                "state": "partial",
                "on": "2026-10-20",
                "missing": ["source", "profiling"],
            },
        )
        assert done.status_code == 303, done.text
        with App() as app:
            assert app.journal.missing(ref) == ["source", "profiling"]


# ---------------------------------------------------------------- the letters


def test_a_late_extension_is_named_never_no_answer(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 10)) as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01", received="2026-10-02", lrar="1A11")
        app.answer(ref, "2026-11-10", extension=True)
        reminder = app.remind(ref, on="2026-12-10", formats="pdf", out_dir=tmp_path / "r")
        app.sent(reminder.reference, "2026-12-10", lrar="1A22")
    with app_on(tmp_path / "h", date(2027, 1, 5)) as app:
        complaint = app.complain(ref, on="2027-01-05", out_dir=tmp_path / "c")
    said = text_of(reminder.written[0])
    assert "Votre notification du 10 novembre 2026" in said and "ne prolonge donc pas" in said
    assert "Je n’ai reçu aucune réponse." not in said
    filed = text_of(complaint.written[0])
    assert "aucune à ce jour." not in filed
    assert "notification tardive d’une prolongation le 10 novembre 2026" in filed
    assert "1A11" in filed and "1A22" in filed  # every registered-letter number


def test_a_partial_answer_is_met_with_what_it_lacks(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 1)) as app:
        ref = request(app, tmp_path / "l", lang="en")
        app.sent(ref, "2026-10-01", received="2026-10-02")
        app.answer(ref, "2026-10-20", state="partial", missing="source,recipients")
        reminder = app.remind(ref, on="2026-11-03", formats="pdf", out_dir=tmp_path / "r")
        app.sent(reminder.reference, "2026-11-03")
        complaint = app.complain(ref, on="2026-12-01", out_dir=tmp_path / "c")
    # the reminder's own page, in the request's language (the original is enclosed after)
    said = flat(pdf_pages(reminder.written[0].read_bytes())[0])
    assert "It lacks:" in said and "the specific source of my data" in said
    assert "(Art. 15(1)(c))" in said and "(Art. 15(1)(a))" not in said
    filed = text_of(complaint.written[0])
    assert "à laquelle il manque" in filed and "la source précise de mes données" in filed


def test_the_complaint_names_the_address_used_and_holds_no_command(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 1)) as app:
        ref = request(app, tmp_path / "l", broker="selfcontact", to_address=LYON, lrar=True)
        app.sent(ref, "2026-10-01", received="2026-10-03", lrar="1A44")
        reminder = app.remind(ref, on="2026-11-05", formats="pdf", out_dir=tmp_path / "r")
        app.sent(reminder.reference, "2026-11-05", lrar="1A55")
        complaint = app.complain(ref, on="2026-12-01", out_dir=tmp_path / "c")
    filed = text_of(complaint.written[0])
    assert "10 rue du Test 69001 Lyon" in filed and "inconnue (aucune" not in filed
    assert "1A44" in filed and "1A55" in filed
    # the proofs not held are listed as not attached, under that heading
    assert "Pièces non jointes à ce jour" in filed and "le scan de l’accusé de réception" in filed
    dossier = text_of(complaint.dossier)
    assert "dsar " not in dossier and "--proof" not in dossier
    # the person is told how to add them, outside the letter
    assert any("dsar sent" in w for w in complaint.warnings)
