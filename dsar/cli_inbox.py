"""dsar inbox: the command line of dsar/inbox (reading, matching, meaning, review)."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import click

from .app import App
from .cli_i18n import TranslatedCommand
from .cli_options import json_option, registry_option, server_options, server_password
from .errors import DsarError, UsageError
from .fields import iso_date
from .follow import FOLLOW_KINDS
from .i18n import N_, _
from .inbox import apply, meaning, parse, sources
from .paths import Paths
from .safety import printable


def open_app(registries=()) -> App:
    """The run's one App, closed when the command ends (as cli.open_app; cli imports this
    module, so it cannot import cli)."""
    ctx = click.get_current_context()
    return ctx.with_resource(App(Paths.from_env(), registries=registries))


def warn(text: str) -> None:
    click.secho(printable(text), err=True, fg="yellow")


KIND_WORDS = {
    "acknowledgement": (N_("acknowledgement"), N_("acknowledgements")),
    "bounce": (N_("bounce"), N_("bounces")),
    "kept": (N_("kept"), N_("kept")),
    "review": (N_("to review"), N_("to review")),
    "unmatched": (N_("unmatched"), N_("unmatched")),
}


def _count_words(counts) -> str:
    parts = []
    for key, value in sorted(counts.items()):
        if key == "messages" or not value:
            continue
        one, many = KIND_WORDS.get(key, (key, key))
        parts.append(f"{value} {_(one) if value == 1 else _(many)}")
    count = counts["messages"]
    head = (_("{count} message") if count == 1 else _("{count} messages")).format(count=count)
    return f"{head}: {', '.join(parts)}" if parts else head


def _echo_outcome(outcome: apply.Outcome) -> None:
    where = outcome.reference or _("no request")
    how = f" ({outcome.matched_by})" if outcome.matched_by else ""
    state = {
        "applied": _("applied"),
        "kept": _("kept"),
        "review": _("to review"),
        "unmatched": _("unmatched"),
    }.get(outcome.status, outcome.status)
    if outcome.applied and outcome.status != "applied":
        state = _("would be applied")
    click.echo(
        printable(
            f"{outcome.kind:18} {where}{how}  {outcome.sender}  «{outcome.subject[:60]}»  {state}"
        )
    )
    if outcome.evidence:
        click.echo(
            printable(
                "    "
                + _("because: {words}").format(words=" | ".join(e[:120] for e in outcome.evidence))
            )
        )
    if outcome.facts.get("failed"):
        click.echo(
            printable(
                "    "
                + _("failed: {failed} ({reason})").format(
                    failed=", ".join(outcome.facts["failed"]),
                    reason=outcome.facts.get("reason", ""),
                )
            )
        )


def _suggest_contacts(app, outcome: apply.Outcome) -> None:
    """A bounce: the recipient's other contacts, from the registry."""
    request = app.journal.request(outcome.reference)
    failed = set(outcome.facts.get("failed", []))
    others = [c for c in request.broker.contacts if c.value.lower() not in failed]
    if others:
        click.echo("    " + _("other contacts of {name}:").format(name=request.broker.name))
        for contact in others:
            click.echo(printable(f"      {contact.kind}: {contact.value}".replace("\n", ", ")))
    else:
        click.echo(
            "    "
            + _("no other contact known: dsar brokers show {slug}").format(slug=request.broker.slug)
        )


def _doubts(item: dict, today: date) -> list[str]:
    """What makes a proposal doubtful: a sender the request's recipient is not known
    by (anyone can quote a reference), a Date header after today."""
    doubts = []
    if item["reference"] and not item["trusted"]:
        doubts.append(
            _(
                "warning: {sender} is not an address known for the recipient of {reference}:"
                " anyone can quote a reference; confirm only if the reply is theirs"
            ).format(sender=item["sender"] or "?", reference=item["reference"])
        )
    day = item["facts"].get("day")
    if day and date.fromisoformat(day) > today:
        doubts.append(
            _(
                "warning: the message is dated {day}, after today: its Date header is wrong;"
                " give the day it came ([d]) or skip it"
            ).format(day=day)
        )
    return doubts


