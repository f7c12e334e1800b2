"""The datenanfragen database imported whole, and letters rendered to real-world records."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from dsar import compose, importer, letters, profile, registry
from dsar.cli import cli
from dsar.render import html as page

from .conftest import DATENANFRAGEN, flat, pdf_pages

COMPANIES = DATENANFRAGEN / "companies.jsonl"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from click.testing import CliRunner

    output = tmp_path_factory.mktemp("import") / "companies.yaml"
    result = CliRunner().invoke(  # no PATH: the records shipped with dsar
        cli,
        ["brokers", "import", "datenanfragen", "--output", str(output)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return output, result


@pytest.fixture(scope="module")
def imported_registry(imported):
    """The whole import loaded once (3,069 entries take seconds to validate)."""
    reg = registry.Registry()
    reg.add(registry.read(imported[0]), "x")
    return reg


@pytest.fixture(scope="module")
def a1_registry(tmp_path_factory):
    """The registry the importer makes of one record, for commands that need not load all."""
    folder = tmp_path_factory.mktemp("a1")
    records = [json.loads(line) for line in COMPANIES.read_text().splitlines()]
    [record] = [r for r in records if r["slug"] == "a1-austria"]
    source = folder / "companies.jsonl"
    source.write_text(json.dumps(record) + "\n")
    output = folder / "a1.yaml"
    output.write_text(importer.dump(importer.import_datenanfragen(source), source))
    return output


def test_all_records_imported_and_check_passes(imported, runner):
    output, result = imported
    assert "imported 3069 entries" in result.stdout
    # what could not be mapped is said, with the line and the reason
    assert (
        "(vrbank-muenchen-land): email dropped" in result.stderr and "SOFT HYPHEN" in result.stderr
    )
    assert "(asos-shop): web dropped: 'httsp://www.asos.com'" in result.stderr
    check = runner.invoke(cli, ["brokers", "check", str(output)])
    assert check.exit_code == 0, check.stderr[-2000:]
    assert "3069 entries, 0 campaigns: 0 error(s)" in check.stdout


def test_mapping_of_one_record(imported_registry):
    reg = imported_registry
    entry = reg.get("en-marche")
    assert entry.name == "Renaissance" and entry.kind == "company" and entry.quality == "verified"
    assert entry.email == "mes-donnees@parti-renaissance.fr"
    assert entry.postal_address == "68 rue du Rocher\n75008 Paris\nFrance"
    assert "La République en marche (formerly)" in entry.aliases
    assert entry.contacts[0].source == "datenanfragen/data record en-marche"
    assert any(s.url == "https://github.com/datenanfragen/data/issues/509" for s in entry.sources)
    assert entry.medium == "email" and entry.language is None
    austrian = reg.get("a1-austria")
    assert austrian.language == "de" and austrian.medium == "letter"


def test_folder_of_upstream_files(tmp_path, runner):
    folder = tmp_path / "companies"
    folder.mkdir()
    for line in COMPANIES.read_text().splitlines()[:5]:
        record = json.loads(line)
        (folder / f"{record['slug']}.json").write_text(json.dumps(record))
    result = runner.invoke(
        cli,
        ["brokers", "import", "datenanfragen", str(tmp_path), "--output", str(tmp_path / "r.yaml")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "imported 5 entries" in result.stdout


def test_generate_to_an_imported_record(imported, runner, tmp_path):
    result = runner.invoke(
        cli,
        [
            "generate",
            "--registry",
            str(imported[0]),
            "--broker",
            "1blu",
            "--name",
            "Camille",
            "--phone",
            "0612345678",
            "--format",
            "text",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0 and "1blu AG" not in result.stderr


def test_what_an_imported_recipient_asks_for_is_said(a1_registry, runner, tmp_path):
    args = [
        "--registry",
        str(a1_registry),
        "--broker",
        "a1-austria",
        "--name",
        "Camille",
        "--phone",
        "0612345678",
        "--email",
        "camille@example.org",
        "--out",
        str(tmp_path),
    ]
    result = runner.invoke(cli, ["generate", *args, "--format", "email"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "asks for requests in 'de'; this letter is in 'fr'" in result.stderr
    assert "asks for requests by letter" in result.stderr
    french = runner.invoke(
        cli, ["--ui-lang", "fr", "generate", *args, "--format", "email", "--force"]
    )
    assert french.exit_code == 0, french.output
    assert "demande qu'on lui écrive par lettre" in french.stderr  # the medium in French too
    shown = runner.invoke(cli, ["brokers", "show", "a1-austria", "--registry", str(a1_registry)])
    assert shown.exit_code == 0, shown.output
    assert (
        "asks for requests in: de" in shown.stdout
        and "asks for requests by: letter" in shown.stdout
    )


def hard_sample(entries, size=20):
    """A few records of each kind that is hard to render, the rest at random (the run
    over 200 records lives in benchmarks/imported.py)."""
    pick = random.Random(2026)
    kinds = {
        "no e-mail": [b for b in entries if b.email is None],
        "foreign multi-line address": [
            b
            for b in entries
            if b.postal_address
            and b.postal_address.count("\n") >= 2
            and b.country not in (None, "fr")
        ],
        "non-ASCII": [b for b in entries if not (b.name + (b.postal_address or "")).isascii()],
    }
    sample = {}
    for kind, matching in kinds.items():
        assert matching, kind  # the shipped records still hold this case
        for broker in pick.sample(matching, 3):
            sample[broker.slug] = broker
    rest = [b for b in entries if b.slug not in sample]
    for broker in pick.sample(rest, size - len(sample)):
        sample[broker.slug] = broker
    return list(sample.values())


def test_sample_of_records_renders_to_readable_pdfs(imported_registry, env, pdf_renderer):
    reg = imported_registry
    entries = sorted(reg.brokers.values(), key=lambda b: b.slug)
    sample = hard_sample(entries)
    assert len(sample) == 20
    person = profile.requester(
        "Camille Martin", "12 rue des Lilas\n75011 Paris", "06 12 34 56 78", "camille@example.org"
    )
    requests = [
        compose.build_request(
            reg,
            broker.slug,
            person,
            compose.evidence(),
            right="access",
            letter_date=date(2026, 11, 23),
        )
        for broker in sample
    ]
    # the cores laid out as a batch worker does, one document (every record's words are
    # on its core page; the annex is the same for all)
    sections = [page.section(env, letters.render(r, env), annex_apart=True) for r in requests]
    data, ranges = pdf_renderer.render_cores(sections)
    texts = pdf_pages(data)
    for broker, request, pages in zip(sample, requests, ranges, strict=True):
        text = flat("\n".join(texts[n] for n in pages))
        assert request.reference in text and "06 12 34 56 78" in text, broker.slug
        if broker.postal_address:
            first_line = broker.postal_address.splitlines()[0]
            assert flat(first_line) in text, (broker.slug, first_line)
        else:
            assert flat(broker.name) in text, broker.slug


def test_unreadable_path(runner, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    result = runner.invoke(
        cli, ["brokers", "import", "datenanfragen", str(bad), "--output", str(tmp_path / "o.yaml")]
    )
    assert result.exit_code == 1 and "bad.jsonl line 1: not JSON" in result.stderr
    assert not (tmp_path / "o.yaml").exists()


def test_report_counts_unmapped_fields():
    result = importer.import_datenanfragen(COMPANIES)
    assert result.unmapped["custom-access-template"] == 506
    # request language and transport medium are carried over, so not counted here
    assert not any(
        k.startswith(("request-language", "suggested-transport")) for k in result.unmapped
    )
