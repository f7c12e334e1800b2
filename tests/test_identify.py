"""dsar identify and dsar campaigns against every campaign of FACTS.md."""

from __future__ import annotations

import pytest

from dsar.cli import cli
from dsar.paths import SHIPPED_REGISTRY
from dsar.registry import Registry

CAMPAIGNS = sorted(Registry.load([SHIPPED_REGISTRY]).campaigns.values(), key=lambda c: c.id)


def identify(runner, *args):
    result = runner.invoke(cli, ["identify", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def section(output: str, title: str) -> str:
    if title not in output:
        return ""
    return output.split(title, 1)[1].split("\n\n", 1)[0]


def test_marion_marechal_sms(runner):
    out = identify(
        runner,
        "--date",
        "2024-06-06",
        "--sender",
        "Marion Maréchal",
        "--text",
        "Le 9 juin, votez pour la liste menée par Marion Maréchal ! STOP au 36111",
    )
    assert "Reconquête [reconquete]" in section(out, "Likely controller")
    assert "Selfcontact [selfcontact]" in section(out, "Likely broker")
    assert "same day as the campaign (2024-06-06)" in out and "confidence high" in out
    assert "STOP short number: 36111" in out
    assert "dsar generate --broker reconquete --sms-date 2024-06-06" in out
    assert "dsar generate --broker selfcontact --sms-date 2024-06-06" in out


@pytest.mark.parametrize("campaign", CAMPAIGNS, ids=[c.id for c in CAMPAIGNS])
def test_every_campaign_is_found(runner, shipped, campaign):
    party = shipped.brokers[campaign.party]
    named = campaign.candidates[0] if campaign.candidates else party.name
    when = campaign.date if len(campaign.date) == 10 else f"{campaign.date[:4]}-05-01"
    out = identify(runner, "--date", when, "--text", f"Message de {named}. Votez !")
    # found: as likely, or as a lead when sent another way or dated by its year only
    controllers = section(out, "Likely controller") + section(out, "Possible controller")
    assert f"{party.name} [{party.slug}]" in controllers
    assert f"campaign {campaign.id}" in out
    brokers = section(out, "Likely broker") + section(out, "Possible broker")
    if campaign.broker:
        assert f"[{campaign.broker}]" in brokers
    else:
        assert "unknown: the sources name none" in brokers


@pytest.mark.parametrize(
    "text",
    [
        "Votre colis est arrivé, suivez-le ici",
        "Bonjour, -20% sur tout le magasin ce week-end",
        "",
    ],
)
def test_texts_that_match_nothing(runner, text):
    out = identify(runner, "--text", text, "--date", "2024-06-06")
    assert "Nothing in the message matches" in out
    assert "selfcontact: Selfcontact" in out
    assert "Likely controller" not in out


def test_party_acronym_only_counts_in_sender(runner):
    assert "Likely controller" not in identify(
        runner, "--text", "Le RN du quartier fête ses 10 ans"
    )
    out = identify(runner, "--sender", "RN", "--text", "Votez", "--date", "2022-04-01")
    assert "Rassemblement national [rassemblement-national]" in out


def test_campaigns_lists_all(runner):
    result = runner.invoke(cli, ["campaigns"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for campaign in CAMPAIGNS:
        assert campaign.date in result.stdout
    assert "Marion Maréchal" in result.stdout and "2.54 million" in result.stdout


def test_campaign_with_unknown_slug_fails_check(runner, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "campaigns:\n  - {id: x, date: '2024', party: nobody, sources: [{publication: P}]}\n"
    )
    result = runner.invoke(cli, ["brokers", "check", str(path)])
    assert result.exit_code == 1 and "error: x: refers to unknown slug 'nobody'" in result.stderr


def test_a_low_confidence_lead_is_never_titled_likely(runner):
    """A candidate of another year's campaign is a lead to check: under its own
    heading, never under "Likely controller", and never proposed."""
    out = identify(runner, "--text", "Votez Marion Maréchal", "--date", "2026-11-28")
    assert "Reconquête" not in section(out, "Likely controller")
    assert "Reconquête [reconquete]" in section(out, "Possible controller, low confidence")
    assert "--broker reconquete" not in out.split("Less likely", 1)[0]
