"""The command line: the only module that prints, prompts or exits.

Every command opens the library, calls it, and prints; DsarError becomes a message
and an exit code in one place (DsarGroup.invoke).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from . import compose, fields, letters, profile, registry
from .errors import DsarError, InputError
from .journal import STATES
from .paths import SHIPPED_REGISTRY, Paths

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class DsarGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            raise click.UsageError(f"--{exc.field.replace('_', '-')}: {exc.reason}", ctx) from None
        except DsarError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def registry_option(func):
    return click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Extra registry file, on top of the shipped one and your own (repeatable).",
    )(func)


def load_registry(registries: tuple[Path, ...] = ()) -> registry.Registry:
    paths = Paths.from_env()
    files = [SHIPPED_REGISTRY]
    if paths.user_registry.exists():
        files.append(paths.user_registry)
    return registry.Registry.load([*files, *registries])


def warn(text: str) -> None:
    click.secho(text, err=True, fg="yellow")


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
    paths = Paths.from_env()
    saved = profile.load(paths.profile)
    interactive = not any((name, address, phone, email))
    if interactive:
        name = click.prompt("Your name", default=saved.get("name"))
        click.echo("Postal address, one line at a time; an empty line ends it.")
        lines = []
        while line := click.prompt("  line", default="", show_default=False).strip():
            lines.append(line)
        address = "\n".join(lines) or saved.get("address")
        phone = click.prompt(
            "Phone number that received the message", default=saved.get("phone", "")
        )
        email = click.prompt("E-mail address for answers", default=saved.get("email", ""))
    else:
        name, address = name or saved.get("name"), address or saved.get("address")
        phone, email = phone or saved.get("phone"), email or saved.get("email")
    person = profile.requester(name, address, phone or None, email or None)
    profile.save(paths.profile, person)
    click.echo(f"Saved your details in {paths.profile} (readable by you only).")


# ---------------------------------------------------------------- generate


@cli.command()
@click.option(
    "--broker",
    "broker_slug",
    required=True,
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
    type=click.Choice(["sms", "voice", "call", "email", "mail"]),
    default="sms",
    show_default=True,
    help="How the message came.",
)
@click.option(
    "--right",
    type=click.Choice(["access", "erasure", "both"]),
    default="both",
    show_default=True,
    help="access: Art. 15; erasure: Art. 17 with objection (21), withdrawal (7(3)), restriction (18), notification (19).",
)
@click.option("--lang", type=click.Choice(fields.LANGUAGES), default="fr", show_default=True)
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
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder whose templates override the shipped ones by name.",
)
@click.option("--force", is_flag=True, help="Replace existing output files.")
@registry_option
def generate(
    broker_slug,
    name,
    phone,
    email,
    address,
    sms_date,
    sms_time,
    sms_sender,
    sms_text,
    sms_text_file,
    channel,
    right,
    lang,
    formats,
    out_dir,
    lrar,
    letter_date,
    place,
    to_email,
    to_address,
    templates_dir,
    force,
    registries,
):
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
    paths = Paths.from_env()
    chosen = compose.parse_formats(formats)
    saved = profile.load(paths.profile)
    person = profile.requester(
        name or saved.get("name"),
        address or saved.get("address"),
        phone or saved.get("phone"),
        email or saved.get("email"),
    )
    if sms_text_file:
        sms_text = sms_text_file.read()
    evidence = compose.evidence(channel, sms_date, sms_time, sms_sender, sms_text)
    reg = load_registry(registries)
    request = compose.build_request(
        reg,
        broker_slug,
        person,
        evidence,
        right=right,
        lang=lang,
        letter_date=fields.iso_date(letter_date, "date") if letter_date else letters.today(),
        place=place,
        lrar=lrar,
        to_email=to_email,
        to_address=to_address,
    )
    env = letters.environment(templates_dir or paths.user_templates)
    letter = letters.render(request, env)
    if "email" in chosen and not request.reply_email:
        raise InputError("email", "the e-mail format needs your e-mail address (--email)")

    with open_journal() as journal:
        write_letter(letter, chosen, out_dir, force, journal, env=env, templates_dir=templates_dir)
    for line in compose.recipient_wishes(request, chosen) + compose.gap_advice(letter, reg):
        warn(line)


def pdf_renderer(env, templates_dir: Path | None = None):
    from .render.pdf import PdfRenderer

    user = templates_dir or Paths.from_env().user_templates
    return PdfRenderer(env, [*([user] if user.is_dir() else []), letters.SHIPPED_TEMPLATES])


def open_journal():
    from .journal import Journal

    return Journal(Paths.from_env().journal)


def report_written(letter, written, *, quiet_stdout: bool = False) -> None:
    for path in written.files.values():
        click.echo(f"wrote {path}", err=quiet_stdout)
    click.echo(f"reference {letter.request.reference}", err=quiet_stdout)
    if written.eml:
        from .render.mail import mailto

        link = mailto(letter)
        if link:
            click.echo(f"mailto link for your own mail client:\n{link}", err=quiet_stdout)


# ---------------------------------------------------------------- brokers


@cli.group()
def brokers():
    """Look up and check the registry of brokers, parties and authorities."""


@brokers.command("list")
@click.option(
    "--kind", type=click.Choice(["broker", "party", "authority", "processor", "sender", "company"])
)
@registry_option
def brokers_list(kind, registries):
    """List every organisation in the registry.

    \b
    Example:
      dsar brokers list
      dsar brokers list --kind party
    """
    from rich.console import Console
    from rich.table import Table

    table = Table("slug", "kind", "name", "e-mail", "post", "quality", box=None)
    for broker in load_registry(registries):
        if kind and broker.kind != kind:
            continue
        table.add_row(
            broker.slug,
            broker.kind,
            broker.name,
            "yes" if broker.email else "-",
            "yes" if broker.postal_address else "-",
            broker.quality,
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@brokers.command("show")
@click.argument("slug")
@registry_option
def brokers_show(slug, registries):
    """Show one entry, each contact with where it comes from.

    \b
    Example:
      dsar brokers show selfcontact
    """
    reg = load_registry(registries)
    broker = reg.get(slug)
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
    if subs := reg.subsidiaries(broker.slug):
        click.echo(f"subsidiaries: {', '.join(b.slug for b in subs)}")
    if broker.brokers_used:
        click.echo(f"brokers used: {', '.join(broker.brokers_used)}")
    if users := reg.parties_using(broker.slug):
        click.echo(f"parties known to use it: {', '.join(b.slug for b in users)}")
    click.echo("sources:")
    for source in broker.sources:
        click.echo(f"  - {source.label()}")
    if broker.notes:
        click.echo(f"notes: {broker.notes}")
    click.echo(f"from: {reg.origin[broker.slug]}")


@brokers.command("search")
@click.argument("text")
@registry_option
def brokers_search(text, registries):
    """Find entries by name or alias; case and accents are ignored.

    \b
    Example:
      dsar brokers search "reconquete"
    """
    reg = load_registry(registries)
    found = reg.search(text)
    if not found:
        raise DsarError(f"nothing matches '{text}'; try part of a name, or dsar brokers list")
    for slug in found:
        broker = reg.brokers[slug]
        click.echo(f"{slug}\t{broker.kind}\t{broker.name}")


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
    if file:
        reg = registry.Registry()
        reg.add(registry.read(file), str(file))
    else:
        reg = load_registry(registries)
    findings = registry.check(reg)
    errors = [f for f in findings if f.level == "error"]
    for finding in findings:
        click.echo(str(finding), err=True)
    summary = (
        f"{len(reg)} entries, {len(reg.campaigns)} campaigns: "
        f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
    )
    if errors:
        raise DsarError(summary)
    click.echo(summary)


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
@click.option(
    "--kind", type=click.Choice(["company", "authority"]), default="company", show_default=True
)
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
    from . import importer
    from .files import check_free, write_private

    check_free([output], overwrite=force)
    result = importer.import_datenanfragen(path, kind=kind)
    text = importer.dump(result, path)
    registry.parse(text, str(output))  # never write a registry that would not load
    write_private(output, text, overwrite=force)
    for problem in result.problems:
        click.echo(problem, err=True)
    if result.unmapped:
        kept_out = ", ".join(f"{k} ({n})" for k, n in result.unmapped.most_common())
        click.echo(f"fields not carried over: {kept_out}", err=True)
    click.echo(
        f"imported {len(result.entries)} entries into {output}; "
        f"{len(result.problems)} value(s) dropped or skipped (listed above)"
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
    from rich.console import Console
    from rich.table import Table

    reg = load_registry(registries)
    table = Table("date", "party", "candidates", "broker", "channel", "volume", "sources", box=None)
    for campaign in sorted(reg.campaigns.values(), key=lambda c: c.date):
        table.add_row(
            campaign.date,
            campaign.party or "?",
            ", ".join(campaign.candidates),
            campaign.broker or "unknown",
            ",".join(campaign.channel),
            campaign.volume or "",
            "; ".join(s.label() for s in campaign.sources),
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)


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
    from . import identify

    if text_file:
        text = text_file.read()
    text = fields.text(text, "text", multiline=True)
    sender = fields.text(sender, "sender", limit=200)
    day = fields.iso_date(when, "date") if when else None
    reg = load_registry(registries)
    clues, matches = identify.identify(reg, text=text, sender=sender, when=day)
    if clues.stop_number:
        click.echo(f"STOP short number: {clues.stop_number} (reply STOP to it as well: it is free)")
    if clues.links:
        click.echo(f"links in the message (not opened): {', '.join(clues.links)}")
    controllers: dict[str, list[str]] = {}
    brokers_found: dict[str, list[str]] = {}
    for match in matches:
        campaign = match.campaign
        why = f"campaign {campaign.id} ({campaign.date}): {'; '.join(match.reasons)}; confidence {match.confidence}"
        if campaign.party:
            controllers.setdefault(campaign.party, []).append(why)
        brokers_found.setdefault(campaign.broker or "", []).append(why)
    for slug, label in clues.parties.items():
        controllers.setdefault(slug, []).append(f"the message names {label!r}")
    if not controllers and not brokers_found:
        click.echo("Nothing in the message matches a known party, candidate or campaign.")
        senders = identify.political_senders(reg)
        click.echo("Brokers known to send political SMS and voice messages:")
        for broker in senders:
            click.echo(f"  {broker.slug}: {broker.name}")
        click.echo(
            "Ask them where your number came from: dsar generate --broker "
            f"{senders[0].slug if senders else 'SLUG'} ..."
        )
        return
    if controllers:
        click.echo("\nLikely controller (the party that ordered it):")
        for slug, reasons in controllers.items():
            click.echo(f"  {reg.brokers[slug].name} [{slug}]")
            for reason in dict.fromkeys(reasons):
                click.echo(f"    - {reason}")
    if brokers_found:
        click.echo("\nLikely broker (who holds or rented the number):")
        for slug, reasons in brokers_found.items():
            label = (
                f"{reg.brokers[slug].name} [{slug}]" if slug else "unknown: the sources name none"
            )
            click.echo(f"  {label}")
            for reason in dict.fromkeys(reasons):
                click.echo(f"    - {reason}")
    click.echo("\nWrite to each:")
    date_flag = f" --sms-date {day.isoformat()}" if day else ""
    for slug in [*controllers, *[b for b in brokers_found if b]]:
        sender_flag = f" --sms-sender {shlex.quote(sender)}" if sender else ""
        click.echo(f"  dsar generate --broker {slug}{date_flag}{sender_flag} ...")


# ---------------------------------------------------------------- associations

EXIT_SOME_FAILED = 3


@cli.command()
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--broker", "broker_slug", help="Recipient for rows without a 'broker' column value.")
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
@click.option(
    "--right", type=click.Choice(["access", "erasure", "both"]), default="both", show_default=True
)
@click.option("--lang", type=click.Choice(fields.LANGUAGES), default="fr", show_default=True)
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
    type=click.Choice(["none", "starttls", "ssl"]),
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
def batch(
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
    import os

    from . import batch as batch_module
    from . import members

    chosen = compose.parse_formats(formats)
    if "text" in chosen:
        raise click.UsageError("--format for a batch is pdf, email and/or html")
    if send and "email" not in chosen:
        raise click.UsageError("--send needs --format to include email")
    if send and not smtp_host and not dry_run:
        raise click.UsageError("--send needs --smtp-host")
    password = None
    if send and smtp_user and not dry_run:
        password = os.environ.get("DSAR_SMTP_PASSWORD") or click.prompt(
            f"SMTP password for {smtp_user}", hide_input=True, err=True
        )
    options = batch_module.BatchOptions(
        broker=broker_slug,
        association=members.load_association(association_file),
        out_dir=out_dir,
        formats=chosen,
        right=right,
        lang=lang,
        letter_date=fields.iso_date(letter_date, "date") if letter_date else letters.today(),
        strict=strict,
        workers=workers or max(1, os.cpu_count() or 1),
        force=force,
        templates=Paths.from_env().user_templates,
        mandates=mandates_dir,
    )
    reg = load_registry(registries)
    if broker_slug:
        reg.get(broker_slug)  # an unknown --broker fails before any row
    with open_journal() as journal, _progress() as progress:
        task = progress.add_task("rows", total=members.count(csv_file))
        result = batch_module.run(
            csv_file, options, reg, journal, progress=lambda n: progress.advance(task, n)
        )
        # the quick count may differ from the rows read when quoting is broken
        progress.update(task, total=len(result.rows) + len(result.bad))
        counts = {}
        result.manifest = out_dir / "manifest.csv"
        try:
            counts = _send(
                send,
                dry_run,
                journal,
                progress,
                smtp_host,
                smtp_port,
                smtp_security,
                smtp_user,
                password,
                rate,
                retry_backoff,
                options.association.email,
            )
        finally:  # the manifest says what was sent even when sending stops
            batch_module.write_manifest(result.manifest, result, journal)
    for bad in result.bad:
        click.echo(f"{csv_file}: {bad}", err=True)
    click.echo(
        f"{len(result.rows)} request(s) ({result.resumed} already done by an earlier run), "
        f"{len(result.bad)} bad row(s) skipped"
    )
    if "email" in chosen and result.unsigned:
        warn(
            f"{len(result.unsigned)} e-mail(s) say the mandate is enclosed but have no scan to "
            f"attach (first: {result.unsigned[0]}); give --mandates DIR with <mandate_ref>.pdf"
        )
    for print_file in result.print_files:
        click.echo(f"print file: {print_file}")
    click.echo(f"manifest: {result.manifest}")
    if counts:
        click.echo("e-mails: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if result.bad or counts.get("failed") or counts.get("deferred"):
        sys.exit(EXIT_SOME_FAILED)


def _send(
    send, dry_run, journal, progress, host, port, security, user, password, rate, backoff, sender
):
    from .sending import Smtp, SmtpSettings, send_outbox

    if not send:
        return {}
    if dry_run:
        for reference, recipient, _eml, _ in journal.outbox_pending():
            click.echo(f"would send {reference} to {recipient}")
        return {}
    # counted, not listed: the messages are read one at a time, so memory stays flat
    task = progress.add_task("e-mails", total=journal.outbox_waiting())
    settings = SmtpSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password,
        rate_per_minute=rate,
        backoff=backoff,
    )
    return send_outbox(
        journal,
        Smtp(settings),
        sender_for=lambda ref: sender,
        progress=lambda ref: progress.advance(task),
    )


def _progress():
    """Count, rate and time left on stderr; stdout keeps the summary."""
    from rich.console import Console
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

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


@cli.command()
@click.option(
    "--association",
    "association_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True)
@click.argument(
    "csv_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
def mandate(association_file, out_dir, force, csv_file):
    """Mandate forms for members to sign: one per CSV row, or one blank form.

    \b
    Examples:
      dsar mandate --association association.yaml --out mandates/ members.csv
      dsar mandate --association association.yaml --out mandates/
    """
    from . import members
    from .files import check_free, write_private

    association = members.load_association(association_file)
    env = letters.environment(Paths.from_env().user_templates)
    renderer = pdf_renderer(env)
    rows = [] if csv_file is None else list(members.read(csv_file))
    forms = [None] if csv_file is None else [r for r in rows if isinstance(r, members.Member)]
    for bad in (r for r in rows if isinstance(r, members.BadRow)):
        click.echo(f"{csv_file}: {bad}", err=True)
    targets = [
        out_dir / (f"mandate-{m.mandate_ref}.pdf" if m else "mandate-blank.pdf") for m in forms
    ]
    check_free(targets, overwrite=force)
    for member, target in zip(forms, targets, strict=True):
        html = env.get_template("mandate.html.j2").render(
            association=association,
            member=member,
            phone=member.requester.phone_forms if member else None,
        )
        write_private(target, renderer.render_html(html), overwrite=force)
    click.echo(f"wrote {len(targets)} mandate form(s) in {out_dir}")


# ---------------------------------------------------------------- follow-up


def parse_day(value: str | None, field: str = "on"):
    return fields.iso_date(value, field) if value else letters.today()


@cli.command()
@click.argument("reference")
@click.option("--on", "on", required=True, help="Date it was posted or e-mailed, YYYY-MM-DD.")
@click.option("--lrar", "lrar_number", help="Registered-letter number (LRAR).")
@click.option("--received", help="Date on the acknowledgement of receipt, YYYY-MM-DD.")
@click.option("--message-id", help="Message-ID of the e-mail you sent.")
def sent(reference, on, lrar_number, received, message_id):
    """Record that a request was sent, with its proof; the deadline starts to run.

    The one-month deadline (Art. 12(3)) counts from receipt: from --received when you
    have the acknowledgement, else from the sending date (and status says so).

    \b
    Example:
      dsar sent DSAR-28FJ-ZUR7 --on 2026-01-31 --lrar 1A23456789012 --received 2026-02-02
    """
    with open_journal() as journal:
        journal.mark_sent(
            reference,
            fields.iso_date(on, "on"),
            lrar=lrar_number,
            received=fields.iso_date(received, "received") if received else None,
            message_id=message_id,
        )
        entry = journal.entry(reference)
    note = " (from the sending date: no receipt date yet)" if entry.receipt_is_estimated else ""
    click.echo(f"{reference}: sent {entry.sent_on}; answer due by {entry.deadline}{note}")


@cli.command()
@click.argument("reference")
@click.option(
    "--state", type=click.Choice(["answered", "partial", "refused", "id-requested", "closed"])
)
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
    if extension == bool(state):
        raise click.UsageError("give either --state or --extension")
    day = fields.iso_date(on, "on")
    with open_journal() as journal:
        if extension:
            journal.mark_extension(reference, day)
            click.echo(
                f"{reference}: extended; answer now due by {journal.entry(reference).deadline}"
            )
            return
        kept = journal.mark_answer(reference, state, day, note, list(reply_files))
    for path in kept:
        click.echo(f"kept {path}")
    hint = {
        "id-requested": f"; answer it with: dsar reply-id {reference}",
        "partial": f"; follow up with: dsar remind {reference}",
        "refused": f"; follow up with: dsar complain {reference} --out DIR",
    }.get(state, "")
    click.echo(f"{reference}: {state}{hint}")


@cli.command()
@click.option("--as-of", help="Work out states as of this date (default: today).")
@click.option("--broker", "broker_slug", help="Only requests to this broker.")
@click.option("--state", "state_filter", type=click.Choice(STATES))
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
    from . import report

    day = parse_day(as_of, "as_of")
    with open_journal() as journal:
        entries = [
            e
            for e in journal.entries(broker=broker_slug)
            if not state_filter or e.state(day) == state_filter
        ]
    if csv_file:
        report.write_csv(csv_file, entries, day)
    if ics_file:
        report.write_ics(ics_file, entries)
    if as_json:
        click.echo(
            json.dumps(
                {"as_of": day.isoformat(), "requests": [e.as_dict(day) for e in entries]}, indent=2
            )
        )
        return
    report.print_table(entries, day)


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
            click.option(
                "--lang", type=click.Choice(fields.LANGUAGES), help="Default: the request's."
            ),
            click.option("--on", "on", help="Date of the letter, YYYY-MM-DD (default: today)."),
            click.option(
                "--out",
                "out_dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=Path("letters"),
                show_default=True,
            ),
            click.option("--force", is_flag=True, help="Replace existing output files."),
        ]
    ):
        func = option(func)
    return func


def write_letter(
    letter, chosen, out_dir, force, journal, *, env, templates_dir=None, kind="request", extra=None
):
    """Write a letter's outputs, record it in the journal, and say where it went."""
    renderer = pdf_renderer(env, templates_dir) if "pdf" in chosen else None
    written = compose.write(
        letter, chosen, out_dir, force=force, pdf_renderer=renderer, extra=extra, env=env
    )
    journal.record(
        letter.request,
        subject=letter.subject,
        body_text=letter.body_text,
        medium=",".join(chosen),
        page_html=written.page_html,
        files=written.files,
        kind=kind,
    )
    if "text" in chosen:
        click.echo(f"{letter.subject}\n\n{letter.body_text}", nl=False)
    report_written(letter, written, quiet_stdout="text" in chosen)
    return written


