"""The command line speaks French when the locale is French or --ui-lang fr, English
otherwise: help, errors, prompts and click's own words, from gettext catalogues."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from dsar import i18n, members
from dsar.cli import cli
from dsar.vocabulary import FORMATS

from .test_help import commands

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "dsar" / "locale" / "fr" / "LC_MESSAGES"
LANGS = {"fr": "fr_FR.UTF-8", "en": "en_GB.UTF-8"}
NBSP = "\u00a0"
BAD_PHONE = ("generate", "--broker", "selfcontact", "--name", "C M", "--phone", "12")


def run_dsar(lang: str, *args: str, home: Path) -> subprocess.CompletedProcess:
    """The installed command in its own process, with only the locale set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env.update(LANG=LANGS[lang], DSAR_HOME=str(home))
    dsar = Path(sys.executable).parent / "dsar"
    return subprocess.run([dsar, *args], env=env, capture_output=True, text=True, timeout=60)


def test_generate_help_and_an_error_in_french_with_a_french_locale(dsar_home):
    shown = run_dsar("fr", "generate", "--help", home=dsar_home)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"Usage{NBSP}: dsar generate [OPTIONS]")
    assert "Écrit une lettre d'accès / d'effacement à un courtier ou un parti" in shown.stdout
    assert f"Exemple{NBSP}:" in shown.stdout and "[obligatoire]" in shown.stdout
    assert "Write an access" not in shown.stdout

    wrong = run_dsar("fr", *BAD_PHONE, home=dsar_home)
    assert wrong.returncode == 2
    assert f"Usage{NBSP}: dsar generate [OPTIONS]" in wrong.stderr
    assert (
        f"Erreur{NBSP}: --phone{NBSP}: «{NBSP}12{NBSP}» n'est pas un numéro de téléphone valide"
        in wrong.stderr
    )
    missing = run_dsar("fr", "generate", home=dsar_home)
    assert f"Erreur{NBSP}: Option manquante '--broker'." in missing.stderr


def test_the_same_in_english_with_another_locale(dsar_home):
    shown = run_dsar("en", "generate", "--help", home=dsar_home)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Usage: dsar generate [OPTIONS]")
    assert "Write an access / erasure letter to a broker or party" in shown.stdout
    assert "Example:" in shown.stdout and "[required]" in shown.stdout

    wrong = run_dsar("en", *BAD_PHONE, home=dsar_home)
    assert wrong.returncode == 2
    assert "Error: --phone: '12' is not a valid phone number" in wrong.stderr
    missing = run_dsar("en", "generate", home=dsar_home)
    assert "Error: Missing option '--broker'." in missing.stderr


@pytest.mark.parametrize("lang, other", [("fr", "en"), ("en", "fr")])
def test_ui_lang_wins_over_the_locale(runner, lang, other):
    result = runner.invoke(
        cli, ["--ui-lang", lang, "status", "--state", "bogus"], env={"LANG": LANGS[other]}
    )
    assert result.exit_code == 2
    assert ("Valeur invalide" if lang == "fr" else "Invalid value") in result.output


