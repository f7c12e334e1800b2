"""dsar report and the association's complaint, on a journal of 300 members filled
through the App's public use cases (batch, sent, answer, complain) and the inbox (a
source named in a reply, confirmed), on a frozen clock."""

from __future__ import annotations

import csv
import re
import shutil
import statistics
import subprocess
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pdfplumber
import pytest
import time_machine
from pypdf import PdfReader, PdfWriter

from dsar import findings
from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError
from dsar.inbox import apply
from dsar.inbox.sources import Raw
from dsar.journal import Journal
from dsar.members import COLUMNS, load_association
from dsar.paths import Paths

from . import hostile_pdfs
from .conftest import ASSOCIATION, add_postal, blank_scan, flat, ok, pdf_text, read_csv

# the campaign's letters of June 2026 and complaints of November-December: the report is made on
# the day the tests were written, not on whatever day the suite runs
pytestmark = pytest.mark.today("2026-12-03")

DAY = date(2026, 12, 3)
MM = 72 / 25.4  # PDF points in a millimetre
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
    5: ("partial", date(2026, 6, 25)),  # partial: source and recipients missing
    6: ("id-demanded", None),  # an ID demand: not an answer, counted apart
    7: ("in-time", date(2026, 6, 22)),  # a reply naming its source, through the inbox
    8: ("undelivered", None),
    9: ("unsent", None),
}
SOURCES = {7: "Jeux Concours Soleil", 17: "Assurances Horizon"}  # by i % 20
RECEIVED = date(2026, 6, 5)
SENDER = "+33 6 98 76 54 32"
COMPLAINED = 3  # the first ID demands to Selfcontact (no answer) get a complaint
FILED = 2  # of which the first two are recorded as filed (dsar sent COMPLAINT)
# the columns of report-recipients.csv, in order: the sent requests are the outcomes' sum
OUTCOME_HEADERS = (
    "answered in time",
    "answered late",
    "late (estimated deadline)",
    "answered in part",
    "refused",
    "identification requested",
    "no answer",
    "waiting",
    "undelivered",
)
OUTCOME_KEYS = (
    "in-time",
    "late",
    "late-estimated",
    "partial",
    "refused",
    "id-demanded",
    "no-answer",
    "waiting",
    "undelivered",
)


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
        # member 3's message came from a mobile number: maybe a person's, never shown
        "sms_sender": SENDER if i == 3 else "Reconquête" if i % 3 else "SMS 38018",
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
        if outcome == "unsent":  # a letter never posted is no request to anyone
            continue
        counts["requests"] += 1
        counts[outcome] += 1
        counts["extended"] += i % 10 == 4
        if answered:
            days[slug].append((answered - RECEIVED).days)
    complained = [i for i in range(MEMBERS) if i % 4 == 0 and i % 10 == 6][:COMPLAINED]
    figures["selfcontact"]["complaints"] = len(complained[:FILED])
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
        add_postal(home)  # Selfcontact's letters are posted: they have its address
        journal = Journal(Paths.from_env().journal, clock=lambda: DAY)
        app = App(clock=lambda: DAY, journal=journal)
        done = june_letters(app, members_csv, association, base)
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
                    done = app.complain(reference, on="2026-11-20", out_dir=base / "complaints")
                    if complained < FILED:  # the third stays a draft: not a complaint filed
                        app.sent(done.letter.request.reference, "2026-11-25")
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


def june_letters(app: App, members_csv: Path, association: Path, base: Path):
    """The members' letters of 1 June 2026, under the association's mandates."""
    done = app.batch(
        members_csv,
        association=association,
        out_dir=base / "letters",
        formats=("html",),
        letter_date="2026-06-01",
        workers=1,
    )
    assert done.exit_code == 0, done
    return done


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
    # the table read back as laid out: a wide row's cells stay on one line
    rows_text = flat(
        subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
    )  # fmt: skip
    assert len(PdfReader(out / "report.pdf").pages) >= 1
    for slug, counts in want.items():
        got = rows[NAMES[slug]]
        figures = [
            counts["requests"],
            *(counts[k] for k in OUTCOME_KEYS),
            counts["extended"],
            0,  # no extension notified late in this campaign
            counts["complaints"],
        ]
        header = ["sent requests", *OUTCOME_HEADERS, "extended", "late extension (no effect)",
                  "complaints filed with the CNIL"]  # fmt: skip
        assert [int(got[c]) for c in header] == figures, slug
        # the row adds up: every request sent has one outcome
        assert figures[0] == sum(figures[1:10]), slug
        assert float(got["median days to answer"]) == counts["median"]
        median = counts["median"]
        median_text = str(int(median)) if median == int(median) else str(median)
        # the PDF's table row, read back: the same figures in the same order
        line = " ".join([NAMES[slug], *map(str, figures), median_text])
        assert line in rows_text, line
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
    sent = sum(c["requests"] for c in want.values())
    assert sent == 270 and found.requests == sent and found.unsent == 30
    assert [sum(n for (c, *_), n in found.flow.items() if c == k) for k in range(3)] == [sent] * 3
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