@cli.command()
@click.argument("reference")
@follow_up_options
def remind(reference, formats, lang, on, out_dir, force):
    """The reminder (relance) once the deadline has passed: a final 15-day deadline.

    \b
    Example:
      dsar remind DSAR-28FJ-ZUR7 --format pdf
    """
    from . import followup

    day = parse_day(on)
    env = letters.environment(Paths.from_env().user_templates)
    with open_journal() as journal:
        letter, extra = followup.reminder(journal, reference, env, on=day, lang=lang)
        write_letter(
            letter,
            compose.parse_formats(formats),
            out_dir,
            force,
            journal,
            env=env,
            kind="reminder",
            extra=extra,
        )
        journal.mark_reminded(reference, day, letter.request.reference)
    click.echo(f"{reference}: reminded; final deadline {extra['final_deadline']}")


@cli.command("reply-id")
@click.argument("reference")
@follow_up_options
def reply_id(reference, formats, lang, on, out_dir, force):
    """Answer a demand for an identity card: not proportionate for a phone number.

    \b
    Example:
      dsar reply-id DSAR-28FJ-ZUR7 --format pdf,email
    """
    from . import followup

    env = letters.environment(Paths.from_env().user_templates)
    with open_journal() as journal:
        letter, extra = followup.reply_id(journal, reference, env, on=parse_day(on), lang=lang)
        write_letter(
            letter,
            compose.parse_formats(formats),
            out_dir,
            force,
            journal,
            env=env,
            kind="reply-id",
            extra=extra,
        )


