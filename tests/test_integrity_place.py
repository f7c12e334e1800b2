"""Nothing outside its place: registry text is never a header or markup, a cell never a
formula, a YAML file never a bomb, a password never in clear, a user's file never
overwritten."""

from __future__ import annotations

import json
import time

import pytest

from dsar import importer
from dsar.cli import cli

from .conftest import read_csv
from .test_batch import batch_args, member, write_csv
from .test_integrity import BASE, generate, invoke

ENTRY = "  - {{slug: evil, kind: broker, name: {name}, quality: unverified{extra}}}\n"


def registry_file(tmp_path, name='"Evil Data"', extra=""):
    path = tmp_path / "evil.yaml"
    path.write_text("brokers:\n" + ENTRY.format(name=name, extra=extra))
    return path


def test_a_registry_name_with_a_line_break_never_becomes_a_header(runner, tmp_path):
    evil = registry_file(tmp_path, name='"Evil\\r\\nCc: spy@example.org"')
    result = runner.invoke(cli, [*BASE, "--broker", "evil", "--registry", str(evil)])
    assert result.exit_code == 1 and "line 2 (evil): 'name': must be on one line" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "letters").exists()


def test_an_imported_record_with_a_control_character_is_skipped(tmp_path):
    records = tmp_path / "companies.jsonl"
    lines = [
        {"slug": "ok", "name": "Fine GmbH", "email": "privacy@fine.example"},
        {"slug": "bad", "name": "Bad\r\nBcc: spy@example.org", "email": "p@bad.example"},
        {"slug": "ansi", "name": "Ansi", "address": "Street 1\n\x1b]8;;http://x\x1b\\here"},
    ]
    records.write_text("\n".join(json.dumps(line) for line in lines))
    report = importer.import_datenanfragen(records)
    assert [e["slug"] for e in report.entries] == ["ok"]
    assert sum("skipped" in p for p in report.problems) == 2


@pytest.mark.parametrize("name", ['"Data [/x] Corp"', '"[link=https://evil.example]Click[/link]"'])
def test_registry_text_is_printed_as_text_never_markup(runner, tmp_path, name):
    evil = registry_file(tmp_path, name=name)
    result = invoke(runner, ["brokers", "list", "--registry", str(evil)])
    assert json.loads(name) in result.stdout  # brackets shown as they are, nothing interpreted
    assert "\x1b]8" not in result.stdout


def test_escape_sequences_in_registry_notes_are_refused(runner, tmp_path):
    evil = registry_file(tmp_path, extra=', notes: "see \\e]8;;http://evil\\e\\\\here"')
    result = runner.invoke(cli, ["brokers", "show", "evil", "--registry", str(evil)])
    assert result.exit_code == 1 and "control character U+001B" in result.stderr
    assert "\x1b" not in result.output


def test_csv_cells_are_never_formulas(runner, tmp_path, association, dsar_home):
    name = '=HYPERLINK("http://evil.example","click")'
    path = write_csv(tmp_path / "m.csv", [member(0, name=name), member(1, name="+33 Ltd")])
    out = tmp_path / "o"
    invoke(runner, batch_args(path, association, out, "--format", "email"))
    manifest = list(read_csv(out / "manifest.csv"))
    assert [m["member"] for m in manifest] == ["'" + name, "'+33 Ltd"]
    invoke(runner, ["status", "--csv", str(tmp_path / "s.csv")])
    rows = read_csv(tmp_path / "s.csv")
    assert sorted(r["member"] for r in rows) == sorted(["'" + name, "'+33 Ltd"])


def test_files_for_the_user_need_force_and_ics_lines_are_folded(runner, tmp_path):
    long = "Très-long-nom-" * 8
    ref = generate(runner, tmp_path, "--sms-sender", long)
    invoke(runner, ["sent", ref, "--on", "2026-01-31"])
    ics, table = tmp_path / "d.ics", tmp_path / "s.csv"
    invoke(runner, ["status", "--ics", str(ics), "--csv", str(table)])
    for path in (ics, table):
        path.write_text("mine")
        again = runner.invoke(cli, ["status", f"--{path.suffix[1:]}", str(path)])
        assert again.exit_code == 1 and "--force" in again.stderr and path.read_text() == "mine"
    invoke(runner, ["status", "--ics", str(ics), "--force"])
    lines = ics.read_bytes().split(b"\r\n")
    assert all(len(line) <= 75 for line in lines) and any(x.startswith(b" ") for x in lines)
    unfolded = ics.read_bytes().replace(b"\r\n ", b"").decode("utf-8")
    assert "DESCRIPTION:" in unfolded and ref in unfolded


