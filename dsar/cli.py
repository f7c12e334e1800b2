"""The command line: the only module that prints, prompts or exits.

Every command parses its options, builds one App (dsar/app.py), calls one of its
methods and prints the result; the exit code comes from the result. DsarError becomes
a message and its exit code in one place (DsarGroup.invoke).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from . import registry, report
from .app import App
from .errors import DsarError, InputError, UsageError
from .paths import Paths
from .results import EXIT_INTERRUPTED, EXIT_OK, LetterResult
from .sending import SmtpSettings
from .vocabulary import (
    ANSWER_STATES,
    CHANNELS,
    IMPORT_KINDS,
    LANGUAGES,
    RECIPIENT_KINDS,
    REQUEST_STATES,
    RIGHTS,
    SMTP_SECURITY,
)


class DsarGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            raise click.UsageError(f"--{exc.field.replace('_', '-')}: {exc.reason}", ctx) from None
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx) from None
        except DsarError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
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
    click.secho(text, err=True, fg="yellow")


# ---------------------------------------------------------------- shell completion


def _complete(values, incomplete: str):
    return [CompletionItem(v) for v in values if v.startswith(incomplete)]


def complete_broker(ctx, param, incomplete: str):
    """Broker slugs, from the registry dsar would use (plus any --registry given)."""
    try:
        registries = ctx.params.get("registries") or ()
        with App(Paths.from_env(), registries=registries) as app:
            return _complete(list(app.registry.brokers), incomplete)
    except DsarError:
        return []


def complete_reference(ctx, param, incomplete: str):
    """References of the requests in the journal; nothing when there is no journal."""
    paths = Paths.from_env()
    if not paths.journal.exists():
        return []
    try:
        with App(paths) as app:
            return _complete(app.references(), incomplete)
    except DsarError:
        return []


def registry_option(func):
    return click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Extra registry file, on top of the shipped one and your own (repeatable).",
    )(func)


def templates_option(func):
    return click.option(
        "--templates",
        "templates_dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="Folder whose templates override yours and the shipped ones by name.",
    )(func)


def reference_argument(func):
    return click.argument("reference", shell_complete=complete_reference)(func)


@click.group(cls=DsarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dsar")
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
def init(name, address, phone, email):
    """Save your details once, so that generate needs only --broker.

    The profile is written in your config folder (or DSAR_HOME) with mode 0600.
    Any detail not given as an option is asked for.

    \b
    Example:
      dsar init
      dsar init --name "Camille Martin" --phone "06 12 34 56 78" --email camille@example.org
    """
    app = open_app()
    if not any((name, address, phone, email)):
        saved = app.saved_profile()
        name = click.prompt("Your name", default=saved.get("name"))
        click.echo("Postal address, one line at a time; an empty line ends it.")
        lines = []
        while line := click.prompt("  line", default="", show_default=False).strip():
            lines.append(line)
        address = "\n".join(lines) or None
        phone = click.prompt(
            "Phone number that received the message", default=saved.get("phone", "")
        )
        email = click.prompt("E-mail address for answers", default=saved.get("email", ""))
    result = app.save_profile(name, address, phone or None, email or None)
    click.echo(f"Saved your details in {result.written[0]} (readable by you only).")


# ---------------------------------------------------------------- generate


def print_letter(result: LetterResult, files=None) -> None:
    """A letter's text (when asked), where its files went, its reference."""
    quiet = result.text is not None  # stdout is the letter: messages go to stderr
    if quiet:
        click.echo(result.text, nl=False)
    for path in result.written if files is None else files:
        click.echo(f"wrote {path}", err=quiet)
    click.echo(f"reference {result.reference}", err=quiet)
    if result.mailto:
        click.echo(f"mailto link for your own mail client:\n{result.mailto}", err=quiet)


