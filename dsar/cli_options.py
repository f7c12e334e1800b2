"""What both command-line modules declare alike: how to reach a mail server (SMTP for
dsar batch --send, IMAP for dsar inbox) and the extra registry option. cli imports
cli_inbox, so what both need lives here, beside them."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .i18n import N_, _
from .inbox.sources import IMAP_SECURITY
from .vocabulary import SMTP_SECURITY

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

    def add(func):
        func = click.option("--allow-plaintext-auth", is_flag=True, help=server["plaintext"])(func)
        return click.option(
            f"--{protocol}-security",
            type=click.Choice(server["choices"]),
            default=server["default"],
            show_default=True,
            help=server["security"],
        )(func)

    return add


def server_password(protocol: str, user: str, *, err: bool = False) -> str:
    """The password from DSAR_SMTP_PASSWORD / DSAR_IMAP_PASSWORD, else asked, unseen."""
    return os.environ.get(f"DSAR_{protocol.upper()}_PASSWORD") or click.prompt(
        _(SERVERS[protocol]["prompt"]).format(user=user), hide_input=True, err=err
    )


def registry_option(func):
    return click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Extra registry file, on top of the shipped one and your own (repeatable).",
    )(func)
