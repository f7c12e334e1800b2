"""dsar report and the association's complaint, on a journal of 300 members filled
through the App's public use cases (batch, sent, answer, complain) and the inbox (a
source named in a reply, confirmed), on a frozen clock."""

from __future__ import annotations

import csv
import re
import shutil
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader, PdfWriter

from dsar import findings
from dsar.app import App
from dsar.cli import cli
from dsar.inbox import apply
from dsar.inbox.sources import Raw
from dsar.journal import Journal
from dsar.members import COLUMNS, load_association
from dsar.paths import Paths

from .conftest import ASSOCIATION, flat, ok, pdf_text, read_csv

DAY = date(2026, 12, 3)
MEMBERS = 300
RECIPIENTS = ("selfcontact", "tagadamedia", "la-poste", "reconquete")
NAMES = {
    "selfcontact": "Selfcontact",
    "tagadamedia": "TagadaMedia",
    "la-poste": "La Poste",
    "reconquete": "Reconquête",
}
# what happens to member i's request, by i % 10: (outcome, answer day or None)
PLAN = {
    0: ("in-time", date(2026, 6, 20)),
    1: ("late", date(2026, 8, 1)),
    2: ("refused", date(2026, 6, 15)),
    3: ("no-answer", None),
    4: ("in-time", date(2026, 8, 15)),  # an extension notified in time, then the answer
    5: ("in-time", date(2026, 6, 25)),  # partial: source and recipients missing
    6: ("no-answer", None),  # an ID demand: not an answer
    7: ("in-time", date(2026, 6, 22)),  # a reply naming its source, through the inbox
    8: ("undelivered", None),
    9: ("unsent", None),
}
SOURCES = {7: "Jeux Concours Soleil", 17: "Assurances Horizon"}  # by i % 20
RECEIVED = date(2026, 6, 5)
COMPLAINED = 3  # the first ID demands to Selfcontact (no answer) get a complaint


def name(i: int) -> str:
    return f"Prénom{i:03d} Zorglubien{i:03d}"


def phone(i: int) -> str:
    return f"06 4{i // 100} {i % 100:02d} 12 34"


def row(i: int) -> list[str]:
    values = {
        "name": name(i),
        "address": f"{i} rue Zéphyrine\n75011 Paris",
        "phone": phone(i),
        "email": f"membre{i}@membres.example",
        "sms_date": "2026-05-20",
        "sms_sender": "Reconquête" if i % 3 else "SMS 38018",
        "sms_text": "Le 9 juin, votez ; STOP au 36111",
        "broker": RECIPIENTS[i % 4],
        "mandate_date": "2026-05-25",
        "mandate_ref": f"M-{i:05d}",
    }
    return [values[c] for c in COLUMNS]


def reply(reference: str, source: str) -> bytes:
    message = EmailMessage()
    message["From"] = "dpo@tagadamedia.example"
    message["To"] = "droits@halte-sms.example"
    message["Subject"] = f"Re: demande {reference}"
    message["Date"] = format_datetime(datetime(2026, 6, 22, 10, tzinfo=UTC))
    message["Message-ID"] = f"<{reference.lower()}@tagadamedia.example>"
    message.set_content(
        f"Bonjour,\n\nNous avons obtenu votre numéro auprès de {source}.\n\nLe DPO\n"
    )
    return bytes(message)


def expected() -> dict[str, dict]:
    """The figures as put in, counted here from the plan, not by dsar."""
    figures: dict[str, dict] = {}
    days = defaultdict(list)
    for i in range(MEMBERS):
        slug, (outcome, answered) = RECIPIENTS[i % 4], PLAN[i % 10]
        counts = figures.setdefault(slug, Counter())
        counts["requests"] += 1
        counts[outcome] += 1
        counts["extended"] += i % 10 == 4
        if answered:
            days[slug].append((answered - RECEIVED).days)
    complained = [i for i in range(MEMBERS) if i % 4 == 0 and i % 10 == 6][:COMPLAINED]
    figures["selfcontact"]["complaints"] = len(complained)
    for slug in figures:
        figures[slug]["median"] = statistics.median(days[slug])
    return figures


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """The journal of 300 members, and the App's folders, built once for the module."""
    return build(tmp_path_factory.mktemp("campaign"))