def test_a_source_that_may_be_a_person_is_counted_not_named(campaign, tmp_path, monkeypatch):
    """An answer saying the number came from "Jean Dupont" (a private person) puts no
    name in the report: counted as another source; a registry's entry, a legal form or
    a trade's word is named. A sender that is a mobile number is not shown (F2)."""
    home = tmp_path / "home"  # a copy: the replies read here change the journal
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    person = "Jean-Émile Dupontel"
    with App(clock=lambda: DAY) as app:
        by_member = {e.member: e.reference for e in app.journal.entries()}
        # members 3 and 13 went unanswered: now one names a person, one a company
        raws = [
            Raw(reply(by_member[name(3)], person), "reply-person"),
            Raw(reply(by_member[name(13)], "Fichiers Durand SARL"), "reply-company"),
            Raw(reply(by_member[name(23)], "Selfcontact"), "reply-registry"),
        ]
        apply.read(app, raws)
        for item in apply.pending(app):
            apply.confirm(app, item["id"], "source-named")
        out = tmp_path / "report"
        app.report(out, association=campaign["association"])
        named = tmp_path / "named"
        app.report(named, association=campaign["association"], with_members=True)
    for folder in (out, named):
        texts = every_output(folder)
        for value in (person, "Dupontel", "Jean-Emile", SENDER, "98 76 54 32", "698765432"):
            assert [f for f, text in texts.items() if value in flat(text)] == [], value
    sources = {r["source named"]: r for r in read_csv(out / "report-sources.csv")}
    assert sources["other source (not named in the report)"]["members"] == "1"
    assert sources["Fichiers Durand SARL"]["members"] == "1"
    assert sources["Selfcontact"]["members"] == "1"
    assert "other source (not named in the report)" in flat(
        pdf_text((out / "report.pdf").read_bytes())
    )


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
    assert header.startswith("destinataire;demandes envoyées;")
    assert "réclamations déposées à la CNIL;" in header and ";identification demandée;" in header
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


def tagadamedia_forms() -> tuple[set[str], set[str]]:
    """The forms of Tagadamedia's members to complain for (i % 4 == 1: no answer when
    i % 10 == 3, partial when 5), recorded in the journal of DSAR_HOME; only the forms of
    those who went unanswered carried the Art. 80(1) clause (signed when the association
    had its five years), the others gave an ordinary mandate."""
    wanted = {f"M-{i:05d}" for i in range(MEMBERS) if i % 4 == 1 and i % 10 in (3, 5)}
    art80 = {f"M-{i:05d}" for i in range(MEMBERS) if i % 4 == 1 and i % 10 == 3}
    journal = Journal(Paths.from_env().journal, clock=lambda: DAY)
    for ref in wanted:
        journal.record_mandate_form(ref, ["tagadamedia"], art80=ref in art80)
    journal.close()
    return wanted, art80