@cli.command()
@click.option(
    "--broker",
    "broker_slug",
    required=True,
    shell_complete=complete_broker,
    help="Slug or name of the recipient (dsar brokers list).",
)
@click.option("--name", help="Your name (default: from dsar init).")
@click.option("--phone", help="The number that received the message, e.g. '06 12 34 56 78'.")
@click.option("--email", help="Your e-mail address; answers go there.")
@click.option("--address", help="Your postal address; separate lines with \\n.")
@click.option("--sms-date", help="When the message came, YYYY-MM-DD.")
@click.option("--sms-time", help="At what time, HH:MM.")
@click.option("--sms-sender", default="", help="Sender name or short number shown.")
@click.option("--sms-text", default="", help="The text of the message, pasted.")
@click.option(
    "--sms-text-file", type=click.File("r", encoding="utf-8"), help="Read the text from a file."
)
@click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    default="sms",
    show_default=True,
    help="How the message came.",
)
@click.option(
    "--right",
    type=click.Choice(RIGHTS),
    default="both",
    show_default=True,
    help="access: Art. 15; erasure: Art. 17 with objection (21), withdrawal (7(3)), restriction (18), notification (19).",
)
@click.option("--lang", type=click.Choice(LANGUAGES), default="fr", show_default=True)
@click.option(
    "--format",
    "formats",
    default="pdf,email",
    show_default=True,
    help="pdf, email, text, html (the letter as dsar lays it out, one self-contained file); comma-separated.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("letters"),
    show_default=True,
)
@click.option("--lrar", is_flag=True, help="Print the registered-letter line on the PDF.")
@click.option("--date", "letter_date", help="Date of the letter, YYYY-MM-DD (default: today).")
@click.option("--place", help="Place written before the date (default: the town of your address).")
@click.option("--to-email", help="Recipient e-mail when the registry has none (or to override it).")
@click.option(
    "--to-address", help="Recipient postal address when the registry has none; lines with \\n."
)
@templates_option
@click.option("--force", is_flag=True, help="Replace existing output files.")
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
        options["sms_text"] = sms_text_file.read()
    app = open_app(registries, templates_dir)
    result = app.generate(broker_slug, **options)
    print_letter(result)
    for line in result.warnings:
        warn(line)


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
    rows = table("slug", "kind", "name", "e-mail", "post", "quality")
    for broker in open_app(registries).brokers(kind).brokers:
        rows.add_row(
            broker.slug,
            broker.kind,
            broker.name,
            "yes" if broker.email else "-",
            "yes" if broker.postal_address else "-",
            broker.quality,
        )
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
    broker = result.broker
    click.echo(
        f"{broker.name}  [{broker.slug}]  {broker.kind}, quality {broker.quality}, "
        f"checked {broker.checked or 'never'}"
    )
    if broker.aliases:
        click.echo(f"also known as: {', '.join(broker.aliases)}")
    if broker.description:
        click.echo(f"\n{broker.description}\n")
    for label, value in (
        ("web", broker.web),
        ("privacy policy", broker.privacy_policy),
        ("SIREN", broker.siren),
        ("asks for requests in", broker.language),
        ("asks for requests by", broker.medium),
    ):
        if value:
            click.echo(f"{label}: {value}")
    click.echo("contacts:")
    for contact in broker.contacts:
        value = contact.value.replace("\n", ", ")
        click.echo(f"  {contact.kind}: {value}\n    source: {contact.source or 'not stated'}")
    for kind, label in (("email", "e-mail"), ("postal", "postal address")):
        if not any(c.kind in (kind, "dpo-" + kind) for c in broker.contacts):
            click.echo(f"  {label}: unknown (no source gives one)")
    if broker.parent:
        click.echo(f"parent: {broker.parent}")
    if result.subsidiaries:
        click.echo(f"subsidiaries: {', '.join(b.slug for b in result.subsidiaries)}")
    if broker.brokers_used:
        click.echo(f"brokers used: {', '.join(broker.brokers_used)}")
    if result.used_by:
        click.echo(f"parties known to use it: {', '.join(b.slug for b in result.used_by)}")
    click.echo("sources:")
    for source in broker.sources:
        click.echo(f"  - {source.label()}")
    if broker.notes:
        click.echo(f"notes: {broker.notes}")
    click.echo(f"from: {result.origin}")


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
        click.echo(f"{broker.slug}\t{broker.kind}\t{broker.name}")


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
        click.echo(f"Error: {result.summary}", err=True)
    else:
        click.echo(result.summary)
    finish(result.exit_code)


