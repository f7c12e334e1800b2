"""The letters as the recipient's lawyer reads them before answering: every sentence a
broker could turn against the person (a prejudged unlawfulness, a false premise, a fact
not recorded, a program's words) read back from the PDF as it is posted."""

from __future__ import annotations

import pdfplumber
import pytest

from .conftest import flat, pdf_pages, pdf_text
from .test_letters import COMMAND, generate, invoke, pages, sent

WITHOUT_ADDRESS = [a for i, a in enumerate(COMMAND) if "--address" not in COMMAND[i - 1 : i + 1]]


def annex_of(pdf) -> str:
    return flat(" ".join(pages(pdf)[1:]))


def answered(runner, tmp_path, state, *extra, lang="fr"):
    """A request to Renaissance, posted, received on 2 February and answered so."""
    ref, pdf = generate(runner, tmp_path / "o", broker="renaissance", lang=lang)
    sent(runner, ref, "--lrar", "1A00012345678", "--received", "2026-02-02")
    invoke(runner, ["answer", ref, "--state", state, "--on", "2026-02-20", *extra])
    return ref, pdf


def reply_id(runner, tmp_path, ref, *extra) -> str:
    out = tmp_path / "r"
    invoke(runner, ["reply-id", ref, "--format", "pdf", "--out", str(out), *extra])
    return flat(pdf_text(next(out.iterdir()).read_bytes()))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_annex_prejudges_no_answer_on_lawfulness(runner, tmp_path, lang):
    """Written before any answer: unlawful *unless a legal basis is shown*, never 'is
    unlawful' outright, which a broker pleading legitimate interest calls a false premise."""
    _ref, pdf = generate(runner, tmp_path / "o", right="both", lang=lang)
    annex = annex_of(pdf)
    hedged = {
        "fr": (
            "à défaut pour vous de démontrer une base légale (art. 6(1) et 5(2))",
            "À défaut pour vous de démontrer une base légale, le traitement est illicite"
            " (point précédent) : je m’oppose alors",
        ),
        "en": (
            "unless you show a legal basis (Art. 6(1) and 5(2))",
            "Unless you show a legal basis, the processing is unlawful (previous point): I then",
        ),
    }[lang]
    for phrase in hedged:
        assert phrase in annex, phrase
    for flat_claim in (
        "le traitement est illicite faute de base légale démontrée",
        "Le traitement étant illicite",
        "the processing is unlawful, with no legal basis shown",
        "As the processing is unlawful",
    ):
        assert flat_claim not in annex


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_id_card_is_unnecessary_data_not_data_the_recipient_lacks(runner, tmp_path, lang):
    """Art. 5(1)(c) is about data not necessary for the purpose: 'data you do not hold'
    is answered by 'we hold your name and address, the card matches them'."""
    ref, pdf = answered(runner, tmp_path, "id-requested", lang=lang)
    reply = reply_id(runner, tmp_path, ref)
    minimisation = {
        "fr": "collecter des données qui ne sont pas nécessaires à cette vérification (art. 5(1)(c)",
        "en": "collect data that is not necessary for this check (Art. 5(1)(c)",
    }[lang]
    for text in (annex_of(pdf), reply):
        assert minimisation in text
        assert "que vous n’avez pas" not in text and "data you do not hold" not in text


def without_address(runner, tmp_path, lang) -> str:
    """Page 1 of a letter from a person who gave no postal address (hence no place)."""
    result = invoke(runner, [*WITHOUT_ADDRESS, "--lang", lang, "--out", str(tmp_path / "o")])
    ref = next(line.split()[1] for line in result.output.splitlines() if line.startswith("ref"))
    return flat(pages(tmp_path / "o" / f"{ref}-selfcontact.pdf")[0])


def test_a_letter_without_a_place_is_dated_the_french_way(runner, tmp_path):
    """No town to date from: « Le 30 janvier 2026 », not a bare « 30 janvier 2026 »."""
    assert "Le 30 janvier 2026" in without_address(runner, tmp_path, "fr")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_postal_address_is_named_only_when_the_person_gave_one(runner, tmp_path, lang):
    """'The postal address you hold' presumes the recipient holds one: a party that had
    only the number answers that it has none, and the offer falls."""
    core = without_address(runner, tmp_path, lang)
    conditional = {
        "fr": "par courrier à l’adresse postale que vous auriez associée à mes données",
        "en": "to any postal address you may have linked to my data",
    }[lang]
    assert conditional in core
    assert "l’adresse postale que vous détenez" not in core
    assert "the postal address you already hold" not in core
    _ref, with_address = generate(runner, tmp_path / "a", lang=lang)
    given = {"fr": "à mon adresse postale ci-dessus", "en": "to my postal address above"}[lang]
    assert given in flat(pages(with_address)[0])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_subject_keeps_ref_with_its_reference(runner, tmp_path, lang):
    """A subject line ending in 'réf.' reads as cut off: the word goes to the next line
    with the reference (it did with a party's access request)."""
    ref, pdf = generate(runner, tmp_path / "o", broker="renaissance", lang=lang)
    lines = pdf_pages(pdf.read_bytes())[0].splitlines()
    word = "réf." if lang == "fr" else "ref."
    [subject_end] = [line for line in lines if ref in line][:1]
    assert f"{word} {ref}" in subject_end.replace("\u00a0", " ")
    assert not any(line.rstrip().endswith(word) for line in lines)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_annex_is_said_to_follow_not_to_be_enclosed(runner, tmp_path, lang):
    _ref, pdf = generate(runner, tmp_path / "o", lang=lang)
    core = flat(pages(pdf)[0])
    assert {"fr": "Annexe (ci-après)", "en": "Annex (below)"}[lang] in core
    for enclosure in ("Pièces jointes", "Enclosed:"):
        assert enclosure not in core


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_party_access_letter_is_two_pages_in_legible_type(runner, tmp_path, lang):
    """One sheet, recto verso: the core on page 1, the whole annex on page 2, in type no
    smaller than the footer's 8 pt."""
    _ref, pdf = generate(runner, tmp_path / "o", broker="renaissance", lang=lang)
    texts = pages(pdf)
    assert len(texts) == 2
    assert ("Forme et délai de la réponse" if lang == "fr" else "Form and deadline") in texts[1]
    with pdfplumber.open(pdf) as document:
        sizes = {round(c["size"], 1) for c in document.pages[1].chars}
    assert min(sizes) >= 8.0


