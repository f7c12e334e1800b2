"""The command line's translated help: part of the command line, beside cli.py.

Help texts are written in English where the commands are declared (at import, before
any language is chosen) and translated each time they are shown, so `--ui-lang` and
the locale decide, and one process can speak both (the tests do).
"""

from __future__ import annotations

import ast
import inspect

import click

from .errors import DsarError
from .i18n import N_, gettext


def _translated(raw: str | None) -> str | None:
    return gettext(inspect.cleandoc(raw)) if raw else raw


class _ShownTranslated:
    """An attribute kept as declared (the msgid) and translated each time it is read."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else _translated(obj.__dict__.get(self.name))

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.name] = value


class TranslatedOption(click.Option):
    """An option whose help is looked up in the catalogue when shown."""

    help = _ShownTranslated()


class TranslatedFormatter(click.HelpFormatter):
    def write_heading(self, heading: str) -> None:
        """'Options:' in English, 'Options :' in French."""
        line = gettext("{heading}:").format(heading=heading)
        self.write(" " * self.current_indent + line + "\n")


class TranslatedContext(click.Context):
    formatter_class = TranslatedFormatter


class TranslatedCommand(click.Command):
    """A command whose help, short help and options' help are translated when shown."""

    context_class = TranslatedContext

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            # every option declared with click.option gets the translated help
            if type(param) is click.Option:
                param.__class__ = TranslatedOption

    help = _ShownTranslated()
    short_help = _ShownTranslated()

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None and type(option) is click.Option:
            # click builds it once, in the language of the first use: keep the msgid
            option.__class__ = TranslatedOption
            option.help = "Show this message and exit."
        return option


class TranslatedGroup(TranslatedCommand, click.Group):
    command_class = TranslatedCommand
    group_class = type  # subgroups are of the same class


def extract_help(fileobj, keywords, comment_tags, options):
    """Babel extractor: the usual Python calls, plus what click shows as help: the
    commands' docstrings and the help= texts.

    babel.cfg names it for dsar/cli.py; the msgid is the text as click shows it
    (inspect.cleandoc), so the lookups above find it.
    """
    import io

    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            if doc := ast.get_docstring(node, clean=True):
                yield node.lineno, None, doc, []
        elif (
            isinstance(node, ast.keyword)
            and node.arg in ("help", "short_help")
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield node.value.lineno, None, inspect.cleandoc(node.value.value), []


# codes the command line words its own way: with the option or command to use
CLI_MESSAGES = {
    "name_required": N_("the requester's name is required (--name, or dsar init)"),
    "output_exists": N_("{path} already exists; use --force to replace it."),
    "sent_needs": N_("give --on DATE (when it was sent), or --proof FILE to add a proof"),
    "complain_after": N_(
        "{reference}: the reminder gave until {final} to answer; complain on or after {day}, "
        "or now with --force"
    ),
    "draft_exists": N_(
        "{path} already exists; use --force to replace it. It is the draft {reference}, "
        "written earlier for the same number, recipient, right and date: --force writes it "
        "again with these details."
    ),
    "already_left": N_(
        "{reference} is already {state} and is never rewritten; see dsar show {reference}"
    ),
    "draft_not_posted": N_(
        "{reference} is a draft: its PDF has no postal address for the recipient and is marked "
        "DRAFT, so it cannot have been posted. Add the address (--to-address 'LINE\\nLINE', or "
        "once: dsar brokers add-contact {slug} --postal 'LINE\\nLINE' --source WHERE), write the "
        "letter again with the same command and --force (it keeps its reference), post it, then "
        "record it; a letter e-mailed is recorded as it is"
    ),
}


def option(field: str) -> str:
    """A field as the command line names it: its option."""
    return "--" + field.replace("_", "-")


def cli_words(exc: DsarError) -> str:
    """A library error in the command line's words (fields named as options)."""
    return exc.words(CLI_MESSAGES.get(exc.code), option)
