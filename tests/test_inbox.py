"""dsar inbox on the corpus of replies (tests/inbox_corpus): each message's request, kind,
how it matched and whether it was applied; evidence kept; nothing recorded twice; the
person's review; hostile messages."""

from __future__ import annotations

import json
import mailbox
import os
import sqlite3
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from dsar import clock
from dsar.app import App
from dsar.cli import cli
from dsar.inbox import apply
from dsar.paths import Paths
from tests.inbox_setup import (
    CORPUS,
    REGISTRY,
    TODAY,
    expected,
    make_requests,
    sent_request,
    write_corpus,
)


@pytest.fixture
def corpus(tmp_path, dsar_home):
    made = make_requests(tmp_path)
    return made, write_corpus(tmp_path / "replies", made)


def inbox(runner, *args, input=None):
    with clock.fixed(TODAY):
        return runner.invoke(cli, ["inbox", *args, "--registry", str(REGISTRY)], input=input)


def read_json(runner, *args) -> list[dict]:
    result = inbox(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def journal(dsar_home) -> sqlite3.Connection:
    db = sqlite3.connect(dsar_home / "journal.sqlite3")
    db.row_factory = sqlite3.Row
    return db


def entry(reference: str):
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        return app.journal.entry(reference)


def test_every_corpus_reply_finds_its_request_and_kind(runner, corpus):
    made, folder = corpus
    by_reference = {facts["reference"]: slug for slug, facts in made.items()}
    want = expected()
    assert len(want) >= 60
    outcomes = read_json(runner, str(folder))
    assert len(outcomes) == len(want)
    found = {
        Path(o["where"]).name: {
            "reference": by_reference.get(o["reference"]),
            "kind": o["kind"],
            "matched_by": o["matched_by"],
            "applied": o["applied"],
        }
        for o in outcomes
    }
    assert found == want
    for outcome in outcomes:
        assert set(outcome) >= {
            "message_id",
            "reference",
            "matched_by",
            "kind",
            "evidence",
            "applied",
        }
        if outcome["kind"] != "other":
            assert outcome["evidence"], outcome["where"]  # the words that decided are shown


def test_corpus_covers_french_and_english_and_every_kind(corpus):
    from dsar.inbox.meaning import KINDS

    assert {facts["kind"] for facts in expected().values()} == set(KINDS)

    def opening(name: str) -> bytes:  # the first line of the text, after the headers
        return (CORPUS / "messages" / name).read_bytes().split(b"\n\n", 1)[1].lstrip()[:12]

    english = [n for n in expected() if opening(n).startswith((b"Dear", b"Hello", b"Thank"))]
    french = [n for n in expected() if opening(n).startswith((b"Madame", b"Bonjour"))]
    assert len(english) >= 12 and len(french) >= 30


def test_facts_applied_at_once_and_only_those(runner, corpus, dsar_home):
    made, folder = corpus
    result = inbox(runner, str(folder))
    assert result.exit_code == 0, result.output
    # an acknowledgement's date is the receipt: the deadline runs from it
    telemarket = entry(made["telemarket"]["reference"])
    assert telemarket.received_on == date(2026, 9, 3)
    assert telemarket.stored_state == "received"
    # the second acknowledgement changes nothing; an extension waits for the person
    assert entry(made["datacontact"]["reference"]).received_on == date(2026, 9, 3)
    assert telemarket.extended_on is None
    # a bounce: not delivered, and the other contacts said
    assert entry(made["contactlab"]["reference"]).stored_state == "undelivered"
    assert "10 rue de l'Exemple" in result.output
    # a phish naming a reference from an unrelated domain is never applied
    assert entry(made["sondage-express"]["reference"]).received_on == date(2026, 9, 22)
    # the bounce of an old address of a recipient whose acknowledgement came: waits
    assert entry(made["horizon"]["reference"]).stored_state == "received"
    assert "62 messages" in result.output and "3 unmatched" in result.output


def test_every_message_and_attachment_is_kept_privately_by_content(runner, corpus, dsar_home):
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    kept = dsar_home / "attachments"
    messages = list(kept.glob("*-message.eml"))
    assert len(messages) == 62
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in kept.iterdir())
    csv = next(kept.glob("*-export-donnees.csv"))
    assert b"QuizWorld" in csv.read_bytes()
    # the message's files are linked to its request, for the dossier: a bounce (our own
    # message returned) as the delivery report it is, never as the recipient's reply
    db = journal(dsar_home)
    linked = db.execute(
        "SELECT path FROM files WHERE reference = ? AND role = 'bounce'",
        (made["publicom"]["reference"],),
    ).fetchall()
    assert len(linked) == 1 and Path(linked[0][0]).exists()


