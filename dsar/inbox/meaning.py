"""What a reply means, by rules a person can read: French and English words, and the
headers mail systems set (RFC 3834 auto-replies, RFC 3464 delivery reports).

Each rule returns the words or the header that decided, shown to the person; nothing is
sent anywhere. The first rule that fires wins, in the order of RULES: a bounce before
anything (nothing was received), a demand or a refusal before the words of politeness
around it, an acknowledgement last among the replies (most answers also thank).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from .parse import Reply

KINDS = (
    "acknowledgement",
    "bounce",
    "identity-request",
    "extension",
    "answer",
    "partial",
    "refusal",
    "processor",
    "source-named",
    "recipient-named",
    "erasure-confirmed",
    "other",
)


@dataclass
class Meaning:
    kind: str
    evidence: list[str] = field(default_factory=list)
    day: date | None = None  # receipt (acknowledgement) or notice (extension)
    failed: list[str] = field(default_factory=list)  # a bounce's failed addresses
    reason: str = ""  # a bounce's diagnostic
    organisation: str = ""  # the controller, source or recipient named
    said: str = ""  # the sentence that named it, as written (a next letter quotes it)
    receipt: bool = False  # an acknowledgement that says the request was received


def plain(text: str) -> str:
    """Lower case without accents: 'Pièce d'identité' and 'piece d'identite' read alike."""
    text = text.lower().replace("’", "'").replace("«", '"').replace("»", '"')
    if text.isascii():
        return text
    # the accents split off, then dropped with whatever else is not ASCII (rules are ASCII)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


# where the quoted request starts: its words (accès, sources, effacement) are not the reply's
_QUOTE_START = re.compile(
    r"^\s*(>|-{2,}\s*(original message|message d'origine|message original)|"
    r"(le|on) .{0,120}(a ecrit|wrote)\s*:|(de|from)\s*:.*@)",
    re.M,
)


def fresh_text(text: str) -> str:
    """The reply's own words, as written: the lines before the quoted message."""
    lines = []
    for line in text.splitlines():
        if _QUOTE_START.match(plain(line)):
            break
        lines.append(line)
    return "\n".join(lines)


