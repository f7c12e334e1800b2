"""What the command-line modules declare alike: the options several commands take (each
command gives its own help text, a msgid the command line translates when shown), how
to reach a mail server (SMTP for dsar batch --send, IMAP for dsar inbox) and the shell
completion of slugs and references. cli imports cli_inbox, so what both need lives
here, beside them."""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from .app import App
from .errors import DsarError
from .i18n import N_, _
from .inbox.sources import IMAP_SECURITY
from .paths import Paths
from .vocabulary import LANGUAGES, SMTP_SECURITY


def options(*decorators):
    """Several options as one decorator, shown in the order given."""

    def add(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return add


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


# ---------------------------------------------------------------- options of many commands


def _option(*names: str, default=None, **settings):
    """click.option, with a default (and show_default) only when one is given: an option
    declared without one keeps click's own handling of a missing value."""
    if default is not None:
        settings.update(default=default, show_default=True)
    return click.option(*names, **settings)


def out_option(help: str | None = None, *, required: bool = False, default: Path | None = None):
    """--out FOLDER, where the command writes."""
    return _option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        required=required,
        default=default,
        help=help,
    )


def force_option(help: str | None = None):
    """--force: what this command replaces or allows (its help says)."""
    return click.option("--force", is_flag=True, help=help)


def association_option(help: str | None = None, *, required: bool = False):
    """--association FILE: the association.yaml of a batch under mandate."""
    return click.option(
        "--association",
        "association_file",
        required=required,
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help=help,
    )


def broker_option(help: str, *, required: bool = False):
    """--broker SLUG, completed from the registry."""
    return click.option(
        "--broker", "broker_slug", required=required, shell_complete=complete_broker, help=help
    )


def lang_option(help: str | None = None, *, default: str | None = None):
    """--lang: the letter's language."""
    return _option("--lang", type=click.Choice(LANGUAGES), default=default, help=help)


def formats_option(help: str):
    """--format: the files to write, comma-separated (PDF and e-mail unless given)."""
    return _option("--format", "formats", default="pdf,email", help=help)


def on_option(help: str, *, required: bool = False):
    """--on DATE: the day of what is recorded or written."""
    return click.option("--on", "on", required=required, help=help)


def date_option(help: str, name: str = "letter_date"):
    """--date DATE, under the parameter `name`."""
    return click.option("--date", name, help=help)


def json_option(help: str):
    """--json: JSON instead of the text for a person."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def registry_option(func):
    return click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Extra registry file, on top of the shipped one and your own (repeatable).",
    )(func)


# ---------------------------------------------------------------- mail servers

# per protocol: its security choices and default, the help texts (msgids: the
# command line translates them when shown), the password's variable and prompt
SERVERS = {
    "smtp": {
        "choices": SMTP_SECURITY,
        "default": "starttls",
        "security": None,
        "plaintext": N_(
            "Allow --smtp-user with --smtp-security none (the password travels in clear)."
        ),
        "prompt": N_("SMTP password for {user}"),
    },
    "imap": {
        "choices": IMAP_SECURITY,
        "default": "ssl",
        "security": N_("TLS from the start (ssl), STARTTLS, or none."),
        "plaintext": N_("Allow a login with --imap-security none (the password travels in clear)."),
        "prompt": N_("IMAP password for {user}"),
    },
}


def server_options(protocol: str):
    """--{protocol}-security and --allow-plaintext-auth, the one way a password may
    travel in clear (the server's code refuses it otherwise)."""
    server = SERVERS[protocol]
    return options(
        _option(
            f"--{protocol}-security",
            type=click.Choice(server["choices"]),
            default=server["default"],
            help=server["security"],
        ),
        click.option("--allow-plaintext-auth", is_flag=True, help=server["plaintext"]),
    )


def server_password(protocol: str, user: str, *, err: bool = False) -> str:
    """The password from DSAR_SMTP_PASSWORD / DSAR_IMAP_PASSWORD, else asked, unseen."""
    return os.environ.get(f"DSAR_{protocol.upper()}_PASSWORD") or click.prompt(
        _(SERVERS[protocol]["prompt"]).format(user=user), hide_input=True, err=err
    )
