"""The language dsar speaks to the person: French or English, from gettext catalogues.

Messages are written in English in the code and looked up in
dsar/locale/<lang>/LC_MESSAGES/dsar.mo (README: "Translations" says how to update
them). The language is `--ui-lang`, else the locale (LC_ALL, LC_MESSAGES, LANG
starting with "fr"), else English. dsar's catalogue is also the process's default
gettext domain, so click's own messages (usage, "Error:", "Missing option") follow.
"""

from __future__ import annotations

import contextlib
import functools
import gettext as _gettext
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

DOMAIN = "dsar"
LOCALEDIR = Path(__file__).resolve().parent / "locale"
UI_LANGUAGES = ("fr", "en")

# the process's language (the command line's); a page request speaks its own, held in
# a context variable so that two requests in two languages never share one
_default: tuple[str, _gettext.NullTranslations] = ("en", _gettext.NullTranslations())
_spoken: ContextVar[tuple[str, _gettext.NullTranslations]] = ContextVar("dsar_language")
# msgids asked for in French that the catalogue lacks; tests read it to find gaps
missing: set[str] = set()


def from_environment(environ=os.environ) -> str:
    """'fr' when the locale says French (POSIX order: LC_ALL, LC_MESSAGES, LANG)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(name):
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def _current() -> tuple[str, _gettext.NullTranslations]:
    return _spoken.get(_default)


def language() -> str:
    return _current()[0]


@functools.cache
def catalogue(lang: str) -> _gettext.NullTranslations:
    return _gettext.translation(DOMAIN, LOCALEDIR, languages=[lang], fallback=True)


def activate(lang: str | None = None) -> str:
    """Speak `lang`, or the locale's language when None, in the whole process (the
    command line); returns the one chosen."""
    global _default
    chosen = lang if lang in UI_LANGUAGES else from_environment()
    _default = (chosen, catalogue(chosen))
    _spoken.set(_default)
    return chosen


@contextlib.contextmanager
def using(lang: str) -> Iterator[str]:
    """Speak `lang` in this context only (one page request, and the worker threads it
    starts, which copy its context); the process's language is left alone."""
    chosen = lang if lang in UI_LANGUAGES else "en"
    token = _spoken.set((chosen, catalogue(chosen)))
    try:
        yield chosen
    finally:
        _spoken.reset(token)


@contextlib.contextmanager
def speaking(lang: str | None = None) -> Iterator[str]:
    """Speak a language for the time of one command, click's messages included.

    Python's gettext takes the language of the default domain from the environment
    only: LANGUAGE is set for the command and put back after it.
    """
    _gettext.bindtextdomain(DOMAIN, str(LOCALEDIR))
    _gettext.textdomain(DOMAIN)
    saved, before = os.environ.get("LANGUAGE"), language()
    try:
        yield switch(lang)
    finally:
        activate(before)  # the language spoken before the command, not the one it chose
        if saved is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved


def switch(lang: str | None) -> str:
    """Change language inside `speaking` (the --ui-lang option does)."""
    chosen = activate(lang)
    os.environ["LANGUAGE"] = chosen
    return chosen


def gettext(message: str) -> str:
    lang, translation = _current()
    translated = translation.gettext(message)
    if lang != "en" and translated is message and message:
        missing.add(message)
    return translated


def ngettext(singular: str, plural: str, n: int) -> str:
    lang, translation = _current()
    translated = translation.ngettext(singular, plural, n)
    if lang != "en" and translated in (singular, plural):
        missing.add(singular)
    return translated


_ = gettext


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


def word(words: dict[str, str], key: str) -> str:
    """A vocabulary word (a state, a kind, a quality) in the person's language, from a
    table of msgids; a key the table does not hold is shown as it is."""
    return gettext(words[key]) if key in words else key


activate()