def test_a_reminder_after_an_answer_never_says_no_answer_came(runner, tmp_path):
    """An answer recorded as 'answered' but short of the items named: the reminder said
    « Je n’ai reçu aucune réponse », which the recipient disproves with its own letter."""
    ref, _pdf = answered(runner, tmp_path, "answered", "--missing", "source")
    out = tmp_path / "f"
    invoke(runner, ["remind", ref, "--on", "2026-03-10", "--format", "pdf", "--out", str(out)])
    reminder = flat(pages(next(out.iterdir()))[0])
    assert "aucune réponse" not in reminder
    assert "Votre réponse du 20 février 2026 ne répond pas à tous les points" in reminder
    assert "la source précise de mes données" in reminder


def test_reply_id_says_when_the_period_ran_out_from_what_was_recorded(runner, tmp_path):
    ref, _pdf = answered(runner, tmp_path, "id-requested")
    text = reply_id(runner, tmp_path, ref, "--on", "2026-03-10")
    # received 2 February: due Monday 2 March, before the letter's date
    assert "ce délai a expiré le 2 mars 2026" in text
    assert "estimation" not in text and "date de réception ne m’étant pas connue" not in text


def test_complaint_and_dossier_speak_to_the_cnil_not_to_the_program(runner, tmp_path):
    ref, _pdf = answered(runner, tmp_path, "partial", "--missing", "source,copy")
    follow = tmp_path / "f"
    invoke(runner, ["remind", ref, "--on", "2026-03-10", "--format", "pdf", "--out", str(follow)])
    reminder_ref = next(follow.iterdir()).name[:14]
    invoke(runner, ["sent", reminder_ref, "--on", "2026-03-11", "--lrar", "1A0009"])
    cnil = tmp_path / "cnil"
    invoke(runner, ["complain", ref, "--out", str(cnil), "--on", "2026-03-27"])
    complaint = flat(
        pdf_text(next(p for p in cnil.iterdir() if "dossier" not in p.name).read_bytes())
    )
    # the reminder by its date and by the day it left, as the facts list it
    assert "la relance datée du 10 mars 2026, envoyée le 11 mars 2026" in complaint
    # under « Pièces non jointes », each is not said again to be « non jointe »
    missing = complaint.split("Pièces non jointes à ce jour :")[1].split("Je vous prie")[0]
    assert "pièce non jointe" not in missing and missing.rstrip().endswith(".")
    journal = flat(pdf_pages((cnil / f"{ref}-dossier-cnil.pdf").read_bytes())[-1])
    # the sending and its receipt, each a step on its own day
    assert "2026-01-31 envoyé lettre recommandée n° 1A00012345678" in journal
    assert "2026-02-02 reçu (accusé de réception)" in journal
    for program in ("lrar=", "received=", "message_id=", "pdf,email"):
        assert program not in journal, program


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_id_demand_answered_is_said_answered_in_reminder_and_complaint(runner, tmp_path, lang):
    """The person answered the ID demand (reply-id, sent): the reminder and the complaint
    say so, with its date and number; silence there reads as if the person ignored it."""
    ref, _pdf = answered(runner, tmp_path, "id-requested", lang=lang)
    reply_id(runner, tmp_path, ref, "--on", "2026-02-23")
    reply_ref = next((tmp_path / "r").iterdir()).name[:14]
    invoke(runner, ["sent", reply_ref, "--on", "2026-02-24", "--lrar", "1A0077"])
    follow = tmp_path / "f"
    invoke(runner, ["remind", ref, "--on", "2026-03-10", "--format", "pdf", "--out", str(follow)])
    reminder = flat(pages(next(follow.iterdir()))[0])
    said = {
        "fr": f"Je vous ai répondu le 24 février 2026 (référence {reply_ref}, lettre recommandée"
        " n° 1A0077) en vous proposant une vérification proportionnée",
        "en": f"I answered on 24 February 2026 (reference {reply_ref}, registered letter"
        " no. 1A0077), offering a proportionate check",
    }[lang]
    assert said in reminder
    cnil = tmp_path / "cnil"
    invoke(runner, ["complain", ref, "--out", str(cnil), "--on", "2026-03-11", "--force"])
    complaint = flat(
        pdf_text(next(p for p in cnil.iterdir() if "dossier" not in p.name).read_bytes())
    )
    assert (
        f"le 24 février 2026 : réponse à la demande d’identification (référence {reply_ref},"
        " lettre recommandée n° 1A0077)" in complaint
    )
