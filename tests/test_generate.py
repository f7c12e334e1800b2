"""The citizen path end to end: the command of the issue, PDFs and e-mails read back."""

from __future__ import annotations

import os
import stat

import pytest

from dsar.cli import cli

from .conftest import CITIZEN, flat, parse_eml, pdf_text

ISSUE_COMMAND = [
    *CITIZEN,
    "--sms-date",
    "2024-06-06",
    "--sms-sender",
    "Reconquête",
    "--sms-text",
    "Le 9 juin, votez ... STOP au 36111",
    "--right",
    "both",
    "--lang",
    "fr",
    "--format",
    "pdf,email",
    "--date",
    "2026-11-23",
]


def run(runner, args, out):
    result = runner.invoke(cli, [*args, "--out", str(out)], catch_exceptions=False)
    return result


def outputs(out, suffix):
    return sorted(p for p in out.iterdir() if p.suffix == suffix)


def test_issue_command_writes_pdf_and_eml(runner, tmp_path):
    out = tmp_path / "letters"
    result = run(runner, ISSUE_COMMAND, out)
    assert result.exit_code == 0, result.output
    [pdf] = outputs(out, ".pdf")
    [eml] = outputs(out, ".eml")
    assert pdf.name.endswith("-selfcontact.pdf") and pdf.name.startswith("DSAR-")
    assert f"wrote {pdf}" in result.output and "mailto" not in result.output  # no recipient e-mail

    text = flat(pdf_text(pdf.read_bytes()))
    for expected in (
        "+33 6 12 34 56 78",
        "06 12 34 56 78",
        "+33612345678",
        "Selfcontact",
        "6 juin 2024",
        "Paris, le 23 novembre 2026",
        "Reconquête",
        "Le 9 juin, votez ... STOP au 36111",
    ):
        assert expected in text, expected
    for article in (
        "12(3)",
        "12(5)",
        "15(1)(g)",
        "15(1)(c)",
        "17(1)",
        "(art. 19)",
        "21(2)",
        "7(3)",
        "18(1)",
        "art. 77",
        "C-154/21",
        "C-487/21",
    ):
        assert article in text, article

    message = parse_eml(eml.read_bytes())
    assert message["From"].addresses[0].addr_spec == "camille@example.org"
    assert message["Reply-To"].addresses[0].addr_spec == "camille@example.org"
    assert "06 12 34 56 78" in message["Subject"] and "art. 15" in message["Subject"]
    assert message["Date"].datetime is not None
    assert message["Message-ID"].startswith("<dsar-") and message["Message-ID"].endswith(
        "@example.org>"
    )
    assert message["To"] is None  # Selfcontact publishes no e-mail: never invented
    body = message.get_body(("plain",)).get_content()
    assert "06 12 34 56 78" in flat(body) and "+33612345678" in body
    assert "> Le 9 juin, votez ... STOP au 36111" in body


def test_outputs_are_private(runner, tmp_path):
    out = tmp_path / "letters"
    assert run(runner, ISSUE_COMMAND, out).exit_code == 0
    for path in out.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_gaps_are_explained_not_filled(runner, tmp_path):
    result = run(runner, ISSUE_COMMAND, tmp_path / "o")
    assert result.exit_code == 0, result.output  # the letter is still written
    err = result.stderr
    assert "no e-mail address and no postal address known" in err
    assert "http://www.selfcontact.com" in err
    assert "--to-email" in err and "--to-address" in err
    # the message named Reconquête: point at the party that ordered the campaign
    assert "dsar generate --broker reconquete" in err


def test_to_email_and_to_address_fill_the_gap(runner, tmp_path):
    out = tmp_path / "o"
    args = [
        *ISSUE_COMMAND,
        "--to-email",
        "dpo@selfcontact.example",
        "--to-address",
        "Selfcontact\\nService DPO\\n60400 Noyon",
    ]
    result = run(runner, args, out)
    assert result.exit_code == 0
    assert "no e-mail" not in result.stderr
    assert "mailto:dpo@selfcontact.example?subject=" in result.output
    message = parse_eml(outputs(out, ".eml")[0].read_bytes())
    assert message["To"].addresses[0].addr_spec == "dpo@selfcontact.example"
    assert "Service DPO" in pdf_text(outputs(out, ".pdf")[0].read_bytes())


def test_party_with_verified_contacts(runner, tmp_path):
    out = tmp_path / "o"
    args = [a if a != "selfcontact" else "renaissance" for a in ISSUE_COMMAND]
    result = run(runner, [*args, "--lrar"], out)
    assert result.exit_code == 0
    text = flat(pdf_text(outputs(out, ".pdf")[0].read_bytes()))
    assert "68 rue du Rocher" in text and "75008 Paris" in text
    assert "Lettre recommandée avec accusé de réception" in text
    assert "28(3)(e)" in text and "492943" in text  # the party stays responsible
    message = parse_eml(outputs(out, ".eml")[0].read_bytes())
    assert message["To"].addresses[0].addr_spec == "mes-donnees@parti-renaissance.fr"


def test_english_letter(runner, tmp_path):
    out = tmp_path / "o"
    args = [a if a != "fr" else "en" for a in ISSUE_COMMAND]
    result = run(runner, args, out)
    assert result.exit_code == 0
    text = flat(pdf_text(outputs(out, ".pdf")[0].read_bytes()))
    assert "Paris, 23 November 2026" in text and "6 June 2024" in text
    assert "Subject access request" in text and "Art. 15(1)(g)" in text


