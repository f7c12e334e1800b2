"""The library's guarantees, through App and without click: what a web page or a script
gets is what the command line gets. Real SQLite file, real PDFs read back."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from dsar import clock, compose, importer, letters
from dsar.app import App
from dsar.errors import DsarError, RegistryError
from dsar.journal import Journal
from dsar.paths import Paths
from dsar.results import EXIT_OK, EXIT_PARTIAL
from dsar.vocabulary import output_name

from .conftest import flat, make_request, parse_eml, pdf_text, read_csv
from .test_batch import ASSOCIATION, HEADER, member

PERSON = {
    "name": "Camille Martin",
    "phone": "06 12 34 56 78",
    "email": "camille@example.org",
    "address": "12 rue des Lilas\n75011 Paris",
}


@pytest.fixture
def app(tmp_path):
    home = tmp_path / "home"
    with App(Paths(config_dir=home, data_dir=home)) as app:
        yield app


def first_request(app, tmp_path):
    return app.generate(
        "renaissance",
        **PERSON,
        sms_date="2024-06-06",
        formats="pdf",
        letter_date=date(2026, 1, 30),
        out_dir=tmp_path / "letters",
    )


def test_generate_result_lists_files_and_reference(app, tmp_path):
    result = app.generate(
        "selfcontact", **PERSON, formats=("pdf", "email"), out_dir=tmp_path / "out"
    )
    assert result.exit_code == EXIT_OK and result.reference.startswith("DSAR-")
    assert sorted(p.name for p in result.written) == [
        output_name(result.reference, "selfcontact", "eml"),
        output_name(result.reference, "selfcontact", "pdf"),
    ]
    assert all(p.is_file() for p in result.written)
    pdf = next(p for p in result.written if p.suffix == ".pdf")
    assert "06 12 34 56 78" in flat(pdf_text(pdf.read_bytes()))
    # the registry has no e-mail for selfcontact: said as a warning, not printed
    assert any("no e-mail address" in w for w in result.warnings)
    with Journal(app.paths.journal) as journal:  # a real file, a second connection
        assert journal.entry(result.reference).stored_state == "draft"


def test_states_after_remind_and_complain(app, tmp_path):
    ref = first_request(app, tmp_path).reference
    app.sent(ref, "2026-01-31", lrar="1A00012345678")
    with pytest.raises(DsarError, match="has not passed"):
        app.remind(ref, on="2026-02-15", out_dir=tmp_path / "r")
    reminder = app.remind(ref, on="2026-03-10", formats="pdf", out_dir=tmp_path / "r")
    assert reminder.original == ref and reminder.final_deadline == date(2026, 3, 25)
    assert [p.name for p in reminder.written] == [
        output_name(reminder.reference, "renaissance", "pdf", kind="reminder")
    ]
    # written, the reminder is a draft: the request is reminded once it is sent
    assert app.journal.entry(ref).stored_state == "sent"
    app.sent(reminder.reference, "2026-03-11")
    assert app.journal.entry(ref).stored_state == "reminded"
    assert app.journal.entry(ref).reminded_on == date(2026, 3, 11)

    app.answer(ref, "2026-03-20", state="partial", note="no source")
    assert app.journal.entry(ref).stored_state == "partial"
    complaint = app.complain(ref, on="2026-04-01", out_dir=tmp_path / "cnil")
    assert app.journal.entry(ref).stored_state == "partial"  # written, not filed yet
    app.sent(complaint.reference, "2026-04-01")
    assert app.journal.entry(ref).stored_state == "complained"
    assert complaint.dossier in complaint.written and complaint.dossier.is_file()
    assert f"Journal de la demande {ref}" in pdf_text(complaint.dossier.read_bytes())


def test_a_complaint_written_before_a_reminder_waits_for_the_reminder_s_final_date(app, tmp_path):
    """A complaint written once the deadline passed, then a reminder sent: dsar show still
    said « file the complaint » and dsar sent on it was taken the day the reminder gave 15
    days (the third review's new user, finding 2)."""
    ref = first_request(app, tmp_path).reference
    app.sent(ref, "2026-01-31")
    complaint = app.complain(ref, on="2026-03-10", out_dir=tmp_path / "cnil")
    reminder = app.remind(ref, on="2026-03-11", formats="pdf", out_dir=tmp_path / "r")
    app.sent(reminder.reference, "2026-03-11")
    assert reminder.final_deadline == date(2026, 3, 26)
    with clock.fixed(date(2026, 3, 12)):
        step = app.details(ref)["next_step"]
        assert "written before the reminder: wait until 2026-03-26" in step
        assert f"dsar complain {ref} --out DIR --force" in step
    with pytest.raises(DsarError) as refused:
        app.sent(complaint.reference, "2026-03-12")
    assert refused.value.code == "complain_after"
    assert app.journal.entry(ref).stored_state == "reminded"
    app.sent(complaint.reference, "2026-03-12", force=True)  # filed all the same: a fact
    assert app.journal.entry(ref).stored_state == "complained"


def test_the_clock_moves_today(app, tmp_path):
    ref = first_request(app, tmp_path).reference
    app.sent(ref, "2026-01-31")
    with clock.fixed(date(2026, 3, 10)):
        assert app.today() == date(2026, 3, 10)
        assert [e.reference for e in app.status(state="overdue").entries] == [ref]
    assert App(app.paths, clock=lambda: date(2026, 2, 1)).today() == date(2026, 2, 1)


def write_members(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)


def manifest_rows(path):
    return read_csv(path)


def batch_args(tmp_path):
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    return {
        "association": association,
        "out_dir": tmp_path / "out",
        "broker": "renaissance",
        "formats": "email",
        "workers": 1,
        "mandate_on_request": True,  # no signed scans here
    }


def test_manifest_written_when_every_row_is_bad(app, tmp_path):
    members_csv = tmp_path / "members.csv"
    write_members(members_csv, [member(1, phone="not a phone"), member(2, mandate_ref="../x")])
    result = app.batch(members_csv, **batch_args(tmp_path))
    assert result.exit_code == EXIT_PARTIAL and len(result.bad_rows) == 2
    rows = manifest_rows(result.manifest)  # every member is in it, bad rows too
    assert [r["row"] for r in rows] == ["2", "3"] and not any(r["reference"] for r in rows)
    assert all(r["email_status"].startswith("bad row: ") for r in rows)
    assert result.manifest in result.written


def test_manifest_written_when_the_batch_stops_midway(app, tmp_path):
    members_csv = tmp_path / "members.csv"
    write_members(members_csv, [member(1), member(2), member(3, phone="x"), member(4)])
    with pytest.raises(DsarError, match="row 4, column phone"):
        app.batch(members_csv, strict=True, **batch_args(tmp_path))
    rows = manifest_rows(tmp_path / "out" / "manifest.csv")
    assert [r["row"] for r in rows] == ["2", "3", "4"]  # what was done before the stop
    assert rows[2]["email_status"].startswith("bad row: phone")  # and the row it stopped at
    assert all((tmp_path / "out" / r["eml"]).is_file() for r in rows[:2])


def test_import_writes_only_a_registry_that_loads(app, tmp_path, monkeypatch):
    records = tmp_path / "companies.jsonl"
    records.write_text(
        '{"slug": "acme", "name": "Acme SA", "email": "dpo@acme.example", "quality": "verified"}\n',
        encoding="utf-8",
    )
    output = tmp_path / "companies.yaml"
    result = app.import_registry("datenanfragen", records, output)
    assert result.written == [output] and len(result.report.entries) == 1

    # a converter that lets through a record the registry refuses: nothing is written
    bad = {"slug": "Not A Slug", "kind": "company", "name": "Acme", "quality": "verified"}
    monkeypatch.setattr(importer, "convert", lambda *a, **k: bad)
    other = tmp_path / "other.yaml"
    with pytest.raises(RegistryError, match="Not A Slug"):
        app.import_registry("datenanfragen", records, other)
    assert not other.exists()
    before = output.read_bytes()
    with pytest.raises(RegistryError):
        app.import_registry("datenanfragen", records, output, force=True)
    assert output.read_bytes() == before  # the registry in place is left as it was


def test_in_memory_journal(shipped):
    request = make_request(shipped)
    with Journal(":memory:") as journal:
        journal.record(request, subject="s", body_text="b", medium="pdf")
        assert journal.entry(request.reference).stored_state == "draft"
        assert journal.request(request.reference) == request  # JSON round trip, whole


# ---------------------------------------------------------------- one party matcher


def test_letter_and_identify_agree_on_the_party(app, shipped, env):
    """'le RN du quartier' names no controller: a two-letter acronym counts only as the
    sender, for identify and for the letter's 'on behalf of' alike."""
    text = "Le RN du quartier fête ses 10 ans"
    assert not app.identify(text).controllers
    request = make_request(shipped, sms_sender="", sms_text=text)
    assert request.campaign_party is None
    assert "Rassemblement national" not in letters.render(request, env).body_text

    # the same acronym as the sender does name the party, in both
    found = app.identify(text, sender="RN")
    assert [s.slug for s in found.controllers] == ["rassemblement-national"]
    evidence = compose.evidence("sms", None, None, "RN", text)
    assert [p.slug for p in compose.party_behind(shipped, evidence)] == ["rassemblement-national"]


def test_dry_run_lists_what_would_be_sent_and_sends_nothing(app, tmp_path):
    members_csv = tmp_path / "members.csv"
    write_members(members_csv, [member(1)])
    result = app.batch(members_csv, send=True, dry_run=True, **batch_args(tmp_path))
    [(reference, recipient)] = result.would_send
    assert reference == result.rows[0].reference and "@" in recipient
    assert result.exit_code == EXIT_OK and not result.sent
    assert app.journal.outbox_status(reference)[0] == "queued"  # still to send


def test_each_app_reads_the_templates_and_registry_as_they_are_now(tmp_path):
    # `dsar serve` makes an App for each page, and templates are compiled and registries
    # parsed once per process: an edit of either file is seen by the next page
    home = tmp_path / "home"
    paths = Paths(config_dir=home, data_dir=home)
    page = paths.user_templates / "letters" / "fr" / "request.html.j2"
    page.parent.mkdir(parents=True)

    def letter(mark: str, address: str):
        page.write_text(f"<p>{mark}</p>", encoding="utf-8")
        paths.user_registry.write_text(
            "brokers:\n  - slug: selfcontact\n"
            f"    contacts: [{{kind: email, value: {address}, source: a letter}}]\n"
        )
        with App(paths) as app:
            result = app.generate(
                "selfcontact", **PERSON, formats="email", out_dir=tmp_path, redo_draft=True
            )
        [eml] = [p for p in result.written if p.suffix == ".eml"]
        return parse_eml(eml.read_bytes())

    first = letter("Première version 4K", "dpo@first.example")
    second = letter("Seconde version 9Z", "dpo@second.example")
    assert "Première version 4K" in first.get_body(("plain",)).get_content()
    assert "Seconde version 9Z" in second.get_body(("plain",)).get_content()
    assert "Première" not in second.get_body(("plain",)).get_content()
    assert second["To"].addresses[0].addr_spec == "dpo@second.example"
