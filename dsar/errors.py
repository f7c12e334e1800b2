"""The one error family dsar raises; cli.py turns it into a message and the error's
exit code, in one place."""

from __future__ import annotations

from enum import IntEnum

from .i18n import _


class ExitCode(IntEnum):
    """dsar's exit codes (pipx's ExitCode habit): named, and the same for every command."""

    OK = 0
    ERROR = 1  # a DsarError: something the user can fix, said in the message
    USAGE = 2  # an option or value the command cannot take
    PARTIAL = 3  # a batch did its work but skipped bad rows or could not send some e-mails
    INTERRUPTED = 130  # Ctrl-C


class DsarError(Exception):
    """Something the user can fix; the message says what to do next."""

    exit_code = ExitCode.ERROR


class UsageError(DsarError):
    """Options that cannot go together, or one missing that another needs."""

    exit_code = ExitCode.USAGE


class InputError(UsageError):
    """A value the user gave (flag, profile, CSV cell) is not valid."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class RegistryError(DsarError):
    """A registry file does not validate; carries every problem found, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = (
            _("{count} problem(s) in the registry:").format(count=len(problems))
            if len(problems) != 1
            else ""
        )
        super().__init__("\n".join([head, *problems]) if head else problems[0])


class UnknownBroker(DsarError):
    def __init__(self, slug: str, suggestions: list[str]):
        self.slug = slug
        self.suggestions = suggestions
        hint = (
            _(" Did you mean: {names}?").format(names=", ".join(suggestions))
            if suggestions
            else _(" Run 'dsar brokers search TEXT' to find it.")
        )
        super().__init__(_("unknown broker '{slug}'.{hint}").format(slug=slug, hint=hint))


class AmbiguousBroker(DsarError):
    """A name or alias that several registry entries answer to."""

    def __init__(self, name: str, slugs: list[str]):
        self.name = name
        self.slugs = slugs
        super().__init__(
            _("'{name}' names several entries: {slugs}; give the slug").format(
                name=name, slugs=", ".join(slugs)
            )
        )


class OutputExists(DsarError):
    def __init__(self, path):
        super().__init__(_("{path} already exists; use --force to replace it.").format(path=path))


class RequestExists(OutputExists):
    """The same request (person, recipient, right, day) was written elsewhere (the command
    line, another folder): never replaced; the page shows it instead."""

    def __init__(self, reference: str, path):
        super().__init__(path)
        self.reference = reference


class JournalError(DsarError):
    """The journal cannot be opened or written."""