@pytest.mark.parametrize("qualifies", [True, False])
def test_collective_complaint(campaign, tmp_path, monkeypatch, qualifies):
    home = tmp_path / "home"  # a copy: the members' own complaints change the journal
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    association = tmp_path / "association.yaml"
    declared = "2015-03-01" if qualifies else "2024-01-10"  # five years, or not yet
    association.write_text(
        ASSOCIATION + f"article: l’\nqualifies_art80: true\ndeclared_on: {declared}\n"
        "purpose: la protection des données personnelles et de la vie privée\n"
    )
    signed = tmp_path / "signed"
    signed.mkdir()
    blank_scan(signed / "M-00013.pdf")
    # M-00033's scan is protected by a password: left out, and the annex says so
    hostile_pdfs.encrypted(signed).rename(signed / "M-00033.pdf")
    wanted, art80 = tagadamedia_forms()
    assert len(wanted) == 30
    out = tmp_path / "cnil"
    from dsar.render import outside

    vetted, child = [], outside._child  # each outside PDF the limited child checks

    def counting(*args):
        if args[0] in ("vet", "form"):  # whichever command opens it
            vetted.append(Path(args[1]).read_bytes())
        return child(*args)

    monkeypatch.setattr(outside, "_child", counting)
    with App() as app:
        result = app.complain_association(
            association, "tagadamedia", out_dir=out, on="2026-12-03", mandates=signed
        )
    # the scan is opened once, by one child, whether the Art. 80 letter or the member's
    # dossier holds it (a second child read it for the unsigned form's mark before)
    assert vetted.count((signed / "M-00013.pdf").read_bytes()) == 1
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in result.written)
    by_name = {p.name: p for p in result.written}
    cover = by_name.get("lettre-de-couverture-tagadamedia-2026-12-03.pdf")
    main = by_name.get("reclamation-collective-tagadamedia-2026-12-03.pdf")
    # the letter says each mandate gives the power: only a signed scan it encloses proves it
    # (lawyer 3, finding 11); the others with the clause sign their own complaints, M-00033
    # too (its scan is protected by a password)
    in_letter = art80 & {"M-00013"}
    ordinary = wanted - in_letter if qualifies else wanted
    # the scan left out is named in the cover letter's annex with why, and on the screen
    annexed = flat(" ".join(p.extract_text() for p in PdfReader(cover).pages))
    assert "M-00033 (mandat signé M-00033.pdf : protégé par un mot de passe, non joint)" in annexed
    assert any("M-00033" in w and "M-00033.pdf" in w for w in result.warnings)
    if qualifies:
        text = flat(pdf_text(main.read_bytes()))
        assert set(re.findall(r"M-\d{5}", text)) == in_letter  # never one without the power
        assert (
            "article 80(1) du RGPD et à l’article 38 de la loi n° 78-17 du 6 janvier 1978" in text
        )
        assert "remplissant les conditions du IV de son article 37" in text
        assert "depuis au moins cinq ans" in text and "plus de cinq ans" not in text
        assert "donne expressément pouvoir à l’association d’introduire en son nom" in text
        # one member: in the singular (the third review's lawyer, 11), and what is said of
        # the mandate is true of it: it names Tagadamedia (2)
        assert "au nom d’un membre de l’Association" in text and "1 membres" not in text
        assert "au nom d’un de ses membres qui l’a mandatée" in text
        assert "tableau de la demande" in text and "tableau des 1" not in text
        assert "ce mandat, signé par le membre, désigne l’association et l’organisme mis" in text
        assert "a vérifié l’identité" not in text  # the yaml says nothing of it
        assert "protection des données personnelles" in text
        assert "déclarée le 1er mars 2015" in text
        assert "pièce non jointe" in text  # the mandates not at hand are named
        assert "1 joint à la suite" in text and "1 joints" not in text
        assert "Pour l’Association Halte aux SMS" in text
        assert "Cedex 07 France" not in text and "(CNIL) CNIL" not in text
        # what the members know, not generic breaches stated as facts
        assert "la connaissance des membres, aucun n’a reçu" in text
        letter = text.split("Annexe : les demandes")[0]  # (the requests follow, as sent)
        assert "14(3)(b)" not in letter and "14(3)(a) et (c)" in letter
        assert "n’a, à ce jour, démontré ni le consentement des membres" in text
        assert len(PdfReader(main).pages) >= 3 + len(in_letter)  # the letter, annex, mandate
        annex = text.split("Annexe : les demandes")[1]
        assert annex.count("demande jointe") == len(in_letter)  # each request as sent
        # each member's one reason, not three possible ones (left-outs of session 4)
        reasons = {
            line.split("mandate (", 1)[1].split("):")[0]: set(re.findall(r"M-\d{5}", line))
            for line in result.summary
            if "ordinary mandate" in line
        }
        assert reasons == {
            "their signed mandate does not give the association the Art. 80(1) power": wanted
            - art80,
            "their signed mandate could not be enclosed (see the warning below)": {"M-00033"},
            "their signed mandate is not found in signed": art80 - {"M-00013", "M-00033"},
        }
    else:
        assert main is None
        [line] = [line for line in result.summary if "ordinary mandate" in line]
        assert "declared less than five years before, on 10 January 2024" in line
        assert set(re.findall(r"M-\d{5}", line)) == wanted
    # the others: each member's own complaint, signed by the member, with the cover letter
    cover_text = flat(pdf_text(cover.read_bytes()))
    assert set(re.findall(r"M-\d{5}", cover_text)) == ordinary
    assert "vous transmet, à la demande de ses membres" in cover_text
    assert "à signer par chacun d’eux" in cover_text and "signées par chacun" not in cover_text
    assert "introduite au nom" not in cover_text and "en vertu du mandat qu’il" not in cover_text
    assert "ont reçu les suites suivantes" in cover_text and "le même traitement" not in cover_text
    complaints = [p for p in result.written if p.suffix == ".pdf" and p not in (main, cover)]
    assert len(complaints) == 2 * len(ordinary)  # each member's complaint and dossier
    for path in [cover, *complaints]:
        words = flat(pdf_text(path.read_bytes())).lower()
        assert "80(1)" not in words and "article 80" not in words and "art. 80" not in words
        if "dossier" not in path.name:  # (the dossier holds the request, sent by mandate)
            assert ", par mandat" not in words  # the member signs, not the association
    # the scan found with --mandates goes in that member's dossier, and only then does
    # the complaint say « Pièce jointe : mandat signé »; the others list it as not enclosed
    for path in complaints:
        words = flat(pdf_text(path.read_bytes()))
        ref = re.search(r"M-\d{5}", words).group()
        enclosed = ref == "M-00013"
        if "dossier" not in path.name:
            assert ("Pièce jointe : mandat signé" in words) == enclosed, ref
            assert (f"le mandat n° {ref}, signé" in words) != enclosed, ref
    own = flat(pdf_text(next(p for p in complaints if "dossier" not in p.name).read_bytes()))
    assert "préparée avec l’aide de l’Association Halte aux SMS" in own
    assert "à laquelle la CNIL peut écrire" in own and "introduite par" not in own
    if not qualifies:  # a rerun writes no second draft for a complaint not yet filed
        # nothing to write is an error that names each drafted complaint, not exit 0
        # with « dsar sent COMPLAINT » (left-outs of session 4)
        with App() as app, pytest.raises(DsarError, match="nothing written") as nothing:
            app.complain_association(
                association, "tagadamedia", out_dir=out, on="2026-12-03", mandates=signed
            )
        with App() as app:
            drafted = {
                c.reference
                for e in app.journal.entries(broker="tagadamedia")
                for c in app.journal.follow_ups(e.reference, "complaint")
            }
        assert len(drafted) == len(wanted)
        assert set(re.findall(r"M-\d{5} \((DSAR-[\w-]+)\)", str(nothing.value))) == set(drafted)


