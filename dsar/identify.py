"""Who is behind a message: match what a person has against parties and campaigns.

Scores are simple and explained: each clue that matched is listed, so the person can
judge. Nothing here reaches the network; links in the text are only reported.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import date

from .i18n import N_, _
from .models import Broker, Campaign
from .registry import Registry, fold

STOP_NUMBER = re.compile(r"\bstop\b\D{0,12}(\d{5})\b", re.IGNORECASE)
LINK = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"]+|\b[a-z0-9-]+\.(?:fr|com|eu|org)(?:/[^\s]*)?", re.IGNORECASE
)


CONFIDENCE = {"high": N_("high"), "medium": N_("medium"), "low": N_("low")}


@dataclass
class Suspect:
    """A party or broker identify names, with every reason that points at it."""

    slug: str  # "" for a campaign whose broker no source names
    name: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class Clues:
    """What was read off the message."""

    stop_number: str | None = None
    links: list[str] = field(default_factory=list)
    parties: dict[str, str] = field(default_factory=dict)  # slug -> the words that matched
    candidates: dict[str, str] = field(default_factory=dict)  # campaign id -> the name matched


@dataclass
class Match:
    campaign: Campaign
    score: float
    reasons: list[str]

    @property
    def confidence(self) -> str:
        return "high" if self.score >= 5 else "medium" if self.score >= 3 else "low"


def _contains(haystack: str, needle: str) -> bool:
    needle = fold(needle)
    return bool(needle) and f" {needle} " in haystack


def parties_named(registry: Registry, text: str, sender: str) -> dict[str, str]:
    """Parties whose name or alias the message carries: slug -> the words that matched.

    The one party matcher: identify and the letters' 'on behalf of' both use it.
    Two-letter acronyms (LR, RN) count only as the sender: in a text they are too
    common to name a party ("le RN du quartier" names no controller).
    """
    haystack = f" {fold(text)} {fold(sender)} "
    sender_only = f" {fold(sender)} "
    found = {}
    for broker in registry:
        if broker.kind != "party":
            continue
        for label in (broker.name, *broker.aliases):
            if _contains(sender_only if len(fold(label)) <= 2 else haystack, label):
                found[broker.slug] = label
                break
    return found


def read_clues(registry: Registry, text: str, sender: str) -> Clues:
    haystack = f" {fold(text)} {fold(sender)} "
    clues = Clues()
    if match := STOP_NUMBER.search(text):
        clues.stop_number = match.group(1)
    clues.links = LINK.findall(text)
    clues.parties = parties_named(registry, text, sender)
    for campaign in registry.campaigns.values():
        for name in campaign.candidates:
            surname = name.split()[-1]
            full = _contains(haystack, name)
            if full or (len(surname) > 3 and _contains(haystack, surname)):
                clues.candidates[campaign.id] = name if full else surname
    return clues


def _date_score(campaign: Campaign, when: date | None) -> tuple[float, str | None]:
    if when is None:
        return 0, None
    if campaign.date == when.isoformat():
        return 3, _("same day as the campaign ({date})").format(date=campaign.date)
    if campaign.date == when.isoformat()[:7]:
        return 2, _("same month as the campaign ({date})").format(date=campaign.date)
    if campaign.date[:4] == str(when.year):
        return 1, _("same year as the campaign ({date})").format(date=campaign.date[:4])
    return -1, None


def identify(
    registry: Registry, *, text: str = "", sender: str = "", when: date | None = None
) -> tuple[Clues, list[Match]]:
    clues = read_clues(registry, text, sender)
    matches = []
    for campaign in registry.campaigns.values():
        score, reasons = 0.0, []
        if campaign.id in clues.candidates:
            score += 3
            reasons.append(
                _("names the candidate {name}").format(name=repr(clues.candidates[campaign.id]))
            )
        if campaign.party in clues.parties:
            score += 2
            reasons.append(
                _("names the party {name}").format(name=repr(clues.parties[campaign.party]))
            )
        if not reasons:
            continue
        points, why = _date_score(campaign, when)
        score += points
        if why:
            reasons.append(why)
        matches.append(Match(campaign, score, reasons))
    matches.sort(key=lambda m: (-m.score, m.campaign.date), reverse=False)
    return clues, [m for m in matches if m.score > 0]


def political_senders(registry: Registry) -> list[Broker]:
    """Brokers that documented campaigns used for SMS or voice messages."""
    slugs = {
        c.broker
        for c in registry.campaigns.values()
        if c.broker and {"sms", "voice"} & set(c.channel)
    }
    return [registry.brokers[s] for s in sorted(slugs) if s in registry.brokers]


def suspects(
    registry: Registry, clues: Clues, matches: list[Match]
) -> tuple[list[Suspect], list[Suspect]]:
    """The likely controllers (parties) and brokers, best match first, each with every
    reason that points at it. A campaign whose broker no source names gives slug ""."""
    controllers: dict[str, list[str]] = {}
    brokers: dict[str, list[str]] = {}
    for match in matches:
        campaign = match.campaign
        why = _("campaign {id} ({date}): {reasons}; confidence {confidence}").format(
            id=campaign.id,
            date=campaign.date,
            reasons=_("; ").join(match.reasons),
            confidence=_(CONFIDENCE[match.confidence]),
        )
        if campaign.party:
            controllers.setdefault(campaign.party, []).append(why)
        brokers.setdefault(campaign.broker or "", []).append(why)
    for slug, label in clues.parties.items():
        controllers.setdefault(slug, []).append(
            _("the message names {label}").format(label=repr(label))
        )

    def named(slug: str, reasons: list[str]) -> Suspect:
        name = registry.brokers[slug].name if slug in registry.brokers else ""
        return Suspect(slug, name, list(dict.fromkeys(reasons)))

    return (
        [named(slug, reasons) for slug, reasons in controllers.items()],
        [named(slug, reasons) for slug, reasons in brokers.items()],
    )


def generate_commands(
    slugs: list[str],
    *,
    when: date | None,
    sender: str,
    text: str,
    saved: dict[str, str],
) -> list[str]:
    """`dsar generate` lines that run as pasted: every value quoted for the shell, the
    message's text included. The person's details come from the saved profile, which
    generate reads itself; without a profile the caller says to run `dsar init` first.
    Without a saved e-mail only the PDF is asked for (the e-mail needs one)."""
    common = []
    if when:
        common += ["--sms-date", when.isoformat()]
    if sender:
        common += ["--sms-sender", sender]
    if text:
        common += ["--sms-text", text]
    if saved and not saved.get("email"):
        common += ["--format", "pdf"]
    return [
        shlex.join(["dsar", "generate", "--broker", slug, *common]) for slug in dict.fromkeys(slugs)
    ]
