"""Recipients that are right: a user adds one contact without rewriting an entry; dsar
says which addresses to check and where a missing one can be found."""

from __future__ import annotations

import os
import stat

import pytest

from dsar import compose, letters, registry
from dsar.cli import cli
from dsar.errors import InputError, RegistryError
from dsar.paths import SHIPPED_REGISTRY

from .conftest import flat, make_request, pdf_text, replace_args
from .test_generate import ISSUE_COMMAND

CONTACTS_ONLY = """\
# my finds
brokers:
  - slug: selfcontact   # from their answer
    contacts:
      - {kind: email, value: dpo@selfcontact.example, source: "letter received 2026-11-30"}
"""


def test_contacts_only_entry_merges_into_the_shipped_one(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(CONTACTS_ONLY)
    reg = registry.Registry.load([SHIPPED_REGISTRY, mine])
    merged, shipped = reg.get("selfcontact"), registry.Registry.load([SHIPPED_REGISTRY])
    assert merged.email == "dpo@selfcontact.example"
    # everything else is the shipped entry's, untouched
    assert merged.model_dump(exclude={"contacts"}) == shipped.get("selfcontact").model_dump(
        exclude={"contacts"}
    )
    assert reg.origin["selfcontact"].endswith(f"+ contacts from {mine}")


def test_contacts_for_an_unknown_slug_are_refused(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(CONTACTS_ONLY.replace("slug: selfcontact", "slug: selfcontract"))
    with pytest.raises(RegistryError, match="contacts for 'selfcontract', which no registry"):
        registry.Registry.load([SHIPPED_REGISTRY, mine])


def test_a_bad_contact_in_a_contacts_only_entry_has_its_line(tmp_path):
    text = CONTACTS_ONLY.replace("dpo@selfcontact.example", "not-an-email")
    with pytest.raises(RegistryError) as info:
        registry.parse(text, "mine.yaml")
    assert info.value.problems[0].startswith("mine.yaml line 5 (selfcontact): 'value'")


def test_add_contact_writes_a_private_file_that_loads(tmp_path):
    user_file = tmp_path / "brokers.yaml"
    user_file.write_text(CONTACTS_ONLY)
    postal = registry.contact("postal", "Service DPO\\nAdresse\\n60400 Noyon", "reply letter")
    merged = registry.add_contacts(user_file, [SHIPPED_REGISTRY], "Self Contact", [postal])
    assert merged.postal_address == "Service DPO\nAdresse\n60400 Noyon"
    assert merged.email == "dpo@selfcontact.example"  # the earlier addition is kept
    text = user_file.read_text()
    assert "# my finds" in text and "# from their answer" in text  # comments survive
    assert stat.S_IMODE(os.stat(user_file).st_mode) == 0o600
    reloaded = registry.Registry.load([SHIPPED_REGISTRY, user_file]).get("selfcontact")
    assert reloaded.contacts == merged.contacts


def test_add_contact_never_writes_over_a_broken_registry(tmp_path):
    user_file = tmp_path / "brokers.yaml"
    broken = "brokers:\n  - slug: selfcontact\n    contacts: [{kind: email, value: nope}]\n"
    user_file.write_text(broken)
    email = registry.contact("email", "dpo@example.org", "letter")
    with pytest.raises(RegistryError):
        registry.add_contacts(user_file, [SHIPPED_REGISTRY], "selfcontact", [email])
    assert user_file.read_text() == broken


@pytest.mark.parametrize(
    "kind, value, source, field",
    [("email", "dpo-at-example", "letter", "email"), ("postal", "Rue\x00", "letter", "postal")],
)
def test_contacts_are_validated(kind, value, source, field):
    with pytest.raises(InputError) as info:
        registry.contact(kind, value, source)
    assert info.value.field == field


def test_add_contact_command_then_generate_uses_it(runner, tmp_path, dsar_home):
    result = runner.invoke(
        cli,
        [
            "brokers",
            "add-contact",
            "selfcontact",
            "--email",
            "dpo@selfcontact.example",
            "--source",
            "reply letter received 2026-11-30",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"added 1 contact(s) to selfcontact in {dsar_home / 'brokers.yaml'}" in result.stdout
    assert stat.S_IMODE(os.stat(dsar_home / "brokers.yaml").st_mode) == 0o600
    shown = runner.invoke(cli, ["brokers", "show", "selfcontact"])
    assert shown.exit_code == 0 and "email: dpo@selfcontact.example" in shown.stdout
    assert "Tech&Co (BFM)" in shown.stdout  # the shipped sources are still there

    args = replace_args(ISSUE_COMMAND, {"--format": "email"})
    result = runner.invoke(cli, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "mailto:dpo@selfcontact.example" in result.stdout

    refused = runner.invoke(
        cli, ["brokers", "add-contact", "selfcontact", "--email", "x", "--source", "s"]
    )
    assert refused.exit_code == 2 and "--email: 'x' is not a valid e-mail address" in refused.stderr
    refused = runner.invoke(cli, ["brokers", "add-contact", "selfcontact", "--source", "s"])
    assert refused.exit_code == 2 and "give --postal, --email or --webform" in refused.stderr


def test_generate_says_to_check_an_encyclopedia_address(runner, tmp_path):
    args = replace_args(ISSUE_COMMAND, {"--broker": "reconquete", "--format": "pdf"})
    result = runner.invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    err = flat(result.stderr)
    assert "Reconquête: the postal address comes from a source that is not verified" in err
    assert "French Wikipedia (secondary)" in err and "check it before posting" in err
    # the person's own address is theirs to vouch for
    args = [*args, "--to-address", "Reconquête\\nService juridique\\n75008 Paris", "--force"]
    result = runner.invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0 and "not verified" not in result.stderr


def test_verified_address_needs_no_check(shipped):
    request = make_request(shipped, "renaissance")
    assert compose.address_to_check(request, ("pdf",)) == []
    request = make_request(shipped, "la-poste")
    lines = compose.address_to_check(request, ("pdf",))
    assert "quality partial" in lines[0]
    assert lines[1].endswith("rechercher?terme=La%20Poste")


def test_missing_address_points_to_the_company_directory(shipped, env):
    letter = letters.render(make_request(shipped, "the-optin-machine"), env)
    advice = "\n".join(compose.gap_advice(letter, shipped))
    assert (
        "https://annuaire-entreprises.data.gouv.fr/rechercher?terme=The%20Optin%20Machine" in advice
    )
    assert "dsar brokers add-contact the-optin-machine" in advice
    # an authority is not in the company directory
    letter = letters.render(make_request(shipped, "cnil", to_address=None), env)
    assert "annuaire-entreprises" not in "\n".join(compose.gap_advice(letter, shipped))


def test_check_a_file_of_contacts_only_entries(runner, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(CONTACTS_ONLY)
    result = runner.invoke(cli, ["brokers", "check", str(mine)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.stdout


def test_an_address_the_person_added_is_theirs_to_vouch_for(runner, tmp_path):
    added = runner.invoke(
        cli,
        [
            "brokers",
            "add-contact",
            "tagadamedia",
            "--postal",
            "TAGADAMEDIA SAS\\nService DPO\\n75017 Paris",
            "--source",
            "its reply of 2026-12-01",
        ],
    )
    assert added.exit_code == 0, added.output
    args = replace_args(ISSUE_COMMAND, {"--broker": "tagadamedia", "--format": "pdf"})
    result = runner.invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "not verified" not in result.stderr
    assert "Service DPO" in flat(pdf_text(next(tmp_path.glob("*.pdf")).read_bytes()))


@pytest.mark.parametrize(
    ("sender", "said"),
    [
        ("Reconquête", "--broker reconquete\n"),
        # nothing names the party: every party known to use the broker, none chosen for you
        (None, "--broker PARTY, PARTY one of those known to use Selfcontact: "),
    ],
)
def test_a_broker_letter_points_to_the_party(runner, dsar_home, sender, said, shipped):
    args = ["generate", "--broker", "selfcontact", "--name", "C M", "--phone", "0612345678"]
    args += ["--format", "text", *(["--sms-sender", sender] if sender else [])]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert said in result.stderr
    if sender is None:  # all of them: the list was cut at six and left Renaissance out
        for party in shipped.parties_using("selfcontact"):
            assert party.slug in result.stderr
