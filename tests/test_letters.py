"""Every letter kind read back as a broker's lawyer reads it (issue 11): a one-page
core, a legal annex, and none of the sentences that handed the recipient a way out."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pdfplumber
import pytest

from dsar import compose, letters, profile
from dsar.cli import cli
from dsar.render import mail

from .conftest import (
    CITIZEN,
    add_postal,
    flat,
    make_request,
    parse_eml,
    pdf_pages,
    pdf_text,
    replace_args,
)
from .test_batch import HEADER, member, write_csv

REMOVED = (  # claims that gave the recipient a way to stall, or misstated the law
    "jamais identifié autrement",
    "never identified me by anything else",
    "ne pouviez pas non plus refuser",
    "could not refuse to act on it either",
    "18(1)(d)",
    "section 3.3",  # the EDPB guidelines are cited by paragraph (shared/LEGAL.md)
    "recommandation de la CNIL de 2012",  # the CNIL's deliberation is cited by its number
    "CNIL recommendation of 2012",
    "Merci de me répondre",
    "envoyez un code",
    "pour Rassemblement national",
    "vous en répondez, même si un",  # the party letter is conditional (LEGAL.md)
    "you are responsible for it even if",
    "sous le nom",
    "under the name",
    "targetings",
    "Je n’ai jamais donné",
    "Je n'ai jamais donné",
    "plutôt que l’effacement",  # restriction must not read as opposing erasure
    "rather than immediate erasure",
    "L. 34-5",  # the CPCE's rule is for commercial prospecting, not political canvassing
    "Effacement sans délai",  # 17(1) says "dans les meilleurs délais"
    "exige que l’identification",  # EDPB guidelines do not bind: they state
    "requires identification to stay",
    "n’est pas fondé au regard du RGPD",  # a refusal is disputed, not declared void
    "has no basis in the GDPR",
    "If I receive no complete answer",
    "et mon adresse camille@example.org et par",  # "par A et B et par C"
)

COMMAND = [
    *CITIZEN,
    "--sms-date",
    "2024-06-06",
    "--sms-sender",
    "36111",
    "--sms-text",
    "Le 9 juin, votez ... STOP au 36111",
    "--right",
    "access",
    "--lang",
    "fr",
    "--format",
    "pdf,email",
    "--lrar",
    "--date",
    "2026-01-30",
]

CORE = {
    "fr": (
        "Paris, le 30 janvier 2026",
        "envoyé depuis le numéro court 36111",
        "À ma connaissance, je n’ai jamais donné",
        "Vous pouvez me retrouver par mon numéro 06 12 34 56 78 (+33 6 12 34 56 78 ; +33612345678),"
        " par mon adresse camille@example.org et par les données que vous détenez",
        "En cas de doute raisonnable sur mon identité, vous pouvez m’adresser un code à ce numéro",
        "par courrier à mon adresse postale ci-dessus",
        "Une pièce d’identité n’est ni nécessaire ni proportionnée",
        "responsable, responsable conjoint ou sous",  # sous-|traitant may break
        "transmettre sans délai cette demande au responsable en me le nommant",
        "aux seules fins de traiter la présente demande (art. 5(1)(b))",
        "dans un délai d’un mois à compter de la réception",
        "La réponse est gratuite",
        "Je vous remercie de bien vouloir me répondre",
        "Je vous prie d’agréer",
    ),
    "en": (
        "Paris, 30 January 2026",
        "sent from the short number 36111",
        "To my knowledge, I never gave",
        "You can find me in your files by my number +33 6 12 34 56 78 (+33612345678),"
        " by my address camille@example.org and by the data you already hold",
        "If you have reasonable doubts about my identity, you may send a code to this number",
        "posted to my postal address above",
        "An identity document is neither necessary nor proportionate",
        "controller, joint controller or processor",
        "forward this request to the controller at once and name it",
        "only so that you can handle this request (Art. 5(1)(b))",
        "within one month of receiving this request",
        "Your answer is free of charge",
        "Yours faithfully",
    ),
}
ACCESS = {
    "fr": (
        "la source précise de mes données",
        "de me nommer chaque destinataire",
        "mes droits, dont celui de saisir la CNIL",  # 15(1)(e)-(f), as the annex says
    ),
    "en": (
        "the specific source of my data",
        "to name every recipient",
        "for each processing operation",
        "my rights, including the right to complain to the CNIL",
    ),
}
ERASURE = {
    # erasure of everything but the number kept, for that purpose alone, on the suppression
    # list: no "erase all" beside "keep it" for a broker to pick the one it prefers
    "fr": (
        "je m’y oppose et retire tout consentement",
        "ne garder que mon numéro, sur une liste d’opposition",
        # 21(1) in the alternative, with grounds from the person's situation
        "à titre subsidiaire, je m’y oppose pour des raisons tenant à ma situation particulière",
        "sur mon numéro personnel, je n’ai, à ma connaissance, aucune relation avec leur expéditeur",
        "peuvent me prêter des opinions politiques",
    ),
    "en": (
        "I object to it and withdraw any consent",
        "keep only my number, on a suppression list",
        "in the alternative, I object on grounds relating to my particular situation",
        "my personal number unasked, to my knowledge I have no relationship with their sender",
        "attribute political opinions to me",
    ),
}
ANNEX = {
    "fr": (
        "Annexe : fondements juridiques de la demande",
        "lignes directrices 01/2022 sur les droits des personnes concernées – droit d’accès, "
        "version 2.0 adoptée le 28 mars 2023, §§ 69 et suivants",
        "À notre sens, une demande d’identification injustifiée ne suspend pas le délai d’un mois"
        " (art. 12(3))",
        "art. 12(6)",
        "art. 28(3)(e)",
        "art. 26(3)",
        "C-210/16",
        "C-25/17",
        "art. 12(4)",
        "art. 12(5)",
    ),
    "en": (
        "Annex: legal grounds",
        "Guidelines 01/2022 on data subject rights – Right of access, version 2.0 adopted on "
        "28 March 2023, paragraphs 69 ff.",
        "In our reading, an unjustified demand for identification does not suspend the one-month"
        " period (Art. 12(3))",
        "Art. 12(6)",
        "Art. 28(3)(e)",
        "Art. 26(3)",
        "C-210/16",
        "C-25/17",
        "Art. 12(4)",
        "Art. 12(5)",
    ),
}
ANNEX_ACCESS = {
    "fr": (
        "15(1)(b) et 15(3)",
        "(art. 15(1)(h))",
        "(art. 13(1)(c) ou 14(1)(c))",
        "licéité du traitement (art. 5(2))",
        "15(1)(g) et 14(2)(f)",
        "C-154/21",
        "C-487/21",
        "délibération n° 2012-020 du 26 janvier 2012",
        "fichiers loués ou achetés",
        # 15(1) completed: (b) named, (d) criteria, (h) significance, 15(2) transfers
        "les catégories de données concernées (art. 15(1)(b)) : identité, coordonnées",
        "ou, lorsque ce n’est pas possible, les critères utilisés pour la déterminer"
        " (art. 15(1)(d))",
        "l’importance et les conséquences prévues de ce traitement pour moi (art. 15(1)(h))",
        "les garanties appropriées prévues à l’article 46 (art. 15(2))",
    ),
    "en": (
        "15(1)(b) and 15(3)",
        "(Art. 15(1)(h))",
        "(Art. 13(1)(c) or 14(1)(c))",
        "the processing is lawful (Art. 5(2))",
        "15(1)(g) and 14(2)(f)",
        "C-154/21",
        "C-487/21",
        "deliberation no. 2012-020 of 26 January 2012",
        "files rented or bought",
        "the categories of personal data concerned (Art. 15(1)(b)): identity, contact details",
        "or, if that is not possible, the criteria used to determine it (Art. 15(1)(d))",
        "the significance and the envisaged consequences of such processing for me (Art. 15(1)(h))",
        "the appropriate safeguards under Article 46 (Art. 15(2))",
    ),
}
ANNEX_ERASURE = {
    "fr": (
        "(art. 21(2) et 21(3))",
        "à titre subsidiaire",
        "(art. 21(1))",
        "(art. 7(3))",
        "Effacement dans les meilleurs délais (art. 17(1))",
        # unlawful unless a legal basis is shown: a broker pleading legitimate interest
        # does not escape 17(1)(d), and the letter prejudges no answer
        "à défaut pour vous de démontrer une base légale (art. 6(1) et 5(2)), notamment un"
        " consentement prouvé (art. 7(1))",
        "(art. 19)",
    ),
    "en": (
        "(Art. 21(2) and 21(3))",
        "in the alternative",
        "(Art. 21(1))",
        "(Art. 7(3))",
        "Erasure without undue delay (Art. 17(1))",
        "unless you show a legal basis (Art. 6(1) and 5(2)), such as proven consent (Art. 7(1))",
        "(Art. 19)",
    ),
}
RESTRICTION = {  # 18(1)(b) as the article reads: oppose erasure, ask restriction instead
    "fr": (
        "je m’oppose alors à l’effacement immédiat des données et demande à la place la limitation",
        "(art. 18(1)(b)) jusqu’à la réponse à la demande d’accès",
        "art. 18(1)(c)",
        "l’effacement suit (art. 17(1))",
        "de limiter le traitement de mes données jusqu’à votre réponse",
    ),
    "en": (
        "I then oppose the immediate erasure of the data and request the restriction",
        "(Art. 18(1)(b)) until the access request is answered",
        "Art. 18(1)(c)",
        "erasure follows (Art. 17(1))",
        "to restrict the processing of my data until you answer",
    ),
}


SOURCE_FIRST = {  # erasure to a broker: the source before erasing (shared/LEGAL.md)
    "fr": ("la source précise de mes données",),
    "en": ("the specific source of my data",),
}


def invoke(runner, args):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def generate(runner, out, **values):
    args = replace_args(COMMAND, {f"--{k}": v for k, v in values.items()})
    result = invoke(runner, [*args, "--out", str(out)])
    ref = next(
        line.split()[1] for line in result.output.splitlines() if line.startswith("reference")
    )
    return ref, out / f"{ref}-{values.get('broker', 'selfcontact')}.pdf"


def pages(path) -> list[str]:
    return pdf_pages(path.read_bytes())


def assert_no_removed(text: str) -> None:
    for removed in REMOVED:
        assert removed not in text, removed


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("right", ["access", "erasure", "both"])
def test_request_is_a_one_page_core_and_a_legal_annex(runner, tmp_path, right, lang):
    ref, pdf = generate(runner, tmp_path / "o", right=right, lang=lang)
    texts = pages(pdf)
    core, annex = flat(texts[0]), flat(" ".join(texts[1:]))
    # the core and its signature fit on page 1; the annex starts on a page of its own
    signed = "Je vous prie d’agréer" if lang == "fr" else "Yours faithfully"
    assert signed in core and "Camille Martin" in core.split(signed)[1]
    assert flat(texts[1]).startswith(ANNEX[lang][0])
    assert ANNEX[lang][0] not in core
    for number, text in enumerate(texts, 1):  # reference and page N/M on every page
        assert f"{ref} – page {number}/{len(texts)}" in flat(text)
    for expected in CORE[lang]:
        assert expected in core, expected
    for expected in ANNEX[lang]:
        assert expected in annex, expected
    wanted = (ACCESS, ANNEX_ACCESS) if right != "erasure" else ()
    unwanted = (ACCESS, ANNEX_ACCESS) if right == "erasure" else ()
    wanted += (ERASURE, ANNEX_ERASURE) if right != "access" else ()
    unwanted += (ERASURE, ANNEX_ERASURE) if right == "access" else ()
    for table in wanted:
        for expected in table[lang]:
            assert expected in core + annex, expected
    for table in unwanted:
        for absent in table[lang]:
            # erasure to a broker asks for the source first: the evidence is not erased
            if absent not in ("17(1)", *SOURCE_FIRST[lang]):
                assert absent not in core + annex, absent
    whole = core + " " + annex
    # restriction until the answer (both), or until the source is given (erasure to a
    # broker); the access letter restricts nothing
    for expected in RESTRICTION[lang]:
        until_access = "18(1)(b)) until" in expected or "18(1)(b)) jusqu" in expected
        wanted_here = right == "both" or (right == "erasure" and not until_access)
        if "limiter" in expected or "to restrict" in expected:
            wanted_here = right == "both"
        assert (expected in whole) == wanted_here, expected
    for expected in SOURCE_FIRST[lang]:  # every letter to a broker asks where the data came from
        assert expected in core, expected
    assert_no_removed(whole)
    if lang == "fr":
        assert "'" not in whole  # typographic apostrophes only
        assert "Le délai d’un mois," not in whole  # no comma between subject and verb


def test_page_one_of_the_access_letter_to_selfcontact(runner, tmp_path):
    """The issue's letter: the core and signature on page 1, the annex on page 2."""
    _ref, pdf = generate(runner, tmp_path / "o")
    texts = pages(pdf)
    assert len(texts) == 2
    assert "Camille Martin" in flat(texts[0]).split("salutations distinguées")[1]
    assert flat(texts[1]).startswith("Annexe : fondements juridiques de la demande")