def test_members_complaints_are_written_all_or_none(campaign, tmp_path, monkeypatch):
    """A non-qualifying association's set of members' complaints under one cover letter:
    when one member's fails halfway (here a file in the way of the fourth's dossier),
    no member's complaint is left written or recorded, no cover letter either (F6)."""
    from dsar.errors import OutputExists
    from dsar.vocabulary import output_name

    home = tmp_path / "home"
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)  # no Art. 80(1): the members' own complaints
    out = tmp_path / "cnil"
    out.mkdir()
    with App() as app:
        by_member = {e.member: e.reference for e in app.journal.entries()}
        # TagadaMedia's members 13, 25, 33, 45...: the fourth's dossier has a file in its way
        obstacle = out / output_name(by_member[name(45)], None, "pdf", kind="dossier")
        obstacle.write_bytes(b"not ours")
        with pytest.raises(OutputExists):
            app.complain_association(association, "tagadamedia", out_dir=out, on="2026-12-03")
        members = [by_member[name(i)] for i in range(MEMBERS) if i % 4 == 1 and i % 10 in (3, 5)]
        assert [r for r in members if app.journal.follow_ups(r, "complaint")] == []
    assert [p.name for p in out.iterdir()] == [obstacle.name]  # nothing staged left either
    assert obstacle.read_bytes() == b"not ours"


def test_collective_complaint_never_encloses_the_unsigned_form(campaign, tmp_path, monkeypatch):
    """The forms dsar mandate wrote, left unsigned in --mandates, are no « mandats
    signés »: named not enclosed, in the complaint under Art. 80(1) and in a member's own
    (new user, item 1: they were enclosed and counted as signed)."""
    association = qualifying_home(campaign, tmp_path, monkeypatch)
    signed = tmp_path / "mandates"
    members_csv = tmp_path / "members.csv"  # the three members' rows, as the batch read them
    with members_csv.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([COLUMNS, row(13), row(5), row(33)])
    with App() as app:  # the forms as dsar mandate writes them, none signed
        app.mandates(association, signed, members_csv)
    blank = PdfWriter()  # M-00033's form came back signed: a scan, a new PDF
    blank.add_blank_page(595, 842)
    (signed / "mandate-M-00033.pdf").unlink()
    with (signed / "M-00033.pdf").open("wb") as handle:
        blank.write(handle)
    tagadamedia_forms()
    proof = tmp_path / "capture-ecran-du-message-recu-le-20-mai-2026-a-10h12.png"
    proof.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)  # kept by content: a hash name
    with App() as app:
        [m13] = [e.reference for e in app.journal.entries() if e.member == name(13)]
        app.sent(m13, proofs=[proof])
        result = app.complain_association(
            association, "tagadamedia", out_dir=tmp_path / "cnil", on=DAY, mandates=signed
        )
    main = next(p for p in result.written if p.name.startswith("reclamation-collective"))
    # the annex's last column, a proof's hash name, stay inside the sheet (item 4: cut off)
    with pdfplumber.open(main) as document:
        for page in document.pages:
            assert max((c["x1"] for c in page.chars), default=0) <= page.width - 15 * MM, (
                page.page_number
            )
    text = flat(pdf_text(main.read_bytes()))
    assert "Mandat n° M-00013" not in text  # the unsigned form is not in the PDF
    assert "1 joint à la suite" in text  # M-00033's scan alone
    annex = text.split("Annexe : les demandes")[1]
    # no Art. 80(1) claim for a member whose signed mandate is not enclosed: M-00013
    # complains under the ordinary mandate, with the cover letter (lawyer 3, finding 11)
    assert "M-00013" not in annex and "M-00033" in annex
    assert "M-00033 (mandat signé" not in annex
    cover = next(p for p in result.written if p.name.startswith("lettre-de-couverture"))
    assert "M-00013" in flat(pdf_text(cover.read_bytes()))
    unsigned = [w for w in result.warnings if "unsigned form" in w]
    assert {re.search(r"M-\d{5}", w).group() for w in unsigned} == {"M-00013", "M-00005"}
    assert any("not enclosed" in w and "M-00013" in w for w in result.summary)
    own = next(p for p in result.written if "M-00005" in flat(pdf_text(p.read_bytes())))
    words = flat(pdf_text(own.read_bytes()))
    assert "Pièce jointe : mandat signé" not in words and "Mandat n° M-00005" not in words


