"""The command line: the only module that prints, prompts or exits.

Every command parses its options, builds one App (dsar/app.py), calls one of its
methods and prints the result; the exit code comes from the result. DsarError becomes
a message and its exit code in one place (DsarGroup.invoke).
"""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
import sys
from datetime import date
from pathlib import Path

import click

from . import fields, followup, i18n, lifecycle, members, profile, registry, report
from . import follow as follow_module
from . import identify as identify_module
from .app import ASKED_STEP, App
from .cli_i18n import TranslatedCommand, TranslatedGroup, cli_words
from .cli_i18n import option as option_name
from .cli_options import (
    association_option,
    broker_option,
    complete_broker,
    complete_reference,
    date_option,
    force_option,
    formats_option,
    json_option,
    lang_option,
    on_option,
    options,
    out_option,
    registry_option,
    server_options,
    server_password,
)
from .errors import DsarError, InputError, UsageError
from .files import read_text
from .i18n import N_, _
from .paths import Paths
from .results import EXIT_INTERRUPTED, EXIT_OK, LetterResult
from .safety import plain, printable
from .sending import SmtpSettings
from .vocabulary import (
    ANSWER_STATES,
    CHANNELS,
    IMPORT_KINDS,
    RECIPIENT_KINDS,
    REQUEST_STATES,
    RIGHTS,
)


def as_click_error(exc: DsarError, ctx: click.Context) -> click.ClickException:
    """A value error shows the usage of the command it was given to (`ctx`)."""
    if isinstance(exc, InputError):
        return click.UsageError(
            _("{option}: {reason}").format(option=option_name(exc.field), reason=cli_words(exc)),
            ctx,
        )
    if isinstance(exc, UsageError):
        return click.UsageError(cli_words(exc), ctx)
    error = click.ClickException(cli_words(exc))
    error.exit_code = exc.exit_code
    return error


class DsarCommand(TranslatedCommand):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DsarError as exc:
            raise as_click_error(exc, ctx) from None


class DsarGroup(TranslatedGroup):
    command_class = DsarCommand

    def main(self, *args, **kwargs):
        with i18n.speaking():  # the locale's language, until --ui-lang says otherwise
            return super().main(*args, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DsarError as exc:
            raise as_click_error(exc, ctx) from None
        except sqlite3.DatabaseError as exc:  # a damaged journal met while reading rows
            raise click.ClickException(
                f"the journal {Paths.from_env().journal}: {exc}; restore it from a backup, "
                "or move it aside to start anew"
            ) from None
        except KeyboardInterrupt:
            click.echo(_("interrupted"), err=True)
            sys.exit(EXIT_INTERRUPTED)


def open_app(registries=(), templates: Path | None = None) -> App:
    """The run's one App, closed when the command ends."""
    ctx = click.get_current_context()
    return ctx.with_resource(App(Paths.from_env(), registries=registries, templates=templates))


def finish(exit_code: int) -> None:
    if exit_code != EXIT_OK:
        click.get_current_context().exit(exit_code)


def console(width: int | None = None, stderr: bool = False):
    """A rich console; `width` when the output is not a terminal (pipes, files)."""
    # rich costs 0.15 s to import: only the commands that draw a table or a bar pay it
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else width, stderr=stderr)


def table(*columns: str):
    from rich.table import Table

    return Table(*columns, box=None)


def warn(text: str) -> None:
    click.secho(printable(text), err=True, fg="yellow")


# ---------------------------------------------------------------- options


def templates_option(func):
    return click.option(
        "--templates",
        "templates_dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="Folder whose templates override yours and the shipped ones by name.",
    )(func)


def columns_option(func):
    return click.option(
        "--columns",
        callback=lambda ctx, param, value: members.parse_columns(value),
        help="Your spreadsheet's own column names: 'Numéro=phone,Remarque=-' (- leaves one out).",
    )(func)


def say_columns(read_as, encoding: str) -> None:
    """Which column of the spreadsheet is read as which, and in which encoding: the
    person checks it at once."""
    click.echo(_("read as {encoding}").format(encoding=encoding), err=True)
    shown = ", ".join(f"{header} → {column}" for header, column in read_as)
    click.echo(_("columns read: {columns}").format(columns=shown), err=True)


def channel_option(help_text: str):
    return click.option(
        "--channel", type=click.Choice(CHANNELS), default="sms", show_default=True, help=help_text
    )


def reference_argument(func):
    return click.argument("reference", shell_complete=complete_reference)(func)


