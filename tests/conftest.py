"""Shared fixtures: a private DSAR_HOME per test, the shipped registry, one PDF renderer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner

from dsar import compose, letters, profile, registry
from dsar.paths import SHIPPED_REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DATENANFRAGEN = ROOT / "data" / "datenanfragen"  # shipped with the project (CC0)
# the citizen of the README, with the address given; tests add what they are about
CITIZEN = [
    "generate",
    "--broker",
    "selfcontact",
    "--name",
    "Camille Martin",
    "--phone",
    "06 12 34 56 78",
    "--email",
    "camille@example.org",
    "--address",
    "12 rue des Lilas\n75011 Paris",
]


# Every test runs on one day, never the real one: DSAR_TEST_TODAY=2027-01-29 runs the
# suite on that day (bash scripts/test.sh), else this one (the day the suite was frozen).
TODAY = date.fromisoformat(os.environ.get("DSAR_TEST_TODAY") or "2026-12-03")
SHIM = Path(__file__).resolve().parent / "shim"  # sitecustomize: the same day in subprocesses


def pytest_report_header(config):
    return f"clock frozen at {TODAY} (DSAR_TEST_TODAY)"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "today(day): the test's data is dated (letters, sendings, answers of that autumn):"
        " it runs on this day whatever DSAR_TEST_TODAY says",
    )


@pytest.fixture(autouse=True)
def frozen_today(request, monkeypatch):
    """The day every test runs on, at noon UTC (the same date in every time zone's
    today), the clock ticking from there; subprocesses travel to it too (tests/shim)."""
    marker = request.node.get_closest_marker("today")
    day = date.fromisoformat(marker.args[0]) if marker else TODAY
    monkeypatch.setenv("DSAR_TEST_TODAY", day.isoformat())
    paths = [str(SHIM), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    with time_machine.travel(datetime.combine(day, time(12), tzinfo=UTC), tick=True):
        yield day
    from dsar import clock

    if clock._fixed is not None:  # a day fixed and never given back: later tests would
        leaked, clock._fixed = clock._fixed, None  # run on it and fail far from here
        pytest.fail(f"this test left dsar's clock fixed at {leaked}")


@pytest.fixture(autouse=True)
def dsar_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("DSAR_HOME", str(home))
    # English unless a test asks for French: the messages tests look for are English
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return home


@pytest.fixture
def runner():
    return CliRunner()


ASSOCIATION = """\
name: Association Halte aux SMS
address: |-
  5 rue de la Paix
  75002 Paris
