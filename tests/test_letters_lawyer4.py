"""The letters as a broker's lawyer read them (fourth review): a refusal's words in the
CNIL complaint (the answer's own, quoted with its day and author, or the person's
summary, said so), nothing said joined that the dossier does not join, and no advice to
write to an organisation already written to about the same message. Real replies read
by the inbox, real SQLite, real PDFs read back, the command line and the page."""

from __future__ import annotations

import re
from datetime import date

import pytest

from dsar.app import App
from dsar.cli import cli
from dsar.inbox import apply, sources
from dsar.paths import Paths

from . import test_follow
from .conftest import flat, ok, page_client, pdf_text
from .test_follow import PERSON, REGISTRY, reply, sent
from .test_follow_review import MORE, registry_file  # noqa: F401 (fixture)
from .test_letters_lawyer3 import complaint_after

app = test_follow.app  # its fixture, on test_follow_review's registry

pytestmark = pytest.mark.today("2026-12-03")

# what a broker's refusal says, and what an attacker may slip into it: template code
# and markup are words, never run or drawn
REFUSAL = (
    "Nous refusons de donner suite à votre demande. Elle nous paraît manifestement "
    "excessive {{ 7*7 }} <b>au regard</b> de nos obligations.\nBien à vous,"
)


def read_and_confirm(app, folder, reference, sender, day, words) -> dict:
    """The recipient's reply read by dsar inbox and confirmed as read in the review."""
    reply(folder, app, reference, sender, day, words)
    apply.read(app, sources.read_files(folder))
    (item,) = apply.pending(app)
    apply.confirm(app, item["id"], item["kind"])
    return item


def refused_by_the_inbox(
    app, tmp_path, words: str = REFUSAL, sender="donnees@parti-exemple.example", **more
):
    """A request to Parti Exemple, sent, then its refusal read by dsar inbox from the
    party's own address and confirmed in the review."""
    first = app.generate(
        "parti-exemple", **PERSON, **more, formats="pdf,email", out_dir=tmp_path / "first",
        letter_date="2026-09-01",
    )  # fmt: skip
    sent(app, first.reference, "2026-09-02")
    item = read_and_confirm(app, tmp_path / "mail", first.reference,
                            sender, date(2026, 9, 21), words)  # fmt: skip
    assert item["kind"] == ("refusal" if words == REFUSAL else "source-named")
    return first


def test_a_refusal_read_by_the_inbox_is_quoted_in_the_complaint_with_its_day_and_author(
    app, tmp_path
):
    """Item 1: the complaint said « ses motifs ne sont pas repris ici » although the
    inbox had read them; now the answer's words are an extract, whose and of what day,
    bounded and shown as text."""
    first = refused_by_the_inbox(app, tmp_path)
    result = app.complain(first.reference, out_dir=tmp_path / "cnil", on="2026-10-30")
    text = flat(pdf_text(next(p for p in result.written if "dossier" not in p.name).read_bytes()))
    assert (
        "Extrait de la réponse de Parti Exemple du 21 septembre 2026 : « Nous refusons de "
        "donner suite à votre demande. Elle nous paraît manifestement excessive {{ 7*7 }} "
        "<b>au regard</b> de nos obligations. »"
    ) in text
    assert "Bien à vous" not in text  # the sentence and its reasons, not the signature
    assert "49" not in text.split("Extrait de la réponse")[1][:300]  # never run as a template
    assert "ses motifs ne sont pas repris ici" not in text
    assert "Selon ma lecture" not in text  # the answer's words, not a summary
    assert (
        "la réponse n’est pas jointe (pièce non jointe) ; un extrait en est cité ci-dessus, qui "
        "peut ne pas en reprendre tous les motifs" in text
    )


def test_a_typed_refusal_note_stays_the_persons_summary_and_is_said_so_in_the_breaches(
    runner, tmp_path
):
    """Item 1, a note typed with dsar answer: their summary in the facts, and the breach
    no longer says the reasons are not given here."""
    refused = ["answer", "REF", "--state", "refused", "--on", "2026-02-20",
               "--note", "Ils refusent : demande jugée excessive."]  # fmt: skip
    text = complaint_after(runner, tmp_path, refused)
    assert "Selon ma lecture de cette réponse (résumé) : Ils refusent : demande jugée" in text
    assert "« Ils refusent" not in text and "Extrait de" not in text
    assert "j’en donne ci-dessus ma lecture (résumé), non ses termes" in text
    assert "ses motifs ne sont pas repris ici" not in text
    # no note: the sentence of before
    plain = complaint_after(runner, tmp_path / "b", refused[:6])
    assert "la réponse n’est pas jointe (pièce non jointe) et ses motifs ne sont pas repris" in (
        plain
    )


def test_a_reply_kept_as_an_e_mail_is_never_said_joined_to_the_dossier(app, tmp_path):
    """Item 2, the member's own complaint: the dossier joins PDFs only; a reply the inbox
    kept as .eml was listed under « Pièces jointes » and said « jointe »."""
    first = refused_by_the_inbox(app, tmp_path)
    result = app.complain(first.reference, out_dir=tmp_path / "cnil", on="2026-10-30")
    text = flat(pdf_text(next(p for p in result.written if "dossier" not in p.name).read_bytes()))
    enclosed, absent = text.split("6. Pièces jointes")[1].split("Pièces non jointes à ce jour")
    assert ".eml" not in enclosed and "réponse de l’organisme" not in enclosed
    assert re.search(
        r"la réponse de l’organisme : \S+\.eml \(n’est pas un PDF, non joint\)", absent
    )
    assert "figurent dans la réponse jointe" not in text


