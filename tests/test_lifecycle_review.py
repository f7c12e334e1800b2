"""Defects the new user's and the lifecycle review found (cli, app, lifecycle). Each
test fails on the code before its fix; the clock is frozen in every one."""

from __future__ import annotations

import json
from datetime import date

import pytest

from dsar import fields, lifecycle
from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError, InputError

from .conftest import CITIZEN, SELFCONTACT_POSTAL, ok
from .test_lifecycle import app_on, request
from .test_web import anonymous, client, draft, page_csrf  # noqa: F401 (fixtures)

# ---------------------------------------------------------------- a draft is never posted


def test_a_draft_without_the_postal_address_is_refused_as_posted(tmp_path, runner):
    with app_on(tmp_path / "h", date(2026, 12, 3)) as app:
        draft = request(app, tmp_path / "l", broker="selfcontact")  # no address known
        assert not app.journal.request(draft).printable
        with pytest.raises(DsarError):
            app.sent(draft, "2026-10-02")
        assert app.journal.entry(draft).stored_state == "draft"  # nothing recorded


@pytest.mark.today("2026-12-03")  # its letters and report are dated that autumn
def test_the_command_line_refuses_it_and_says_how_to_add_the_address(runner, tmp_path):
    letter = [*CITIZEN, "--format", "pdf", "--out", str(tmp_path), "--date", "2026-10-01"]
    written = ok(runner.invoke(cli, letter))
    reference = written.output.split("reference ")[1].split()[0]
    refused = runner.invoke(cli, ["sent", reference, "--on", "2026-10-02"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "--to-address" in refused.stderr  # what the command line offers
    # the same command with the address and --force: the same reference, now posted
    again = ok(runner.invoke(cli, [*letter, "--to-address", SELFCONTACT_POSTAL, "--force"]))
    assert f"reference {reference}" in again.output
    ok(runner.invoke(cli, ["sent", reference, "--on", "2026-10-02"]))


def test_the_page_refuses_it_in_its_own_words(client):  # noqa: F811
    reference = draft(to_address=None)
    answer = client.post(
        f"/requests/{reference}/sent",
        data={"csrf": page_csrf(client), "on": date.today().isoformat()},
    )
    assert answer.status_code == 400 and reference in answer.text
    error = answer.text.split('class="error"')[1].split("</")[0]
    assert "--" not in error and "dsar " not in error  # no command to type on the page
    with App() as app:
        assert app.journal.entry(reference).stored_state == "draft"


def test_an_e_mailed_request_without_postal_address_is_recorded_as_sent(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 3)) as app:
        mailed = request(
            app, tmp_path / "l", "selfcontact", "pdf,email", to_email="dpo@selfcontact.example"
        )
        with pytest.raises(DsarError):  # a registered letter is a posting: not of this PDF
            app.sent(mailed, "2026-10-02", lrar="1A23456789012")
        app.sent(mailed, "2026-10-02")
        assert app.journal.entry(mailed).stored_state == "sent"


# ---------------------------------------------------------------- what show suggests


def overdue_and_complained(app, tmp_path) -> tuple[str, str]:
    """A request refused, its complaint written: (request, complaint)."""
    ref = request(app, tmp_path / "l")
    app.sent(ref, "2026-10-01", received="2026-10-02")
    app.answer(ref, "2026-10-20", state="refused")
    complaint = app.complain(ref, on="2026-11-02", out_dir=tmp_path / "c")
    return ref, complaint.reference


@pytest.mark.today("2026-12-03")
def test_show_suggests_the_lifecycle_s_actions_in_the_ui_language(tmp_path, runner, dsar_home):
    with app_on(dsar_home, date(2026, 12, 3)) as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01", received="2026-10-02")
        entry = app.journal.entry(ref)
        actions = lifecycle.next_actions(entry, app.today())
    french = runner.invoke(cli, ["--ui-lang", "fr", "show", ref])
    assert french.exit_code == 0, french.output
    suggested = french.output.split("ensuite", 1)[1]
    assert "YYYY-MM-DD" not in suggested and "AAAA-MM-JJ" in suggested
    assert " DIR" not in suggested and "--out DOSSIER" in suggested
    for action in actions:  # the one table: every action it offers, none other
        assert f"dsar {lifecycle.COMMANDS[action].split()[1]} {ref}" in suggested


@pytest.mark.today("2026-12-03")
def test_show_offers_no_complaint_once_one_was_filed(tmp_path, runner, dsar_home):
    with app_on(dsar_home, date(2026, 12, 3)) as app:
        ref, complaint = overdue_and_complained(app, tmp_path)
        app.sent(complaint, "2026-11-03")
        assert "complain" not in lifecycle.next_actions(app.journal.entry(ref), app.today())
    shown = runner.invoke(cli, ["show", ref, "--json"])
    assert not any(c.startswith("dsar complain") for c in json.loads(shown.output)["next"])


# ---------------------------------------------------------------- a complaint, a reminder


@pytest.mark.today("2026-12-03")
def test_a_complaint_written_is_a_draft_until_it_is_filed(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 3)) as app:
        ref, complaint = overdue_and_complained(app, tmp_path)
        assert app.journal.entry(ref).stored_state == "refused"  # written, not filed
        assert app.journal.entry(complaint).stored_state == "draft"
        with pytest.raises(DsarError):  # it is not filed before it was written
            app.sent(complaint, "2026-11-01")
        app.sent(complaint, "2026-11-03")
        assert app.journal.entry(ref).stored_state == "complained"
        steps = [e["what"] for e in app.journal.events(ref)]
        assert steps[-2:] == ["complain", "complained"]  # written, then filed


