"""The service layer: one App per run, one method per use case.

The command line, a batch worker and a web page all call these methods; each returns
a result (dsar/results.py) saying what was written, the reference, warnings, bad rows
and the exit code, and never prints, prompts or exits. The context (paths, clock,
registry, templates, journal) is built once, lazily, and closed with close() or a
`with` block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

import jinja2

from . import clock as clock_module
from .journal import Journal
from .paths import Paths
from .registry import Registry
from .results import (
    AnswerResult,
    BatchResult,
    BrokerResult,
    BrokersResult,
    CampaignsResult,
    CheckResult,
    ComplaintResult,
    IdentifyResult,
    ImportResult,
    LetterResult,
    MandatesResult,
    ReminderResult,
    Result,
    SentResult,
    StatusResult,
)
from .sending import SmtpSettings

# progress(stage, advance, total): stage is "rows" or "e-mails"; total set when known
Progress = Callable[[str, int, int | None], None]
DateLike = str | date | None


class App:
    """dsar for one run: built once, used for one or several use cases, then closed."""

    def __init__(
        self,
        paths: Paths | None = None,
        *,
        clock: Callable[[], date] = clock_module.today,
        registries: Sequence[Path] = (),
        templates: Path | None = None,
        journal: Journal | None = None,
    ):
        """`registries`: extra registry files on top of the shipped one and the user's;
        `templates`: a folder overriding the user's and the shipped templates by name;
        `journal`: an open journal to use instead of the one in `paths` (tests)."""
        self.paths = paths or Paths.from_env()
        self.clock = clock
        self.registries = tuple(registries)
        self.templates_dir = templates
        if journal is not None:
            self.__dict__["journal"] = journal

    # ------------------------------------------------------------ the context, lazily

    def today(self) -> date:
        return self.clock()

    @cached_property
    def registry(self) -> Registry:
        raise NotImplementedError

    @cached_property
    def template_roots(self) -> tuple[Path, ...]:
        """--templates, then the user's templates folder, then the shipped one."""
        raise NotImplementedError

    @cached_property
    def templates(self) -> jinja2.Environment:
        raise NotImplementedError

    @cached_property
    def journal(self) -> Journal:
        raise NotImplementedError

    def close(self) -> None:
        if "journal" in self.__dict__:
            self.__dict__.pop("journal").close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ letters

    def generate(
        self,
        broker: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        address: str | None = None,
        sms_date: DateLike = None,
        sms_time: str | None = None,
        sms_sender: str = "",
        sms_text: str = "",
        channel: str = "sms",
        right: str = "both",
        lang: str = "fr",
        formats: str | Sequence[str] = ("pdf", "email"),
        out_dir: Path = Path("letters"),
        lrar: bool = False,
        letter_date: DateLike = None,
        place: str | None = None,
        to_email: str | None = None,
        to_address: str | None = None,
        force: bool = False,
    ) -> LetterResult:
        """Write a first request; details not given come from the saved profile."""
        raise NotImplementedError

    def batch(
        self,
        csv_file: Path,
        *,
        association: Path,
        out_dir: Path,
        broker: str | None = None,
        formats: str | Sequence[str] = ("pdf", "email"),
        right: str = "both",
        lang: str = "fr",
        letter_date: DateLike = None,
        strict: bool = False,
        workers: int | None = None,
        force: bool = False,
        mandates: Path | None = None,
        send: bool = False,
        dry_run: bool = False,
        smtp: SmtpSettings | None = None,
        progress: Progress | None = None,
    ) -> BatchResult:
        """Letters for every member; the manifest is written whatever happens."""
        raise NotImplementedError

    def mandates(
        self, association: Path, out_dir: Path, csv_file: Path | None = None, *, force=False
    ) -> MandatesResult:
        """Mandate forms to sign: one per CSV row, or one blank form."""
        raise NotImplementedError

    # ------------------------------------------------------------ follow-up

    def sent(
        self,
        reference: str,
        on: DateLike,
        *,
        lrar: str | None = None,
        received: DateLike = None,
        message_id: str | None = None,
    ) -> SentResult:
        raise NotImplementedError

    def answer(
        self,
        reference: str,
        on: DateLike,
        *,
        state: str | None = None,
        extension: bool = False,
        files: Sequence[Path] = (),
        note: str | None = None,
    ) -> AnswerResult:
        raise NotImplementedError

    def remind(
        self,
        reference: str,
        *,
        on: DateLike = None,
        lang: str | None = None,
        formats: str | Sequence[str] = ("pdf", "email"),
        out_dir: Path = Path("letters"),
        force: bool = False,
    ) -> ReminderResult:
        """The reminder letter; the request becomes 'reminded'."""
        raise NotImplementedError

    def reply_id(
        self,
        reference: str,
        *,
        on: DateLike = None,
        lang: str | None = None,
        formats: str | Sequence[str] = ("pdf", "email"),
        out_dir: Path = Path("letters"),
        force: bool = False,
    ) -> LetterResult:
        raise NotImplementedError

    def complain(
        self, reference: str, *, on: DateLike = None, out_dir: Path, force: bool = False
    ) -> ComplaintResult:
        """The CNIL complaint and its dossier; the request becomes 'complained'."""
        raise NotImplementedError

    def status(
        self, *, as_of: DateLike = None, broker: str | None = None, state: str | None = None
    ) -> StatusResult:
        raise NotImplementedError

    # ------------------------------------------------------------ the registry

    def identify(self, text: str = "", sender: str = "", when: DateLike = None) -> IdentifyResult:
        raise NotImplementedError

    def import_registry(
        self, source: str, path: Path, output: Path, *, kind: str = "company", force=False
    ) -> ImportResult:
        """Never writes a registry that would not load."""
        raise NotImplementedError

    def brokers(self, kind: str | None = None) -> BrokersResult:
        raise NotImplementedError

    def broker(self, slug: str) -> BrokerResult:
        raise NotImplementedError

    def search(self, text: str) -> BrokersResult:
        raise NotImplementedError

    def check(self, file: Path | None = None) -> CheckResult:
        raise NotImplementedError

    def campaigns(self) -> CampaignsResult:
        raise NotImplementedError

    def save_profile(self, name, address, phone, email) -> Result:
        raise NotImplementedError