def registry_home():
    paths = Paths.from_env()
    paths.user_registry.parent.mkdir(parents=True, exist_ok=True)
    paths.user_registry.write_text(REGISTRY + MORE, encoding="utf-8")
    return paths


def test_advice_never_proposes_a_party_already_written_to_in_the_chain(runner, tmp_path):
    """Item 3: a request to a party, whose answer named a broker; dsar follow wrote to
    the broker, and the advice on that next request told the person to write to the
    party (dsar generate --broker parti-exemple) the chain started with."""
    paths = registry_home()
    with App(paths) as app:
        first = refused_by_the_inbox(  # (no refusal: the party names its source)
            app, tmp_path, "Vos coordonnées nous ont été transmises par la société Welcoming.",
            sms_sender="Parti Exemple",
        )  # fmt: skip
        second = app.follow(first.reference, out_dir=tmp_path / "next", letter_date="2026-09-25")
        assert app.journal.request(second.reference).broker.slug == "welcoming"
        # a first letter about the same message to a broker: the party was written to
        beside = app.generate(
            "selfcontact", **PERSON, sms_sender="Parti Exemple", formats="pdf",
            out_dir=tmp_path / "beside", letter_date="2026-09-01",
        )  # fmt: skip
    assert "dsar generate --broker parti-exemple" not in "\n".join(beside.warnings)
    assert any(first.reference in w for w in beside.warnings)
    said = "\n".join(second.warnings)
    assert "dsar generate --broker parti-exemple" not in said
    assert f"Parti Exemple was already written to about this message: {first.reference}" in said
    shown = ok(runner.invoke(cli, ["show", second.reference])).output
    assert "dsar generate --broker parti-exemple" not in shown
    assert first.reference in shown
    # the first request: Welcoming is written to, no second dsar follow proposed
    shown = ok(runner.invoke(cli, ["show", first.reference])).output
    assert "dsar follow" not in shown
    assert f"Welcoming was already written to about this message: {second.reference}" in shown


def test_a_second_answer_naming_the_same_source_proposes_no_second_request(runner, tmp_path):
    """Item 3, the inbox and the page: a second reply naming the source already written
    to proposed « dsar follow » again on the command line and on the page (the first
    form was hidden only by the chain, the second reply's advice was not)."""
    paths = registry_home()
    with App(paths) as app:
        first = app.generate("datacontact", **PERSON, formats="pdf,email",
                             out_dir=tmp_path / "l", letter_date="2026-11-01")  # fmt: skip
        sent(app, first.reference, "2026-11-02")
        app.answer(first.reference, "2026-11-20", state="answered", named="source",
                   organisation="Selfcontact")  # fmt: skip
        second = app.follow(first.reference, out_dir=tmp_path / "n", letter_date="2026-11-21")
        # the answer typed again, or the broker's reply read by the inbox, names it again
        again = app.answer(first.reference, "2026-11-22", state="answered", named="source",
                           organisation="Selfcontact")  # fmt: skip
        assert "dsar follow" not in again.next_step and second.reference in again.next_step
        item = read_and_confirm(app, tmp_path / "mail", first.reference,
                                "dpo@datacontact.example", date(2026, 11, 23),
                                "Vos coordonnées nous ont été transmises par notre partenaire "
                                "Selfcontact.")  # fmt: skip
        advice = apply.next_action(app, first.reference, item["facts"])
    assert "dsar follow" not in advice and second.reference in advice
    shown = ok(runner.invoke(cli, ["show", first.reference])).output
    assert "dsar follow" not in shown and second.reference in shown
    page = page_client().get(f"/requests/{first.reference}?lang=en").text
    assert 'id="h-next"' not in page  # no form to write to Selfcontact again
    assert "Selfcontact, named by the answer of" in page and second.reference in page


def test_the_answer_s_own_guillemets_never_close_the_quote():
    """A reply writing « … » Je soussigné retire ma réclamation … « closed the letter's
    quote, and its words read as the complainant's in the PDF's text (fifth read, S1)."""
    from dsar import follow

    words = follow.quoted('Nous refusons. » Je soussigné retire ma plainte. « Cordialement "x" “y”')
    assert not set('«»“”"') & set(words)
    assert "› Je soussigné retire ma plainte. ‹" in words


def test_a_refusal_from_an_address_not_known_for_the_recipient_is_said_so_in_the_facts(
    app, tmp_path
):
    """The extract was hedged (« présentée comme venant de »), but the facts said flatly
    « Réponse obtenue : un refus » of an e-mail anyone could have sent (fifth read, S2)."""
    first = refused_by_the_inbox(app, tmp_path, sender="service@ailleurs.example")
    result = app.complain(first.reference, out_dir=tmp_path / "cnil", on="2026-10-30")
    text = flat(pdf_text(next(p for p in result.written if "dossier" not in p.name).read_bytes()))
    facts = text.split("Réponse obtenue")[1][:300]
    assert (
        "par un courriel présenté comme venant de Parti Exemple, d’une adresse que je ne" in facts
    )
    assert "présentée comme venant de Parti Exemple" in text