@click.group(cls=DsarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dsar", help="Show the version and exit.")
@click.option(
    "--ui-lang",
    type=click.Choice(i18n.UI_LANGUAGES),
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, param, value: i18n.switch(value) if value else None,
    help="Language of messages and help (default: from the locale, LANG).",
)
def cli():
    """GDPR letters to the data brokers and parties behind political SMS.

    \b
    Quick start:
      dsar generate --broker selfcontact --name "Camille Martin" \\
        --phone "06 12 34 56 78" --email camille@example.org --out letters/
    """


# ---------------------------------------------------------------- init


@cli.command()
@click.option("--name")
@click.option("--address", help="Postal address; separate lines with \\n.")
@click.option("--phone")
@click.option("--email")
@click.option(
    "--reply-subaddress/--no-reply-subaddress",
    default=None,
    help="Ask for answers at a sub-address per request (you+dsar-xxxx-xxxx@...), "
    "which dsar inbox matches first; your mail provider must deliver sub-addresses.",
)
def init(name, address, phone, email, reply_subaddress):
    """Save your details once, so that generate needs only --broker.

    The profile is written in your config folder (or DSAR_HOME) with mode 0600.
    Any detail not given as an option is asked for.

    \b
    Example:
      dsar init
      dsar init --name "Camille Martin" --phone "06 12 34 56 78" --email camille@example.org
      dsar init --reply-subaddress
    """
    app = open_app()
    saved = app.saved_profile()
    if not any((name, address, phone, email)) and (reply_subaddress is None or not saved):
        name, address, phone, email = ask_details(saved)
    result = app.save_profile(name, address, phone or None, email or None, reply_subaddress)
    click.echo(
        _("Saved your details in {path} (readable by you only).").format(path=result.written[0])
    )


def checked(field: str):
    """A prompt's value_proc: each answer is checked as it is typed and asked again
    when it is wrong, with what to fix."""

    def proc(value: str) -> str:
        try:
            return profile.check(field, value)
        except InputError as exc:
            raise click.BadParameter(cli_words(exc)) from None

    return proc


def ask_details(saved: dict[str, str]) -> tuple[str, str | None, str, str]:
    def ask(text: str, field: str, default: str | None = None) -> str:
        return click.prompt(
            text,
            default=default,
            show_default=bool(default),
            value_proc=checked(field),
            prompt_suffix=_(": "),
        )

    name = ask(_("Your name"), "name", saved.get("name"))
    click.echo(_("Postal address, one line at a time; an empty line ends it."))
    lines = []
    while line := ask("  " + _("line"), "address", ""):
        lines.append(line)
    address = "\n".join(lines) or None  # None keeps the saved address
    while True:
        phone = ask(_("Phone number that received the message"), "phone", saved.get("phone", ""))
        email = ask(_("E-mail address for answers"), "email", saved.get("email", ""))
        if phone or email:
            return name, address, phone, email
        click.echo(_("Error: give a phone number or an e-mail address to be found by."), err=True)


# ---------------------------------------------------------------- generate


def print_letter(result: LetterResult, files=None) -> None:
    """A letter's text (when asked), where its files went, its reference."""
    quiet = result.text is not None  # stdout is the letter: messages go to stderr
    if quiet:
        click.echo(result.text, nl=False)
    for path in result.written if files is None else files:
        click.echo(_("wrote {path}").format(path=path), err=quiet)
    # 'reference' stays a fixed word: scripts read the line (README, tests)
    click.echo(f"reference {result.reference}", err=quiet)
    if result.mailto:
        click.echo(_("mailto link for your own mail client:") + f"\n{result.mailto}", err=quiet)
    if result.next_step:
        click.secho(result.next_step, err=quiet, bold=True)


@cli.command()
@broker_option(help="Slug or name of the recipient (dsar brokers list).", required=True)
@click.option("--name", help="Your name (default: from dsar init).")
@click.option("--phone", help="The number that received the message, e.g. '06 12 34 56 78'.")
@click.option("--email", help="Your e-mail address; answers go there.")
@click.option("--address", help="Your postal address; separate lines with \\n.")
@click.option("--sms-date", help="When the message came, YYYY-MM-DD or DD/MM/YYYY.")
@click.option("--sms-time", help="At what time, HH:MM.")
@click.option("--sms-sender", default="", help="Sender name or short number shown.")
@click.option("--sms-text", default="", help="The text of the message, pasted.")
@click.option(
    "--sms-text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the text from a file (UTF-8).",
)
@channel_option(N_("How the message came."))
@click.option(
    "--right",
    type=click.Choice(RIGHTS),
    default="both",
    show_default=True,
    help="access: Art. 15; erasure: Art. 17 with objection (21), withdrawal (7(3)) and notification (19), and to a broker the source first, with restriction (18) until then; both: access, then erasure, with restriction (18) until the answer.",
)
@lang_option(default="fr")
@formats_option(
    help="pdf, email, text, html (the letter as dsar lays it out, one self-contained file); comma-separated."
)
@out_option(default=Path("letters"))
@click.option("--lrar", is_flag=True, help="Print the registered-letter line on the PDF.")
@date_option(help="Date of the letter, YYYY-MM-DD or DD/MM/YYYY (default: today).")
@click.option("--place", help="Place written before the date (default: the town of your address).")
@click.option("--to-email", help="Recipient e-mail when the registry has none (or to override it).")
@click.option(
    "--to-address", help="Recipient postal address when the registry has none; lines with \\n."
)
@click.option(
    "--party-confirmed",
    metavar="SLUG",
    help="The party you are sure the message was sent for: only then does a letter to a broker name it.",
)
@templates_option
@force_option(help="Replace existing output files.")
@registry_option
def generate(broker_slug, sms_text_file, templates_dir, registries, **options):
    """Write an access / erasure letter to a broker or party, as PDF, e-mail or text.

    \b
    Example:
      dsar generate --broker selfcontact --name "Camille Martin" \\
        --phone "06 12 34 56 78" --email camille@example.org \\
        --address $'12 rue des Lilas\\n75011 Paris' \\
        --sms-date 2024-06-06 --sms-sender "Reconquête" --sms-text "Le 9 juin, votez ... STOP au 36111" \\
        --right both --lang fr --format pdf,email --out letters/
      dsar generate --broker renaissance --format text     # details from dsar init
    """
    if sms_text_file:
        options["sms_text"] = read_text(sms_text_file, "sms_text_file")
    app = open_app(registries, templates_dir)
    result = app.generate(broker_slug, **options)
    print_letter(result)
    for line in result.warnings:
        warn(line)
    path_hint()


# ---------------------------------------------------------------- brokers


@cli.group()
def brokers():
    """Look up and check the registry of brokers, parties and authorities."""


@brokers.command("list")
@click.option("--kind", type=click.Choice(RECIPIENT_KINDS))
@registry_option
def brokers_list(kind, registries):
    """List every organisation in the registry.

    \b
    Example:
      dsar brokers list
      dsar brokers list --kind party
    """
    headers = (N_("slug"), N_("kind"), N_("name"), N_("e-mail"), N_("post"), N_("quality"))
    rows = table(*(_(h) for h in headers))
    for broker in open_app(registries).brokers(kind).brokers:
        cells = (
            broker.slug,
            registry.kind_name(broker.kind),
            broker.name,
            _("yes") if broker.email else "-",
            _("yes") if broker.postal_address else "-",
            registry.quality_name(broker.quality),
        )
        rows.add_row(*map(plain, cells))  # registry text is text, never rich markup
    console(160).print(rows)


@brokers.command("show")
@click.argument("slug", shell_complete=complete_broker)
@registry_option
def brokers_show(slug, registries):
    """Show one entry, each contact with where it comes from.

    \b
    Example:
      dsar brokers show selfcontact
    """
    result = open_app(registries).broker(slug)

    def echo(text: str) -> None:  # registry text from outside: no escape sequence
        click.echo(printable(text))

    broker = result.broker
    echo(
        f"{broker.name}  [{broker.slug}]  {registry.kind_name(broker.kind)}, "
        + _("quality {quality}, checked {checked}").format(
            quality=registry.quality_name(broker.quality), checked=broker.checked or _("never")
        )
    )
    if broker.aliases:
        echo(_("also known as: {names}").format(names=", ".join(broker.aliases)))
    if description := registry.said(broker, "description"):
        echo(f"\n{description}\n")
    for label, value in (
        (_("web"), broker.web),
        (_("privacy policy"), broker.privacy_policy),
        ("SIREN", broker.siren),
        (_("asks for requests in"), broker.language),
        (_("asks for requests by"), broker.medium),
    ):
        if value:
            echo(f"{label}: {value}")
    echo(_("contacts:"))
    for contact in broker.contacts:
        value = contact.value.replace("\n", ", ")
        source = contact.source or _("not stated")
        echo(f"  {contact.kind}: {value}\n    " + _("source: {source}").format(source=source))
    for kind, label in (("email", _("e-mail")), ("postal", _("postal address"))):
        if not any(c.kind in (kind, "dpo-" + kind) for c in broker.contacts):
            echo("  " + _("{label}: unknown (no source gives one)").format(label=label))
    if broker.parent:
        echo(_("parent: {slug}").format(slug=broker.parent))
    if result.subsidiaries:
        names = ", ".join(b.slug for b in result.subsidiaries)
        echo(_("subsidiaries: {names}").format(names=names))
    if broker.brokers_used:
        echo(_("brokers used: {names}").format(names=", ".join(broker.brokers_used)))
    if result.used_by:
        names = ", ".join(b.slug for b in result.used_by)
        echo(_("parties known to use it: {names}").format(names=names))
    echo(_("sources:"))
    for source in broker.sources:
        echo(f"  - {source.label()}")
    if notes := registry.said(broker, "notes"):
        echo(_("notes: {notes}").format(notes=notes))
    echo(_("from: {origin}").format(origin=result.origin))


@brokers.command("search")
@click.argument("text")
@registry_option
def brokers_search(text, registries):
    """Find entries by name or alias; case and accents are ignored.

    \b
    Example:
      dsar brokers search "reconquete"
    """
    for broker in open_app(registries).search(text).brokers:
        click.echo(printable(f"{broker.slug}\t{broker.kind}\t{broker.name}"))


@brokers.command("check")
@click.argument(
    "file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@registry_option
def brokers_check(file, registries):
    """Validate a registry: schema, e-mails, phones, URLs, SIREN, duplicates, sources.

    Without FILE, checks the registry dsar uses (shipped + yours + --registry).
    Problems are listed with file and line; exits 1 when any is an error.

    \b
    Example:
      dsar brokers check
      dsar brokers check my-brokers.yaml
    """
    result = open_app(registries).check(file)
    for finding in result.findings:
        click.echo(str(finding), err=True)
    if result.exit_code:
        click.echo(_("Error: {message}").format(message=result.summary), err=True)
    else:
        click.echo(result.summary)
    finish(result.exit_code)


@brokers.command("add-contact")
@click.argument("slug")
@click.option("--postal", help="Postal address; separate lines with \\n.")
@click.option("--email", help="E-mail address for requests.")
@click.option("--webform", help="URL of the recipient's request form.")
@click.option("--source", required=True, help="Where you found it: a letter, a web page URL.")
def brokers_add_contact(slug, postal, email, webform, source):
    """Add a contact to an entry, in your own registry, without rewriting the entry.

    Your brokers.yaml gets an entry with only the slug and the contacts, merged into the
    shipped entry when dsar loads it; your contact is used first. The file stays private.

    \b
    Example:
      dsar brokers add-contact selfcontact --email dpo@example.org \\
        --source "reply letter received 2026-11-30"
      dsar brokers add-contact la-poste --postal 'LINE\\nLINE\\nPOSTCODE TOWN' --source URL
    """
    result = open_app().add_contact(
        slug, source=source, postal=postal, email=email, webform=webform
    )
    added = sum(1 for value in (postal, email, webform) if value)
    click.echo(
        _("added {count} contact(s) to {slug} in {path}").format(
            count=added, slug=result.broker.slug, path=result.written[0]
        )
    )
    click.echo(
        _("dsar brokers show {slug} shows the entry as dsar now uses it").format(
            slug=result.broker.slug
        )
    )


@brokers.command("import")
@click.argument("source", type=click.Choice(["datenanfragen"]))
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registry file to write.",
)
@click.option("--kind", type=click.Choice(IMPORT_KINDS), default="company", show_default=True)
@force_option(help="Replace an existing output file.")
def brokers_import(source, path, output, kind, force):
    """Import an outside company database into a registry file.

    PATH is the datenanfragen JSON-lines file, or a folder of upstream
    companies/*.json files (default: the records shipped with dsar, CC0).
    Whatever cannot be mapped is reported.

    \b
    Example:
      dsar brokers import datenanfragen --output companies.yaml
      dsar generate --registry companies.yaml --broker amazon-fr --format pdf
    """
    result = open_app().import_registry(source, path, output, kind=kind, force=force)
    imported = result.report
    for problem in imported.problems:
        click.echo(printable(problem), err=True)  # upstream text: no escape sequence
    if imported.unmapped:
        kept_out = ", ".join(f"{k} ({n})" for k, n in imported.unmapped.most_common())
        click.echo(_("fields not carried over: {fields}").format(fields=kept_out), err=True)
    click.echo(
        _(
            "imported {count} entries into {path}; {dropped} value(s) dropped or skipped "
            "(listed above)"
        ).format(count=len(imported.entries), path=result.output, dropped=len(imported.problems))
    )


@brokers.command("schema")
def brokers_schema():
    """Print the registry's JSON Schema (for editors that validate YAML).

    \b
    Example:
      dsar brokers schema > brokers.schema.json
    """
    click.echo(json.dumps(registry.json_schema(), indent=2, ensure_ascii=False))


# ---------------------------------------------------------------- campaigns


@cli.command()
@registry_option
def campaigns(registries):
    """List the documented campaigns: date, party, candidates, broker, channel.

    \b
    Example:
      dsar campaigns
    """
    headers = (N_("date"), N_("party"), N_("candidates"), N_("broker"), N_("channel"))
    headers += (N_("volume"), N_("sources"))
    rows = table(*(_(h) for h in headers))
    for campaign in open_app(registries).campaigns().campaigns:
        cells = (
            campaign.date,
            campaign.party or "?",
            ", ".join(campaign.candidates),
            campaign.broker or _("unknown"),
            ",".join(campaign.channel),
            campaign.volume or "",
            "; ".join(s.label() for s in campaign.sources),
        )
        rows.add_row(*map(plain, cells))
    console(200).print(rows)


def program_name() -> str:
    """How the person runs dsar, for commands printed to paste: `dsar` when that is on
    the PATH, else the path they typed (`.venv/bin/dsar` right after the install)."""
    typed = sys.argv[0] if sys.argv else ""
    found = shutil.which("dsar")
    if found and (not typed or Path(found).resolve() == Path(typed).resolve()):
        return "dsar"
    if Path(typed).name == "dsar" and Path(typed).exists():
        return shlex.quote(typed)
    return f"{shlex.quote(sys.executable)} -m dsar"


def path_hint() -> None:
    """Commands dsar prints start with `dsar`: say how to make that work when it is not
    on the PATH (right after the install, before `source .venv/bin/activate`)."""
    program = program_name()
    if program != "dsar" and not program.endswith(" -m dsar"):
        warn(
            _(
                "'dsar' is not on your PATH here: type {program} where these lines say dsar, "
                "or run 'source .venv/bin/activate' once in this terminal."
            ).format(program=program)
        )


@cli.command("identify")
@click.option("--text", default="", help="The message, pasted.")
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the message from a file (UTF-8).",
)
@click.option("--sender", default="", help="Sender name or short number shown.")
@date_option(help="When it came, YYYY-MM-DD or DD/MM/YYYY.", name="when")
@channel_option(N_("How the message came: a campaign sent another way is a weak clue."))
@click.option(
    "--generate",
    "write_now",
    is_flag=True,
    help="Write the letters at once, with your saved details (dsar init).",
)
@out_option(help="Where --generate writes the letters.", default=Path("letters"))
@registry_option
def identify_command(text, text_file, sender, when, channel, write_now, out_dir, registries):
    """Find who is behind a political message: the party, the broker, and why.

    It ends with the dsar generate commands to run, complete (paste them as they
    are), or writes the letters at once with --generate. Only likely recipients
    are proposed; a low-confidence lead is shown apart.

    \b
    Example:
      dsar identify --date 2024-06-06 --sender "Marion Maréchal" \\
        --text "Le 9 juin, votez pour la liste de Marion Maréchal. STOP au 36111"
      dsar identify --date 2024-06-06 --text-file sms.txt --generate
    """
    if text_file:
        text = read_text(text_file, "text_file")
    app = open_app(registries)
    program = program_name()
    result = app.identify(text, sender, when, channel=channel, program=program)
    clues = result.clues
    if clues.stop_number:
        click.echo(
            _("STOP short number: {number} (reply STOP to it as well: it is free)").format(
                number=clues.stop_number
            )
        )
    if clues.links:
        click.echo(
            _("links in the message (not opened): {links}").format(links=", ".join(clues.links))
        )
    if not result.found:
        click.echo(_("Nothing in the message matches a known party, candidate or campaign."))
    # a low-confidence lead is never titled "likely": it has its own heading
    groups = []
    for likely_title, lead_title, suspects in (
        (
            _("Likely controller (the party that ordered it):"),
            _("Possible controller, low confidence (a lead to check, not proposed):"),
            result.controllers,
        ),
        (
            _("Likely broker (who holds or rented the number):"),
            _("Possible broker, low confidence (a lead to check, not proposed):"),
            result.brokers,
        ),
    ):
        lead = [s for s in suspects if s.slug and s.slug not in result.proposed]
        groups += [(likely_title, [s for s in suspects if s not in lead]), (lead_title, lead)]
    for title, suspects in groups:
        if suspects:
            click.echo(f"\n{title}")
        for suspect in suspects:
            label = (
                f"{suspect.name} [{suspect.slug}]"
                if suspect.slug
                else _("unknown: the sources name none")
            )
            click.echo(f"  {label}")
            for reason in suspect.reasons:
                click.echo(f"    - {reason}")
    if result.found:
        click.echo("\n" + _(identify_module.CONFIDENCE_MEANING))
    if result.senders:
        click.echo("\n" + _("Brokers known to send political SMS and voice messages:"))
        for broker in result.senders:
            click.echo(f"  {broker.slug}: {broker.name}")
    if write_now:  # the letters the commands would write, written now
        for letter in app.write_to_suspects(
            result, text=text, sender=sender, when=when, out_dir=out_dir
        ):
            click.echo()
            print_letter(letter)
        return
    if result.found:
        click.echo("\n" + _("Write to each (the commands run as they are pasted):"))
    else:
        click.echo(_("Ask them where your number came from:"))
    if result.needs_profile:
        click.echo(f"  {program} init    # " + _("once: your name, address, phone, e-mail"))
    for command in result.commands:
        click.echo(f"  {command}")
    if result.unlikely_commands:
        click.echo(
            "\n"
            + _(
                "Less likely (low confidence): write to them only if you have a reason of your own:"
            )
        )
        for command in result.unlikely_commands:
            click.echo(f"  {command}")