def test_a_manifest_path_that_is_the_persons_file_is_not_overwritten(runner, tmp_path, association):
    out = tmp_path / "o"
    out.mkdir()
    (out / "manifest.csv").write_text("my own accounts\n")
    path = write_csv(tmp_path / "m.csv", [member(0)])
    result = runner.invoke(cli, batch_args(path, association, out, "--format", "email"))
    assert result.exit_code == 1 and "--force" in result.stderr
    assert (out / "manifest.csv").read_text() == "my own accounts\n"
    invoke(runner, [*batch_args(path, association, out, "--format", "email"), "--force"])
    assert (out / "manifest.csv").read_text().startswith("\ufeffrow;member")


BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize("where", ["registry", "association", "profile"])
def test_yaml_alias_bombs_deep_nesting_and_duplicate_keys_are_refused(
    runner, tmp_path, dsar_home, association, where
):
    depth = 100_000 if where == "registry" else 5_000  # within the size cap of each
    cases = {
        "aliases (*a) are not allowed": BOMB,
        # refused by dsar or by PyYAML itself (6.0.4 and later), each in its own words
        None: "a: " + "[" * depth + "]" * depth + "\n",
        "the key 'name' is given twice (line 1 and line 3)": "name: A\nemail: a@b.fr\nname: B\n",
    }
    for says, text in cases.items():
        if where == "registry":
            target = tmp_path / "r.yaml"
            args = ["brokers", "list", "--registry", str(target)]
        elif where == "association":
            target = association
            path = write_csv(tmp_path / "m.csv", [member(0)])
            args = batch_args(path, association, tmp_path / "o", "--format", "email")
        else:
            dsar_home.mkdir(exist_ok=True)
            target = dsar_home / "profile.yaml"
            args = ["generate", "--broker", "renaissance", "--format", "text"]
        target.write_text(text)
        started = time.monotonic()
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, (says, result.output[-500:])
        assert says is None or says in result.stderr, (says, result.stderr[-500:])
        assert str(target) in result.stderr and "Traceback" not in result.output
        assert time.monotonic() - started < 30  # never the minute and gigabytes of a bomb


@pytest.mark.parametrize("what", ["not utf-8", "a folder", "an impossible date"])
def test_own_files_that_cannot_be_read_are_one_line_errors(runner, tmp_path, dsar_home, what):
    dsar_home.mkdir(exist_ok=True)
    profile = dsar_home / "profile.yaml"
    if what == "not utf-8":
        profile.write_bytes("name: Hélène\n".encode("latin-1"))
    elif what == "a folder":
        profile.mkdir()
    else:  # in the user's own registry, read by every command
        (dsar_home / "brokers.yaml").write_text(
            "brokers:\n  - {slug: x, kind: broker, name: X, quality: unverified,"
            " checked: 2026-02-30}\n"
        )
    args = ["generate", "--broker", "renaissance", "--format", "text", "--name", "A B"]
    result = runner.invoke(cli, [*args, "--phone", "0612345678"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert str(dsar_home) in result.stderr
    if what == "an impossible date":
        assert "line 2 (x): 'checked'" in result.stderr


def test_plaintext_smtp_login_needs_saying_so(runner, tmp_path, association):
    path = write_csv(tmp_path / "m.csv", [member(0)])
    out = tmp_path / "o"
    args = batch_args(path, association, out, "--format", "email", "--send")
    args += ["--smtp-host", "127.0.0.1", "--smtp-security", "none", "--smtp-user", "asso"]
    result = runner.invoke(cli, args, env={"DSAR_SMTP_PASSWORD": "secret"})
    assert result.exit_code == 1 and "--allow-plaintext-auth" in result.stderr
    assert "in clear" in result.stderr and not out.exists()
