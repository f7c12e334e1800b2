"""--templates DIR on every command that writes a letter, the default: prefix, the
per-recipient template, and shell completion of slugs and references."""

from __future__ import annotations

import csv

import pytest

from dsar import batch
from dsar.cli import cli

from .conftest import flat, parse_eml, pdf_text
from .test_batch import ASSOCIATION, HEADER, member
from .test_journal import BASE, generate

MARK = "Texte de la surcharge 7Q"


def override(folder, name, text=f"<p>{MARK}</p>"):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return folder


def invoke(runner, args):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def sent_and_late(runner, tmp_path):
    ref = generate(runner, tmp_path)
    invoke(runner, ["sent", ref, "--on", "2026-01-31"])
    return ref


def test_generate_uses_the_override(runner, tmp_path):
    folder = override(tmp_path / "t", "letters/fr/request.html.j2")
    out = tmp_path / "out"
    args = [*BASE, "--format", "text", "--templates", str(folder), "--out", str(out)]
    assert MARK in invoke(runner, args).stdout


def test_remind_uses_the_override(runner, tmp_path):
    ref = sent_and_late(runner, tmp_path)
    folder = override(tmp_path / "t", "letters/fr/reminder.html.j2")
    args = ["remind", ref, "--on", "2026-03-10", "--format", "text", "--templates", str(folder)]
    assert MARK in invoke(runner, [*args, "--out", str(tmp_path / "r")]).stdout


def test_reply_id_uses_the_override(runner, tmp_path):
    ref = sent_and_late(runner, tmp_path)
    folder = override(tmp_path / "t", "letters/fr/reply-id.html.j2")
    args = ["reply-id", ref, "--format", "text", "--templates", str(folder)]
    assert MARK in invoke(runner, [*args, "--out", str(tmp_path / "r")]).stdout


def test_complain_uses_the_override(runner, tmp_path):
    ref = sent_and_late(runner, tmp_path)
    invoke(runner, ["answer", ref, "--state", "refused", "--on", "2026-03-01"])
    folder = override(tmp_path / "t", "letters/fr/complaint.html.j2")
    out = tmp_path / "cnil"
    invoke(
        runner,
        ["complain", ref, "--on", "2026-04-01", "--out", str(out), "--templates", str(folder)],
    )
    assert MARK in flat(pdf_text((out / f"{ref}-dossier-cnil.pdf").read_bytes()))


@pytest.fixture
def association(tmp_path):
    path = tmp_path / "association.yaml"
    path.write_text(ASSOCIATION, encoding="utf-8")
    members = tmp_path / "members.csv"
    with members.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerows([HEADER, member(1)])
    return path, members


def test_batch_uses_the_override(runner, tmp_path, association):
    folder = override(tmp_path / "t", "letters/fr/request.html.j2")
    path, members = association
    out = tmp_path / "out"
    args = ["batch", str(members), "--broker", "renaissance", "--association", str(path)]
    args += ["--mandate-on-request"]  # no signed scan here: the e-mail is not held back
    invoke(runner, [*args, "--out", str(out), "--format", "email", "--templates", str(folder)])
    [eml] = out.glob("*.eml")
    assert MARK in parse_eml(eml.read_bytes()).get_body(("plain",)).get_content()


def test_batch_workers_render_the_override(runner, tmp_path, association, monkeypatch):
    """The PDF worker processes get the same template roots as the parent."""
    monkeypatch.setattr(batch, "_in_process", lambda options: False)  # workers, for one
    folder = override(tmp_path / "t", "letters/fr/request.html.j2")
    path, members = association
    out = tmp_path / "out"
    args = ["batch", str(members), "--broker", "renaissance", "--association", str(path)]
    invoke(
        runner,
        [*args, "--out", str(out), "--format", "pdf", "--workers", "1", "--templates", str(folder)],
    )
    [pdf] = [p for p in out.glob("DSAR-*.pdf")]
    assert MARK in flat(pdf_text(pdf.read_bytes()))


def test_mandate_uses_the_override(runner, tmp_path, association):
    folder = override(tmp_path / "t", "mandate.html.j2", f"<html><body><p>{MARK}</p></body></html>")
    path, _ = association
    out = tmp_path / "mandates"
    invoke(
        runner,
        ["mandate", "--association", str(path), "--out", str(out), "--templates", str(folder)],
    )
    assert MARK in flat(pdf_text((out / "mandate-blank.pdf").read_bytes()))


def test_an_override_extends_the_shipped_template(runner, tmp_path):
    """default:NAME is always the shipped template, so an override need not copy it."""
    text = f'<p>{MARK}</p>{{% include "default:letters/fr/request.html.j2" %}}'
    folder = override(tmp_path / "t", "letters/fr/request.html.j2", text)
    args = [*BASE, "--format", "text", "--templates", str(folder), "--out", str(tmp_path / "o")]
    body = flat(invoke(runner, args).stdout)
    assert MARK in body and "art. 15(1)(g)" in body  # the shipped core and annex


def test_a_recipient_template_comes_before_the_general_one(runner, tmp_path):
    folder = override(tmp_path / "t", "letters/fr/request-renaissance.html.j2")
    args = [*BASE, "--format", "text", "--templates", str(folder), "--out", str(tmp_path / "o")]
    assert MARK in invoke(runner, args).stdout
    other = [*BASE, "--format", "text", "--templates", str(folder), "--out", str(tmp_path / "p")]
    other[other.index("renaissance")] = "selfcontact"
    assert MARK not in invoke(runner, other).stdout


def test_the_user_config_folder_is_below_templates_dir(runner, tmp_path, dsar_home):
    override(
        dsar_home / "templates", "letters/fr/request.subject.txt.j2", "Sujet du dossier config"
    )
    folder = override(tmp_path / "t", "letters/fr/request.html.j2")
    args = [*BASE, "--format", "text", "--templates", str(folder), "--out", str(tmp_path / "o")]
    stdout = invoke(runner, args).stdout
    assert stdout.startswith("Sujet du dossier config") and MARK in stdout


# ---------------------------------------------------------------- shell completion


def complete(runner, words: str) -> list[str]:
    """What bash would offer after `words` (click's bash_complete protocol)."""
    parts = words.split(" ")
    env = {
        "_DSAR_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    result = runner.invoke(cli, [], env=env, prog_name="dsar", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_completion_of_slugs_and_references(runner, tmp_path):
    assert complete(runner, "dsar generate --broker selfc") == ["selfcontact"]
    assert "renaissance" in complete(runner, "dsar brokers show ren")
    assert complete(runner, "dsar remind DSAR-") == []  # no journal yet: nothing, no error
    ref = generate(runner, tmp_path)
    for command in ("sent", "answer", "remind", "reply-id", "complain"):
        assert complete(runner, f"dsar {command} DSAR-") == [ref], command
