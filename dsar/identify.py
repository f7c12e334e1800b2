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
# what each level means, said after the suspects (a person read "confiance faible" as
# "probably not" or as "probably": neither)
CONFIDENCE_MEANING = N_(
    "Confidence: high = the message names the candidate or the party and its date matches "
    "a documented campaign; medium = two clues agree; low = one clue only, or a campaign of "
    "another year or sent another way: a lead to check, not a finding. Only high and "
    "medium are proposed; dsar names no party in a letter to a broker on its own guess "
    "(--party-confirmed SLUG names the one you are sure of)."
)


@dataclass
class Suspect:
    """A party or broker identify names, with every reason that points at it."""

    slug: str  # "" for a campaign whose broker no source names
    name: str
    reasons: list[str] = field(default_factory=list)
    likely: bool = False  # proposed: pre-ticked on the page, in the commands, --generate


@dataclass
class Clues:
    """What was read off the message."""

    stop_number: str | None = None
    links: list[str] = field(default_factory=list)
    parties: dict[str, str] = field(default_factory=dict)  # slug -> the words that matched
    coalitions: dict[str, str] = field(default_factory=dict)  # coalition id -> the words
    candidates: dict[str, str] = field(default_factory=dict)  # campaign id -> the name matched


@dataclass
class Match:
    campaign: Campaign
    score: float
    reasons: list[str]
    # a campaign of another year, or sent another way, says little about this message
    remote: bool = False

    @property
    def confidence(self) -> str:
        if self.remote:
            return "low"
        return "high" if self.score >= 5 else "medium" if self.score >= 3 else "low"

    @property
    def likely(self) -> bool:
        return self.confidence != "low"


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


def coalitions_named(registry: Registry, text: str, sender: str) -> dict[str, str]:
    """Alliances (NFP, Ensemble) whose name the message carries: id -> the words."""
    haystack = f" {fold(text)} {fold(sender)} "
    found = {}
    for coalition in registry.coalitions.values():
        for label in (coalition.name, *coalition.aliases):
            if _contains(haystack, label):
                found[coalition.id] = label
                break
    return found


def read_clues(registry: Registry, text: str, sender: str) -> Clues:
    haystack = f" {fold(text)} {fold(sender)} "
    clues = Clues()
    if match := STOP_NUMBER.search(text):
        clues.stop_number = match.group(1)
    clues.links = LINK.findall(text)
    clues.parties = parties_named(registry, text, sender)
    clues.coalitions = coalitions_named(registry, text, sender)
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


def _in_coalition(registry: Registry, clues: Clues, party: str | None) -> str | None:
    """The coalition the message names that this party belongs to, as the message says it."""
    for cid, label in clues.coalitions.items():
        if party in registry.coalitions[cid].members:
            return label
    return None


def identify(
    registry: Registry,
    *,
    text: str = "",
    sender: str = "",
    when: date | None = None,
    channel: str | None = None,
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
        elif label := _in_coalition(registry, clues, campaign.party):
            score += 1  # one party of several: which one, the message does not say
            reasons.append(
                _("its party belongs to the coalition {name} the message names").format(
                    name=repr(label)
                )
            )
        if not reasons:
            continue
        points, why = _date_score(campaign, when)
        score += points
        if why:
            reasons.append(why)
        remote = when is not None and campaign.date[:4] != str(when.year)
        if remote:
            reasons.append(_("a campaign of another year"))
        if channel and campaign.channel and channel not in campaign.channel:
            remote = True
            reasons.append(
                _("sent another way ({channel})").format(channel=", ".join(campaign.channel))
            )
        matches.append(Match(campaign, score, reasons, remote))
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
    reason that points at it. A campaign whose broker no source names gives slug "".
    A suspect is `likely` when a match of medium or high confidence, or the message
    naming the party itself, points at it: only those are proposed (pre-ticked, in the
    commands, written by --generate)."""
    controllers: dict[str, list[str]] = {}
    brokers: dict[str, list[str]] = {}
    likely: set[tuple[str, str]] = set()
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
        if match.likely:
            likely |= {("party", campaign.party or ""), ("broker", campaign.broker or "")}
    for slug, label in clues.parties.items():
        controllers.setdefault(slug, []).append(
            _("the message names {label}").format(label=repr(label))
        )
        likely.add(("party", slug))
    for cid, label in clues.coalitions.items():
        coalition = registry.coalitions[cid]
        said = label if fold(label) == fold(coalition.name) else f"{label} ({coalition.name})"
        for slug in coalition.members:
            controllers.setdefault(slug, []).append(
                _(
                    "the message names {label}, an alliance ({date}: {members}): which of "
                    "its parties or candidates it was sent for, it does not say"
                ).format(
                    label=repr(said),
                    date=coalition.date[:4],
                    members=", ".join(_member_names(registry, coalition)),
                )
            )

    def named(kind: str, slug: str, reasons: list[str]) -> Suspect:
        name = registry.brokers[slug].name if slug in registry.brokers else ""
        return Suspect(slug, name, list(dict.fromkeys(reasons)), (kind, slug) in likely)

    return (
        [named("party", slug, reasons) for slug, reasons in controllers.items()],
        [named("broker", slug, reasons) for slug, reasons in brokers.items()],
    )


def _member_names(registry: Registry, coalition) -> list[str]:
    return [
        registry.brokers[m].name if m in registry.brokers else m for m in coalition.member_names
    ]


def generate_commands(
    slugs: list[str],
    *,
    when: date | None,
    sender: str,
    text: str,
    saved: dict[str, str],
    program: str = "dsar",
) -> list[str]:
    """`dsar generate` lines that run as pasted: every value quoted for the shell, the
    message's text included. The person's details come from the saved profile, which
    generate reads itself; without a profile the caller says to run `dsar init` first.
    Without a saved e-mail only the PDF is asked for (the e-mail needs one). `program`
    is how the person runs dsar (`.venv/bin/dsar` when it is not on the PATH)."""
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
        shlex.join([*shlex.split(program), "generate", "--broker", slug, *common])
        for slug in dict.fromkeys(slugs)
    ]