def test_registered_line_above_the_window_and_reference_never_cut(runner, tmp_path):
    ref, pdf = generate(runner, tmp_path / "o", broker="renaissance")
    mm = 72 / 25.4
    with pdfplumber.open(pdf) as document:
        words = document.pages[0].extract_words()
        lines = [
            line.replace("\xa0", " ")
            for page in document.pages
            for line in page.extract_text().splitlines()
        ]
    registered = next(w for w in words if w["text"] == "recommandée")
    window_top = 40 * mm  # DL envelope, window 40–95 mm down the sheet (test_generate)
    assert registered["bottom"] < window_top and registered["x0"] >= 100 * mm
    recipient = next(w for w in words if w["text"] == "Rocher")
    assert recipient["top"] >= window_top
    # the reference, the number, the e-mail address and each citation stand whole on a line
    for value in (ref, "06 12 34 56 78", "camille@example.org", "28(3)(e)", "C-154/21"):
        assert any(value in line for line in lines), value
    assert not any(line.rstrip().endswith(("DSAR-", "(3)", "06 12")) for line in lines)


def test_annex_depends_only_on_kind_right_and_language(shipped, env):
    assert letters.annex_context("broker", "both", "fr") == {
        "recipient_kind": "broker",
        "right": "both",
        "lang": "fr",
    }
    assert letters.annex_context("authority", "access", "en")["recipient_kind"] == "other"

    def request(name, phone):
        person = profile.requester(name, "1 rue X\n69001 Lyon", phone, None)
        evidence = compose.evidence("sms", "2024-06-06", None, "36111", "x")
        return compose.build_request(
            shipped, "selfcontact", person, evidence, letter_date=date(2026, 11, 23)
        )

    one = letters.render(request("Camille Martin", "06 12 34 56 78"), env)
    two = letters.render(request("Dominique Roy", "07 98 76 54 32"), env)
    assert one.annex_html and one.annex_html == two.annex_html  # rendered once, reused
    for person in (one, two):
        for private in (person.request.reference, person.request.requester.name, "Lyon"):
            assert private not in one.annex_html
    assert one.annex_html == letters.render_annex(env, "broker", "both", "fr")


