"""The one error family dsar raises; cli.py turns it into a message and the error's
exit code, in one place."""

from __future__ import annotations

from .results import EXIT_ERROR, EXIT_USAGE


class DsarError(Exception):
    """Something the user can fix; the message says what to do next."""

    exit_code = EXIT_ERROR


class UsageError(DsarError):
    """Options that cannot go together, or one missing that another needs."""

    exit_code = EXIT_USAGE


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
        head = f"{len(problems)} problem(s) in the registry:" if len(problems) != 1 else ""
        super().__init__("\n".join([head, *problems]) if head else problems[0])


class UnknownBroker(DsarError):
    def __init__(self, slug: str, suggestions: list[str]):
        self.slug = slug
        self.suggestions = suggestions
        hint = (
            f" Did you mean: {', '.join(suggestions)}?"
            if suggestions
            else " Run 'dsar brokers search TEXT' to find it."
        )
        super().__init__(f"unknown broker '{slug}'.{hint}")


class OutputExists(DsarError):
    def __init__(self, path):
        super().__init__(f"{path} already exists; use --force to replace it.")


class JournalError(DsarError):
    """The journal cannot be opened or written."""