def test_locale_detection():
    assert i18n.from_environment({"LANG": "fr_FR.UTF-8"}) == "fr"
    assert i18n.from_environment({"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}) == "en"
    assert i18n.from_environment({"LC_MESSAGES": "fr_BE", "LANG": "C"}) == "fr"
    assert i18n.from_environment({"LANG": "C.UTF-8"}) == "en"
    assert i18n.from_environment({}) == "en"


# every command's help, and errors a newcomer meets, in both languages
ERRORS = [
    ["generate"],
    ["generate", "--broker", "selfcontact", "--name", "C M", "--phone", "12"],
    ["generate", "--broker", "nobody-at-all", "--name", "C M", "--phone", "0612345678"],
    [
        "generate",
        "--broker",
        "selfcontact",
        "--name",
        "C M",
        "--email",
        "c@example.org",
        "--sms-date",
        "31/02/2024",
    ],
    [
        "generate",
        "--broker",
        "selfcontact",
        "--name",
        "C M",
        "--phone",
        "0612345678",
        "--format",
        "pdf,fax",
    ],
    ["generate", "--broker", "selfcontact", "--phone", "0612345678", "--format", "text"],
    ["sent", "DSAR-AAAA-BBBB", "--on", "2026-01-31"],
    ["sent", "--on", "2026-01-31"],
    ["status", "--state", "bogus"],
    ["remind"],
    ["brokers", "show", "nobody-at-all"],
    ["nonsense"],
]
UNKNOWN = {"nobody-at-all", "DSAR-AAAA-BBBB"}
# prose: three words or more of lower-case letters; commands, options and values quoted
# from the user are taken out first, they are the same in both languages
PROSE = re.compile(r"(?:\b[a-z]{3,}\b[ ,;:'-]+){2}\b[a-z]{3,}\b")
NOT_PROSE = re.compile(
    r"\bdsar(?: [\w./<>=-]+)+|--[\w-]+|'[^']*'|«[^»]*»|\S+/\S*|\S+@\S+"
    r"|[\w-]+\.(?:html|pdf|csv|svg|yaml|eml)\b"  # file names dsar writes: the same in both
)


# words that are names in the data (CSV columns, formats), English in both languages
IDENTIFIERS = {w for c in (*members.COLUMNS, *FORMATS) for w in c.split("_")}


def prose(text: str) -> set[str]:
    """The fragments of prose in an output (example command lines left out)."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("dsar ", "DSAR_", "--", "$")) or line.endswith("\\"):
            continue
        found.update(PROSE.findall(NOT_PROSE.sub(" ", line)))
    return {f for f in found if not set(re.findall(r"[a-z]+", f)) <= IDENTIFIERS}


def outputs(runner, lang: str) -> dict[str, str]:
    shown = {}
    for path in commands(cli):
        result = runner.invoke(cli, [*path, "--help"], env={"LANG": LANGS[lang]}, prog_name="dsar")
        assert result.exit_code == 0, result.output
        shown[" ".join(path) + " --help"] = result.output
    result = runner.invoke(cli, ["--help"], env={"LANG": LANGS[lang]}, prog_name="dsar")
    shown["--help"] = result.output
    for args in ERRORS:
        result = runner.invoke(cli, args, env={"LANG": LANGS[lang]}, prog_name="dsar")
        # 1: a broker or reference dsar does not know; 2: an option or value refused
        assert result.exit_code == (1 if UNKNOWN & set(args) else 2), (args, result.output)
        shown[" ".join(args)] = result.output
    init = runner.invoke(cli, ["init"], input="\n", env={"LANG": LANGS[lang]}, prog_name="dsar")
    shown["init"] = init.output  # the prompts, and the error for an empty name
    return shown


def test_no_message_is_left_untranslated(runner):
    english = outputs(runner, "en")
    i18n.missing.clear()
    french = outputs(runner, "fr")
    assert not i18n.missing, f"msgids without French: {sorted(i18n.missing)}"
    for what, text in french.items():
        same = {p for p in prose(text) if p in english[what]}
        assert not same, f"{what}: untranslated: {sorted(same)}"
    assert "Votre nom" in french["init"] and "Your name" in english["init"]


def entries(catalogue) -> dict:
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalogue if m.id}


def test_the_catalogue_is_complete_compiled_and_covers_the_code(tmp_path):
    with (CATALOGUE / "dsar.po").open("rb") as handle:
        po = read_po(handle)
    empty = [m.id for m in po if m.id and not (all(m.string) if m.pluralizable else m.string)]
    assert not empty, f"no French for: {empty}"
    assert not [m.id for m in po if m.id and m.fuzzy], "fuzzy entries: check and translate them"
    with (CATALOGUE / "dsar.mo").open("rb") as handle:
        mo = read_mo(handle)
    assert entries(mo) == entries(po), "dsar.mo is older than dsar.po: run bash scripts/i18n.sh"
    pot = tmp_path / "dsar.pot"
    extracted = subprocess.run(
        [
            Path(sys.executable).parent / "pybabel",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert extracted.returncode == 0, extracted.stderr
    with pot.open("rb") as handle:
        in_code = {m.id for m in read_po(handle) if m.id}
    assert in_code <= {m.id for m in po if m.id}, (
        f"messages in the code not in dsar.po (run bash scripts/i18n.sh): {in_code - {m.id for m in po}}"
    )


def test_click_itself_is_translated_where_dsar_shows_it(runner):
    result = runner.invoke(cli, ["generate", "--channel", "pigeon"], env={"LANG": LANGS["fr"]})
    assert result.exit_code == 2
    assert "Valeur invalide pour '--channel'" in result.output
    assert click.__name__ == "click"


def journal_outputs(runner, lang: str, out: Path) -> dict[str, str]:
    """What a person reads after a letter: show, the answer line, forget and its refusal."""
    env = {"LANG": LANGS[lang]}
    details = ["--name", "C M", "--phone", "0612345678", "--email", "c@example.org"]
    shown = {}
    for date, kept in (("2026-01-30", True), ("2026-01-29", False)):
        made = runner.invoke(
            cli,
            [
                "generate",
                "--broker",
                "renaissance",
                *details,
                "--format",
                "email",
                "--date",
                date,
                "--out",
                str(out),
            ],
            env=env,
        )
        assert made.exit_code == 0, made.output
        reference = made.stdout.split("reference ")[1].split()[0]
        if kept:
            sent = runner.invoke(cli, ["sent", reference, "--on", "2026-01-31"], env=env)
            assert sent.exit_code == 0, sent.output
            for args in (
                ["answer", reference, "--state", "id-requested", "--on", "2026-02-10"],
                ["show", reference],
                ["forget", reference],
            ):
                result = runner.invoke(cli, args, env=env)
                assert result.exit_code == (1 if args[0] == "forget" else 0), result.output
                shown[args[0]] = result.output.replace(reference, "REF")
        else:
            status = runner.invoke(cli, ["status"], env=env)
            assert status.exit_code == 0, status.output
            shown["status"] = status.output
            forgot = runner.invoke(cli, ["forget", reference], env=env)
            assert forgot.exit_code == 0, forgot.output
            shown["forget a draft"] = forgot.output.replace(reference, "REF")
    refused = runner.invoke(cli, ["init", *details[:4], "--email", "nope"], env=env)
    assert refused.exit_code == 2, refused.output
    shown["init --email"] = refused.output
    check = runner.invoke(cli, ["brokers", "check"], env=env)
    assert check.exit_code == 0, check.output
    shown["brokers check"] = check.output
    return shown


def test_show_answer_and_forget_speak_the_persons_language(runner, dsar_home, tmp_path):
    """`show`, `forget` and `brokers check` were English whatever the locale, and an
    e-mail address was refused with the English reason of the validation library."""
    english = journal_outputs(runner, "en", tmp_path / "en")
    (dsar_home / "journal.sqlite3").unlink()
    french = journal_outputs(runner, "fr", tmp_path / "fr")
    assert not i18n.missing, f"msgids without French: {sorted(i18n.missing)}"
    for what, text in french.items():
        same = {p for p in prose(text) if p in english[what]}
        assert not same, f"{what}: untranslated: {sorted(same)}"
    assert "à : Renaissance" in french["show"] and "étapes :" in french["show"]
    # steps and files in French, as the dossier names them, not the journal's English names
    assert "31 janvier 2026 envoyé" in french["show"] and "courriel\u00a0:" in french["show"]
    assert "réponse\u00a0: identification demandée" in french["show"]
    assert "answer:id-requested" not in french["show"] and "answer: id-requested" in english["show"]
    assert "ensuite : pas de réponse dans le délai : dsar remind REF" in french["show"]
    assert french["answer"].startswith("REF : identification demandée ; répondez-y")
    assert "n'est pas un brouillon" in french["forget"]
    assert f"Par état{NBSP}: brouillon (1), en retard (1)" in french["status"]  # no plural
    assert "Par destinataire et par état" in french["status"]  # a party is no broker
    assert re.search(r"\d+ entrées, \d+ campagnes : 0 erreur", french["brokers check"])
    # English keeps the validation library's reason; French leaves that English out
    assert "@-sign" in english["init --email"] and "@-sign" not in french["init --email"]
    assert "écrivez-la comme nom@example.org" in french["init --email"]


def test_dry_run_without_send_is_refused_in_french(runner, tmp_path):
    members_csv = tmp_path / "membres.csv"
    members_csv.write_text("Nom;Téléphone;Date du mandat;Réf. mandat\n", encoding="utf-8")
    association = tmp_path / "association.yaml"
    association.write_text("name: A\n", encoding="utf-8")
    args = [
        "batch",
        str(members_csv),
        "--association",
        str(association),
        "--out",
        str(tmp_path / "out"),
    ]
    refused = runner.invoke(cli, ["--ui-lang", "fr", *args, "--dry-run"])
    assert refused.exit_code == 2
    assert "--dry-run montre ce que --send enverrait" in refused.output
    assert "shows what --send would send" not in refused.output
    assert not (tmp_path / "out").exists()


def test_journal_dates_and_association_numbers_are_refused_in_french(runner, tmp_path):
    from .conftest import CITIZEN
    from .test_batch import ASSOCIATION

    letter = ["--format", "email", "--date", "2026-11-20", "--out", str(tmp_path / "l")]
    made = runner.invoke(cli, [*CITIZEN, *letter])
    assert made.exit_code == 0, made.output
    ref = re.search(r"DSAR-[0-9A-Z]{4}-[0-9A-Z]{4}", made.output).group()
    early = runner.invoke(cli, ["--ui-lang", "fr", "sent", ref, "--on", "2026-11-19"])
    assert early.exit_code == 1, early.output
    assert f"2026-11-19 (envoyée){NBSP}: date antérieure à celle de la lettre" in early.stderr
    later = runner.invoke(cli, ["--ui-lang", "fr", "sent", ref, "--on", "2099-01-01"])
    assert later.exit_code == 1 and "(envoyée) est dans le futur" in later.stderr
    assert "is in the future" not in later.stderr
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION + "rna: X12\n", encoding="utf-8")
    members_csv = tmp_path / "membres.csv"
    members_csv.write_text("Nom;Téléphone;Date du mandat;Réf. mandat\n", encoding="utf-8")
    args = ["batch", str(members_csv), "--association", str(association)]
    refused = runner.invoke(cli, ["--ui-lang", "fr", *args, "--out", str(tmp_path / "o")])
    assert refused.exit_code == 1 and "un numéro RNA est un W suivi de 9 chiffres" in refused.output