def test_party_and_processor_annexes(env):
    party = flat(letters.html_to_text(letters.render_annex(env, "party", "access", "fr")))
    for expected in (
        "(art. 5(2) et 24)",
        # Reconquête only for what the Conseil d'État decided (shared/LEGAL.md)
        "20 000 € prononcée par la CNIL contre Reconquête pour des manquements à l’information"
        " des personnes et au respect de leurs droits d’opposition et d’effacement dans une"
        " prospection par courriel (CE, 15 avril 2025, n° 492943)",
        "Le 18 décembre 2025, la CNIL a sanctionné cinq candidats",
    ):
        assert expected in party, expected
    # "if not on your behalf, say on whose" is asked in the core: the annex does not repeat
    # it, so that a party's access letter is one sheet (test_letters_counsel)
    assert "Si le message n’a été envoyé ni à votre initiative" not in party
    english = flat(letters.html_to_text(letters.render_annex(env, "party", "access", "en")))
    for expected in (
        "€20,000 fine against Reconquête for failing to inform people and to honour their"
        " objection and erasure rights in e-mail canvassing (CE, 15 April 2025, no. 492943)",
        "18 December 2025",
    ):
        assert expected in english, expected
    processor = flat(letters.html_to_text(letters.render_annex(env, "processor", "erasure", "fr")))
    assert "transmettre la présente demande sans délai au responsable du traitement" in processor
    assert "Reconquête" not in processor