@cli.command(short_help="A complaint to the CNIL (Art. 77) and one dossier PDF.")
@click.argument("reference")
@click.option("--on", "on", help="Date of the complaint (default: today).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--force", is_flag=True)
@registry_option
def complain(reference, on, out_dir, force, registries):
    """A complaint to the CNIL (Art. 77), and one dossier PDF with every piece.

    The dossier holds the complaint, the original request, reminders, replies in PDF,
    and a last page listing every recorded step with its proof. Upload it with the
    CNIL's online form (https://www.cnil.fr/fr/plaintes) or post it.

    \b
    Example:
      dsar complain DSAR-28FJ-ZUR7 --out complaint/
    """
    from . import followup
    from .files import write_private

    day = parse_day(on)
    cnil = load_registry(registries).get("cnil")
    env = letters.environment(Paths.from_env().user_templates)
    with open_journal() as journal:
        letter, extra = followup.complaint(journal, reference, env, cnil, on=day)
        written = write_letter(
            letter, ("pdf",), out_dir, force, journal, env=env, kind="complaint", extra=extra
        )
        bundle, left_out = followup.dossier(
            journal,
            reference,
            written.pdf,
            pdf_renderer(env),
            followup.reminders_of(journal, reference),
        )
        target = out_dir / f"{reference}-dossier-cnil.pdf"
        write_private(target, bundle, overwrite=force)
        journal.mark_complained(reference, day, letter.request.reference)
    click.echo(f"wrote {target}")
    for name in left_out:
        click.echo(
            f"warning: the reply {name} is not a readable PDF: not bundled, but listed "
            "with its checksum on the dossier's last page; attach it yourself",
            err=True,
        )
    click.echo("file it online at https://www.cnil.fr/fr/plaintes, or post it to the CNIL")


def main():
    cli(prog_name="dsar")