def selfcontact_art80(campaign, tmp_path, monkeypatch, members, scans) -> tuple[Path, Path]:
    """A copy of the campaign's home, a qualifying association, the Art. 80 clause for
    Selfcontact's `members` (numbers) and a blank signed scan for each of `scans`:
    (association.yaml, the scans' folder)."""
    home = tmp_path / "home"
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    association = tmp_path / "association.yaml"
    association.write_text(QUALIFYING)
    journal = Journal(Paths.from_env().journal, clock=lambda: DAY)
    for i in members:
        journal.record_mandate_form(f"M-{i:05d}", ["selfcontact"], art80=True)
    journal.close()
    signed = tmp_path / "signed"
    signed.mkdir()
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    for ref in scans:
        with (signed / f"{ref}.pdf").open("wb") as handle:
            blank.write(handle)
    return association, signed


def test_collective_complaint_names_id_demands(campaign, tmp_path, monkeypatch):
    """An identification request is not an ID-card demand (the reply's words are not on
    record) and no 'unanswered' request until the member replied to it (dsar reply-id):
    until then the member is held back and the screen says why (lawyer 3, finding 3)."""
    # Selfcontact's members, all with the Art. 80 clause
    association, signed = selfcontact_art80(
        campaign, tmp_path, monkeypatch, range(0, MEMBERS, 4), ("M-00076", "M-00096", "M-00002")
    )
    with App() as app:
        by_member = {e.member: e.reference for e in app.journal.entries()}
        answered_id = by_member[name(76)]  # 76: an identification request, then answered
        done = app.reply_id(answered_id, on="2026-06-15", formats=("pdf",), out_dir=tmp_path / "r")
        app.sent(done.reference, "2026-06-15")
        result = app.complain_association(
            association, "selfcontact", out_dir=tmp_path / "cnil", on="2026-12-03", mandates=signed
        )
    main = next(p for p in result.written if p.name.startswith("reclamation-collective"))
    text = flat(pdf_text(main.read_bytes()))
    letter, annex = text.split("Annexe : les demandes")[:2]
    annex = annex.split("Madame, Monsieur")[0]  # (the requests as sent follow it)
    assert "M-00076" in annex and "M-00096" not in text  # 96: never answered, held back
    for demand in ("pièce d’identité", "pièce d'identité"):
        assert demand not in letter and demand not in annex
    # (the table's narrow cells interleave the words of neighbouring cells)
    assert "demandée le 2026-06-10" in annex and "envoyée le 2026-06-15" in annex
    assert "demandes d’identification auxquelles les membres concernés ont répondu" in letter
    assert "absence de réponse dans le délai applicable (un mois, porté à trois mois" in letter
    assert "délai d’un mois et absence" not in letter
    assert any("held back" in w and "M-00096" in w for w in result.warnings)
    assert not any("M-00016" in w or "M-00076" in w for w in result.warnings if "held" in w)


def test_the_art80_letter_says_joined_only_the_answers_it_joins(campaign, tmp_path, monkeypatch):
    """§6 said « chaque demande telle qu’envoyée et les réponses reçues » although an
    answer kept as an e-mail (not a PDF) is not joined (the annex says « pièce non
    jointe »): the letter counts the answers it joins (lawyer 4, item 2)."""
    # Selfcontact's members refused on 15 June, with the Art. 80 clause
    association, signed = selfcontact_art80(
        campaign, tmp_path, monkeypatch, (12, 32), ("M-00012", "M-00032")
    )
    answer_pdf, answer_eml = signed / "M-00032.pdf", tmp_path / "refus.eml"  # a blank PDF
    answer_eml.write_bytes(reply("M-00012", "personne"))
    with App() as app:
        by_member = {e.member: e.reference for e in app.journal.entries()}
        app.journal.add_file(by_member[name(12)], "reply", answer_eml)
        app.journal.add_file(by_member[name(32)], "reply", answer_pdf)
        result = app.complain_association(
            association, "selfcontact", out_dir=tmp_path / "cnil", on="2026-12-03", mandates=signed
        )
    main = next(p for p in result.written if p.name.startswith("reclamation-collective"))
    text = flat(pdf_text(main.read_bytes()))
    letter, annex = text.split("Annexe : les demandes")[:2]
    assert "les réponses reçues" not in letter
    assert "chaque demande telle qu’envoyée, et 1 des 2 réponses reçues" in letter
    assert "n’est pas un PDF, non joint" in annex