def test_a_processor_is_asked_to_forward_and_name_the_controller(shipped, env):
    person = profile.requester("Camille Martin", "", "06 12 34 56 78", None)
    evidence = compose.evidence("sms", "2024-06-06", None, "36111", "Votez")
    request = compose.build_request(
        shipped, "lmp", person, evidence, right="access", letter_date=date(2026, 11, 23)
    )
    text = flat(letters.render(request, env).body_text)
    assert "intervient pour le compte de clients" in text
    assert "transmettre sans délai cette demande au responsable en me le nommant" in text
    assert "il vous est demandé de transmettre la présente demande sans délai" in text


def test_email_carries_the_core_then_the_annex(shipped, env):
    person = profile.requester(
        "Camille Martin", "12 rue des Lilas\n75011 Paris", "06 12 34 56 78", "camille@example.org"
    )
    evidence = compose.evidence("sms", "2024-06-06", None, "36111", "Votez")
    request = compose.build_request(
        shipped, "renaissance", person, evidence, letter_date=date(2026, 11, 23)
    )
    letter = letters.render(request, env)
    body = flat(parse_eml(mail.to_bytes(mail.build(letter))).get_body(("plain",)).get_content())
    core_end = body.index("salutations distinguées")
    assert body.index("Annexe : fondements juridiques de la demande") > core_end
    assert "12 rue des Lilas" in body  # the letterhead the e-mail has not
    assert flat(letter.body_text) == body


