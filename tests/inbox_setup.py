"""The requests the inbox corpus answers, and the corpus with their references filled in.

The corpus's messages name requests by placeholders ({REF:slug}, {MSGID:slug}, ...):
a reference is a hash of who, to whom and when, so the test makes the requests first
and then writes each message as the recipient would have answered that request.
"""

from __future__ import annotations

import re
from datetime import date
from email.header import Header
from pathlib import Path

import yaml

from dsar import clock
from dsar.app import App
from dsar.paths import Paths
from dsar.render.mail import message_id_for

CORPUS = Path(__file__).parent / "inbox_corpus"
REGISTRY = CORPUS / "registry.yaml"
LETTER_DAY = date(2026, 9, 1)
SENT_DAY = date(2026, 9, 2)
TODAY = date(2026, 11, 16)  # the day the tests read the mailbox
SUBADDRESSED = ("voixdirecte",)  # asked for answers at camille+dsar-...@example.org
RECIPIENTS = [
    entry["slug"]
    for entry in yaml.safe_load(REGISTRY.read_text())["brokers"]
    if entry["slug"] != "quizworld"  # named as a source, never written to
]


def expected() -> dict[str, dict]:
    return yaml.safe_load((CORPUS / "expected.yaml").read_text())


def make_requests(home: Path, recipients=RECIPIENTS) -> dict[str, dict]:
    """One e-mailed request to each recipient, sent on SENT_DAY: slug -> its facts."""
    made = {}
    with clock.fixed(TODAY), App(Paths.from_env(), registries=[REGISTRY]) as app:
        for slug in recipients:
            result = sent_request(
                app, slug, home / "letters", reply_subaddress=slug in SUBADDRESSED
            )
            request = app.journal.request(result.reference)
            made[slug] = {
                "reference": result.reference,
                "message_id": message_id_for(request),
                "subject": result.letter.subject,
            }
    return made


def sent_request(app: App, slug: str, out_dir: Path, **details):
    """One e-mailed request of LETTER_DAY to `slug`, sent on SENT_DAY; `details`: other
    than Camille Martin's (name, phone, email, right...)."""
    result = app.generate(
        slug,
        **{
            "name": "Camille Martin",
            "phone": "06 12 34 56 78",
            "email": "camille@example.org",
            "sms_date": "2024-06-06",
            "sms_sender": "Parti Exemple",
            **details,
        },
        formats=("email",),
        out_dir=out_dir,
        letter_date=LETTER_DAY,
    )
    request = app.journal.request(result.reference)
    app.sent(result.reference, SENT_DAY, message_id=message_id_for(request))
    return result


def fill(data: bytes, made: dict[str, dict]) -> bytes:
    """A corpus message as it came back for these requests."""

    def value(found: re.Match) -> bytes:
        what, slug = found.group(1).decode(), found.group(2).decode()
        facts = made[slug]
        reference = facts["reference"]
        return {
            "REF": reference,
            "LOWREF": reference.lower().removeprefix("dsar-"),
            "UPREF": reference.removeprefix("DSAR-"),
            "MSGID": facts["message_id"],
            "SUBJECT": Header(facts["subject"], "utf-8").encode(),
        }[what].encode()

    return re.sub(rb"\{(REF|LOWREF|UPREF|MSGID|SUBJECT):([a-z-]+)\}", value, data)


def write_corpus(folder: Path, made: dict[str, dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for message in sorted((CORPUS / "messages").glob("*.eml")):
        (folder / message.name).write_bytes(fill(message.read_bytes(), made))
    return folder