def _words(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


IDENTITY = _words(
    r"(copie|photocopie|scan)s? (de |d'une |de votre )?(piece|carte) d'identite",
    r"piece d'identite",
    r"carte (nationale )?d'identite",
    r"justificatif d'identite",
    r"verifier votre identite",
    r"passeport",
    r"(copy|scan|proof) of (your |a )?(id|identity|passport|identification)",
    r"(id card|identity card|identity document|photo id)",
    r"verify your identity",
)
EXTENSION = _words(
    r"prolong\w* (le|ce|notre) delai",
    r"delai (de reponse )?(est |sera )?(prolonge|porte)",
    r"(deux|2) mois supplementaires",
    r"(two|2) (additional|further|more) months",
    r"extend\w* (the |our |this )?(deadline|period|time limit|response time)",
    r"article 12\s?\(?3\)?.{0,80}(prolong|extend)",
)
PROCESSOR = _words(
    r"(en (notre |tant que |qualite de )?)sous-traitant",
    r"agissons (uniquement )?(pour le compte|sur instruction)",
    r"(acting|act) (only |solely )?(as a |as )?(data )?processor",
    r"we are (only |merely )?a (data )?processor",
    r"on behalf of (our|its) (client|customer)",
)
REFUSAL = _words(
    r"ne (pouvons|pourrons) (pas )?(donner suite|faire droit|repondre favorablement)",
    r"(rejetons|refusons) votre demande",
    r"(refusons|refusera|refuse) de (donner suite|faire droit|repondre|traiter)",
    r"(estimons|jugeons|considerons|parait|semble) (comme )?(abusive|manifestement)",
    r"demande (est )?(rejetee|refusee|irrecevable|manifestement (infondee|excessive))",
    r"(unable|cannot|can't|will not|won't) (to )?(comply|fulfil|fulfill|action|process) (with )?your request",
    r"(refuse|reject|decline)\w* your request",
    r"manifestly unfounded",
)
ERASED = _words(
    r"(donnees|coordonnees|numero|informations) (ont ete|a ete) (supprime|efface)",
    r"(supprime|efface)\w* (de nos|definitivement)",
    r"(have been|has been|were) (permanently )?(deleted|erased|removed)",
    r"we (have )?(deleted|erased) your",
)
SOURCE = re.compile(
    r"(obtenu|collecte|recupere|achete|acquis|loue|fourni|transmis)\w* (vos donnees |votre numero |"
    r"ces donnees |vos coordonnees )?(aupres|par l'intermediaire|par|de la part|via)( de| du| des)? "
    r"(?P<org>[^\n.,;:()]{2,80})"
    r"|(?:provien\w+|issu\w*) (?:de|du|des) (?:la )?(?:societe |site |partenaire )?(?P<org2>[^\n.,;:()]{2,80})"
    r"|(?:obtained|collected|received|purchased|sourced) (?:your (?:data|number|details) )?"
    r"(?:from|via|through) (?P<org3>[^\n.,;:()]{2,80})"
    r"|(?:came|comes) from (?P<org4>[^\n.,;:()]{2,80})"
)
RECIPIENT = re.compile(
    r"(?:communique|transmis|cede|partage|vendu)\w* (?:vos donnees |votre numero |ces donnees )?"
    r"(?:a|aux|au) (?:la societe |notre client |nos clients? )?(?P<org>[^\n.,;:()]{2,80})"
    r"|(?:shared|disclosed|sold|passed|transferred) (?:your (?:data|number|details) )?(?:with|to) "
    r"(?P<org2>[^\n.,;:()]{2,80})"
)
CLIENT = re.compile(
    r"(?:pour le compte (?:de|du|des)|notre client,?|du responsable (?:du|de) traitement,?|"
    r"controller,? (?:is )?|on behalf of (?:our|its) (?:client|customer),?|on behalf of|"
    r"our client,?) (?P<org>[^\n.,;:()]{2,80})"
)
PARTIAL = _words(
    r"(reponse|communication) partielle",
    r"(une partie|certaines) (de vos|des) (donnees|informations)",
    r"partial (answer|response|copy)",
    r"(some|part) of (your|the) (data|information)",
    r"(ne sommes pas en mesure|not able) (de vous communiquer|to provide) (la source|the source)",
)
ANSWER = _words(
    r"(ci-joint|ci-jointe|en piece jointe|vous trouverez).{0,80}(donnees|informations|extraction|export|copie)",
    r"(attached|please find|enclosed).{0,80}(data|information|export|copy)",
    r"(voici|here (is|are)) (les|vos|your|the) (donnees|data|information)",
    r"nous ne (detenons|disposons|traitons) (aucune|pas de) (donnee|information)",
    r"we (do not|don't) (hold|have|process) any (personal )?(data|information)",
)
ACKNOWLEDGED = _words(
    r"accus\w* (bonne )?(de )?reception",
    r"(nous avons|avons) bien (recu|pris en compte|enregistre)",
    r"votre (demande|message|courriel) (a bien ete|a ete) (recu|enregistre|pris en compte)",
    r"(we have|we've) received your (request|message|email|e-mail)",
    r"(thank you|thanks) for (your|contacting).{0,60}(we will|we'll)",
    r"(numero de |n° de )?(ticket|dossier|case|request) (number|numero|n°|#|id)",
)
# an out-of-office says nobody read the request: no receipt, the person judges
AWAY = _words(
    r"(absent|out of (the )?office|en conges|absente?) (jusqu'|until|du )",
    r"(je suis|i am) (actuellement )?(absent|out of (the )?office|en conges)",
)
SPAM = _words(
    r"(viagra|casino|crypto(currency)?|bitcoin|lottery|loterie|gagnant|you have won|vous avez gagne)",
    r"(unsubscribe|se desinscrire|desabonner).{0,200}$",
)

_WORD = re.compile(r"\S+")


# what comes before a name ("la societe", "notre partenaire", "son client") and what
# follows it ("dans le cadre", "le 2 mai 2026"): never part of the organisation's name
_DETERMINER = re.compile(  # whole words only: "a" is not the A of "Assurances Horizon"
    r"^(?:(?:la|le|les|un|une|des|du|de la|de|notre|nos|son|sa|ses|leur|leurs|votre|"
    r"the|our|its|their|a|an)\s+|l['’]\s*)?"
    r"(?:(?:societe|site|partenaire|client|entreprise|marque|prestataire|annonceur|"
    r"company|partner|customer|website|firm|advertiser)s?(?:\s+|$))?"
)
_TAIL = re.compile(
    r"\s(?:dans|le \d|la \d|en \d|du \d|depuis|pour|aupres|ou|qui|que|lors|avec|afin|"
    r"dont|sur|via|in|on \d|for|when|which|who|under|as|and|et)\b.*$"
)


def organisation_name(words: str) -> str:
    """An organisation's name in the words a rule caught (folded): no article, no
    "societe"/"partenaire", no clause or date after it; "" when nothing is left."""
    name = _TAIL.sub("", " ".join(words.strip(" '\"«»").split()))
    name = _DETERMINER.sub("", name, count=1).strip(" '\"«»")
    return " ".join(name.split()[:6])


def _org(found: re.Match) -> str:
    """The organisation a phrase names, capitals as they came (classify)."""
    return organisation_name(next((v for k, v in found.groupdict().items() if v), ""))


def _auto(reply: Reply) -> str | None:
    """RFC 3834 and the headers CRMs and Exchange set on their automatic replies."""
    auto = reply.headers.get("Auto-Submitted", "").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if name in reply.headers:
            return f"{name}: {reply.headers[name]}"
    if reply.headers.get("Precedence", "").lower() == "auto_reply":
        return "Precedence: auto_reply"
    return None


def _bounce(reply: Reply) -> Meaning | None:
    failed = [d for d in reply.deliveries if d.action == "failed" or d.status.startswith("5")]
    if failed:
        first = failed[0]
        return Meaning(
            "bounce",
            [
                "multipart/report; report-type=delivery-status"
                if reply.report_type == "delivery-status"
                else "message/delivery-status",
                f"Action: {first.action}; Status: {first.status}",
            ],
            day=reply.day,
            failed=sorted({d.recipient for d in failed}),
            reason=first.diagnostic or first.status,
        )
    if reply.bounced:
        reason = _diagnostic(reply.text)
        return Meaning(
            "bounce",
            [f"delivery failure from {reply.sender or 'the mail system'}: {reply.subject}"],
            day=reply.day,
            failed=reply.bounced,
            reason=reason,
        )
    return None


_DIAGNOSTIC = re.compile(
    r"((?:5\d\d[ -]\d\.\d\.\d+|5\.\d\.\d+|550|551|552|553|554)[^\n]{0,160})", re.I
)


def _diagnostic(text: str) -> str:
    found = _DIAGNOSTIC.search(text)
    return found.group(1).strip() if found else ""


def classify(reply: Reply) -> Meaning:
    """The kind of a reply and the words that decided it; its day is the message's."""
    found = _classify(reply)
    found.day = reply.day
    if found.kind in ("source-named", "processor", "recipient-named", "refusal"):
        # the rules read folded words: a letter quotes them as written (a refusal's in the
        # CNIL complaint, with the sentence after it, where its reasons usually are)
        text = fresh_text(f"{reply.subject}\n{reply.text}")
        decisive = next(filter(None, (as_written(text, w) for w in found.evidence)), None)
        found.organisation = as_written(text, found.organisation) or found.organisation
        reasons = found.kind == "refusal"
        found.said = (
            _sentence(text, decisive, found.organisation, reasons)[:600] if decisive else ""
        )
    return found


def _folded_with_index(text: str) -> tuple[str, list[int]]:
    """plain() char by char, with where each folded character came from."""
    out, index = [], []
    for position, char in enumerate(text):
        for piece in plain(char):
            out.append(piece)
            index.append(position)
    return "".join(out), index


def as_written(text: str, words: str) -> str | None:
    """`words` (folded, as the rules matched them) found in `text`, as written there."""
    folded, index = _folded_with_index(text)
    at = folded.find(words) if words else -1
    if at < 0:
        return None
    return text[index[at] : index[at + len(words) - 1] + 1]


_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


def _sentence(text: str, words: str, organisation: str = "", reasons: bool = False) -> str:
    """The sentence of `text` that holds `words`, and the next one when it names the
    same organisation or qualifies it, or (`reasons`) whatever it says, on the same line:
    a quote keeps its context. A dot inside a word ("CM.com") ends nothing: only a dot
    before a space does."""
    at = text.find(words)
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
    start = starts[-1] if starts else 0
    ends = [m.end() for m in _SENTENCE_END.finditer(text, at + len(words))]
    end = ends[0] if ends else len(text)
    if len(ends) > 1 and text[ends[0] : ends[0] + 1] != "\n":
        following = text[end : ends[1]]
        said = plain(following)
        if (
            reasons
            or (organisation and plain(organisation) in said)
            or re.match(r"\s*(?:elle|il|ce|cette|cet|ces|it|they|this|these)\b", said)
        ):
            end = ends[1]
    return " ".join(text[start:end].split())


# "ne nous a pas été fourni par X", "not obtained from X", "et non par X": a name the
# answer denies is no source (a follow-up would tell X its data came from it)
DENIAL = re.compile(
    r"(?:\bn'|\bne\b)[^.;:!?]{0,40}\b(?:pas|jamais|point|aucun\w*)\b[^.;:!?]{0,40}$"
    r"|\b(?:not|never)\b[^.;:!?]{0,30}$|\bet non\b[^.;:!?]{0,10}$"
)


def _denied(words: str, found: re.Match) -> bool:
    """Whether the words just before the match deny it (same clause, a few words)."""
    return bool(DENIAL.search(words[max(0, found.start() - 60) : found.start()]))


def _classify(reply: Reply) -> Meaning:
    bounce = _bounce(reply)
    if bounce:
        return bounce
    words = plain(fresh_text(f"{reply.subject}\n{reply.text}"))
    spam = reply.headers.get("X-Spam-Flag", "").lower() == "yes"
    if spam or (SPAM.search(words) and not reply.in_reply_to):
        found = SPAM.search(words)
        return Meaning("other", ["X-Spam-Flag: YES" if spam else found.group(0)[:60]])
    auto = _auto(reply)
    rules = (
        ("identity-request", IDENTITY),
        ("extension", EXTENSION),
        ("processor", PROCESSOR),
        ("refusal", REFUSAL),
    )
    if not auto:  # an automatic reply's "we may extend" or "send your ID" is boilerplate
        for kind, pattern in rules:
            found = pattern.search(words)
            if found:
                meaning = Meaning(kind, [found.group(0)], day=reply.day)
                if kind == "processor":
                    client = CLIENT.search(words)
                    meaning.organisation = _org(client) if client else ""
                    if client:
                        meaning.evidence.append(client.group(0))
                return meaning
        for kind, pattern in (("source-named", SOURCE), ("recipient-named", RECIPIENT)):
            found = next((m for m in pattern.finditer(words) if not _denied(words, m)), None)
            if found:
                return Meaning(kind, [found.group(0)], day=reply.day, organisation=_org(found))
        found = ERASED.search(words)
        if found:
            return Meaning("erasure-confirmed", [found.group(0)], day=reply.day)
        found = PARTIAL.search(words)
        if found:
            return Meaning("partial", [found.group(0)], day=reply.day)
        found = ANSWER.search(words)
        if found or reply.attachments:
            evidence = [found.group(0)] if found else []
            evidence += [f"attachment: {a.name}" for a in reply.attachments[:5]]
            return Meaning("answer", evidence, day=reply.day)
    found = ACKNOWLEDGED.search(words)
    away = AWAY.search(words)
    if auto or found or away:
        evidence = [e for e in (auto, found or away) if e]
        evidence = [e if isinstance(e, str) else e.group(0) for e in evidence]
        return Meaning("acknowledgement", evidence, day=reply.day, receipt=bool(found))
    return Meaning("other", [])