def test_email_body_comes_back_exactly_as_written(shipped, env):
    """Quoted-printable (binascii's encoder): every character of the text comes back,
    a line that is a lone dot is escaped, and no encoded line is longer than 76."""
    request = make_request(shipped, "renaissance")
    tricky = "Åland … 50 % = moitié\n.\nfin de ligne \n\tretrait\n" + "x" * 200 + "\n" + "é" * 90
    letter = dataclasses.replace(letters.render(request, env), body_text=tricky)
    raw = mail.to_bytes(mail.build(letter))
    decoded = parse_eml(raw).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert decoded.rstrip("\n") == tricky
    body = raw.partition(b"\r\n\r\n")[2]
    assert b"\r\n=2E\r\n" in body and max(len(line) for line in body.split(b"\r\n")) <= 76


def test_french_and_english_letters_never_share_files(runner, tmp_path):
    out = tmp_path / "o"
    fr_ref, fr_pdf = generate(runner, out)
    en_ref, en_pdf = generate(runner, out, lang="en")
    assert fr_ref != en_ref and fr_pdf.exists() and en_pdf.exists()
    assert "Annexe" in pages(fr_pdf)[1] and "Annex: legal grounds" in pages(en_pdf)[1]


# ---------------------------------------------------------------- follow-ups


def sent(runner, ref, *extra):
    invoke(runner, ["sent", ref, "--on", "2026-01-31", *extra])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_reminder_encloses_the_original_and_claims_no_forfeiture(runner, tmp_path, lang):
    ref, _pdf = generate(runner, tmp_path / "o", broker="renaissance", lang=lang)
    sent(runner, ref)  # no receipt date: the deadline is an estimate
    out = tmp_path / "follow"
    # no --lang: the reminder is in the original's language
    invoke(
        runner, ["remind", ref, "--on", "2026-03-10", "--format", "pdf,email", "--out", str(out)]
    )
    pdf = next(p for p in out.iterdir() if p.suffix == ".pdf")
    texts = pages(pdf)
    first = flat(texts[0])
    enclosed = "Elle est jointe à la présente." if lang == "fr" else "A copy is enclosed."
    estimate = (
        "ce délai est compté à partir de la date d’envoi : la date indiquée est une estimation"
        if lang == "fr"
        else "the period is counted from the sending date: this date is an estimate"
    )
    for expected in (enclosed, estimate, ref, "art. 77" if lang == "fr" else "Art. 77"):
        assert expected in first, expected
    if lang == "fr":
        assert "a expiré le 2 mars 2026" in first  # no comma between subject and verb
    # the original request is in fact enclosed: its pages follow the reminder's
    whole = flat(" ".join(texts))
    assert ("Annexe : fondements juridiques" if lang == "fr" else "Annex: legal grounds") in whole
    assert whole.count(ref) >= 3
    for removed in ("ne pouviez pas non plus refuser", "could not refuse"):
        assert removed not in whole
    eml = next(p for p in out.iterdir() if p.suffix == ".eml")
    message = parse_eml(eml.read_bytes())
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert ref in flat(pdf_text(attachment.get_content()))


def test_reminder_with_a_receipt_date_is_no_estimate(runner, tmp_path):
    ref, _pdf = generate(runner, tmp_path / "o", broker="renaissance")
    sent(runner, ref, "--received", "2026-02-02")
    result = invoke(
        runner,
        ["remind", ref, "--on", "2026-03-10", "--format", "text", "--out", str(tmp_path / "f")],
    )
    text = flat(result.stdout)
    assert "estimation" not in text and "Vous l’avez reçue le 2 février 2026" in text
    assert "jointe" not in text  # text alone encloses nothing, so it says nothing of it


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.usefixtures("selfcontact_postal")  # a letter posted: it has the address
def test_reply_id_says_what_the_core_says_no_stronger(runner, tmp_path, lang):
    ref, _pdf = generate(runner, tmp_path / "o", lang=lang)
    sent(runner, ref)
    invoke(runner, ["answer", ref, "--state", "id-requested", "--on", "2026-02-10"])
    out = tmp_path / "r"
    invoke(runner, ["reply-id", ref, "--format", "pdf", "--out", str(out)])
    text = flat(pdf_text(next(out.iterdir()).read_bytes()))
    expected = {
        "fr": (
            "À notre sens, une demande d’identification injustifiée ne suspend pas le délai d’un"
            " mois (art. 12(3))",
            "version 2.0 adoptée le 28 mars 2023, §§ 69 et suivants",
            "vous pouvez m’adresser un code à ce numéro",
            "par courrier à mon adresse postale, 12 rue des Lilas, 75011 Paris",
            "par les données que vous détenez déjà",
            "(art. 12(6) du RGPD)",
        ),
        "en": (
            "In our reading, an unjustified demand for identification does not suspend the"
            " one-month period (Art. 12(3))",
            "version 2.0 adopted on 28 March 2023, paragraphs 69 ff.",
            "you may send a code to this number",
            "posted to my postal address, 12 rue des Lilas, 75011 Paris",
            "by the data you already hold",
            "Art. 12(6)",
        ),
    }[lang]
    for phrase in expected:
        assert phrase in text, phrase
    assert_no_removed(text)
    for stronger in (
        "Votre demande ne suspend pas",
        "Your demand does not stop",
        "jamais identifié",
    ):
        assert stronger not in text