def build(base: Path, members: int = MEMBERS) -> dict:
    """A journal of `members` (benchmarks/report.py builds it too)."""
    home = base / "home"
    members_csv = base / "members.csv"
    with members_csv.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=";").writerows([COLUMNS, *map(row, range(members))])
    association = base / "association.yaml"
    association.write_text(ASSOCIATION)
    moment = datetime.combine(DAY, time(12), tzinfo=UTC)
    with pytest.MonkeyPatch.context() as patch, time_machine.travel(moment, tick=False):
        patch.setenv("DSAR_HOME", str(home))
        journal = Journal(Paths.from_env().journal, clock=lambda: DAY)
        app = App(clock=lambda: DAY, journal=journal)
        done = app.batch(
            members_csv,
            association=association,
            out_dir=base / "letters",
            formats=("html",),
            letter_date="2026-06-01",
            workers=1,
        )
        assert done.exit_code == 0, done
        by_member = {e.member: e.reference for e in app.journal.entries()}
        raws = []
        complained = 0
        for i in range(members):
            reference = by_member[name(i)]
            kind = i % 10
            if kind == 9:
                continue
            app.sent(reference, "2026-06-02", received=RECEIVED.isoformat())
            if kind == 0:
                app.answer(reference, "2026-06-20", state="answered")
            elif kind == 1:
                app.answer(reference, "2026-08-01", state="answered")
            elif kind == 2:
                app.answer(reference, "2026-06-15", state="refused")
            elif kind == 4:
                app.answer(reference, "2026-06-20", extension=True)
                app.answer(reference, "2026-08-15", state="answered")
            elif kind == 5:
                app.answer(reference, "2026-06-25", state="partial", missing="source,recipients")
            elif kind == 6:
                app.answer(reference, "2026-06-10", state="id-requested")
                if i % 4 == 0 and complained < COMPLAINED:
                    app.complain(reference, on="2026-11-20", out_dir=base / "complaints")
                    complained += 1
            elif kind == 7:
                raws.append(Raw(reply(reference, SOURCES[i % 20]), f"reply-{i}"))
            elif kind == 8:
                app.answer(reference, "2026-06-03", state="undelivered")
        run = apply.read(app, raws)
        for item in apply.pending(app):
            assert item["kind"] == "source-named", item
            apply.confirm(app, item["id"], "source-named")
        assert len(run.outcomes) == len(raws)
        app.close()
    return {"home": home, "association": association, "base": base}


@pytest.fixture
def app(campaign, monkeypatch):
    monkeypatch.setenv("DSAR_HOME", str(campaign["home"]))
    with App() as made:
        yield made


def private_values() -> list[str]:
    """Every member's name, phone (as typed, national digits, international), address
    and e-mail: none may show in a report without --with-members."""
    values = []
    for i in range(MEMBERS):
        digits = re.sub(r"\D", "", phone(i))
        values += [name(i), f"Zorglubien{i:03d}", phone(i), digits, "+33" + digits[1:]]
        values += ["33 " + phone(i)[1:], f"membre{i}@"]
    return [*values, "Zéphyrine", "Zephyrine", "membres.example"]


def every_output(folder: Path) -> dict[str, str]:
    texts = {}
    for path in folder.iterdir():
        data = path.read_bytes()
        texts[path.name] = pdf_text(data) if path.suffix == ".pdf" else data.decode("utf-8-sig")
    return texts


def test_the_report_counts_what_was_put_in(app, campaign, tmp_path):
    out = tmp_path / "report"
    app.report(out, association=campaign["association"])
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "report.html",
            "report.pdf",
            "report-recipients.csv",
            "report-sources.csv",
            "report-outcomes.svg",
            "report-flow.svg",
        ]
    )
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in out.iterdir())
    want = expected()
    rows = {r["recipient"]: r for r in read_csv(out / "report-recipients.csv")}
    assert set(rows) == {NAMES[s] for s in RECIPIENTS}
    pdf = (out / "report.pdf").read_bytes()
    text = flat(pdf_text(pdf))
    assert len(PdfReader(out / "report.pdf").pages) >= 1
    for slug, counts in want.items():
        got = rows[NAMES[slug]]
        figures = [
            counts["requests"],
            counts["in-time"],
            counts["late"],
            counts["extended"],
            counts["refused"],
            counts["no-answer"],
            counts["waiting"],
            counts["complaints"],
        ]
        assert [
            int(got[c])
            for c in (
                "requests",
                "answered in time",
                "answered late",
                "extended",
                "refused",
                "no answer",
                "waiting",
                "complaints",
            )
        ] == figures, slug
        assert float(got["median days to answer"]) == counts["median"]
        median = counts["median"]
        median_text = str(int(median)) if median == int(median) else str(median)
        # the PDF's table row, read back: the same figures in the same order
        line = " ".join([NAMES[slug], *map(str, figures), median_text])
        assert line in text, line
    # the name as the reply wrote it (the inbox keeps it since dsar follow cites it)
    sources = {r["source named"].lower(): r for r in read_csv(out / "report-sources.csv")}
    assert set(sources) == {s.lower() for s in SOURCES.values()}
    assert sources["jeux concours soleil"]["members"] == "15"
    assert sources["jeux concours soleil"]["named by"] == NAMES[RECIPIENTS[7 % 4]]
    assert sources["assurances horizon"]["members"] == "15"
    assert "jeux concours soleil" in text.lower()
    # the flow's figures: every request once per column, the sources where they came from
    found = findings.gather(
        app.journal, app.registry, DAY, association=load_association(campaign["association"])
    )
    assert [sum(n for (c, *_), n in found.flow.items() if c == k) for k in range(3)] == [300] * 3
    flow = {(c, a, b.lower()): n for (c, a, b), n in found.flow.items()}
    assert flow[(2, "TagadaMedia", "assurances horizon")] == 15
    svg = (out / "report-flow.svg").read_text()
    assert svg.startswith("<svg") and "http://" not in svg.replace(
        "http://www.w3.org/", ""
    ).replace("http://purl.org/dc/", "").replace("http://creativecommons.org/ns#", "")
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 2 and "<script" not in html and "src=" not in html