@pytest.mark.today("2026-12-03")
def test_a_reminder_sent_after_its_own_final_date_is_refused(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 3)) as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01", received="2026-10-02")
        reminder = app.remind(ref, on="2026-11-03", formats="pdf", out_dir=tmp_path / "r")
        assert reminder.final_deadline == date(2026, 11, 18)
        with pytest.raises(DsarError, match="dsar remind"):
            app.sent(reminder.reference, "2026-11-19")
        assert app.journal.entry(ref).stored_state == "received"  # nothing recorded
        assert app.journal.entry(reminder.reference).stored_state == "draft"
        app.sent(reminder.reference, "2026-11-18")  # its last day still gives it a day
        assert app.journal.entry(ref).stored_state == "reminded"


# ---------------------------------------------------------------- a number in no range


def test_a_number_in_an_unallocated_range_is_named_so_not_told_to_be_retyped(runner):
    with pytest.raises(InputError) as caught:
        fields.phone("07 00 00 00 00")  # ten digits, the right shape: no operator has 07 00
    assert caught.value.field == "phone"
    assert "07 00" in caught.value.reason  # the digits that are wrong
    assert "06 12 34 56 78" not in caught.value.reason  # it was written that way already
    assert "phonenumbers" in caught.value.reason  # what to do when it is right
    told = runner.invoke(cli, [*CITIZEN[:5], "--phone", "07 00 00 00 00"])
    assert told.exit_code == 2 and "07 00" in told.output and "Traceback" not in told.output


# ---------------------------------------------------------------- the reply to an ID demand


@pytest.mark.today("2026-12-03")
def test_the_reply_to_an_id_demand_is_a_follow_up_not_a_new_request(tmp_path, runner, dsar_home):
    with app_on(dsar_home, date(2026, 12, 3)) as app:
        ref = request(app, tmp_path / "l")
        app.sent(ref, "2026-10-01", received="2026-10-02")
        app.answer(ref, "2026-10-10", state="id-requested")
        due = app.journal.entry(ref).due
        reply = app.reply_id(ref, on="2026-10-12", formats="pdf", out_dir=tmp_path / "r")
        app.sent(reply.reference, "2026-10-12")
        # named as what it is, beside a request's own files
        assert all("reponse-identite" in path.name for path in reply.written)
        entry = app.journal.entry(reply.reference)
        assert entry.kind == "reply-id" and entry.follows == ref
        assert entry.days_left(app.today()) is None  # no deadline of its own
        assert app.journal.entry(ref).due == due  # the request's runs on (LEGAL.md)
        assert [e.reference for e in app.journal.entries()] == [ref]  # tracked on it
    shown = runner.invoke(cli, ["show", ref, "--json"])
    assert [f["reference"] for f in json.loads(shown.output)["follow_ups"]] == [reply.reference]
    assert reply.reference in runner.invoke(cli, ["show", ref]).output  # shown under it


# ---------------------------------------------------------------- the registry's words

ENGLISH_ONLY = """\
schema_version: 1
brokers:
  - slug: acme-leads
    kind: broker
    name: Acme Leads
    quality: unverified
    notes: Sells numbers by the thousand.
"""


def test_registry_notes_and_quality_speak_the_ui_language_or_name_theirs(runner, tmp_path):
    french = runner.invoke(cli, ["--ui-lang", "fr", "brokers", "show", "selfcontact"])
    assert french.exit_code == 0, french.output
    assert "Aucune source trouvée" in french.output  # the registry has both: French
    assert "No postal address, e-mail" not in french.output
    assert "qualité partielle" in french.output and "courtier" in french.output
    own = tmp_path / "mine.yaml"
    own.write_text(ENGLISH_ONLY, encoding="utf-8")
    args = ["brokers", "show", "acme-leads", "--registry", str(own)]
    only = runner.invoke(cli, ["--ui-lang", "fr", *args])
    assert only.exit_code == 0, only.output
    assert "(en anglais) Sells numbers by the thousand." in only.output  # labelled
    english = runner.invoke(cli, ["--ui-lang", "en", *args])
    assert "notes: Sells numbers by the thousand." in english.output  # as written