def test_complaint_waits_for_the_final_deadline_and_names_missing_proofs(runner, tmp_path):
    ref, original = generate(runner, tmp_path / "o", broker="renaissance", lang="en")
    sent(runner, ref, "--lrar", "1A00012345678")
    follow = tmp_path / "f"
    ahead = runner.invoke(cli, ["remind", ref, "--on", "2999-01-01", "--out", str(follow)])
    assert ahead.exit_code == 1 and "is in the future" in ahead.stderr
    assert not follow.exists()  # refused before any file is written
    invoke(runner, ["remind", ref, "--on", "2026-03-10", "--format", "pdf", "--out", str(follow)])
    reminder_ref = next(p for p in follow.iterdir()).name[:14]
    invoke(runner, ["sent", reminder_ref, "--on", "2026-03-10"])

    cnil = tmp_path / "cnil"
    early = runner.invoke(cli, ["complain", ref, "--out", str(cnil), "--on", "2026-03-20"])
    assert early.exit_code == 1
    assert "the reminder gave until 2026-03-25" in early.stderr
    assert "complain on or after 2026-03-26" in early.stderr and "--force" in early.stderr
    assert not cnil.exists()  # nothing half-written

    # a complaint dated after today is refused before any file is written
    later = runner.invoke(cli, ["complain", ref, "--out", str(cnil), "--on", "2999-01-01"])
    assert later.exit_code == 1 and "is in the future" in later.stderr
    assert not cnil.exists()

    result = invoke(runner, ["complain", ref, "--out", str(cnil), "--on", "2026-03-20", "--force"])
    # the person is told how to add a proof; the CNIL reads only that it is not attached
    assert "to add: " in result.stderr and f"dsar sent {reminder_ref} --proof FILE" in result.stderr
    # in the person's language: the French words are the dossier's, for the CNIL
    assert "registered letter" in result.stderr and "accusé" not in result.stderr
    dossier = flat(pdf_text((cnil / f"{ref}-dossier-cnil.pdf").read_bytes()))
    assert "dsar " not in dossier and "--proof" not in dossier
    for expected in (
        "Pièces à ajouter",
        "le scan de l’accusé de réception de la lettre recommandée (pièce non jointe)",
        "une capture d’écran du message reçu",
        f"la preuve d’envoi de la relance {reminder_ref} (pièce non jointe)",
        "Annex: legal grounds",  # the original, as sent, in its language
        "Dear Sir or Madam",  # the reminder defaulted to the original's language
        "Réclamation (art. 77 RGPD)",  # the complaint itself is in French, for the CNIL
    ):
        assert expected in dossier, expected
    assert "envoyé depuis le numéro court 36111" in dossier

    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(original.read_bytes())  # any real PDF stands for the scan
    nothing = runner.invoke(cli, ["sent", ref])
    assert nothing.exit_code == 2 and "--proof FILE" in nothing.stderr
    kept = invoke(runner, ["sent", ref, "--proof", str(receipt)])
    assert "kept" in kept.output and "sent 2026" not in kept.output  # the sent date stays
    invoke(runner, ["complain", ref, "--out", str(cnil), "--on", "2026-03-27", "--force"])
    again = flat(pdf_text((cnil / f"{ref}-dossier-cnil.pdf").read_bytes()))
    # the name is <sha256>-receipt.pdf; a reader may join a line broken after its dash
    assert re.search(r"preuve d’envoi : [0-9a-f]{64}-? ?receipt\.pdf", again), again[-900:]
    assert "le scan de l’accusé de réception de la lettre recommandée (à ajouter" not in again


# ---------------------------------------------------------------- mandates

QUALIFIED = """\
name: Association Halte aux SMS
address: |-
  5 place Bellecour
  69002 Lyon
email: droits@halte-sms.example
representative: Dominique Durand
capacity: présidente
rna: W691234567
qualifies_art80: true
declared_on: 2015-03-01
purpose: la protection des données personnelles de ses membres
"""