def test_the_flow_draws_no_party_it_cannot_establish(app, campaign):
    """Writing to a party and to a broker links them in nothing: the party column says
    'not established' unless the party itself was asked (the members confirmed none);
    'not named' is an answer without a source, never a request without an answer."""
    found = findings.gather(
        app.journal, app.registry, DAY, association=load_association(campaign["association"])
    )
    parties = {a for (c, a, b), _n in found.flow.items() if c == 1 and b != "(the party itself)"}
    assert parties == {"not established"}
    to_source = Counter()
    for (c, _a, b), n in found.flow.items():
        if c == 2:
            to_source[b] += n
    # answered without a source: kinds 0, 1, 2, 4, 5 (an ID demand is no answer)
    assert to_source["not named"] == sum(1 for i in range(MEMBERS) if i % 10 in (0, 1, 2, 4, 5))
    no_merits = (
        "no answer on the merits (undelivered, identification requested, waiting or no answer)"
    )
    assert to_source[no_merits] == sum(1 for i in range(MEMBERS) if i % 10 in (3, 6, 8))


def test_as_of_takes_only_what_was_recorded_by_then(app, campaign, tmp_path):
    association = load_association(campaign["association"])

    def figures(day):
        found = findings.gather(app.journal, app.registry, day, association=association)
        return {r.slug: r for r in found.recipients}, found

    rows, found = figures(date(2026, 6, 21))
    selfcontact = rows["selfcontact"].outcomes  # members i % 4 == 0
    ones = [i for i in range(MEMBERS) if i % 4 == 0]
    assert selfcontact["in-time"] == sum(i % 10 == 0 for i in ones)  # answered 20 June
    assert selfcontact["late"] == 0 and selfcontact["partial"] == 0  # came later
    assert selfcontact["id-demanded"] == sum(i % 10 == 6 for i in ones)  # 10 June
    assert found.sources == []  # the replies naming sources are dated 22 June
    assert sum(r.complaints for r in rows.values()) == 0
    # the complaints count from the day they were filed (25 November), not written
    assert figures(date(2026, 11, 24))[0]["selfcontact"].complaints == 0
    assert figures(date(2026, 11, 25))[0]["selfcontact"].complaints == FILED
    out = tmp_path / "report"
    app.report(out, association=campaign["association"], as_of="2026-06-21")
    got = {r["recipient"]: r for r in read_csv(out / "report-recipients.csv")}
    assert int(got["Selfcontact"]["answered in time"]) == selfcontact["in-time"]
    assert int(got["Selfcontact"]["complaints filed with the CNIL"]) == 0


def test_late_against_an_estimated_deadline_is_said_apart(campaign, tmp_path, monkeypatch):
    home = tmp_path / "home"  # a copy: the request posted here changes the journal
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    out = tmp_path / "report"
    with App(clock=lambda: DAY) as app:
        reference = {e.member: e.reference for e in app.journal.entries()}[name(9)]
        # no receipt date: the deadline runs from the posting date, an estimate
        app.sent(reference, "2026-06-02")
        app.answer(reference, "2026-07-20", state="answered")
        app.report(out, association=campaign["association"])
    got = {r["recipient"]: r for r in read_csv(out / "report-recipients.csv")}
    tagada = got[NAMES[RECIPIENTS[9 % 4]]]
    assert tagada["late (estimated deadline)"] == "1"
    assert int(tagada["answered late"]) == expected()[RECIPIENTS[9 % 4]]["late"]
    assert int(tagada["sent requests"]) == expected()[RECIPIENTS[9 % 4]]["requests"] + 1
    # eight outcomes in the chart, each drawn with its legend (seven colours dropped one)
    svg = (out / "report-outcomes.svg").read_text()
    assert all(words in svg for words in ("late (estimated deadline)", "undelivered"))