@brokers.command("import")
@click.argument("source", type=click.Choice(["datenanfragen"]))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registry file to write.",
)
@click.option("--kind", type=click.Choice(IMPORT_KINDS), default="company", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def brokers_import(source, path, output, kind, force):
    """Import an outside company database into a registry file.

    PATH is the datenanfragen JSON-lines file, or a folder of upstream
    companies/*.json files. Whatever cannot be mapped is reported.

    \b
    Example:
      dsar brokers import datenanfragen ../shared/data/datenanfragen/companies.jsonl --output companies.yaml
      dsar generate --registry companies.yaml --broker amazon-fr --format pdf
    """
    result = open_app().import_registry(source, path, output, kind=kind, force=force)
    imported = result.report
    for problem in imported.problems:
        click.echo(problem, err=True)
    if imported.unmapped:
        kept_out = ", ".join(f"{k} ({n})" for k, n in imported.unmapped.most_common())
        click.echo(f"fields not carried over: {kept_out}", err=True)
    click.echo(
        f"imported {len(imported.entries)} entries into {result.output}; "
        f"{len(imported.problems)} value(s) dropped or skipped (listed above)"
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
    rows = table("date", "party", "candidates", "broker", "channel", "volume", "sources")
    for campaign in open_app(registries).campaigns().campaigns:
        rows.add_row(
            campaign.date,
            campaign.party or "?",
            ", ".join(campaign.candidates),
            campaign.broker or "unknown",
            ",".join(campaign.channel),
            campaign.volume or "",
            "; ".join(s.label() for s in campaign.sources),
        )
    console(200).print(rows)


@cli.command("identify")
@click.option("--text", default="", help="The message, pasted.")
@click.option(
    "--text-file", type=click.File("r", encoding="utf-8"), help="Read the message from a file."
)
@click.option("--sender", default="", help="Sender name or short number shown.")
@click.option("--date", "when", help="When it came, YYYY-MM-DD.")
@registry_option
def identify_command(text, text_file, sender, when, registries):
    """Find who is behind a political message: the party, the broker, and why.

    \b
    Example:
      dsar identify --date 2024-06-06 --sender "Marion Maréchal" \\
        --text "Le 9 juin, votez pour la liste de Marion Maréchal. STOP au 36111"
    """
    if text_file:
        text = text_file.read()
    result = open_app(registries).identify(text, sender, when)
    clues = result.clues
    if clues.stop_number:
        click.echo(f"STOP short number: {clues.stop_number} (reply STOP to it as well: it is free)")
    if clues.links:
        click.echo(f"links in the message (not opened): {', '.join(clues.links)}")
    if not result.found:
        click.echo("Nothing in the message matches a known party, candidate or campaign.")
        click.echo("Brokers known to send political SMS and voice messages:")
        for broker in result.senders:
            click.echo(f"  {broker.slug}: {broker.name}")
        click.echo(
            "Ask them where your number came from: dsar generate --broker "
            f"{result.senders[0].slug if result.senders else 'SLUG'} ..."
        )
        return
    for title, suspects in (
        ("Likely controller (the party that ordered it)", result.controllers),
        ("Likely broker (who holds or rented the number)", result.brokers),
    ):
        if suspects:
            click.echo(f"\n{title}:")
        for suspect in suspects:
            label = (
                f"{suspect.name} [{suspect.slug}]"
                if suspect.slug
                else "unknown: the sources name none"
            )
            click.echo(f"  {label}")
            for reason in suspect.reasons:
                click.echo(f"    - {reason}")
    click.echo("\nWrite to each:")
    for command in result.commands:
        click.echo(f"  {command}")


# ---------------------------------------------------------------- associations


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
            tasks[stage] = bar.add_task(stage, total=total)
        elif total is not None:
            bar.update(tasks[stage], total=total)
        if advance:
            bar.advance(tasks[stage], advance)

    return bar, progress


@cli.command("batch")
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--broker",
    "broker_slug",
    shell_complete=complete_broker,
    help="Recipient for rows without a 'broker' column value.",
)
@click.option(
    "--association",
    "association_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="association.yaml: name, address, email, representative.",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "formats",
    default="pdf,email",
    show_default=True,
    help="pdf, email, html (one self-contained page per letter); comma-separated.",
)
@click.option("--right", type=click.Choice(RIGHTS), default="both", show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="fr", show_default=True)
@click.option("--date", "letter_date", help="Date on the letters (default: today).")
@click.option("--strict", is_flag=True, help="Stop at the first bad row instead of skipping it.")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="PDF worker processes (default: one per core)."
)
@click.option("--force", is_flag=True, help="Redo files that an earlier run already wrote.")
@click.option(
    "--mandates",
    "mandates_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of the signed mandates, <mandate_ref>.pdf, attached to each e-mail.",
)
@templates_option
@click.option(
    "--send",
    is_flag=True,
    help="Send the e-mails over SMTP (nothing leaves the machine without it).",
)
@click.option("--dry-run", is_flag=True, help="With --send: show what would be sent, send nothing.")
@click.option("--smtp-host")
@click.option("--smtp-port", type=int, default=587, show_default=True)
@click.option(
    "--smtp-security",
    type=click.Choice(SMTP_SECURITY),
    default="starttls",
    show_default=True,
)
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
    templates_dir,
    send,
    dry_run,
    smtp_host,
    smtp_port,
    smtp_security,
    smtp_user,
    rate,
    retry_backoff,
    registries,
):
    """Letters for every member of an association, under mandate; optionally e-mailed.

    CSV columns: name, address, phone, email, sms_date, sms_sender, sms_text, broker,
    mandate_date, mandate_ref (';' or ',', UTF-8 with or without BOM). Bad rows are
    reported with their row number and skipped. Writes one PDF per member, a
    print-duplex.pdf where every letter starts on a right-hand page (one volume per
    1,000 letters), a manifest.csv, and .eml files. Run the same command again after a crash: nothing is done twice.

    \b
    Examples:
      dsar batch members.csv --broker selfcontact --association association.yaml --out out/
      DSAR_SMTP_PASSWORD=... dsar batch members.csv --broker renaissance \\
        --association association.yaml --out out/ --format email --send \\
        --smtp-host smtp.example.org --smtp-port 587 --smtp-security starttls --smtp-user asso
    """
    smtp = None
    if send and smtp_host and not dry_run:
        password = None
        if smtp_user:
            password = os.environ.get("DSAR_SMTP_PASSWORD") or click.prompt(
                f"SMTP password for {smtp_user}", hide_input=True, err=True
            )
        smtp = SmtpSettings(
            host=smtp_host,
            port=smtp_port,
            security=smtp_security,
            user=smtp_user,
            password=password,
            rate_per_minute=rate,
            backoff=retry_backoff,
        )
    app = open_app(registries, templates_dir)
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
            send=send,
            dry_run=dry_run,
            smtp=smtp,
            progress=progress,
        )
    for reference, recipient in result.would_send:
        click.echo(f"would send {reference} to {recipient}")
    for bad in result.bad_rows:
        click.echo(f"{csv_file}: {bad}", err=True)
    click.echo(
        f"{len(result.rows)} request(s) ({result.resumed} already done by an earlier run), "
        f"{len(result.bad_rows)} bad row(s) skipped"
    )
    for line in result.warnings:
        warn(line)
    for print_file in result.print_files:
        click.echo(f"print file: {print_file}")
    click.echo(f"manifest: {result.manifest}")
    if result.sent:
        click.echo("e-mails: " + ", ".join(f"{n} {k}" for k, n in sorted(result.sent.items())))
    finish(result.exit_code)