@pytest.mark.parametrize(
    "right, present, absent",
    [
        ("access", "Art. 15", "Art. 17(1)"),
        ("erasure", "Art. 17(1)", "Access request"),
    ],
)
def test_right_selects_sections(runner, tmp_path, right, present, absent):
    args = [*ISSUE_COMMAND, "--format", "text", "--lang", "en", "--right", right]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0
    text = flat(result.stdout)
    assert present in text and absent not in text


def test_text_format_prints_letter_on_stdout(runner, tmp_path):
    result = runner.invoke(cli, [*ISSUE_COMMAND, "--format", "text"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith("Demande d’accès (art. 15 RGPD)")
    assert "Madame, Monsieur," in result.stdout and "Camille Martin" in result.stdout
    assert "wrote" not in result.stdout  # messages go to stderr, stdout is the letter


def test_profile_from_init_is_used_and_private(runner, tmp_path, dsar_home):
    result = runner.invoke(
        cli,
        [
            "init",
            "--name",
            "Camille Martin",
            "--phone",
            "0612345678",
            "--email",
            "camille@example.org",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    profile_file = dsar_home / "profile.yaml"
    assert stat.S_IMODE(os.stat(profile_file).st_mode) == 0o600
    result = runner.invoke(
        cli, ["generate", "--broker", "renaissance", "--format", "text"], catch_exceptions=False
    )
    assert result.exit_code == 0 and "06 12 34 56 78" in flat(result.stdout)


def test_init_prompts(runner, dsar_home):
    answers = (
        "Camille Martin\n12 rue des Lilas\n75011 Paris\n\n06 12 34 56 78\ncamille@example.org\n"
    )
    result = runner.invoke(cli, ["init"], input=answers, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    saved = (dsar_home / "profile.yaml").read_text()
    assert "+33612345678" in saved and "75011 Paris" in saved


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--phone", "12", "--phone: '12' is not a valid phone number"),
        ("--email", "camille@", "--email: 'camille@' is not a valid e-mail address"),
        ("--sms-date", "2024-02-30", "--sms-date: '2024-02-30' is not a date"),
        ("--name", "Camille\nMartin", "--name: must be on one line"),
    ],
)
def test_bad_field_names_the_field(runner, tmp_path, flag, value, message):
    args = list(ISSUE_COMMAND)
    args[args.index(flag) + 1] = value
    out = tmp_path / "o"
    result = run(runner, args, out)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_lang_is_a_usage_error(runner, tmp_path):
    args = list(ISSUE_COMMAND)
    args[args.index("--lang") + 1] = "de"
    result = run(runner, args, tmp_path / "o")
    assert result.exit_code == 2 and "'de' is not one of 'fr', 'en'" in result.stderr


def test_unknown_broker_gets_close_matches(runner, tmp_path):
    args = list(ISSUE_COMMAND)
    args[args.index("--broker") + 1] = "selfcontakt"
    result = run(runner, args, tmp_path / "o")
    assert result.exit_code == 1
    assert "unknown broker 'selfcontakt'. Did you mean: selfcontact" in result.stderr


def test_existing_output_is_kept_without_force(runner, tmp_path):
    out = tmp_path / "o"
    assert run(runner, ISSUE_COMMAND, out).exit_code == 0
    pdf = outputs(out, ".pdf")[0]
    pdf.write_bytes(b"mine")
    result = run(runner, ISSUE_COMMAND, out)
    assert result.exit_code == 1 and "already exists; use --force" in result.stderr
    # the file is the same request's draft (the README's set-up letter, then its example)
    reference = pdf.name[:14]
    assert f"It is the draft {reference}, written earlier" in result.stderr
    assert pdf.read_bytes() == b"mine"
    assert run(runner, [*ISSUE_COMMAND, "--force"], out).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_failure_leaves_no_partial_file(runner, tmp_path, monkeypatch):
    from dsar.render import mail

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mail, "build", broken)
    out = tmp_path / "o"
    with pytest.raises(RuntimeError):
        run(runner, ISSUE_COMMAND, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_email_format_needs_an_email(runner, tmp_path):
    args = [a for a in ISSUE_COMMAND if a != "camille@example.org" and a != "--email"]
    result = run(runner, args, tmp_path / "o")
    assert result.exit_code == 2 and "--email" in result.stderr


def test_recipient_block_sits_in_the_dl_window(runner, tmp_path):
    """DL envelope, window on the right: about 100-200 mm across, 40-95 mm down on A4."""
    import pdfplumber

    out = tmp_path / "o"
    args = [a if a != "selfcontact" else "renaissance" for a in ISSUE_COMMAND]
    assert run(runner, args, out).exit_code == 0
    mm = 72 / 25.4
    with pdfplumber.open(outputs(out, ".pdf")[0]) as pdf:
        words = pdf.pages[0].extract_words()
    block = [w for w in words if w["text"] in ("Rocher", "75008")]
    assert len(block) == 2
    for word in block:
        assert 100 * mm <= word["x0"] and word["x1"] <= 200 * mm
        assert 40 * mm <= word["top"] and word["bottom"] <= 95 * mm
    sender = next(w for w in words if w["text"] == "Lilas")
    assert sender["x0"] < 100 * mm and sender["top"] < 40 * mm