# ---------------------------------------------------------------- associations


# App's progress stages: letters laid out (and bad rows), then e-mails sent
# a batch's bar counts the CSV's rows (bad ones too), not the letters made
STAGES = {
    "rows": N_("CSV rows"),
    "e-mails": N_("e-mails"),
    "letters": N_("letters"),
    "forms": N_("mandate forms"),
    "reminders": N_("reminders"),
}


def progress_bar():
    """Count, rate and time left on stderr (stdout keeps the summary), and the
    App's progress callback that drives it."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):
            return Text(f"{task.speed:.0f}/s" if task.speed else "")

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeRemainingColumn(),
        console=console(stderr=True),
    )
    tasks = {}

    def progress(stage: str, advance: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(_(STAGES.get(stage, stage)), total=total)
        elif total is not None:
            bar.update(tasks[stage], total=total)
        if advance:
            bar.advance(tasks[stage], advance)

    return bar, progress


def say_outputs(result, out_dir: Path, send: bool) -> None:
    """A batch's files, then what is next: send the e-mails still queued, post the printed
    letters no e-mail carries, record them (dsar batch and dsar batch --follow)."""
    for print_file in result.print_files:
        click.echo(_("print file: {path}").format(path=print_file))
    if result.labels:
        click.echo(_("envelope labels (mail merge): {path}").format(path=result.labels))
    click.echo(_("manifest: {path}").format(path=result.manifest))
    if result.sent:
        counted = ", ".join(f"{n} {k}" for k, n in sorted(result.sent.items()))
        click.echo(_("e-mails: {counts}").format(counts=counted))
    written = any(row.reference for row in result.rows)
    if result.emails_asked and not result.emails_to_send and written and not send:
        # "post the letters" only when there is a print file: drafts are not to be posted
        click.echo(
            _(
                "No e-mail to send: the recipient has no e-mail address in the registry. Post "
                "the letters, or add the address (dsar brokers add-contact SLUG --email ADDRESS "
                "--source WHERE) and run the same command again."
            )
            if result.print_files
            else _(
                "No e-mail to send and no letter to post: the recipient has no e-mail address "
                "in the registry, and no letter ready to print was made. Add the address (dsar "
                "brokers add-contact SLUG --email ADDRESS --source WHERE) and run the same "
                "command again."
            )
        )
    elif result.queued and not send:  # e-mails that --send would send: none held back
        click.echo(
            _(
                "Next: send the {count} e-mail(s) with the same command and --send --smtp-host "
                "HOST (--dry-run first lists what would leave)."
            ).format(count=len(result.queued))
        )
    if result.to_record and result.print_files:
        click.echo(
            _(
                "Next: post the {count} printed letter(s) not yet recorded as posted, then "
                "record it: dsar sent --from-manifest {path} --on YYYY-MM-DD"
            ).format(count=len(result.to_record), path=result.manifest)
        )
    elif (
        any(not row.draft for row in result.rows)  # drafts alone: nothing left, nothing said
        and not (result.queued or result.to_record)
        and (
            result.print_files or any(row.pdf for row in result.rows)  # all posted: none printed
        )
    ):
        said = (  # posted, or e-mailed: both are "sent" in the journal; a draft is neither
            _(
                "Every letter of this batch that can leave is recorded as sent or posted (the "
                "drafts wait for their recipient's address, above): follow the answers with "
                "dsar status --batch {folder}"
            )
            if result.no_address
            else _(
                "Every letter of this batch is recorded as sent or posted: follow the "
                "answers with dsar status --batch {folder}"
            )
        )
        click.echo(said.format(folder=out_dir))


@cli.command("batch")
@click.argument(
    "csv_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--follow",
    "follow_slug",
    metavar="SLUG",
    shell_complete=complete_broker,
    help="Instead of a CSV: the next request to SLUG for every member whose answer named it "
    "(as source, recipient or controller), under the members' mandates.",
)
@broker_option(help="Recipient for rows without a 'broker' column value.")
@association_option(help="association.yaml: name, address, email, representative.", required=True)
@out_option(required=True)
@formats_option(
    help="pdf, email, html (one self-contained page per letter), labels (envelope addresses "
    "as CSV for mail merge); comma-separated."
)
@click.option("--right", type=click.Choice(RIGHTS), default="both", show_default=True)
@lang_option(default="fr")
@date_option(help="Date on the letters (default: today).")
@click.option("--strict", is_flag=True, help="Stop at the first bad row instead of skipping it.")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="PDF worker processes (default: one per core)."
)
@force_option(help="Redo files that an earlier run already wrote.")
@click.option(
    "--mandates",
    "mandates_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of the signed mandates, <mandate_ref>.pdf or mandate-<mandate_ref>.pdf, attached to each e-mail.",
)
@click.option(
    "--mandate-on-request",
    is_flag=True,
    help="A member without a signed scan: the letter says the mandate is available on "
    "request, and the e-mail is sent (without it, such e-mails are held back).",
)
@columns_option
@templates_option
@click.option(
    "--send",
    is_flag=True,
    help="Send the e-mails over SMTP (nothing leaves the machine without it).",
)
@click.option("--dry-run", is_flag=True, help="With --send: show what would be sent, send nothing.")
@click.option(
    "--all-queued",
    is_flag=True,
    help="With --send: send every message waiting in the outbox, earlier runs' too.",
)
@click.option("--to-email", help="Recipient e-mail when the registry has none (one recipient).")
@click.option(
    "--to-address", help="Recipient postal address when the registry has none; lines with \\n."
)
@click.option("--smtp-host")
@click.option("--smtp-port", type=int, default=587, show_default=True)
@server_options("smtp")
@click.option("--smtp-user", help="Login; the password comes from DSAR_SMTP_PASSWORD or a prompt.")
@click.option(
    "--rate",
    type=click.FloatRange(0),
    default=60,
    show_default=True,
    help="Messages per minute at most (0: no limit).",
)
@click.option(
    "--retry-backoff",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    help="Seconds before the first retry of a 4xx or a dropped connection; doubled each time, 5 tries.",
)
@registry_option
def batch_command(
    csv_file,
    follow_slug,
    broker_slug,
    association_file,
    out_dir,
    formats,
    right,
    lang,
    letter_date,
    strict,
    workers,
    force,
    mandates_dir,
    mandate_on_request,
    columns,
    templates_dir,
    send,
    dry_run,
    all_queued,
    to_email,
    to_address,
    smtp_host,
    smtp_port,
    smtp_security,
    smtp_user,
    allow_plaintext_auth,
    rate,
    retry_backoff,
    registries,
):
    """Letters for every member of an association, under mandate; optionally e-mailed.

    CSV columns: name, address, phone, email, sms_date, sms_sender, sms_text, broker,
    mandate_date, mandate_ref, or their usual French names (Nom, Adresse, Téléphone,
    Courriel, Date du SMS, ...; others with --columns); ';' or ',', UTF-8 with or
    without BOM, dates as 2024-06-06 or 06/06/2024. Bad rows are
    reported with their row number and skipped. Writes one PDF per member, a
    print-duplex.pdf where every letter starts on a right-hand page (one volume per
    125 letters, half a ream of paper), a manifest.csv, and .eml files. Run the same command again after a crash: nothing is done twice.

    \b
    Examples:
      dsar batch members.csv --broker selfcontact --association association.yaml --out out/
      DSAR_SMTP_PASSWORD=... dsar batch members.csv --broker renaissance \\
        --association association.yaml --out out/ --format email --send \\
        --smtp-host smtp.example.org --smtp-port 587 --smtp-security starttls --smtp-user asso
      dsar batch --follow jeux-concours-sas --association association.yaml --out out-source/
    """
    app = open_app(registries, templates_dir)
    if follow_slug or csv_file is None:
        if csv_file is not None:
            raise click.UsageError(_("give the members' CSV, or --follow SLUG, not both"))
        if not follow_slug:
            raise click.UsageError(_("give the members' CSV, or --follow SLUG"))
        if send:  # written, the next requests are sent as any letter: never in this run
            raise click.UsageError(_("--follow writes the next requests; --send is for a CSV"))
        batch_follow(
            app, follow_slug, association_file, out_dir, formats, letter_date, mandates_dir
        )
        return
    if dry_run and not send:
        raise click.UsageError(
            _("--dry-run shows what --send would send: give both (without --send nothing is sent)")
        )
    # checked before any work: a refused setting (a password in clear) writes nothing
    settings = SmtpSettings(
        host=smtp_host or "",
        port=smtp_port,
        security=smtp_security,
        user=smtp_user,
        rate_per_minute=rate,
        backoff=retry_backoff,
        allow_plaintext_auth=allow_plaintext_auth,
    )
    # the person checks it before any work
    say_columns(app.columns_read(csv_file, columns), app.csv_encoding(csv_file))
    if dry_run:  # (new user: minutes of layout, and nothing said why)
        warn(_("--dry-run: the letters are written first, as without it; only the sending is dry"))
    if send and not dry_run:  # refuse a send to no one before asking for a password
        app.batch_recipients(
            csv_file,
            broker=broker_slug,
            formats=formats,
            send=True,
            to_email=to_email,
            columns=columns,
        )
    smtp = None
    if send and smtp_host and not dry_run:
        if smtp_user:
            settings.password = server_password("smtp", smtp_user, err=True)
        smtp = settings
    # a line per e-mail when stderr is no terminal (a log, a test): the bar is not drawn
    lines = not sys.stderr.isatty()
    bar, progress = progress_bar()
    with bar:
        result = app.batch(
            csv_file,
            association=association_file,
            out_dir=out_dir,
            broker=broker_slug,
            formats=formats,
            right=right,
            lang=lang,
            letter_date=letter_date,
            strict=strict,
            workers=workers,
            force=force,
            mandates=mandates_dir,
            mandate_on_request=mandate_on_request,
            send=send,
            dry_run=dry_run,
            all_queued=all_queued,
            smtp=smtp,
            to_email=to_email,
            to_address=to_address,
            progress=progress,
            columns=columns,
            warn=warn,
            each_email=(lambda ref, status: click.echo(f"e-mail {ref}: {status}", err=True))
            if lines
            else None,
        )
    for reference, recipient in result.would_send:
        click.echo(
            _("would send {reference} to {recipient}").format(
                reference=reference, recipient=recipient
            )
        )
    for bad in result.bad_rows:
        click.echo(f"{csv_file}: {bad}", err=True)
    click.echo(
        _(
            "{count} request(s) ({resumed} already done by an earlier run), "
            "{bad} bad row(s) skipped"
        ).format(count=len(result.rows), resumed=result.resumed, bad=len(result.bad_rows))
        + "".join(
            _(words).format(count=count)
            for words, count in (
                (N_("; {count} queued e-mail(s) rebuilt"), result.rebuilt),
                (
                    N_(
                        "; {count} letter(s) not yet sent made again: what they are made from "
                        "changed"
                    ),
                    result.remade,
                ),
                (N_("; {count} letter(s) not yet sent made again (--force)"), result.forced),
                (
                    N_(
                        "; {count} letter(s) not yet sent written into this folder: their files "
                        "were not in it"
                    ),
                    result.refilled,
                ),
            )
            if count
        )
    )
    for line in result.warnings:
        warn(line)
    say_outputs(result, out_dir, send)
    finish(result.exit_code)


@cli.command()
@association_option(required=True)
@out_option(required=True)
@force_option()
@columns_option
@broker_option(help="Controller for rows without a 'broker' column value.")
@templates_option
@registry_option
@click.argument(
    "csv_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
def mandate(
    association_file, out_dir, force, columns, broker_slug, templates_dir, registries, csv_file
):
    """Mandate forms for members to sign: one per CSV row, or one blank form.

    \b
    Examples:
      dsar mandate --association association.yaml --out mandates/ members.csv
      dsar mandate --association association.yaml --broker selfcontact --out mandates/ members.csv
      dsar mandate --association association.yaml --out mandates/
    """
    app = open_app(registries, templates_dir)
    if csv_file is not None:
        say_columns(app.columns_read(csv_file, columns), app.csv_encoding(csv_file))
    bar, progress = progress_bar()
    with bar:  # a form takes a second or more to lay out: hundreds take minutes
        result = app.mandates(
            association_file,
            out_dir,
            csv_file,
            force=force,
            columns=columns,
            broker=broker_slug,
            progress=progress,
        )
    for bad in result.bad_rows:
        click.echo(f"{csv_file}: {bad}", err=True)
    click.echo(
        _("wrote {count} mandate form(s) in {folder}").format(
            count=len(result.written), folder=out_dir
        )
        + (
            _("; {count} written by an earlier run, kept (--force writes them again)").format(
                count=len(result.kept)
            )
            if result.kept
            else ""
        )
    )
    if result.bad_rows:  # as batch says it: the rows without a form, counted
        warn(
            _(
                "{count} bad row(s) skipped, no form written for them: fix them and run the same command again"
            ).format(count=len(result.bad_rows))
        )
    click.echo(
        _(
            "Once signed, keep each scan in one folder as <ref>.pdf or under the form's own "
            "name, and give it to dsar batch --mandates FOLDER."
        )
    )
    if result.unsigned_left:
        warn(
            _(
                "{count} form(s) in {folder} are for no row of {csv} (a member removed, or a "
                "mandate_ref changed): {files}. They are unsigned forms dsar wrote: delete "
                "them, so that no one signs or sends an out-of-date form."
            ).format(
                count=len(result.unsigned_left),
                folder=out_dir,
                csv=csv_file,
                files=", ".join(follow_module.quoted(p.name) for p in result.unsigned_left),
            )
        )
    if result.unknown_left:
        warn(
            _(
                "{files} in {folder}: named for a mandate no row of {csv} has, and not the "
                "unsigned form dsar wrote (perhaps a member's signed scan, left untouched): if "
                "the member left, move it out of the folder; if the mandate_ref changed, the "
                "signed form bears the old one: put it back in the row, or have the new form "
                "signed."
            ).format(
                # a name from outside, on one line: a line break would forge another line
                files=", ".join(follow_module.quoted(p.name) for p in result.unknown_left),
                folder=out_dir,
                csv=csv_file,
            )
        )
    finish(result.exit_code)


# ---------------------------------------------------------------- follow-up


@cli.command()
@click.argument("reference", required=False, shell_complete=complete_reference)
@on_option(
    help="Date it was posted or e-mailed, YYYY-MM-DD or DD/MM/YYYY (not needed for --proof alone)."
)
@click.option("--lrar", "lrar_number", help="Registered-letter number (LRAR).")
@click.option(
    "--received", help="Date on the acknowledgement of receipt, YYYY-MM-DD or DD/MM/YYYY."
)
@click.option("--message-id", help="Message-ID of the e-mail you sent.")
@click.option(
    "--proof",
    "proofs",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A proof for the CNIL dossier: receipt scan, screenshot of the message; repeatable.",
)
@click.option(
    "--from-manifest",
    "manifest",
    type=click.Path(exists=True, path_type=Path),
    help="A batch's manifest.csv (or its folder): every letter in it posted on --on.",
)
@force_option(help="Record it even on a request complained about.")
def sent(reference, on, lrar_number, received, message_id, proofs, manifest, force):
    """Record that a request was sent, with its proof; the deadline starts to run.

    The one-month deadline (Art. 12(3)) counts from receipt: from --received when you
    have the acknowledgement, else from the sending date (and status says so). A batch
    posted at once is recorded from its manifest; a column 'lrar' (or 'n° recommandé')
    gives each letter's registered-letter number.

    \b
    Example:
      dsar sent DSAR-28FJ-ZUR7 --on 2026-01-31 --lrar 1A23456789012 --received 2026-02-02
      dsar sent DSAR-28FJ-ZUR7 --proof recu-lrar.jpg --proof sms.png
      dsar sent --from-manifest out/manifest.csv --on 2026-01-31
    """
    if bool(reference) == bool(manifest):
        raise click.UsageError(_("give either a REFERENCE or --from-manifest"))
    if manifest:
        if not on:
            raise click.UsageError(_("--from-manifest needs --on DATE, the day of the posting"))
        posted = open_app().posted(manifest, on)
        for problem in posted.problems:
            click.echo(f"{manifest}: {problem}", err=True)
        click.echo(
            _(
                "{count} letter(s) recorded as sent on {on} ({lrar} with a registered-letter "
                "number); {already} already recorded before"
            ).format(
                count=len(posted.recorded),
                on=on,
                lrar=posted.with_lrar,
                # a letter given its number now was recorded before all the same
                already=len(posted.already) + len(posted.lrar_added),
            )
        )
        if posted.lrar_added:
            click.echo(
                _("{count} registered-letter number(s) added to letters recorded before").format(
                    count=len(posted.lrar_added)
                )
            )
        finish(posted.exit_code)
        return
    result = open_app().sent(
        reference,
        on,
        lrar=lrar_number,
        received=received,
        message_id=message_id,
        proofs=proofs,
        force=force,
    )
    for path in result.kept:
        click.echo(_("kept {path}").format(path=path))
    if on is None:
        return
    entry = result.entry
    if entry.kind == "reminder" and entry.follows:  # the reminder's days count from now
        original = result.original
        click.echo(
            _("{reference}: reminded; final deadline {deadline}").format(
                reference=original.reference, deadline=original.final_deadline
            )
        )
        return
    if entry.kind == "reply-id" and entry.follows:  # no deadline of its own (LEGAL.md)
        click.echo(
            _(
                "{reference}: reply to the ID demand sent on {on}; the answer is still due "
                "by {deadline}: an unjustified ID demand does not stop the deadline"
            ).format(reference=entry.follows, on=on, deadline=result.original.due)
        )
        return
    if entry.kind == "complaint" and entry.follows:
        click.echo(
            _("{reference}: complaint to the CNIL filed on {on}").format(
                reference=entry.follows, on=on
            )
        )
        return
    if entry.kind != "request":
        return
    note = _(" (from the sending date: no receipt date yet)") if entry.receipt_is_estimated else ""
    click.echo(
        _("{reference}: sent {sent}; answer due by {deadline}{note}").format(
            reference=reference, sent=entry.sent_on, deadline=entry.deadline, note=note
        )
    )


@cli.command()
@reference_argument
@click.option("--state", type=click.Choice(ANSWER_STATES))
@click.option("--extension", is_flag=True, help="The recipient notified a two-month extension.")
@on_option(help="Date of the answer, YYYY-MM-DD or DD/MM/YYYY.", required=True)
@click.option(
    "--file",
    "reply_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The reply (PDF, e-mail, scan); kept beside the journal.",
)
@click.option("--note", help="What the answer said, in a few words.")
@click.option(
    "--missing",
    # the words of vocabulary.ACCESS_ITEMS (a test checks they are all named)
    help="What the answer lacks, comma-separated: purposes, categories, recipients, "
    "retention, rights, complaint, source, profiling, copy.",
)
@click.option(
    "--named",
    type=click.Choice(["source", "recipient", "controller"]),
    help="The answer named an organisation as the source of your data, a recipient of "
    "it, or the controller it acted for (with --organisation).",
)
@click.option("--organisation", help="The organisation the answer named (with --named).")
def answer(reference, state, extension, on, reply_files, note, missing, named, organisation):
    """Record the recipient's answer, or a notified extension.

    \b
    Example:
      dsar answer DSAR-28FJ-ZUR7 --state partial --on 2026-03-01 --file reply.pdf --note "no source given"
      dsar answer DSAR-28FJ-ZUR7 --extension --on 2026-02-20
      dsar answer DSAR-28FJ-ZUR7 --state partial --on 2026-03-01 --missing source,recipients,copy
      dsar answer DSAR-28FJ-ZUR7 --state answered --on 2026-03-01 --named source --organisation DataContact
    """
    result = open_app().answer(
        reference,
        on,
        state=state,
        extension=extension,
        files=reply_files,
        note=note,
        missing=missing,
        named=named,
        organisation=organisation,
    )
    if result.state is None:
        deadline = result.entry.deadline
        if result.entry.extension_counts:
            said = _("{reference}: extended; answer now due by {deadline}")
        else:  # notified after the deadline: it does not move it
            said = _("{reference}: extension recorded; answer still due by {deadline}")
        click.echo(said.format(reference=reference, deadline=deadline))
        for line in result.warnings:
            warn(line)
        return
    for path in result.kept:
        click.echo(_("kept {path}").format(path=path))
    said = _("{reference}: {state}; {next}") if result.next_step else _("{reference}: {state}")
    state = report.state_name(result.state)
    click.echo(said.format(reference=reference, state=state, next=result.next_step))


@cli.command()
@click.option("--as-of", help="Work out states as of this date (default: today).")
@broker_option(help="Only requests to this broker.")
@click.option("--state", "state_filter", type=click.Choice(REQUEST_STATES))
@json_option(help="Print JSON instead of a table.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the rows as CSV.",
)
@click.option(
    "--ics",
    "ics_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the deadlines as an .ics calendar.",
)
@click.option("--member", help="Only members whose name contains this (case and accents ignored).")
@click.option(
    "--batch",
    "batch_path",
    type=click.Path(exists=True, path_type=Path),
    help="Only the requests of one batch: its manifest.csv or its output folder.",
)
@force_option(help="Replace an existing --csv or --ics file.")
def status(
    as_of, broker_slug, state_filter, as_json, csv_file, ics_file, member, batch_path, force
):
    """Every request with its deadline and state; overdue ones stand out.

    For an association: --batch shows one batch (its manifest or its folder), --member
    the requests of members whose name contains the text, with counts per state.

    \b
    Example:
      dsar status
      dsar status --state overdue --json
      dsar status --ics deadlines.ics
      dsar status --batch out/ --member martin
    """
    result = open_app().status(
        as_of=as_of,
        broker=broker_slug,
        state=state_filter,
        csv_file=csv_file,
        ics_file=ics_file,
        member=member,
        batch=batch_path,
        force=force,
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    if csv_file or ics_file:  # the file asked for is the output: say where, nothing else
        for path in filter(None, (csv_file, ics_file)):
            click.echo(_("wrote {path}").format(path=path))
        return
    out = console(140)
    for part in report.status_tables(result.entries, result.as_of):
        out.print(part)


@cli.command()
@click.argument("reference", shell_complete=complete_reference)
@json_option(help="Print JSON.")
def show(reference, as_json):
    """One request whole: recipient, right, files with checksums, every step, what next.

    \b
    Example:
      dsar show DSAR-28FJ-ZUR7
      dsar show dsar-28fj-zur7 --json
    """
    shown = open_app().details(reference)
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    recipient = shown["recipient"]

    def echo(text: str) -> None:  # names and addresses come from outside
        click.echo(printable(text))

    # the journal records steps and roles by name, dates as ISO; in French, the dossier's
    # words for them and dates as a French reader writes them
    french = i18n.language() == "fr"

    def day(iso: str) -> str:
        return fields.long_date(date.fromisoformat(iso), "fr") if french else iso

    kind = lifecycle.kind_name(shown["kind"])
    right = _(report.RIGHT_NAMES.get(shown["right"], shown["right"]))
    echo(f"{shown['reference']}  {kind}, {right}, {report.state_name(shown['state'])}")
    echo(_("to: {name} [{slug}]").format(name=recipient["name"], slug=recipient["slug"]))
    labels = {"email": _("e-mail: {value}"), "postal_address": _("postal address: {value}")}
    for label, line in labels.items():
        if recipient[label]:
            echo("  " + line.format(value=recipient[label]).replace("\n", ", "))
    echo(
        _("letter dated {date}; subject: {subject}").format(
            date=day(shown["letter_date"]), subject=shown["subject"]
        )
    )
    if shown["due"]:
        echo(_("answer due by {date}").format(date=day(shown["due"])))
    for note in shown["notes"]:
        echo(note)
    echo(_("files:"))
    for file in shown["files"]:
        role = followup.ROLES_FR.get(file["role"], file["role"]) if french else file["role"]
        colon = "\u00a0:" if french else ":"  # French typography, as the catalogue's
        echo(f"  {role}{colon} {file['path']}\n    sha256 {file['sha256']}")
    echo(_("steps:"))
    for step in shown["steps"]:
        on = day(step["on"] or step["at"][:10])
        if french:
            what, detail = followup.step_fr(step["what"]), followup.detail_fr(step["detail"])
        else:
            what, detail = followup.step_en(step["what"]), step["detail"]
        echo(f"  {on} {what}" + (f" ({detail})" if detail else ""))
    if shown["follows"]:
        echo(_("follows the request {reference}").format(reference=shown["follows"]))
    if shown["follow_ups"]:
        echo(_("letters that follow it:"))
    for letter in shown["follow_ups"]:
        when = (
            _("sent {date}").format(date=day(letter["sent"]))
            if letter["sent"]
            else _("written {date}, not sent").format(date=day(letter["letter_date"]))
        )
        echo(f"  {letter['reference']}  {lifecycle.kind_name(letter['kind'])}, {when}")
    # the organisations an answer named that were already written to
    for one in shown["named"]:
        if one["asked"] and one["organisation"]:
            echo(_(ASKED_STEP).format(name=one["organisation"], asked=one["asked"]))
    echo(_("next: {step}").format(step=shown["next_step"]))
    others = [c for c in shown["next"] if c not in shown["step_commands"]]
    if others:  # what else may be done now, after the step that comes next
        echo(_("also possible:"))
    for command in others:
        echo(f"  {command}")


@cli.command()
@click.argument("reference", shell_complete=complete_reference)
def forget(reference):
    """Drop a draft from the journal (a request that was sent stays, as evidence).

    \b
    Example:
      dsar forget DSAR-28FJ-ZUR7
    """
    result = open_app().forget(reference)
    click.echo(_("{reference}: forgotten").format(reference=result.reference))
    for path in result.written:
        click.echo(_("its file stays on disk, delete it if you wish: {path}").format(path=path))


# the options every follow-up letter takes
follow_up_options = options(
    formats_option(help="pdf, email, text; comma-separated."),
    lang_option(help="Default: the request's."),
    on_option(help="Date of the letter, YYYY-MM-DD or DD/MM/YYYY (default: today)."),
    out_option(help="Default: the folder of the request's own letter (else ./letters)."),
    force_option(help="Replace existing output files."),
    templates_option,
)


@cli.command()
@click.argument("reference", required=False, shell_complete=complete_reference)
@click.option(
    "--batch",
    "batch_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Instead of a reference: a batch's folder (its manifest.csv); a reminder to post "
    "for each of its requests overdue on --on, with a print file and a manifest "
    "(default --out: DIR/reminders).",
)
@follow_up_options
def remind(reference, batch_dir, templates_dir, **options):
    """The reminder (relance) once the deadline has passed: a final 15-day deadline.

    \b
    Examples:
      dsar remind DSAR-28FJ-ZUR7 --format pdf
      dsar remind --batch out/
    """
    if bool(reference) == bool(batch_dir):
        raise click.UsageError(_("give a reference or --batch DIR"))
    app = open_app(templates=templates_dir)
    if batch_dir:
        if options["formats"] not in (None, "pdf", "pdf,email"):
            raise click.UsageError(
                _("--batch writes reminders to post (pdf); e-mail one with dsar remind REF")
            )
        bar, progress = progress_bar()
        with bar:
            result = app.remind_batch(
                batch_dir,
                on=options["on"],
                out_dir=options["out_dir"],
                force=options["force"],
                progress=progress,
            )
        for bad in result.bad_rows:
            click.echo(f"{batch_dir}: {bad}", err=True)
        click.echo(
            _("{count} reminder(s) ({resumed} written by an earlier run)").format(
                count=len(result.rows), resumed=result.resumed
            )
        )
        for line in result.warnings:
            warn(line)
        say_outputs(result, batch_dir, send=False)
        finish(result.exit_code)
        return
    result = app.remind(reference, **options)
    print_letter(result)
    if set(result.formats) <= {"text"}:  # a preview: nothing recorded to mark sent
        click.echo(
            _(
                "{reference}: this reminder is a preview, not recorded: to send it, write it "
                "with --format pdf or email, then record it with dsar sent"
            ).format(reference=reference)
        )
        return
    click.echo(
        _(
            "{reference}: reminder {reminder} written, to send; it gives until {deadline}. "
            "Once sent: dsar sent {reminder} --on YYYY-MM-DD [--lrar NUMBER]"
        ).format(reference=reference, reminder=result.reference, deadline=result.final_deadline)
    )


@cli.command("reply-id")
@reference_argument
@follow_up_options
def reply_id(reference, templates_dir, **options):
    """Answer a demand for an identity card: not proportionate for a phone number.

    \b
    Example:
      dsar reply-id DSAR-28FJ-ZUR7 --format pdf,email
    """
    print_letter(open_app(templates=templates_dir).reply_id(reference, **options))


@cli.command(short_help="A complaint to the CNIL (Art. 77) and one dossier PDF.")
@click.argument("reference", required=False, shell_complete=complete_reference)
@on_option(help="Date of the complaint (default: today).")
@out_option(help="Default: the folder of the request's letter; with --association, required.")
@force_option(help="Replace existing files, and complain before the reminder's final deadline.")
@association_option(
    help="association.yaml: one complaint for its members (with --recipient), not REFERENCE."
)
@click.option(
    "--recipient",
    "recipient",
    shell_complete=complete_broker,
    help="With --association: the recipient the members' requests went to.",
)
@click.option(
    "--mandates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="With --association: folder of the signed mandates, <mandate_ref>.pdf, enclosed.",
)
@templates_option
@registry_option
def complain(
    reference,
    on,
    out_dir,
    force,
    association_file,
    recipient,
    mandates,
    templates_dir,
    registries,
):
    """A complaint to the CNIL (Art. 77), and one dossier PDF with every piece.

    The dossier holds the complaint, the original request, reminders, replies in PDF,
    and a last page listing every recorded step with its proof. Upload it with the
    CNIL's online form (https://www.cnil.fr/fr/plaintes) or post it.

    With --association and --recipient: one complaint for every member whose request
    to that recipient ran out unanswered, was refused or answered in part. Under
    Art. 80(1) GDPR only when the association qualifies (qualifies_art80, declared
    five years or more before, its purpose given): one letter, an annex per member,
    the signed mandates enclosed. Otherwise each member's own complaint and dossier,
    with one cover letter, and no Art. 80 claim.

    \b
    Example:
      dsar complain DSAR-28FJ-ZUR7                 # beside the request's letter
      dsar complain DSAR-28FJ-ZUR7 --out complaint/
      dsar complain --association association.yaml --recipient selfcontact --mandates signed/ --out cnil/
    """
    app = open_app(registries, templates_dir)
    if association_file or recipient:
        if not (association_file and recipient) or reference:
            raise UsageError(_("give REFERENCE, or --association with --recipient (not both)"))
        if out_dir is None:  # many members' complaints: a folder of their own, named
            raise UsageError(_("--association writes many files: give --out DIR"))
        result = app.complain_association(
            association_file, recipient, out_dir=out_dir, on=on, mandates=mandates, force=force
        )
        for path in result.written:
            click.echo(_("wrote {path}").format(path=path))
        for line in result.summary:
            click.echo(printable(line))
        for line in result.warnings:
            click.echo(printable(_("warning: {message}").format(message=line)), err=True)
        if result.art80:
            click.echo(
                _(
                    "Next: file the complaint under Art. 80(1) online at "
                    "https://www.cnil.fr/fr/plaintes, or post it to the CNIL"
                )
            )
        if result.own:
            click.echo(
                _(
                    "Next: each member signs the complaint written for them (listed above); send "
                    "them with their dossiers and the cover letter (online at "
                    "https://www.cnil.fr/fr/plaintes, or by post), then record each: dsar "
                    "sent COMPLAINT --on YYYY-MM-DD"
                )
            )
        return
    if mandates:
        raise UsageError(_("--mandates goes with --association"))
    if not reference:
        raise UsageError(_("give REFERENCE, or --association with --recipient (not both)"))
    result = app.complain(reference, on=on, out_dir=out_dir, force=force)
    print_letter(result, [p for p in result.written if p != result.dossier])
    click.echo(_("wrote {path}").format(path=result.dossier))
    for line in result.warnings:
        click.echo(_("warning: {message}").format(message=line), err=True)
    click.echo(
        _(
            "file it online at https://www.cnil.fr/fr/plaintes, or post it to the CNIL; once "
            "filed: dsar sent {complaint} --on YYYY-MM-DD"
        ).format(complaint=result.reference)
    )


# ---------------------------------------------------------------- what a campaign found


@cli.command("report")
@out_option(required=True)
@association_option(
    help="association.yaml: only the requests made under its mandates (default: all)."
)
@click.option(
    "--batch",
    "batch_path",
    type=click.Path(exists=True, path_type=Path),
    help="Only the requests of one batch: its manifest.csv or its output folder.",
)
@click.option(
    "--with-members",
    is_flag=True,
    help="Also list each member by name (personal data: the report is no longer for the press).",
)
@click.option("--as-of", help="Work out states as of this date (default: today).")
@force_option(help="Replace an existing report.")
def report_command(out_dir, association_file, batch_path, with_members, as_of, force):
    """What the requests found: a page, its PDF, CSV and two pictures.

    Per recipient: requests sent, answered in time, late, late against an estimated
    deadline, partial, refused, identification requested, no answer, waiting, undelivered, extended,
    complaints filed with the CNIL, median days to answer; the sources the answers
    named and for how many members; a chart of outcomes and the flow sender shown ->
    party (established) -> organisation asked -> source given in its answer. With
    --as-of, only what was recorded on or before that day counts. Writes report.html, report.pdf, report-recipients.csv,
    report-sources.csv, report-outcomes.svg and report-flow.svg in --out (all or none).
    No member is named unless --with-members.

    \b
    Example:
      dsar report --association association.yaml --out report/
      dsar report --out my-report/
    """
    result = open_app().report(
        out_dir,
        association=association_file,
        batch=batch_path,
        with_members=with_members,
        as_of=as_of,
        force=force,
    )
    for path in result.written:
        click.echo(_("wrote {path}").format(path=path))


# ---------------------------------------------------------------- the page


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port on dsar's loopback address (default: a free one).",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the address with its token, to open by hand; do not open a browser.",
)
def serve(port, no_browser):
    """The page in your browser: from the message to the letter, and your requests.

    Listens on a loopback address of its own (127.A.B.C) only. The browser opens it
    with a secret token made for this run: only that browser can use the page.
    --no-browser prints the address with its token instead. Ctrl-C stops it.

    \b
    Example:
      dsar serve
      dsar serve --port 8765 --no-browser
    """
    import signal
    import webbrowser

    from .paths import Paths
    from .web.server import bind

    served = bind(port)
    if no_browser:
        click.echo(_("dsar is at {url}").format(url=served.url))
        click.echo(_("(keep this address to yourself; Ctrl-C stops)"))
        served.run()
        return
    # the token never on the browser's command line (ps shows it to every user): the
    # browser opens a private file that sends it on
    opener = served.opener(Paths.from_env().data_dir)
    # uvicorn re-raises a SIGTERM it caught once stopped: as an exit, so the file goes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        click.echo(
            _(
                "dsar is at {origin}, opening in your browser (else open {file}); Ctrl-C stops"
            ).format(origin=served.origin, file=opener.as_uri())
        )
        webbrowser.open(opener.as_uri())
        served.run()
    finally:
        opener.unlink(missing_ok=True)


# ---------------------------------------------------------------- follow the number


@cli.command("follow")
@reference_argument
@click.option(
    "--to", "to", metavar="SLUG", shell_complete=complete_broker, help="The recipient, by slug."
)
@click.option(
    "--to-name",
    metavar="NAME",
    help="The organisation the answer named, by name: looked up in the registry, then the "
    "datenanfragen records (default: the name the answer gave).",
)
@click.option("--to-email", help="Its e-mail when neither the registry nor the records have one.")
@click.option("--to-address", help="Its postal address when none is known; lines with \\n.")
@click.option("--right", type=click.Choice(RIGHTS), help="Default: the first request's.")
@lang_option(help="Default: the first request's.")
@formats_option(help="pdf, email, text, html.")
@out_option(help="Default: the folder of the letter it follows (a batch's), else ./letters.")
@date_option(help="Date of the letter (default: today).")
@click.option("--lrar", is_flag=True, help="Print the registered-letter line on the PDF.")
@click.option(
    "--message", type=int, help="The inbox message to cite (dsar inbox --review shows it)."
)
@force_option(help="Replace existing output files (a draft is redone in place without it).")
@click.option(
    "--mandates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A member's request: the folder of the signed mandates (<mandate_ref>.pdf), the "
    "member's enclosed (else offered on request).",
)
@templates_option
@registry_option
def follow_command(reference, templates_dir, registries, **options):
    """The next request, to the organisation an answer named as source, recipient or
    controller, citing that answer (who, when, under what reference, its words).

    Same person, same evidence; right and language are the first request's unless given.

    \b
    Example:
      dsar follow DSAR-28FJ-ZUR7 --to selfcontact
      dsar follow DSAR-28FJ-ZUR7 --to-name "Jeux Concours SAS" \\
        --to-address $'Jeux Concours SAS\\n10 rue X\\n75002 Paris'
    """
    result = open_app(registries, templates_dir).follow(reference, **options)
    if result.found:
        click.echo(printable(result.found))
    print_letter(result)
    click.echo(
        _("{reference} follows {original}").format(
            reference=result.reference, original=result.original
        )
    )
    for line in result.warnings:
        warn(line)


def batch_follow(app, slug, association_file, out_dir, formats, letter_date, mandates) -> None:
    """dsar batch --follow: the next requests of an association's members, and the manifest."""
    bar, progress = progress_bar()
    with bar:
        result = app.batch_follow(
            slug,
            association=association_file,
            out_dir=out_dir,
            formats=formats,
            letter_date=letter_date,
            mandates=mandates,
            progress=progress,
        )
    click.echo(
        _("{written} next requests written, {already} written by an earlier run").format(
            written=len(result.written_now), already=len(result.already)
        )
    )
    for line in result.warnings:
        warn(line)
    say_outputs(result, out_dir, send=False)
    finish(result.exit_code)