def test_the_french_report_reads_as_the_lawyer_asked(runner, campaign, tmp_path, monkeypatch):
    monkeypatch.setenv("DSAR_HOME", str(campaign["home"]))
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION + "article: l’\n")
    out = tmp_path / "rapport"
    ok(
        runner.invoke(
            cli, ["--ui-lang", "fr", "report", "--association", str(association),
                  "--out", str(out), "--as-of", "2026-12-03"],
        )
    )  # fmt: skip
    text = flat(pdf_text((out / "report.pdf").read_bytes()))
    sent = sum(c["requests"] for c in expected().values())
    for words in (
        "Demandes de l’Association Halte aux SMS",
        "au 3 décembre 2026",
        f"{sent} demandes envoyées pour {sent} personnes",
        "celles enregistrées comme déposées à la CNIL",
        "classement de l'association au vu des réponses reçues ; les réponses sont disponibles",
        "selon la réponse de TagadaMedia, non vérifié",
        "Avoir écrit à un organisme ne signifie pas qu'il a fourni ou utilisé les données.",
        "réclamation collective (art. 80 du RGPD) n'est pas comptée",
    ):
        assert words.lower() in text.lower(), words
    header = (out / "report-recipients.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    for words in ("réclamations déposées à la CNIL", "identification demandée"):
        assert f";{words};" in header, words
    for words in ("réponse partielle", "en retard (délai estimé)"):
        assert f";{words};" in header, words
    # the chart's axis counts requests: whole numbers only
    svg = (out / "report-outcomes.svg").read_text()
    assert not re.search(r"<!-- \d+[.,]\d -->", svg)
    one = findings.Findings("t", DAY, [], [], Counter(), members=1, requests=1)
    from dsar.i18n import using

    with using("fr"):
        assert findings.words(one, "fr")["summary"] == "1 demande envoyée pour 1 personne"


def test_a_name_with_dollars_is_drawn_as_text_not_read_as_maths():
    # a broker's reply named the source "$\frac{$ SARL": matplotlib's mathtext raised on
    # every later `dsar report` (tick labels and legend)
    from dsar.render import charts

    hostile = r"$\frac{$ SARL"
    svg = charts.outcomes([hostile, "Selfcontact"], [(hostile, [1, 2]), ("x", [0, 1])], "t")
    assert "SARL" in svg


def test_namesakes_are_two_people_and_a_source_counts_both(tmp_path, monkeypatch):
    """Two members named alike (their own phones and mandates) are two people, in the
    count and among the members a source was named to."""
    monkeypatch.setenv("DSAR_HOME", str(tmp_path / "home"))
    rows = [row(0), row(1), row(2)]
    rows[1][COLUMNS.index("name")] = rows[0][COLUMNS.index("name")]
    for r in rows:
        r[COLUMNS.index("broker")] = "tagadamedia"
    members_csv = tmp_path / "members.csv"
    with members_csv.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([COLUMNS, *rows])
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)
    with App() as app:
        done = june_letters(app, members_csv, association, tmp_path)
        references = [e.reference for e in app.journal.entries()]
        for reference in references:
            app.sent(reference, "2026-06-02", received=RECEIVED.isoformat())
        twins = [r.reference for r in done.rows[:2]]
        apply.read(app, [Raw(reply(r, "Jeux Concours Soleil"), r) for r in twins])
        for item in apply.pending(app):
            apply.confirm(app, item["id"], "source-named")
        found = findings.gather(
            app.journal, app.registry, DAY, association=load_association(association)
        )
    assert found.requests == 3 and found.members == 3
    (source,) = found.sources
    assert len(source.members) == 2


def test_control_characters_in_a_source_name_reach_no_output(campaign, tmp_path, monkeypatch):
    """Attacker's F2 (third round): a reply's source name kept C0, ESC and bidi controls
    into report-sources.csv, report.html and report-flow.svg (not well-formed XML)."""
    import xml.dom.minidom

    home = tmp_path / "home"
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    hostile = "Fichiers\x01\x1b[31m Dur\u202eand SARL"
    with App(clock=lambda: DAY) as app:
        by_member = {e.member: e.reference for e in app.journal.entries()}
        apply.read(app, [Raw(reply(by_member[name(13)], hostile), "reply-hostile")])
        for item in apply.pending(app):
            apply.confirm(app, item["id"], "source-named")
        out = tmp_path / "report"
        app.report(out, association=campaign["association"])
    control = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
    for path in out.iterdir():
        if path.suffix in (".csv", ".html", ".svg"):
            assert not control.search(path.read_text(encoding="utf-8-sig")), path.name
    xml.dom.minidom.parse(str(out / "report-flow.svg"))  # well-formed
    sources = {r["source named"]: r for r in read_csv(out / "report-sources.csv")}
    assert any("Fichiers" in s and "SARL" in s for s in sources), sources