def test_an_association_that_qualifies_claims_art80_in_mandate_and_letters(runner, tmp_path):
    association = tmp_path / "association.yaml"
    association.write_text(QUALIFIED)
    rows = write_csv(tmp_path / "m.csv", [member(0, broker="selfcontact")])
    out = tmp_path / "mandates"
    invoke(runner, ["mandate", "--association", str(association), "--out", str(out), str(rows)])
    form = flat(pdf_text((out / "mandate-M-00000.pdf").read_bytes()))
    for expected in (
        "l’Association Halte aux SMS, 5 place Bellecour, 69002 Lyon, RNA W691234567",
        "représentée par Dominique Durand, présidente",
        "auprès des seuls organismes suivants",
        "Selfcontact",
        "Reconquête",  # the party the message names
        # representation: LIL art. 38; which associations qualify: its art. 37 (IV)
        "art. 80(1) du RGPD et art. 37 et 38 de la loi Informatique et Libertés",
        "association déclarée le 1er mars 2015",
        "article 1984 du Code civil",
    ):
        assert expected in form, expected
    # an address that starts with the controller's name does not say it twice
    assert "Reconquête, 10 rue Jean-Goujon" in form and "Reconquête, Reconquête" not in form
    assert "Membre 0" in form and "Fait à" in form and "2026-11-01" not in form  # date blank

    letters_out = tmp_path / "batch"
    invoke(
        runner,
        [
            "batch",
            str(rows),
            "--association",
            str(association),
            "--out",
            str(letters_out),
            "--date",
            "2026-11-23",
        ],
    )
    pdf = next(letters_out.rglob("*.pdf"))
    text = flat(pdf_text(pdf.read_bytes()))
    assert "Lyon, le 23 novembre 2026" in text  # the association's town, not the member's
    assert (
        "peut aussi me représenter devant la CNIL (article 80(1) du RGPD, articles 37 et 38 de la"
        in text
    )
    assert "Pour Membre 0, par mandat" in text
    assert "Dominique Durand, présidente, Association Halte" in text


def test_an_ordinary_mandate_claims_no_art80(runner, tmp_path):
    association = tmp_path / "association.yaml"
    association.write_text(QUALIFIED.replace("qualifies_art80: true\n", ""))
    rows = write_csv(tmp_path / "m.csv", [member(0, broker="selfcontact")])
    out = tmp_path / "mandates"
    invoke(runner, ["mandate", "--association", str(association), "--out", str(out), str(rows)])
    form = flat(pdf_text((out / "mandate-M-00000.pdf").read_bytes()))
    assert "80(1)" not in form and "article 1984 du Code civil" in form
    assert "préparer la réclamation que j’adresserai à la CNIL" in form
    letters_out = tmp_path / "batch"
    invoke(
        runner, ["batch", str(rows), "--association", str(association), "--out", str(letters_out)]
    )
    text = flat(pdf_text(next(letters_out.rglob("*.pdf")).read_bytes()))
    assert "80(1)" not in text and "art. 1984" in text


