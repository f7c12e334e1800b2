"""Parse and normalise the values people type: phone numbers, e-mail addresses, dates.

Each parser raises InputError naming the field and saying what is wrong, so the same
checks serve the command line, the profile, CSV rows and the registry.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime, time
from urllib.parse import urlparse

import email_validator
import phonenumbers
from babel.dates import format_date

from .errors import InputError
from .i18n import N_, _
from .vocabulary import LANGUAGES

_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def phone(value: str, field: str = "phone", region: str = "FR") -> str:
    """Return E.164 ('+33612345678'); numbers without a country code are taken as French."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None  # the library's own reason is English-only: say what to write instead
    if number is None or not phonenumbers.is_possible_number(number):
        raise InputError("not_a_phone", field=field, value=value)
    if not phonenumbers.is_valid_number(number):  # the right length, in no operator's range
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        raise InputError("unallocated_phone", field=field, value=value, start=national[:5])
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_shown(value: str) -> str:
    """A number as people read it: '06 12 34 56 78' in France, international otherwise;
    what cannot be read is shown as typed."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    form = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, form)


def web_link(value: str | None) -> str | None:
    """An address fit for a link: http(s) with a host, else None (javascript:, data:...)."""
    if not value:
        return None
    parsed = urlparse(value.strip())
    return value.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def phone_forms(e164: str) -> dict[str, str]:
    number = phonenumbers.parse(e164, None)
    return {
        "e164": e164,
        "national": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        "international": phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        ),
    }


def email(value: str, field: str = "email") -> str:
    """Syntax only, never DNS: dsar does not touch the network unless asked to send."""
    try:
        result = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InputError("not_an_email", field=field, value=value, reason=str(exc)) from None
    return result.normalized


@functools.lru_cache(maxsize=1024)  # a batch asks about the same few addresses every message
def ascii_email(value: str) -> str | None:
    """The address as it may go in a header, or None when it needs SMTPUTF8."""
    result = email_validator.validate_email(value, check_deliverability=False)
    return result.ascii_email


_YEAR_FIRST = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")
DATE_FORMS = N_("YYYY-MM-DD or DD/MM/YYYY")


def iso_date(value: str | date, field: str = "date") -> date:
    """A date as people type it: ISO '2024-06-06', or the French way '06/06/2024', '6/6/24'.

    Slashed dates are always read day first, as in France; a form that cannot be read so
    ('06/13/2024') is refused with that reading, never guessed the American way.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    typed = value.strip()
    if match := _YEAR_FIRST.match(typed):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
        reading, redo = _("year-month-day"), f"{year}-{day:02d}-{month:02d}"
    elif match := _DAY_FIRST.match(typed):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
        year += 2000 if len(match[4]) == 2 else 0  # '24' is 2024: no message predates 2000
        reading, redo = _("day/month/year, as in France"), f"{month:02d}/{day:02d}/{year}"
    else:
        raise InputError("not_a_date", field=field, value=value, forms=_(DATE_FORMS))
    try:
        return date(year, month, day)
    except ValueError:
        pass
    problem = (
        _("there is no month {month}").format(month=month)
        if not 1 <= month <= 12
        else _("there is no year {year}").format(year=year)
        if year < 1
        else _("day {day} is not in month {month}").format(day=day, month=month)
    )
    hint = (
        _("; if you meant day {day} of month {month}, write {redo}").format(
            day=month, month=day, redo=redo
        )
        if month > 12 >= day
        else ""
    )
    raise InputError(
        "impossible_date", field=field, value=value, reading=reading, problem=problem, hint=hint
    )


def clock_time(value: str, field: str = "time") -> time:
    try:
        return time.fromisoformat(value.strip().replace("h", ":"))
    except ValueError:
        raise InputError(
            field, _("'{value}' is not a time; write it as HH:MM").format(value=value)
        ) from None


def language(value: str, field: str = "lang") -> str:
    if value not in LANGUAGES:
        raise InputError("not_a_language", field=field, value=value, choices=", ".join(LANGUAGES))
    return value


def choice(value: str, choices: tuple[str, ...], field: str) -> str:
    """One of the vocabulary's words (a click.Choice on the command line, a select on the
    page, where anything may be posted)."""
    if value not in choices:
        raise InputError("not_a_choice", field=field, value=value, choices=", ".join(choices))
    return value


def long_date(value: date, lang: str) -> str:
    """'22 novembre 2026' / '22 November 2026', with babel so no locale must be installed."""
    text = format_date(value, format="long", locale=_LOCALES[lang])
    # French style writes the first of the month as '1er'
    return re.sub(r"^1 ", "1er ", text) if lang == "fr" else text


def url(value: str, field: str = "url") -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError(field, f"'{value}' is not an http(s) URL")
    return value


def siren(value: str, field: str = "siren") -> str:
    from stdnum.fr import siren as stdnum_siren  # 15 ms to import: only associations use it

    try:
        return stdnum_siren.validate(value)
    except Exception:
        raise InputError(
            field, _("'{value}' is not a valid SIREN (9 digits, Luhn checksum)").format(value=value)
        ) from None


PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def partial_date(value: str, field: str = "date") -> str:
    """A publication date as sources give it: '2018', '2022-04' or '2024-06-07'."""
    value = str(value)
    if not PARTIAL_DATE.match(value):
        raise InputError(field, f"'{value}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    iso_date(value + "-01-01"[len(value) - 4 :], field)
    return value


_LINE_BREAKS = {"\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"}


def text(value: str, field: str, *, multiline: bool = False, limit: int = 5000) -> str:
    """Free text as typed, minus what no letter can carry.

    Control characters and lone surrogates cannot be written to a PDF, a mail header or
    UTF-8 at all: refuse them with the field's name rather than fail later. Line breaks
    are normalised to \\n where they are allowed and refused where they are not (a
    name with a newline would forge an e-mail header).
    """
    value = value.replace("\r\n", "\n")
    if _SUSPECT.search(value) or (not multiline and "\n" in value):
        value = _refuse_or_normalise(value, field, multiline)
    value = value.replace("\t", " ").strip()
    if len(value) > limit:
        raise InputError("too_long", field=field, length=len(value), limit=limit)
    return value


# every character the loop below could refuse or rewrite: C0 and C1 controls but tab and
# newline, line and paragraph separators, surrogates (most text has none: one regex pass)
_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _refuse_or_normalise(value: str, field: str, multiline: bool) -> str:
    if multiline:
        value = "".join("\n" if c in _LINE_BREAKS else c for c in value)
    for char in value:
        if char in _LINE_BREAKS and not multiline:
            raise InputError("one_line", field=field)
        category = unicodedata.category(char)
        if (category == "Cc" and char not in "\n\t") or category == "Cs":
            raise InputError("control_character", field=field, char=f"U+{ord(char):04X}")
    return value


def fold(text: str) -> str:
    """Lower case without accents or punctuation: 'Reconquête' == 'reconquete'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())
