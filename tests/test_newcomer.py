"""A newcomer's path: from the message to a letter without a detour (issue 14)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from dsar.app import App
from dsar.cli import cli

from .conftest import flat, pdf_text

# a quote, a "!" and a line break: what a shell would take apart if it were not quoted
MESSAGE = "Le 9 juin, votez pour la liste menée par Marion Maréchal !\nPour l'Europe. STOP au 36111"


def shell_env(home: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # where this venv's `dsar` is
    return {**os.environ, "DSAR_HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def emailed_draft(runner, out: Path) -> str:
    """A request to Renaissance written as an e-mail on 2026-01-30; its reference."""
    args = ["--broker", "renaissance", "--name", "Camille Martin", "--email", "camille@example.org"]
    made = runner.invoke(
        cli, ["generate", *args, "--format", "email", "--date", "2026-01-30", "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    return next(
        line.split()[1] for line in made.stdout.splitlines() if line.startswith("reference")
    )


def test_each_command_identify_prints_runs_as_pasted_into_a_shell(runner, tmp_path, dsar_home):
    saved = runner.invoke(
        cli,
        [
            "init",
            "--name",
            "Camille Martin",
            "--phone",
            "06 12 34 56 78",
            "--address",
            "12 rue des Lilas\\n75011 Paris",
        ],
    )
    assert saved.exit_code == 0, saved.output
    found = runner.invoke(
        cli,
        ["identify", "--date", "2024-06-06", "--sender", "Marion Maréchal", "--text", MESSAGE],
    )
    assert found.exit_code == 0, found.output
    # a command runs to the next one: the message's line break stays inside its quotes
    listed = found.stdout.split("pasted):\n", 1)[1]
    # printed as dsar runs here (`dsar`, `.venv/bin/dsar` or `python -m dsar`)
    commands = [c.strip() for c in re.split(r"^  (?=\S)", listed, flags=re.M) if c.strip()]
    assert len(commands) == 2 and "..." not in found.stdout
    for command in commands:
        pasted = subprocess.run(
            command,
            shell=True,
            cwd=tmp_path,
            env=shell_env(dsar_home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert pasted.returncode == 0, pasted.stderr
    letters = sorted((tmp_path / "letters").glob("*.pdf"))
    assert {p.stem.split("-")[-1] for p in letters} == {"reconquete", "selfcontact"}
    for letter in letters:
        text = flat(pdf_text(letter.read_bytes()))
        assert "Camille Martin" in text and "STOP au 36111" in text and "Marion Maréchal" in text
        assert "Europe" in text


def test_sent_keeps_the_registered_letter_receipt_by_its_content(runner, tmp_path, dsar_home):
    import hashlib

    from dsar.journal import Journal

    reference = emailed_draft(runner, tmp_path / "letters")
    receipt = tmp_path / "recu.jpg"
    receipt.write_bytes(b"\xff\xd8 a photo of the receipt")
    args = [
        "sent",
        reference,
        "--on",
        "2026-01-31",
        "--lrar",
        "1A23456789012",
        "--proof",
        str(receipt),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    receipt.write_bytes(b"\xff\xd8 another photo, same name")  # the first one is not replaced
    assert runner.invoke(cli, [*args[:3], "2026-01-31", "--proof", str(receipt)]).exit_code == 0
    with Journal(dsar_home / "journal.sqlite3") as journal:
        kept = journal.files(reference, "proof")
    assert len(kept) == 2
    for _role, path, sha in kept:
        assert path.name.startswith(sha) and hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert {p.read_bytes() for _r, p, _s in kept} == {
        b"\xff\xd8 a photo of the receipt",
        b"\xff\xd8 another photo, same name",
    }


def test_init_asks_again_for_a_wrong_answer_and_keeps_the_others(runner, dsar_home):
    answers = "\n".join(
        [
            "Camille Martin",
            "12 rue des Lilas",
            "75011 Paris",
            "",  # the address ends
            "06 12",  # a typo: asked again at once, nothing else is lost
            "06 12 34 56 78",
            "camille@example.org",
        ]
    )
    result = runner.invoke(cli, ["init"], input=answers + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Phone number that received the message") == 2
    assert "Error: '06 12' is not a valid phone number" in result.output
    assert "--phone" not in result.output  # an option the person never typed
    saved = (dsar_home / "profile.yaml").read_text(encoding="utf-8")
    assert "+33612345678" in saved and "75011 Paris" in saved and "camille@example.org" in saved


def test_a_value_error_shows_the_subcommand_s_usage(runner):
    args = ["generate", "--broker", "selfcontact", "--name", "C M", "--phone", "12"]
    result = runner.invoke(cli, args, prog_name="dsar")
    assert result.exit_code == 2
    assert "Usage: dsar generate [OPTIONS]" in result.output
    assert "Usage: dsar [OPTIONS] COMMAND" not in result.output
    assert "--phone: '12' is not a valid phone number" in result.output


def test_generate_ends_with_what_to_do_next(runner, tmp_path):
    args = ["generate", "--broker", "renaissance", "--name", "Camille Martin", "--email"]
    args += ["camille@example.org", "--format", "email", "--out", str(tmp_path / "l")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    reference = next(w for w in result.stdout.split() if w.startswith("DSAR-"))
    assert last.startswith("Next: files in ") and str(tmp_path / "l") in last
    assert "by e-mail: open " in last and ".eml" in last and "mailto:" in last
    assert "webmail: add --format text" in last
    assert f"once sent: dsar sent {reference} --on YYYY-MM-DD" in last


def test_the_cnil_dossier_lists_its_steps_in_french(runner, tmp_path, dsar_home):
    from dsar import followup

    reference = emailed_draft(runner, tmp_path / "l")
    receipt = tmp_path / "recu.pdf"
    receipt.write_bytes(b"%PDF-1.4 a scan")
    for args in (
        ["sent", reference, "--on", "2026-01-31", "--proof", str(receipt)],
        ["answer", reference, "--state", "partial", "--on", "2026-02-20"],
    ):
        assert runner.invoke(cli, ["--ui-lang", "en", *args]).exit_code == 0
    with App() as app:
        page = followup.proofs_html(app.journal, reference, app.templates)
    for step in ("généré", "envoyé", "réponse\u00a0: partielle", "preuve d’envoi"):
        assert f">{step}<" in page or f"<li>{step}&nbsp;:" in page, step
    assert ">answer:partial<" not in page and ">generated<" not in page


def test_after_a_reminder_status_shows_one_deadline_and_the_days_left_to_it(
    runner, tmp_path, dsar_home
):
    reference = emailed_draft(runner, tmp_path / "l")
    assert runner.invoke(cli, ["sent", reference, "--on", "2026-01-30"]).exit_code == 0
    reminded = runner.invoke(
        cli,
        [
            "remind",
            reference,
            "--on",
            "2026-03-10",
            "--format",
            "email",
            "--out",
            str(tmp_path / "l"),
        ],
    )
    assert reminded.exit_code == 0, reminded.output
    [eml] = (tmp_path / "l").glob("*-relance-renaissance.eml")  # says it is a reminder
    # the reminder's days count once it is sent, not when it is written
    sent = runner.invoke(cli, ["sent", eml.name[:14], "--on", "2026-03-10"])
    assert sent.exit_code == 0, sent.output
    final = sent.stdout.split("final deadline ")[1].split()[0]
    table = runner.invoke(cli, ["status", "--as-of", "2026-03-12"])
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if reference in line)
    cells = [c.strip() for c in row.strip("│ \n").split("│")]
    days = (date.fromisoformat(final) - date(2026, 3, 12)).days
    assert cells[-3:] == [final, str(days), "reminded"]  # the reminder's deadline, its days


def test_identify_generate_writes_the_letters_at_once(runner, tmp_path):
    saved = runner.invoke(cli, ["init", "--name", "Camille Martin", "--phone", "06 12 34 56 78"])
    assert saved.exit_code == 0, saved.output
    out = tmp_path / "letters"
    result = runner.invoke(
        cli,
        [
            "identify",
            "--date",
            "06/06/2024",
            "--sender",
            "Marion Maréchal",
            "--text",
            MESSAGE,
            "--generate",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Likely controller" in result.stdout and "dsar generate --broker" not in result.stdout
    assert sorted(p.name.split("-")[-1] for p in out.glob("*.pdf")) == [
        "reconquete.pdf",
        "selfcontact.pdf",
    ]
    assert result.stdout.count("Next: ") == 2