def test_no_member_is_named_without_with_members(app, campaign, tmp_path):
    out = tmp_path / "report"
    app.report(out, association=campaign["association"])
    texts = every_output(out)
    assert set(texts) >= {"report.html", "report.pdf", "report-flow.svg", "report-sources.csv"}
    found = [(file, v) for file, text in texts.items() for v in private_values() if v in text]
    assert found == []
    # and the control: asked for, the members are there
    named = tmp_path / "named"
    app.report(named, association=campaign["association"], with_members=True)
    texts = every_output(named)
    assert name(17) in texts["report.html"] and name(17) in texts["report-members.csv"]
    assert name(17) in flat(texts["report.pdf"])


def test_report_command_in_french_and_all_or_nothing(runner, campaign, tmp_path, monkeypatch):
    monkeypatch.setenv("DSAR_HOME", str(campaign["home"]))
    out = tmp_path / "rapport"
    ok(
        runner.invoke(
            cli, ["--ui-lang", "fr", "report", "--association", str(campaign["association"]),
                  "--out", str(out)],
        )
    )  # fmt: skip
    header = (out / "report-recipients.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("destinataire;demandes;")
    # a second run without --force refuses before writing anything
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = runner.invoke(cli, ["report", "--out", str(out)])
    assert again.exit_code != 0 and "Traceback" not in again.output
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


QUALIFYING = ASSOCIATION + (
    "qualifies_art80: true\ndeclared_on: 2015-03-01\n"
    "purpose: la protection des données personnelles et de la vie privée\n"
)


@pytest.mark.parametrize("qualifies", [True, False])
def test_collective_complaint(campaign, tmp_path, monkeypatch, qualifies):
    home = tmp_path / "home"  # a copy: the members' own complaints change the journal
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    association = tmp_path / "association.yaml"
    declared = "2015-03-01" if qualifies else "2024-01-10"  # five years, or not yet
    association.write_text(
        ASSOCIATION + f"qualifies_art80: true\ndeclared_on: {declared}\n"
        "purpose: la protection des données personnelles et de la vie privée\n"
    )
    signed = tmp_path / "signed"
    signed.mkdir()
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    with (signed / "M-00013.pdf").open("wb") as handle:
        blank.write(handle)
    out = tmp_path / "cnil"
    with App() as app:
        result = app.complain_association(
            association, "tagadamedia", out_dir=out, on="2026-12-03", mandates=signed
        )
    # Tagadamedia has the members i % 4 == 1: no answer when i % 10 == 3, partial when 5
    wanted = {f"M-{i:05d}" for i in range(MEMBERS) if i % 4 == 1 and i % 10 in (3, 5)}
    assert len(wanted) == 30
    main = result.written[0]
    pdf = main.read_bytes()
    text = flat(pdf_text(pdf))
    assert set(re.findall(r"M-\d{5}", text)) == wanted
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in result.written)
    if qualifies:
        assert main.name.startswith("collective-complaint-tagadamedia")
        assert "article 80(1) du RGPD" in text and "protection des données personnelles" in text
        assert "déclarée le 1er mars 2015" in text
        assert "pièce non jointe" in text  # the mandates not at hand are named
        assert "la source précise de mes données" in text  # what the partial answers lack
        assert len(PdfReader(main).pages) >= 3  # the letter, the annex, the signed mandate
        assert len(result.written) == 1
    else:
        assert main.name.startswith("cover-letter-tagadamedia")
        complaints = [p for p in result.written if p.suffix == ".pdf" and p != main]
        assert len(complaints) == 2 * len(wanted)  # each member's complaint and dossier
        for path in [main, *complaints]:
            words = flat(pdf_text(path.read_bytes())).lower()
            assert "80(1)" not in words and "article 80" not in words and "art. 80" not in words
