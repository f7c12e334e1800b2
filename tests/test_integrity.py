"""Evidence is never rewritten: a request that left keeps its reference, files and steps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dsar.cli import cli
from dsar.errors import DsarError
from dsar.journal import Journal

from .conftest import make_request, replace_args
from .test_generate import ISSUE_COMMAND

BASE = replace_args(ISSUE_COMMAND, {"--broker": "renaissance", "--date": "2026-01-30"})


def invoke(runner, args, code=0):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def generate(runner, tmp_path, *extra, out="letters"):
    result = invoke(runner, [*BASE, *extra, "--out", str(tmp_path / out)])
    return next(x.split()[1] for x in result.output.splitlines() if x.startswith("reference"))


def show(runner, reference):
    return json.loads(invoke(runner, ["show", reference, "--json"]).stdout)


def test_second_generate_the_same_day_never_rewrites_a_sent_request(runner, tmp_path):
    first = generate(runner, tmp_path)
    invoke(runner, ["sent", first, "--on", "2026-01-31", "--lrar", "1A23456789012"])
    before = show(runner, first)
    files_before = {f["path"]: Path(f["path"]).read_bytes() for f in before["files"]}

    second = generate(runner, tmp_path, "--sms-sender", "Someone else")
    assert second != first
    after = show(runner, first)
    assert after == before  # request, files, checksums and steps unchanged
    assert {f["path"]: Path(f["path"]).read_bytes() for f in after["files"]} == files_before
    assert after["steps"][-1]["what"] == "sent" and after["lrar_number"] == "1A23456789012"
    assert show(runner, second)["state"] == "draft"
    # a third the same day gets yet another reference, stable in its series
    assert generate(runner, tmp_path, out="again") == second  # the draft is redone in place


@pytest.mark.today("2026-12-03")  # make_request's letter of 23 November 2026 is sent
def test_the_journal_refuses_to_record_over_a_request_that_left(shipped, tmp_path):
    request = make_request(shipped, "renaissance")  # a postal address: a letter to post
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record(request, subject="s", body_text="b", medium="pdf")
        journal.mark_sent(request.reference, request.letter_date)
        with pytest.raises(DsarError, match="already sent and is never rewritten"):
            journal.record(request, subject="other", body_text="other", medium="pdf")
        assert journal.entry(request.reference).subject == "s"


def test_a_text_preview_is_not_recorded(runner, tmp_path, dsar_home):
    invoke(runner, [*replace_args(BASE, {"--format": "text"}), "--out", str(tmp_path / "l")])
    with Journal(dsar_home / "journal.sqlite3") as journal:
        assert journal.entries() == []


def test_show_whole_request_in_any_case(runner, tmp_path):
    ref = generate(runner, tmp_path)
    text = invoke(runner, ["show", ref.lower()]).stdout
    assert ref in text and "Renaissance" in text and "sha256" in text
    assert f"next: send it, then record it: dsar sent {ref}" in text
    shown = show(runner, f"  {ref.lower()} ")
    assert {f["role"] for f in shown["files"]} == {"pdf", "email"}
    assert all(len(f["sha256"]) == 64 for f in shown["files"])
    assert [s["what"] for s in shown["steps"]] == ["generated"]
    invoke(runner, ["sent", ref.lower(), "--on", "2026-01-31"])
    shown = show(runner, ref)
    assert shown["deadline"] and [s["what"] for s in shown["steps"]] == [
        "generated",
        "sent",
    ]
    bad = runner.invoke(cli, ["show", "../etc/passwd"])
    assert bad.exit_code == 1 and "is not a dsar reference" in bad.stderr


def test_forget_drops_drafts_only(runner, tmp_path):
    draft = generate(runner, tmp_path)
    result = invoke(runner, ["forget", draft.lower()])
    assert "forgotten" in result.stdout and "stays on disk" in result.stdout
    assert "no request" in runner.invoke(cli, ["show", draft]).stderr
    kept = generate(runner, tmp_path, "--force")
    invoke(runner, ["sent", kept, "--on", "2026-01-31"])
    refused = runner.invoke(cli, ["forget", kept])
    assert refused.exit_code == 1 and "not a draft" in refused.stderr
    assert show(runner, kept)["sent"] == "2026-01-31"


# ------------------------------------------------------------------ replies by content


def test_two_replies_with_one_name_are_both_kept(runner, tmp_path, dsar_home):
    ref = generate(runner, tmp_path)
    invoke(runner, ["sent", ref, "--on", "2026-01-31"])
    first, second = tmp_path / "a" / "reply.pdf", tmp_path / "b" / "reply.pdf"
    for path, words in ((first, b"first reply"), (second, b"second reply")):
        path.parent.mkdir()
        path.write_bytes(words)
    invoke(
        runner, ["answer", ref, "--state", "partial", "--on", "2026-02-10", "--file", str(first)]
    )
    invoke(
        runner, ["answer", ref, "--state", "refused", "--on", "2026-02-20", "--file", str(second)]
    )
    replies = [f for f in show(runner, ref)["files"] if f["role"] == "reply"]
    assert sorted(Path(f["path"]).read_bytes() for f in replies) == [
        b"first reply",
        b"second reply",
    ]
    for reply in replies:  # named by content, under the journal's folder
        assert Path(reply["path"]).name == f"{reply['sha256']}-reply.pdf"
        assert Path(reply["path"]).parent == dsar_home / "attachments"


def test_a_reply_over_the_size_limit_is_refused(runner, tmp_path, dsar_home):
    ref = generate(runner, tmp_path)
    invoke(runner, ["sent", ref, "--on", "2026-01-31"])
    huge = tmp_path / "scan.pdf"
    with huge.open("wb") as handle:
        handle.truncate(26 * 1024 * 1024)  # sparse: nothing is read to refuse it
    result = runner.invoke(
        cli, ["answer", ref, "--state", "answered", "--on", "2026-02-10", "--file", str(huge)]
    )
    assert result.exit_code == 1 and "over 25 MB" in result.stderr
    assert not [p for p in (dsar_home / "attachments").iterdir() if p.is_file()]
    assert show(runner, ref)["steps"][-1]["what"] == "sent"


# ------------------------------------------------------------------ dates the journal records


@pytest.mark.parametrize(
    "args, says",
    [
        (["sent", "{ref}", "--on", "9999-12-15"], "in the future"),
        (["sent", "{ref}", "--on", "2026-01-29"], "before the letter's date (2026-01-30)"),
        (["sent", "{ref}", "--on", "2026-01-31", "--received", "9999-01-02"], "in the future"),
        (["answer", "{ref}", "--state", "answered", "--on", "2025-12-01"], "before the letter's"),
        (["answer", "{ref}", "--extension", "--on", "9999-12-31"], "in the future"),
    ],
)
def test_impossible_journal_dates_are_refused(runner, tmp_path, args, says):
    ref = generate(runner, tmp_path)
    if args[0] == "answer":
        invoke(runner, ["sent", ref, "--on", "2026-01-31"])
    result = runner.invoke(cli, [a.format(ref=ref) for a in args])
    assert result.exit_code == 1 and says in result.stderr, result.output
    assert "Traceback" not in result.output
    invoke(runner, ["status"])  # every later status still works


def test_sent_on_a_complained_request_needs_force(runner, tmp_path):
    ref = generate(runner, tmp_path)
    invoke(runner, ["sent", ref, "--on", "2026-01-31"])
    invoke(runner, ["answer", ref, "--state", "refused", "--on", "2026-02-10"])
    written = invoke(
        runner, ["complain", ref, "--out", str(tmp_path / "cnil"), "--on", "2026-02-11"]
    )
    complaint = re.search(r"^reference (\S+)$", written.output, re.M).group(1)
    invoke(runner, ["sent", complaint, "--on", "2026-02-11"])  # filed: complained
    refused = runner.invoke(cli, ["sent", ref, "--on", "2026-02-01"])
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert show(runner, ref)["sent"] == "2026-01-31"
    invoke(runner, ["sent", ref, "--on", "2026-02-01", "--force"])
    assert show(runner, ref)["sent"] == "2026-02-01"


# ------------------------------------------------------------------ the same, through App


@pytest.fixture
def app(tmp_path):
    from dsar.app import App
    from dsar.paths import Paths

    home = tmp_path / "home"
    with App(Paths(config_dir=home, data_dir=home)) as app:
        yield app


def test_app_keeps_a_sent_request_and_forgets_drafts_only(app, tmp_path):
    details = {
        "name": "Camille Martin",
        "phone": "06 12 34 56 78",
        "email": "camille@example.org",
        "formats": "email",
        "letter_date": "2026-01-30",
        "out_dir": tmp_path / "l",
    }
    first = app.generate("renaissance", **details).reference
    app.sent(first.lower(), "2026-01-31")
    before = app.details(first)
    second = app.generate("renaissance", **details).reference
    assert second != first and app.details(first) == before
    assert app.details(second)["state"] == "draft"
    preview = app.generate("renaissance", **{**details, "formats": "text"})
    assert preview.reference == second  # shown, not recorded: still one draft
    assert [e.reference for e in app.journal.entries()] == [first, second]
    assert app.forget(second).written  # its .eml stays on disk
    with pytest.raises(DsarError, match="not a draft"):
        app.forget(first)