def test_force_replaces_all_or_none_and_leaves_no_members_file(campaign, tmp_path, monkeypatch):
    """Attacker's F5 and F6 (third round): report --force without --with-members kept the
    names of an earlier run's report-members.csv; a folder in a file's place ended in a
    traceback with five of six files replaced."""
    monkeypatch.setenv("DSAR_HOME", str(campaign["home"]))
    out = tmp_path / "report"
    with App(clock=lambda: DAY) as app:
        app.report(out, association=campaign["association"], with_members=True)
        assert (out / "report-members.csv").is_file()
        before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        (out / "report-flow.svg").unlink()
        (out / "report-flow.svg").mkdir()  # a target --force cannot replace
        with pytest.raises(DsarError, match="report-flow.svg"):
            app.report(out, association=campaign["association"], force=True)
        after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        assert after == {k: v for k, v in before.items() if k != "report-flow.svg"}
        (out / "report-flow.svg").rmdir()
        app.report(out, association=campaign["association"], force=True)
    assert not (out / "report-members.csv").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_the_outcomes_chart_draws_twenty_bars_whatever_the_recipients():
    """Attacker's F12 (third round): a picture never breaks across pages, and 60 recipients
    drew a chart taller than one: the PDF showed 35 bars and lost the legend. The chart
    draws the 19 recipients with the most requests and one bar for the others, summed;
    the table lists them all."""
    from collections import Counter as Counts

    recipients = [
        findings.Recipient(f"r{i}", f"Destinataire {i:02d}", Counts({"in-time": 100 - i}))
        for i in range(60)
    ]
    found = findings.Findings(
        "t", DAY, recipients, [], Counts(), members=60, requests=sum(100 - i for i in range(60))
    )
    svg = findings.pictures(found)["outcomes"]
    assert "Destinataire 18" in svg and "Destinataire 19" not in svg
    assert "41 others (see the table)" in svg
    assert f">{sum(100 - i for i in range(19, 60))}<" in svg  # their requests, summed


def qualifying_home(campaign, tmp_path, monkeypatch) -> Path:
    """The campaign's journal copied for this test (its complaints change it), and a
    qualifying association.yaml: its path."""
    home = tmp_path / "home"
    shutil.copytree(campaign["home"], home)
    monkeypatch.setenv("DSAR_HOME", str(home))
    association = tmp_path / "association.yaml"
    association.write_text(QUALIFYING)
    return association


def qualifying_with_a_scan(campaign, tmp_path, monkeypatch):
    """qualifying_home, M-00013's signed scan in a folder, and Tagadamedia's members'
    forms recorded."""
    association = qualifying_home(campaign, tmp_path, monkeypatch)
    signed = tmp_path / "signed"
    signed.mkdir()
    blank_scan(signed / "M-00013.pdf")
    tagadamedia_forms()
    return association, signed


def test_the_collective_complaint_says_of_each_mandate_only_what_it_names(
    campaign, tmp_path, monkeypatch
):
    """« chaque mandat, signé par le membre, désigne l’association et l’organisme mis en
    cause »: the enclosed mandate named another organisation, whose answer led to this one
    (the third review's lawyer, finding 2). Said so: the form's scope line covers it."""
    association, signed = qualifying_with_a_scan(campaign, tmp_path, monkeypatch)
    journal = Journal(Paths.from_env().journal, clock=lambda: DAY)
    journal.record_mandate_form("M-00013", ["renaissance"], art80=True)  # not Tagadamedia
    journal.close()
    with App() as app:
        result = app.complain_association(
            association, "tagadamedia", out_dir=tmp_path / "cnil", on=DAY, mandates=signed
        )
    main = next(p for p in result.written if p.name.startswith("reclamation-collective"))
    text = flat(pdf_text(main.read_bytes()))
    assert "désigne l’association et l’organisme mis en cause" not in text
    assert (
        "ce mandat, signé par le membre, désigne l’association, et couvre l’organisme mis en "
        "cause par sa ligne « tout responsable de traitement que ces organismes désigneront "
        "comme source ou destinataire de mes données »"
    ) in text


def test_a_mandate_that_ran_out_puts_no_member_in_the_art80_complaint(
    campaign, tmp_path, monkeypatch
):
    """complain --association filed an Art. 80(1) complaint under mandates that had run
    out (the form gives two years): second read of today's fixes, 3. Such a member signs
    their own complaint, and the run says why."""
    association, signed = qualifying_with_a_scan(campaign, tmp_path, monkeypatch)
    from dsar import clock

    ran_out = date(2028, 6, 1)  # the members signed on 25 May 2026: two years and a week
    with clock.fixed(ran_out), App() as app:
        result = app.complain_association(
            association, "tagadamedia", out_dir=tmp_path / "cnil", on=ran_out, mandates=signed
        )
    assert not any(p.name.startswith("reclamation-collective") for p in result.written)
    [why] = [line for line in result.summary if "M-00013" in line and "own complaint" in line]
    assert "their mandate no longer holds" in why