def test_running_again_records_nothing_twice(runner, corpus, dsar_home):
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    db = journal(dsar_home)
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("events", "files")]
    kept = sorted(p.name for p in (dsar_home / "attachments").iterdir())
    again = read_json(runner, str(folder))
    assert again == []
    assert [
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("events", "files")
    ] == counts
    assert db.execute("SELECT count(*) FROM inbox_messages").fetchone()[0] == 62
    assert sorted(p.name for p in (dsar_home / "attachments").iterdir()) == kept
    # the same message under another file name (another copy of the mailbox): seen
    copy = folder / "zz-copy.eml"
    copy.write_bytes((folder / "13-id-datacontact-card.eml").read_bytes() + b"\n")
    assert read_json(runner, str(copy)) == []


def test_dry_run_records_nothing(runner, corpus, dsar_home):
    made, folder = corpus
    outcomes = read_json(runner, str(folder), "--dry-run")
    assert sum(o["applied"] for o in outcomes) == 13
    assert not (dsar_home / "attachments").exists()
    assert entry(made["telemarket"]["reference"]).received_on is None
    db = journal(dsar_home)
    assert (
        db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'inbox_messages'").fetchone()[0]
        == 0
    )


def test_mbox_and_maildir_are_read_in_place(runner, corpus, tmp_path):
    made, folder = corpus
    box = mailbox.mbox(tmp_path / "replies.mbox")
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    names = sorted(folder.glob("*.eml"))
    for path in names[:30]:
        box.add(path.read_bytes())
    for path in names[30:]:
        maildir.add(path.read_bytes())
    box.close()
    before = (tmp_path / "replies.mbox").read_bytes()
    first = read_json(runner, str(tmp_path / "replies.mbox"))
    second = read_json(runner, str(tmp_path / "Maildir"))
    assert len(first) == 30 and len(second) == len(names) - 30
    assert (tmp_path / "replies.mbox").read_bytes() == before


def test_review_confirms_changes_and_skips(runner, corpus, dsar_home):
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        waiting = apply.pending(app)
    # 46 to review and 3 unmatched: out-of-office replies, a webmail answer at the
    # sub-address and a bounce from a mail system neither side's wait for the person
    assert len(waiting) == 49
    by_file = {Path(item["source"]).name: item for item in waiting}
    # answer the first three in the order shown: identity (confirm), extension in time
    # (confirm), extension late (confirm); then quit
    order = [Path(item["source"]).name for item in waiting]
    assert order[:7] == [
        "06-ooo-infomedia-fr.eml",
        "07-ooo-callnow-en.eml",
        "08-ack-sondage-freshdesk-unrelated.eml",
        "12-ack-voixdirecte-via-subaddress.eml",
        "13-id-datacontact-card.eml",
        "14-id-leadgen-passport.eml",
        "15-id-megastore-photo.eml",
    ]
    result = inbox(runner, "--review", input="s\ns\ns\ns\nc\nk\nrefusal\nc\nc\nq\n")
    assert result.exit_code == 0, result.output
    assert "dsar reply-id" in result.output  # the next action proposed
    assert entry(made["datacontact"]["reference"]).stored_state == "id-requested"
    assert entry(made["leadgen"]["reference"]).stored_state == "refused"
    assert entry(made["megastore"]["reference"]).stored_state == "id-requested"
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        left = {Path(item["source"]).name for item in apply.pending(app)}
    assert "08-ack-sondage-freshdesk-unrelated.eml" not in left  # skipped
    assert "16-extension-telemarket-in-time.eml" in left
    assert by_file["16-extension-telemarket-in-time.eml"]["kind"] == "extension"


@pytest.mark.parametrize(
    ("slug", "message", "counts"),
    [
        ("telemarket", "16-extension-telemarket-in-time.eml", True),
        ("leadgen", "17-extension-leadgen-late.eml", False),
    ],
)
def test_confirmed_extension_is_in_time_or_late(runner, corpus, slug, message, counts):
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    with clock.fixed(TODAY), App(Paths.from_env(), registries=[REGISTRY]) as app:
        item = next(i for i in apply.pending(app) if Path(i["source"]).name == message)
        apply.confirm(app, item["id"], "extension")
        found = app.journal.entry(made[slug]["reference"])
    assert found.extension_counts is counts  # Art. 12(3): notified within the first month