def _echo_step(step: dict, depth: int) -> None:
    pad = "  " * depth
    dates = [
        _("dated {date}").format(date=step["letter_date"]) if step["letter_date"] else "",
        _("sent {date}").format(date=step["sent"]) if step["sent"] else "",
        _("answered {date}").format(date=step["answered"]) if step["answered"] else "",
    ]
    click.echo(
        printable(
            pad
            + _("{reference}  {kind} to {recipient}: {state}; {dates}").format(
                reference=step["reference"],
                kind=lifecycle.kind_name(step["kind"]),
                recipient=step["recipient"],
                state=report.state_name(step["state"]),
                dates=", ".join(d for d in dates if d),
            )
        )
    )
    for said in step["said"]:
        words = f" « {said['words']} »" if said.get("words") else ""
        named = f" {said['organisation']}" if said.get("organisation") else ""
        kind = follow_module.SAID_NAMES.get(said["kind"])
        kind = _(kind) if kind else report.state_name(said["kind"])
        click.echo(printable(f"{pad}  {said['on']} {kind}{named}{words}"))
    for child in step["steps"]:
        _echo_step(child, depth + 1)


@cli.command("trail")
@click.argument("reference", required=False, shell_complete=complete_reference)
@click.option("--member", help="Every chain of this member of an association.")
@json_option(help="Print JSON.")
def trail_command(reference, member, as_json):
    """The chain from the message received to every request it led to: dates, states
    and what each answer said.

    \b
    Example:
      dsar trail DSAR-28FJ-ZUR7
      dsar trail --member "Camille Martin" --json
    """
    trails = open_app().trail(reference, member=member)
    if as_json:
        click.echo(json.dumps(trails, indent=2, ensure_ascii=False))
        return
    from datetime import date

    from .fields import long_date
    from .web.words import CHANNELS as CHANNEL_WORDS  # the page's words for the channels

    for trail in trails:
        message = trail["message"]
        who = f"{trail['member']}: " if trail["member"] else ""
        click.echo(
            printable(
                who
                + _("{channel} of {date} from {sender}").format(
                    channel=_(CHANNEL_WORDS.get(message["channel"], message["channel"])),
                    date=long_date(date.fromisoformat(message["received_on"]), i18n.language())
                    if message["received_on"]
                    else "?",
                    sender=message["sender"] or "?",
                )
            )
        )
        _echo_step(trail["request"], 1)


def main():
    cli(prog_name="dsar")


from .cli_inbox import inbox  # noqa: E402  (below the group it joins)

cli.add_command(inbox)