def test_art80_without_a_declaration_date_is_refused(runner, tmp_path):
    association = tmp_path / "association.yaml"
    association.write_text(QUALIFIED.replace("declared_on: 2015-03-01\n", ""))
    result = runner.invoke(
        cli, ["mandate", "--association", str(association), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 1 and "qualifies_art80 needs declared_on" in result.stderr
    assert HEADER  # the CSV columns the batch tests share


def complaint_text(runner, tmp_path, values: dict) -> str:
    """The text of the CNIL complaint about a request generated with `values`, sent."""
    result = invoke(runner, [*replace_args(COMMAND, values), "--out", str(tmp_path / "o")])
    ref = next(
        line.split()[1] for line in result.output.splitlines() if line.startswith("reference")
    )
    sent(runner, ref)
    cnil = tmp_path / "cnil"
    invoke(runner, ["complain", ref, "--out", str(cnil), "--on", "2026-03-20", "--force"])
    return flat(pdf_text(next(p for p in cnil.iterdir() if "dossier" not in p.name).read_bytes()))


def test_complaint_names_breaches_the_gdpr_gives(runner, tmp_path):
    """No CPCE L. 34-5 (commercial prospecting only): the missing opt-out is a breach of
    21(4); the canvassing lacks a legal basis shown, consent or other (the CNIL also
    weighs legitimate interest)."""
    complaint = complaint_text(
        runner, tmp_path, {"--broker": "renaissance", "--sms-text": "Votez pour nous"}
    )
    for expected in (
        "au plus tard lors de la première communication (art. 21(4))",
        # what the person knows, not a breach stated as fact (the lawyer's review)
        "n’a, à ce jour, démontré ni mon consentement (art. 7(1)) ni un autre fondement",
        # a party: its message was its first communication with the person (14(3)(b));
        # a broker's complaint cites (a) and (c) alone (test_report's collective one)
        "ni lors de sa première communication avec moi, le message reçu (art. 14(3)(a), (b) "
        "et (c))",
    ):
        assert expected in complaint, expected
    for removed in (
        "L. 34-5",
        "consentement préalable démontré",
        "par SMS ou appel automatisé",
    ):
        assert removed not in complaint, removed


@pytest.mark.today("2026-12-03")  # its reminders are dated May 2026: they must have happened
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_reminder_after_a_notified_extension_does_not_say_one_month(runner, tmp_path, lang):
    ref, _pdf = generate(runner, tmp_path / "o", broker="renaissance", lang=lang)
    sent(runner, ref, "--received", "2026-02-02")
    invoke(runner, ["answer", ref, "--extension", "--on", "2026-02-20"])
    out = tmp_path / "f"
    result = invoke(
        runner, ["remind", ref, "--on", "2026-05-20", "--format", "pdf,text", "--out", str(out)]
    )
    reminder_ref = next(out.iterdir()).name[:14]
    invoke(runner, ["sent", reminder_ref, "--on", "2026-05-20"])
    text = flat(result.stdout)
    expected, removed = {
        "fr": (
            "prolongé de deux mois par votre notification du 20 février 2026 (art. 12(3) du RGPD),"
            " a expiré le 4 mai 2026",
            "Le délai d’un mois",
        ),
        "en": (
            "extended by two months by your notice of 20 February 2026 (GDPR Art. 12(3)),"
            " ran out on 4 May 2026",
            "The one-month period",
        ),
    }[lang]
    assert expected in text and removed not in text
    # a second reminder is refused with what is true: the first went out, wait for its end
    again = runner.invoke(cli, ["remind", ref, "--on", "2026-05-25", "--out", str(out)])
    assert again.exit_code == 1
    assert "already reminded on 2026-05-20" in again.stderr and "2026-06-04" in again.stderr
    assert "has not passed" not in again.stderr


def test_complaint_against_a_processor_names_its_own_breach(runner, tmp_path, dsar_home):
    """CM.com says it is a processor: it owes no Art. 14 notice, but must help the
    controller answer (28(3)(e)); the complaint says so rather than cite Art. 14."""
    add_postal(dsar_home, "cm-com", "CM.com France\n1 rue du Test\n75001 Paris")  # posted
    complaint = complaint_text(runner, tmp_path, {"--broker": "cm-com"})
    assert "ni transmise au responsable du traitement" in complaint
    assert "(art. 28(3)(e))" in complaint
    assert "(art. 14(2)(f))" not in complaint
    assert "ni mon consentement" not in complaint  # the controller's to show


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_erasure_alone_asks_a_broker_for_the_source_first_and_a_party_not(runner, tmp_path, lang):
    """Issue 23 item 7: erased at a broker, the number leaves no trace of its source."""
    _ref, pdf = generate(runner, tmp_path / "b", right="erasure", lang=lang)
    core = flat(pages(pdf)[0])
    first = {
        "fr": "avant tout effacement, de m’indiquer la source précise de mes données",
        "en": "before any erasure, to give me the specific source of my data",
    }[lang]
    then = {"fr": "d’effacer ensuite toutes mes données", "en": "then to erase all my data"}[lang]
    assert first in core and then in core and core.index(first) < core.index(then)
    _ref, pdf = generate(runner, tmp_path / "p", right="erasure", lang=lang, broker="renaissance")
    party = flat(" ".join(pages(pdf)))
    assert first not in party and "18(1)(b)" not in party
    result = runner.invoke(
        cli, [*replace_args(COMMAND, {"--right": "erasure"}), "--out", str(tmp_path / "w")]
    )
    assert result.exit_code == 0 and "--right both" in flat(result.stderr)


@pytest.mark.parametrize(
    ("lang", "hedged", "asserted"),
    [
        ("fr", "peuvent me prêter des opinions", "et ils me prêtent des opinions"),
        ("en", "they may attribute political opinions", "and they attribute political"),
    ],
)
def test_art21_1_grounds_claim_nothing_the_person_cannot_prove(
    runner, tmp_path, lang, hedged, asserted
):
    """A broker that infers nothing answers "we never did" to a flat claim (LEGAL.md: unprovable
    facts are written as such), so the 21(1) grounds are hedged."""
    _ref, pdf = generate(runner, tmp_path / "o", right="both", lang=lang)
    text = flat(pages(pdf)[0])
    assert hedged in text
    assert asserted not in text
