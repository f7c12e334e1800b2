"""brokers.yaml: the shipped registry is valid and complete; broken copies fail with lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dsar import registry
from dsar.cli import cli
from dsar.errors import RegistryError, UnknownBroker
from dsar.paths import SHIPPED_REGISTRY

from .conftest import ROOT

FACTS_SLUGS = {
    "selfcontact",
    "the-optin-machine",
    "arthur-media-group",
    "welcoming",
    "cloud-media",
    "hipto",
    "tagadamedia",
    "cm-com",
    "lmp",
    "la-poste",
    "renaissance",
    "les-republicains",
    "lfi",
    "reconquete",
    "rassemblement-national",
    "les-ecologistes",
    "parti-animaliste",
    "cnil",
    "a3f",
}


def test_check_passes_on_shipped_registry(runner):
    result = runner.invoke(cli, ["brokers", "check"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ entries, \d+ campaigns: 0 error\(s\)", result.stdout)


def test_list_shows_every_actor_of_facts(runner):
    result = runner.invoke(cli, ["brokers", "list"], catch_exceptions=False)
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()}
    assert listed >= FACTS_SLUGS


# The slugs named in the first cell of FACTS.md's tables (../shared/FACTS.md of the
# project's working notes, not shipped): the list of who is documented, kept here so the
# test needs nothing outside the project. Add a slug here when FACTS.md gains a row.
FACTS_MD_SLUGS = FACTS_SLUGS | {"a3f"}


def test_facts_md_slugs_are_all_in_registry(shipped):
    assert {"tagadamedia", "la-poste", "cm-com", "a3f"} <= FACTS_MD_SLUGS
    assert set(shipped.brokers) >= FACTS_MD_SLUGS


def test_no_invented_contacts(shipped):
    """Only the contacts FACTS.md gives; those from secondary sources say so."""
    with_contacts = {b.slug for b in shipped.brokers.values() if b.email or b.postal_address}
    secondary = {"la-poste", "tagadamedia", "les-republicains", "lfi", "reconquete"}
    assert with_contacts == {"renaissance", "cnil", *secondary}
    assert shipped.get("renaissance").email == "mes-donnees@parti-renaissance.fr"
    assert [b.slug for b in shipped.brokers.values() if b.email] == ["renaissance"]
    for broker in shipped.brokers.values():
        assert broker.sources, broker.slug
        for contact in broker.contacts:
            assert contact.source, (broker.slug, contact.kind)
            if broker.slug in secondary:
                assert "secondary" in contact.source and broker.quality != "verified"
    assert "9 rue du Colonel Pierre Avia\n75015 Paris" in shipped.get("la-poste").postal_address
    assert shipped.get("la-poste").siren == "356000000"  # stdnum checked the Luhn sum
    assert shipped.get("tagadamedia").siren == "809062607"
    assert "SAN-2023-025" in shipped.get("tagadamedia").description
    assert shipped.get("les-republicains").quality == "unverified"


def test_corrected_entries(shipped):
    assert shipped.get("cm-com").kind == "processor"
    assert shipped.get("A3F").slug == "a3f"  # its own entry, no longer Les Républicains'
    assert "A3F" not in shipped.get("les-republicains").aliases
    assert "a3f" in shipped.campaigns["fillon-2017-optin"].description


def test_source_labels_name_their_url(shipped):
    """A label says which site its URL is on: 'cnil.fr, ...', 'datenanfragen/data, record X'."""
    for broker in shipped.brokers.values():
        for source in broker.sources:
            if not source.url:
                continue
            host = source.url.split("/")[2].removeprefix("www.")
            if host == "github.com":
                owner, repo = source.url.split("/")[3:5]
                assert source.publication.startswith(f"{owner}/{repo}"), source
                # the record or issue the label names is the one the URL opens
                label = source.publication.partition(", ")[2]
                named = re.match(r"record ([a-z0-9-]+)$|issue (\d+)\b", label)
                assert named, source
                record, issue = named.groups()
                assert source.url.endswith(f"/{record}.json" if record else f"/issues/{issue}")
            else:
                assert source.publication.startswith(host), source


def test_schema_file_is_current():
    shipped_schema = json.loads((ROOT / "schema" / "brokers.schema.json").read_text())
    assert shipped_schema == json.loads(json.dumps(registry.json_schema()))


BROKEN = """\
schema_version: 1
brokers:
  - slug: good
    kind: broker
    name: Good
    sources: [{publication: X, date: "2024"}]
    quality: verified
  - slug: typo
    kind: broker
    name: Typo
    emial: a@b.fr
    sources: [{publication: X}]
    quality: verified
  - slug: bad-contacts
    kind: broker
    name: Bad
    siren: "123456789"
    web: ftp://example.org
    contacts:
      - kind: email
        value: not-an-email
      - kind: phone
        value: "12"
    sources: [{publication: X, date: "2024-13"}]
    quality: great