email: droits@halte-sms.example
representative: Dominique Durand
"""


@pytest.fixture
def association(tmp_path):
    """The association.yaml of a batch under mandate."""
    path = tmp_path / "association.yaml"
    path.write_text(ASSOCIATION)
    return path


@pytest.fixture(scope="session")
def shipped():
    return registry.Registry.load([SHIPPED_REGISTRY])


@pytest.fixture(scope="session")
def env():
    return letters.environment()


@pytest.fixture(scope="session")
def pdf_renderer(env):
    from dsar.render.pdf import PdfRenderer

    return PdfRenderer(env)


def pdf_text(data: bytes) -> str:
    """The text a reader gets from the PDF, read back by poppler (pdftotext, a separate
    program, ten times faster than pypdf's text extraction); pages end with a form feed."""
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text (pdftotext ends every page with a form feed)."""
    return pdf_text(data).split("\f")[:-1]


def flat(text: str) -> str:
    """Whitespace folded: line wrapping in a PDF or an e-mail is not a difference."""
    return " ".join(text.split())


@contextmanager
def serving(dsar_home: Path, folder: Path) -> Iterator[str]:
    """`dsar serve --no-browser` as a person starts it: yields the address its first
    line prints (its secret included); stopped on leaving."""
    log = folder / "serve.log"  # a pipe nobody reads would block the server when full
    process = subprocess.Popen(
        [sys.executable, "-m", "dsar", "serve", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env={**os.environ, "DSAR_HOME": str(dsar_home), "PYTHONUNBUFFERED": "1"},
        cwd=folder,
    )
    try:
        line = process.stdout.readline()
        found = re.search(r"http://127\.\d+\.\d+\.\d+:\d+/[\w-]{40,}/", line)
        assert found, line + log.read_text()
        yield found.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


def parse_eml(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def make_request(shipped, broker="selfcontact", **overrides):
    person = profile.requester(
        overrides.pop("name", "Camille Martin"),
        overrides.pop("address", "12 rue des Lilas\n75011 Paris"),
        overrides.pop("phone", "06 12 34 56 78"),
        overrides.pop("email", "camille@example.org"),
    )
    evidence = compose.evidence(
        "sms",
        overrides.pop("sms_date", "2024-06-06"),
        None,
        overrides.pop("sms_sender", "Reconquête"),
        overrides.pop("sms_text", "Le 9 juin, votez ... STOP au 36111"),
    )
    overrides.setdefault("letter_date", date(2026, 11, 23))
    return compose.build_request(shipped, broker, person, evidence, **overrides)


def read_csv(path: Path) -> list[dict[str, str]]:
    """A CSV dsar wrote, in its one dialect: ';' and UTF-8 with a BOM."""
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        assert handle.read(1) == "\ufeff", f"{path} has no BOM"
        return list(csv.DictReader(handle, delimiter=";"))


def replace_args(args: list[str], values: dict[str, str]) -> list[str]:
    """A command line with some options' values replaced."""
    out = list(args)
    for option, value in values.items():
        out[out.index(option) + 1] = value
    return out


def ok(result):
    """A CliRunner result that must have succeeded; its output is shown when it did not."""
    assert result.exit_code == 0, result.output
    return result


def scan_of(form: Path, to: Path) -> Path:
    """A mandate form as it comes back signed and scanned: a new PDF, without the mark
    dsar mandate puts in the form it writes (an unsigned form is never enclosed)."""
    import pypdf

    scan = pypdf.PdfWriter(clone_from=form)
    scan.metadata = None
    with to.open("wb") as handle:
        scan.write(handle)
    return to


def blank_scan(to: Path) -> Path:
    """A signed mandate's scan as the tests need one: a blank A4 page (no mark of dsar's)."""
    import pypdf

    blank = pypdf.PdfWriter()
    blank.add_blank_page(595, 842)
    with to.open("wb") as handle:
        blank.write(handle)
    return to


# Selfcontact's registry entry has no postal address (FACTS.md gives none): its letters are
# drafts, never recorded as posted. A test that posts one gives it this made-up address.
SELFCONTACT_POSTAL = "Selfcontact\nService DPO\n10 rue du Test\n69001 Lyon"


def add_postal(home: Path, slug: str = "selfcontact", postal: str = SELFCONTACT_POSTAL) -> None:
    """A postal address for `slug` in the user registry of `home` (dsar brokers
    add-contact), so that its letters can be posted and recorded as sent."""
    from dsar.app import App
    from dsar.paths import Paths

    with App(Paths(config_dir=home, data_dir=home)) as app:
        app.add_contact(slug, source="test", postal=postal)


@pytest.fixture
def selfcontact_postal(dsar_home) -> str:
    """Selfcontact with a postal address in this test's DSAR_HOME: its letters can be posted."""
    add_postal(dsar_home)
    return SELFCONTACT_POSTAL


PAGE_SECRET = "s3cret-token-for-tests-s3cret-token-for-tests"


def page_client(secret: str = PAGE_SECRET, port: int = 8765, paths=None, **options):
    """A browser that opened the address `dsar serve` printed (its secret is the first
    segment of every path): a path a test names ('/requests') is asked under the secret,
    a path the page gave (a link, a redirect's Location) as it is."""
    from starlette.testclient import TestClient

    from dsar.web.pages import create_app

    class Page(TestClient):
        root = "/" + secret

        def request(self, method, url, *args, **kwargs):
            if isinstance(url, str) and url.startswith("/") and not url.startswith(self.root + "/"):
                url = self.root + url
            return super().request(method, url, *args, **kwargs)

    host = options.pop("host", "127.0.0.1")
    app = create_app(secret, port, paths, host=host)
    return Page(app, base_url=options.pop("base_url", f"http://{host}:{port}"), **options)