def test_confirmed_source_named_proposes_the_next_request(runner, corpus):
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    with clock.fixed(TODAY), App(Paths.from_env(), registries=[REGISTRY]) as app:
        item = next(
            i for i in apply.pending(app) if Path(i["source"]).name == "22-source-parti-exemple.eml"
        )
        # the organisation as the reply wrote it: the next letter quotes it so
        assert item["facts"]["organisation"] == "DataContact"
        assert apply.confirm(app, item["id"], item["kind"]) == "answered"
        reference = made["parti-exemple"]["reference"]
        assert f"dsar follow {reference} --to datacontact" in apply.next_action(
            app, made["parti-exemple"]["reference"], item["facts"]
        )


def test_unmatched_message_gets_its_reference_from_the_person(runner, corpus):
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    reference = made["annuaires-plus"]["reference"]
    with App(Paths.from_env(), registries=[REGISTRY]) as app:
        order = [Path(i["source"]).name for i in apply.pending(app)]
    skips = order.index("44-friend-unrelated.eml")
    keys = "s\n" * skips + f"r\n{reference.lower()}\nk\nanswer\nc\nq\n"
    result = inbox(runner, "--review", input=keys)
    assert result.exit_code == 0, result.output
    assert entry(reference).stored_state == "answered"


def test_summary_per_member_of_an_association():
    outcomes = [
        apply.Outcome(
            None,
            "R1",
            "in-reply-to",
            "acknowledgement",
            [],
            True,
            "applied",
            "x",
            recipient="datacontact",
            member="Camille Martin",
        ),
        apply.Outcome(
            None,
            "R2",
            "reference",
            "refusal",
            [],
            False,
            "review",
            "y",
            recipient="datacontact",
            member="Jean Dupont",
        ),
        apply.Outcome(None, None, None, "other", [], False, "unmatched", "z"),
    ]
    groups = apply.summary(outcomes)
    assert groups["*"] == {"messages": 3, "acknowledgement": 1, "review": 1, "unmatched": 1}
    assert groups["datacontact"]["messages"] == 2
    assert groups["member:Jean Dupont"] == {"messages": 1, "review": 1}


# ------------------------------------------------------------------ hostile messages


def _hostile_messages(folder: Path, reference: str) -> None:
    folder.mkdir()
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(10_000))
    (folder / "many-parts.eml").write_bytes(
        (
            "From: a@datacontact.example\r\nSubject: parts\r\nMessage-ID: <p@x>\r\n"
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + "--b--\r\n"
        ).encode()
    )
    nested = f"Subject: inner\r\n\r\n{reference}\r\n"
    for depth in range(50):
        nested = f"Message-ID: <n{depth}@x>\r\nContent-Type: message/rfc822\r\n\r\n" + nested
    (folder / "nested.eml").write_bytes(("From: b@example.net\r\n" + nested).encode())
    (folder / "big-header.eml").write_bytes(
        b"From: c@example.net\r\nMessage-ID: <h@x>\r\nX-Big: "
        + b"a" * (1 << 20)
        + b"\r\nSubject: =?utf-8?q?caf=E9?= \xff\xfe\r\n\r\nbody\r\n"
    )
    (folder / "charset.eml").write_bytes(
        b"From: d@example.net\r\nMessage-ID: <c@x>\r\nContent-Type: text/plain; charset=klingon\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\xe9\r\n"
    )
    message = EmailMessage()
    message["From"] = "e@example.net"
    message["Message-ID"] = "<z@x>"
    message.set_content("see attached")
    message.add_attachment(
        b"%PDF-1.7\n" + b"\x00" * 5000, "application", "pdf", filename="../../evil.pdf"
    )
    (folder / "attachment.eml").write_bytes(message.as_bytes())


