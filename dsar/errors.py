"""The one error family dsar raises: what went wrong as a code, the field it concerns and
its parameters; each face words it (cli_i18n for the command line, web/words for the
page), in the language of the person it speaks to. cli.py turns it into a message and
the error's exit code, in one place."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from .i18n import N_, _


class ExitCode(IntEnum):
    """dsar's exit codes (pipx's ExitCode habit): named, and the same for every command."""

    OK = 0
    ERROR = 1  # a DsarError: something the user can fix, said in the message
    USAGE = 2  # an option or value the command cannot take
    PARTIAL = 3  # a batch did its work but skipped bad rows or could not send some e-mails
    INTERRUPTED = 130  # Ctrl-C


class Field(str):
    """A parameter that names another field: each face words it (the command line
    `--email`, the page « Votre e-mail »)."""


# code -> the default message; {field} is the field the error is about, a Field
# parameter another field; a face may word a code its own way (cli_i18n, web/words)
MESSAGES = {
    "not_a_phone": N_(
        "'{value}' is not a valid phone number; write it as 06 12 34 56 78 or +33 6 ..."
    ),
    # the right number of digits, but in no range the numbering plan gives an operator
    "unallocated_phone": N_(
        "'{value}' has the right number of digits, but its first digits ({start}) are in no "
        "range allocated to a telephone operator: check each digit against the phone that "
        "received the message. If it is exactly right, the numbering plan dsar knows may be "
        "older than the number: update dsar (pip install -U phonenumbers)"
    ),
    # the validation library's reason is English only: the French leaves it out
    "not_an_email": N_(
        "'{value}' is not a valid e-mail address ({reason}); write it like name@example.org"
    ),
    "not_a_date": N_("'{value}' is not a date; write it as {forms}"),
    "impossible_date": N_(
        "'{value}' is not a date: dsar reads it as {reading}, and {problem}{hint}"
    ),
    "not_a_language": N_("'{value}' is not a supported language; use one of {choices}"),
    "not_a_choice": N_("'{value}': use {choices}"),
    "too_long": N_("is {length} characters long; {limit} at most"),
    "one_line": N_("must be on one line"),
    "control_character": N_("contains the control character {char}; remove it"),
    "name_required": N_("the requester's name is required"),
    "phone_or_email": N_("give a phone number ({phone}) or an e-mail ({email}) to be found by"),
    "email_needed": N_("the e-mail format needs your e-mail address ({email})"),
    "no_recipient": N_("choose at least one recipient"),
    "one_party": N_("tick one party only (the one you are sure of)"),
    "contact_needed": N_(
        "give the recipient's e-mail ({to_email}) or postal address ({to_address})"
    ),
    "source_needed": N_("say where you found this contact (a letter, a web page)"),
    "output_exists": N_("{path} already exists."),
    "sent_needs": N_("give the day it was sent ({on}), or a proof to add ({proof})"),
    "complain_after": N_(
        "{reference}: the reminder gave until {final} to answer; complain on or after {day}"
    ),
    "draft_exists": N_(
        "{path} already exists: it is the draft {reference}, written earlier for the same "
        "number, recipient, right and date."
    ),
    "already_left": N_("{reference} is already {state} and is never rewritten"),
    # a letter recorded as sent that cannot have left: no postal address on its PDF (marked
    # DRAFT), and no e-mail address it could have gone to (or a registered-letter number)
    "draft_not_posted": N_(
        "{reference} is a draft: its PDF has no postal address for the recipient and is "
        "marked DRAFT, so it cannot have been posted. Write it again with the postal address "
        "of the recipient ({slug}), post it, then record it; a letter e-mailed is recorded "
        "as it is"
    ),
    "never_rewritten": N_(
        "{reference} is {state}: a request that left is never rewritten; write a new one"
    ),
}


class DsarError(Exception):
    """Something the user can fix: `DsarError(code, field=..., **params)` with a code of
    MESSAGES; an older `DsarError("message")` carries words already written."""

    exit_code = ExitCode.ERROR

    def __init__(self, code: str = "", /, *, field: str | None = None, **params):
        if code not in MESSAGES:  # words already written, in the speaker's language
            code, params = "said", {"text": code, **params}
        self.code, self.field, self.params = code, field, params
        super().__init__(code)

    def words(self, message: str | None = None, name: Callable[[str], str] = str) -> str:
        """The message (MESSAGES' unless a face gives its own) in the language spoken,
        each field named by `name`."""
        if self.code == "said":
            return self.params["text"]
        values = {k: name(v) if isinstance(v, Field) else v for k, v in self.params.items()}
        if self.field:
            values.setdefault("field", name(self.field))
        return _(message or MESSAGES[self.code]).format(**values)

    def __str__(self) -> str:
        return self.words()

    def __reduce__(self):
        # a batch worker's error crosses to the parent process whole: code, field, params
        return _rebuilt, (type(self), self.__dict__)


def _rebuilt(cls: type[DsarError], state: dict) -> DsarError:
    error = Exception.__new__(cls)
    error.__dict__.update(state)
    error.args = (state["code"],)
    return error


class UsageError(DsarError):
    """Options that cannot go together, or one missing that another needs."""

    exit_code = ExitCode.USAGE


class InputError(UsageError):
    """A value the user gave (flag, profile, CSV cell, form field) is not valid:
    `InputError(code, field=..., **params)`, or the older `InputError(field, reason)`."""

    def __init__(self, code: str, reason: str | None = None, /, **params):
        if reason is not None:
            super().__init__(reason, field=code)
        else:
            super().__init__(code, **params)

    @property
    def reason(self) -> str:
        """What is wrong with the field, without its name."""
        return self.words()

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


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
        super().__init__(
            _("unknown broker '{slug}'.{hint}").format(slug=slug, hint=hint), field="broker"
        )


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
        self.path = path
        super().__init__("output_exists", path=path)


class RequestExists(OutputExists):
    """The same request (person, recipient, right, day) was written elsewhere (the command
    line, another folder): never replaced; the page shows it instead."""

    def __init__(self, reference: str, path):
        super().__init__(path)
        self.reference = reference


class JournalError(DsarError):
    """The journal cannot be opened or written."""