"""


def test_broken_copy_fails_with_line_numbers(runner, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    result = runner.invoke(cli, ["brokers", "check", str(path)])
    assert result.exit_code == 1
    err = result.stderr
    assert f"{path} line 11 (typo): 'emial' is not a known field; contacts go in 'contacts:'" in err
    assert f"{path} line 17 (bad-contacts): 'siren'" in err and "SIREN" in err
    assert f"{path} line 18 (bad-contacts): 'web'" in err
    assert f"{path} line 21 (bad-contacts): 'value'" in err and "not-an-email" in err
    assert f"{path} line 23 (bad-contacts): 'value'" in err
    assert f"{path} line 24 (bad-contacts): 'date'" in err
    assert f"{path} line 25 (bad-contacts): input should be" in err


def test_did_you_mean_for_close_field(tmp_path):
    text = BROKEN.replace("emial: a@b.fr", "qualty: verified")
    with pytest.raises(RegistryError) as info:
        registry.parse(text, "x.yaml")
    assert (
        "x.yaml line 11 (typo): 'qualty' is not a known field; did you mean 'quality'?"
        in info.value.problems
    )


def test_yaml_syntax_error_has_a_line():
    with pytest.raises(RegistryError) as info:
        registry.parse("brokers:\n  - slug: a\n   kind: [\n", "y.yaml")
    assert info.value.problems[0].startswith("y.yaml line 3: not valid YAML")


def test_cross_checks(tmp_path, runner):
    text = """\
brokers:
  - {slug: a, kind: broker, name: Alpha, aliases: [Shared], quality: verified, checked: 2026-01-01}
  - {slug: b, kind: party, name: Beta, aliases: [shared], brokers_used: [nobody], quality: verified}
"""
    path = tmp_path / "x.yaml"
    path.write_text(text)
    result = runner.invoke(cli, ["brokers", "check", str(path)])
    assert result.exit_code == 1
    assert "error: b: alias 'shared' is also a's" in result.stderr
    assert "error: b: refers to unknown slug 'nobody'" in result.stderr
    assert "error: a: has no sources" in result.stderr
    assert "warning: b: never checked" in result.stderr
    assert "2 entries, 0 campaigns: 4 error(s)" in result.stderr


def test_user_registry_overrides_and_extends(runner, dsar_home, tmp_path):
    dsar_home.mkdir(parents=True)
    (dsar_home / "brokers.yaml").write_text("""\
brokers:
  - slug: selfcontact
    kind: broker
    name: Selfcontact
    contacts: [{kind: email, value: dpo@selfcontact.example, source: "letter received 2026-11-01"}]
    sources: [{publication: my own research, date: "2026-11-01"}]
    quality: partial
""")
    extra = tmp_path / "extra.yaml"
    extra.write_text("""\
brokers:
  - {slug: newco, kind: company, name: NewCo SAS, sources: [{url: "https://example.org"}], quality: unverified}
""")
    result = runner.invoke(cli, ["brokers", "show", "selfcontact"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "email: dpo@selfcontact.example" in result.stdout
    assert "source: letter received 2026-11-01" in result.stdout
    result = runner.invoke(
        cli, ["brokers", "show", "newco", "--registry", str(extra)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "NewCo SAS" in result.stdout and "e-mail: unknown (no source gives one)" in result.stdout


def test_search_ignores_accents_and_case(shipped, runner):
    assert shipped.search("RECONQUETE") == ["reconquete"]
    assert shipped.search("écologistes") == ["les-ecologistes"]
    assert shipped.search("optin") == ["the-optin-machine"]
    result = runner.invoke(cli, ["brokers", "search", "self contact"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("selfcontact")


def test_get_by_alias_and_unknown(shipped):
    assert shipped.get("LREM").slug == "renaissance"
    with pytest.raises(UnknownBroker) as info:
        shipped.get("reconqete")
    assert "reconquete" in info.value.suggestions


def test_show_says_where_contacts_come_from(runner):
    result = runner.invoke(cli, ["brokers", "show", "renaissance"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "email: mes-donnees@parti-renaissance.fr" in result.stdout
    assert "source: datenanfragen/data record en-marche" in result.stdout
    assert "brokers used: selfcontact" in result.stdout
    result = runner.invoke(cli, ["brokers", "show", "selfcontact"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "postal address: unknown" in result.stdout
    assert "parties known to use it:" in result.stdout and "reconquete" in result.stdout


def test_shipped_registry_path_exists():
    assert Path(SHIPPED_REGISTRY).is_file()


def test_an_unknown_slug_suggests_a_typing_slip_never_a_look_alike_company():
    """« dsar brokers show datacontact » answered « Did you mean: selfcontact? », another
    company a person could write to by mistake (the third review's new user, 10)."""
    shipped = registry.Registry.load([SHIPPED_REGISTRY])
    with pytest.raises(UnknownBroker) as unknown:
        shipped.get("datacontact")
    assert "selfcontact" not in str(unknown.value)
    with pytest.raises(UnknownBroker) as slip:
        shipped.get("selfcontcat")
    assert "selfcontact" in str(slip.value)