@cli.command()
@click.option(
    "--association",
    "association_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True)
@click.option(
    "--broker", "broker_slug", help="Controller for rows without a 'broker' column value."
)
@templates_option
@registry_option
@click.argument(
    "csv_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
def mandate(association_file, out_dir, force, broker_slug, templates_dir, registries, csv_file):
    """Mandate forms for members to sign: one per CSV row, or one blank form.

    \b
    Examples:
      dsar mandate --association association.yaml --out mandates/ members.csv
      dsar mandate --association association.yaml --broker selfcontact --out mandates/ members.csv
      dsar mandate --association association.yaml --out mandates/
    """
    app = open_app(registries, templates_dir)
    result = app.mandates(association_file, out_dir, csv_file, force=force, broker=broker_slug)
    for bad in result.bad_rows:
        click.echo(f"{csv_file}: {bad}", err=True)
    click.echo(f"wrote {len(result.written)} mandate form(s) in {out_dir}")


# ---------------------------------------------------------------- follow-up


@cli.command()
@reference_argument
@click.option(
    "--on", "on", help="Date it was posted or e-mailed, YYYY-MM-DD (not needed for --proof alone)."
)
@click.option("--lrar", "lrar_number", help="Registered-letter number (LRAR).")
@click.option("--received", help="Date on the acknowledgement of receipt, YYYY-MM-DD.")
@click.option("--message-id", help="Message-ID of the e-mail you sent.")
@click.option(
    "--proof",
    "proofs",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A proof for the CNIL dossier: receipt scan, screenshot of the message; repeatable.",
)
def sent(reference, on, lrar_number, received, message_id, proofs):
    """Record that a request was sent, with its proof; the deadline starts to run.

    The one-month deadline (Art. 12(3)) counts from receipt: from --received when you
    have the acknowledgement, else from the sending date (and status says so).

    \b
    Example:
      dsar sent DSAR-28FJ-ZUR7 --on 2026-01-31 --lrar 1A23456789012 --received 2026-02-02
      dsar sent DSAR-28FJ-ZUR7 --proof receipt.pdf --proof sms.png
    """
    result = open_app().sent(
        reference,
        on,
        lrar=lrar_number,
        received=received,
        message_id=message_id,
        proofs=proofs,
    )
    for path in result.written:
        click.echo(f"kept {path}")
    entry = result.entry
    if on is None:
        return
    note = " (from the sending date: no receipt date yet)" if entry.receipt_is_estimated else ""
    click.echo(f"{reference}: sent {entry.sent_on}; answer due by {entry.deadline}{note}")


@cli.command()
@reference_argument
@click.option("--state", type=click.Choice(ANSWER_STATES))
@click.option("--extension", is_flag=True, help="The recipient notified a two-month extension.")
@click.option("--on", "on", required=True, help="Date of the answer, YYYY-MM-DD.")
@click.option(
    "--file",
    "reply_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The reply (PDF, e-mail, scan); kept beside the journal.",
)
@click.option("--note", help="What the answer said, in a few words.")
def answer(reference, state, extension, on, reply_files, note):
    """Record the recipient's answer, or a notified extension.

    \b
    Example:
      dsar answer DSAR-28FJ-ZUR7 --state partial --on 2026-03-01 --file reply.pdf --note "no source given"
      dsar answer DSAR-28FJ-ZUR7 --extension --on 2026-02-20
    """
    result = open_app().answer(
        reference, on, state=state, extension=extension, files=reply_files, note=note
    )
    if result.state is None:
        click.echo(f"{reference}: extended; answer now due by {result.entry.deadline}")
        return
    for path in result.kept:
        click.echo(f"kept {path}")
    hint = f"; {result.next_step}" if result.next_step else ""
    click.echo(f"{reference}: {result.state}{hint}")


@cli.command()
@click.option("--as-of", help="Work out states as of this date (default: today).")
@click.option(
    "--broker", "broker_slug", shell_complete=complete_broker, help="Only requests to this broker."
)
@click.option("--state", "state_filter", type=click.Choice(REQUEST_STATES))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
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
def status(as_of, broker_slug, state_filter, as_json, csv_file, ics_file):
    """Every request with its deadline and state; overdue ones stand out.

    \b
    Example:
      dsar status
      dsar status --state overdue --json
      dsar status --ics deadlines.ics
    """
    result = open_app().status(
        as_of=as_of, broker=broker_slug, state=state_filter, csv_file=csv_file, ics_file=ics_file
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    out = console(140)
    for part in report.status_tables(result.entries, result.as_of):
        out.print(part)


def follow_up_options(func):
    """The options every follow-up letter takes."""
    for option in reversed(
        [
            click.option(
                "--format",
                "formats",
                default="pdf,email",
                show_default=True,
                help="pdf, email, text; comma-separated.",
            ),
            click.option("--lang", type=click.Choice(LANGUAGES), help="Default: the request's."),
            click.option("--on", "on", help="Date of the letter, YYYY-MM-DD (default: today)."),
            click.option(
                "--out",
                "out_dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=Path("letters"),
                show_default=True,
            ),
            click.option("--force", is_flag=True, help="Replace existing output files."),
            templates_option,
        ]
    ):
        func = option(func)
    return func


@cli.command()
@reference_argument
@follow_up_options
def remind(reference, templates_dir, **options):
    """The reminder (relance) once the deadline has passed: a final 15-day deadline.

    \b
    Example:
      dsar remind DSAR-28FJ-ZUR7 --format pdf
    """
    result = open_app(templates=templates_dir).remind(reference, **options)
    print_letter(result)
    click.echo(f"{reference}: reminded; final deadline {result.final_deadline}")


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
@reference_argument
@click.option("--on", "on", help="Date of the complaint (default: today).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--force",
    is_flag=True,
    help="Replace existing files, and complain before the reminder's final deadline.",
)
@templates_option
@registry_option
def complain(reference, on, out_dir, force, templates_dir, registries):
    """A complaint to the CNIL (Art. 77), and one dossier PDF with every piece.

    The dossier holds the complaint, the original request, reminders, replies in PDF,
    and a last page listing every recorded step with its proof. Upload it with the
    CNIL's online form (https://www.cnil.fr/fr/plaintes) or post it.

    \b
    Example:
      dsar complain DSAR-28FJ-ZUR7 --out complaint/
    """
    app = open_app(registries, templates_dir)
    result = app.complain(reference, on=on, out_dir=out_dir, force=force)
    print_letter(result, [p for p in result.written if p != result.dossier])
    click.echo(f"wrote {result.dossier}")
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo("file it online at https://www.cnil.fr/fr/plaintes, or post it to the CNIL")


def main():
    cli(prog_name="dsar")