def _gist(item: dict) -> list[str]:
    """What the person needs to decide: sender, date, first lines (whole, wrapped),
    attachments, the kind proposed and why."""
    try:
        reply = parse.parse(Path(item["path"]).read_bytes())
        lines = [line for line in meaning.fresh_text(reply.text).splitlines() if line.strip()]
    except Exception:  # a file gone, or a message no parser takes: the row still shows
        lines = []
    wrapped = [part for line in lines[:6] for part in textwrap.wrap(line, 100)[:4]]
    gist = [
        f"#{item['id']}  {item['sender']}  {item['sent_at'] or ''}",
        f"    {item['subject']}",
        *(f"    | {line}" for line in wrapped),
        *(f"    + {a['name']} ({a['content_type']})" for a in item["attachments"]),
        "    "
        + _("request: {reference} ({how})").format(
            reference=item["reference"] or _("none found"), how=item["matched_by"] or "-"
        ),
        "    "
        + _("proposed: {kind}, because: {words}").format(
            kind=item["kind"], words=" | ".join(item["evidence"]) or "-"
        ),
    ]
    return [printable(line) for line in gist]


def _propose_follow(app, item: dict, kind: str, reference: str, follow: bool) -> None:
    """An answer naming a source, a recipient or the controller: the next request to it,
    in one step (asked, or at once with --follow). The name dsar read is shown and the
    person corrects it: the registry's slug or the organisation's name."""
    if kind not in FOLLOW_KINDS:
        return
    try:
        target, _found = app.named_by(reference, item["id"])
        proposed = target.slug if target.slug in app.registry.brokers else target.name
        asked = _("the answer names {name}: write the next request to it now?").format(
            name=target.name
        )
    except DsarError:
        proposed = ""
        asked = _(
            "dsar cannot tell which organisation the answer names: write the next request now?"
        )
    if not (follow or click.confirm(printable(asked), default=False)):
        return
    who = click.prompt(
        _("recipient: its slug in the registry, or its name (empty: none)"),
        default=proposed,
        show_default=bool(proposed),
    ).strip()
    if not who:
        return
    to = who if who in app.registry.brokers else None
    try:
        result = app.follow(reference, to=to, to_name=None if to else who, message=item["id"])
    except DsarError as exc:
        warn(str(exc))
        return
    if result.found:
        click.echo(printable(result.found))
    for path in result.written:
        click.echo(_("wrote {path}").format(path=path))
    click.echo(f"reference {result.reference}")
    for line in result.warnings:
        warn(line)


def review(app, follow: bool = False) -> None:
    waiting = apply.pending(app)
    if not waiting:
        click.echo(_("nothing to review"))
        return
    for item in waiting:
        click.echo()
        for line in _gist(item):
            click.echo(line)
        doubts = _doubts(item, app.today())
        for line in doubts:
            warn("    " + line)
        kind, reference, day = item["kind"], item["reference"], None
        while True:
            choice = click.prompt(
                _("[c]onfirm, change [k]ind, give [r]eference, give the [d]ay, [s]kip, [q]uit"),
                type=click.Choice(["c", "k", "r", "d", "s", "q"]),
                # a doubtful reply is never confirmed by a mere Enter
                default=("s" if doubts else "c") if reference else "r",
            )
            if choice == "q":
                return
            if choice == "s":
                apply.skip(app, item["id"])
                break
            if choice == "d":
                try:
                    day = iso_date(click.prompt(_("the day it came")), "day")
                except DsarError as exc:
                    warn(str(exc))
                continue
            if choice == "k":
                kind = click.prompt(_("kind"), type=click.Choice(meaning.KINDS), default=kind)
                continue
            if choice == "r":
                reference = click.prompt(_("reference"), default=reference or "").strip()
                continue
            if not reference:
                warn(_("give the reference first ([r])"))
                continue
            try:
                done = apply.confirm(app, item["id"], kind, reference, day)
            except DsarError as exc:  # a date in the future, a reference unknown: say, ask again
                warn(str(exc))
                continue
            click.echo(
                _("recorded: {reference} {what}").format(reference=reference.upper(), what=done)
            )
            click.echo(
                printable(
                    "    "
                    + _("next: {action}").format(
                        action=apply.next_action(app, reference, item["facts"])
                    )
                )
            )
            _propose_follow(app, item, kind, reference, follow)
            break