def test_hostile_messages_are_read_without_a_traceback(runner, corpus, tmp_path, dsar_home):
    made, _folder = corpus
    folder = tmp_path / "hostile"
    _hostile_messages(folder, made["datacontact"]["reference"])
    outcomes = read_json(runner, str(folder))
    assert len(outcomes) == 5
    nested = next(o for o in outcomes if o["where"].endswith("nested.eml"))
    assert nested["reference"] is None or nested["trusted"] is False
    kept = dsar_home / "attachments"
    evil = list(kept.glob("*evil.pdf"))
    assert len(evil) == 1 and evil[0].parent == kept  # a name, never a path
    assert os.stat(evil[0]).st_mode & 0o777 == 0o600


def test_a_folded_message_id_is_known_on_the_second_run(runner, corpus, tmp_path):
    made, folder = corpus
    message = folder / "08-ack-sondage-freshdesk-unrelated.eml"
    assert b"Message-ID: \n <" in message.read_bytes()  # folded, as the corpus has it
    assert len(read_json(runner, str(message))) == 1
    copy = tmp_path / "copy.eml"  # the same message, a byte more: known by its Message-ID
    copy.write_bytes(message.read_bytes() + b"\n")
    assert read_json(runner, str(copy)) == []


def test_reply_subaddress_is_opt_in_remembered_and_matched_first(runner, tmp_path, dsar_home):
    from tests.conftest import parse_eml

    assert (
        runner.invoke(
            cli,
            [
                "init",
                "--name",
                "Camille Martin",
                "--email",
                "camille@example.org",
                "--phone",
                "06 12 34 56 78",
                "--reply-subaddress",
            ],
        ).exit_code
        == 0
    )
    with clock.fixed(TODAY):
        made = runner.invoke(
            cli,
            [
                "generate",
                "--registry",
                str(REGISTRY),
                "--broker",
                "leadgen",
                "--format",
                "email,text",
                "--out",
                str(tmp_path / "letters"),
            ],
        )
    assert made.exit_code == 0, made.output
    eml = next((tmp_path / "letters").glob("*.eml"))
    message = parse_eml(eml.read_bytes())
    reference = message["X-DSAR-Reference"]
    sub = f"camille+{reference.lower()}@example.org"
    assert message["Reply-To"].addresses[0].addr_spec == sub
    assert message["From"].addresses[0].addr_spec == "camille@example.org"
    assert sub in made.output  # the letter asks for the answer there too
    # saved details kept when the choice alone changes
    assert runner.invoke(cli, ["init", "--no-reply-subaddress"]).exit_code == 0
    assert "reply_subaddress" not in (dsar_home / "profile.yaml").read_text()
    assert "Camille Martin" in (dsar_home / "profile.yaml").read_text()
    # an answer from a webmail, no reference, no In-Reply-To: found by its address
    answer = tmp_path / "answer.eml"
    answer.write_bytes(
        f"From: LeadGen <leadgen.privacy@gmail.com>\nTo: {sub}\nSubject: your data\n"
        "Message-ID: <a1@mail.gmail.com>\nDate: Mon, 02 Nov 2026 10:00:00 +0000\n\n"
        "Please find attached a copy of your data.\n".encode()
    )
    with clock.fixed(TODAY):
        runner.invoke(cli, ["sent", reference, "--on", "2026-11-01"])
    (outcome,) = read_json(runner, str(answer))
    assert (outcome["reference"], outcome["matched_by"]) == (reference, "subaddress")


def test_erasure_alone_does_not_answer_a_request_that_asked_access_first(runner, corpus, tmp_path):
    """A reply that only confirms the erasure leaves the access part (the source first)
    unanswered: partial, Art. 15 missing; to an erasure-only request it is the answer."""
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    with clock.fixed(TODAY), App(Paths.from_env(), registries=[REGISTRY]) as app:
        erasure_only = sent_request(
            app, "megastore", tmp_path / "erasure-only", right="erasure"
        ).reference
        by_name = {Path(i["source"]).name: i for i in apply.pending(app)}
        both = by_name["36-erased-telemarket.eml"]
        assert both["kind"] == "erasure-confirmed"
        assert apply.confirm(app, both["id"], "erasure-confirmed") == "partial"
        reference = made["telemarket"]["reference"]
        assert app.journal.entry(reference).stored_state == "partial"
        assert "source" in app.journal.missing(reference)
        other = by_name["37-erased-megastore-en.eml"]
        assert apply.confirm(app, other["id"], "erasure-confirmed", erasure_only) == "answered"
        assert app.journal.missing(erasure_only) == []