@click.command("inbox", cls=TranslatedCommand)
@click.argument("source", required=False)
@click.option("--dry-run", is_flag=True, help="Read and show; record nothing.")
@json_option(help="One JSON object per message.")
@click.option(
    "--review", "to_review", is_flag=True, help="Then decide, one by one, on what waits for you."
)
@click.option(
    "--follow",
    is_flag=True,
    help="With --review: write the next request for each confirmed answer that names a "
    "source, a recipient or the controller, without asking.",
)
@server_options("imap")
@click.option(
    "--imap-ca",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Trust this CA for the IMAP server (else the system's; SSL_CERT_FILE).",
)
@registry_option
def inbox(
    source,
    dry_run,
    as_json,
    to_review,
    follow,
    imap_security,
    imap_ca,
    allow_plaintext_auth,
    registries,
):
    """Read replies from a mailbox: match each to its request, say what it means.

    SOURCE is an mbox file, a Maildir, a folder of .eml files, or
    imaps://USER@HOST[:PORT]/FOLDER (password from DSAR_IMAP_PASSWORD or asked; read
    only). Acknowledgements and bounces are applied at once; the rest waits for --review.
    Every message is kept as evidence; a second run records nothing twice.

    \b
    Example:
      dsar inbox ~/Mail/dsar.mbox --dry-run
      DSAR_IMAP_PASSWORD=... dsar inbox imaps://camille@imap.example.org/INBOX
      dsar inbox --review
      dsar inbox --review --follow     # and the next request to each source named
    """
    if not source and not to_review:
        raise UsageError(_("give a SOURCE to read, or --review"))
    app = open_app(registries)
    if source:
        run = _read(app, source, dry_run, imap_security, imap_ca, allow_plaintext_auth)
        if as_json:
            click.echo(
                json.dumps([o.as_dict() for o in run.outcomes], indent=1, ensure_ascii=False)
            )
        else:
            for outcome in run.outcomes:
                _echo_outcome(outcome)
                if outcome.kind == "bounce" and outcome.reference and outcome.applied:
                    _suggest_contacts(app, outcome)
            for key, counts in apply.summary(run.outcomes).items():
                label = {"*": _("in all"), "-": _("no request")}.get(key, key)
                click.echo(printable(f"{label}: {_count_words(counts)}"))
            if run.already:
                click.echo(_("{count} already read before").format(count=run.already))
            if not run.outcomes and not run.already:
                warn(_("{source}: no message found in it").format(source=source))
        for warning in run.warnings:
            warn(warning)
    if to_review and not dry_run:
        review(app, follow)


def _read(app, source, dry_run, security, ca, allow_plaintext_auth) -> apply.Run:
    address = sources.imap_address(source)
    if address is None:
        return apply.read(app, sources.read_files(Path(source)), dry_run=dry_run)

    def password() -> str:
        return server_password("imap", address.user)

    from .inbox import store

    with sources.Imap(
        address, password, security=security, ca=ca, allow_plaintext_auth=allow_plaintext_auth
    ) as folder:
        store.migrate(app.journal)
        position = store.imap_position(app.journal.db, address.account)
        after = position[1] if position and position[0] == folder.uidvalidity else 0
        return apply.read(
            app, folder.read(after), dry_run=dry_run, imap=(address.account, folder.uidvalidity)
        )
