"""The letters as a broker's lawyer read them (third review): what an answer said is
quoted only when it is the answer's own words, nothing is said enclosed that is not,
an identification request is not an ID-card demand, the deadline named is the one in
force, Art. 80(1) only as the member signed it. Real SQLite, real PDFs read back."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from dsar.cli import cli

from . import test_follow
from .conftest import ASSOCIATION, flat, pdf_pages, pdf_text, read_csv
from .test_batch import member, write_csv
from .test_follow import PERSON, pdf_of
from .test_follow_review import answered, registry_file  # noqa: F401 (fixture)
from .test_letters import generate, invoke, sent

app = test_follow.app  # its fixture, on test_follow_review's registry

pytestmark = pytest.mark.today("2026-12-03")

NOTE = "ils disent que ça vient de Jeux Concours Magiques"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_typed_note_is_the_persons_summary_never_quoted_as_the_answer(app, tmp_path, lang):
    """Finding 1: `dsar answer --note` is what the person read, in their words: no
    guillemets, no « Extrait de sa réponse »."""
    first = app.generate("datacontact", **PERSON, lang=lang, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-11-01")  # fmt: skip
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered", named="source",
               organisation="Jeux Concours Magiques", note=NOTE)  # fmt: skip
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "n"))
    summary = {
        "fr": f"Selon ma lecture de cette réponse (résumé) : {NOTE}",
        "en": f"As I read that answer (my summary): {NOTE}",
    }[lang]
    assert summary in text
    for quoted in ("Extrait de sa réponse", "Extract of its answer", f"« {NOTE}", f"“{NOTE}"):
        assert quoted not in text


def test_the_answers_own_words_read_by_the_inbox_stay_an_extract(app, tmp_path):
    first = answered(app, tmp_path, "Vos coordonnées nous ont été transmises par Welcoming.")
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "n"))
    assert "Extrait de sa réponse : « Vos coordonnées nous ont été transmises" in text
    assert "Selon ma lecture" not in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_source_is_asked_about_use_on_its_behalf_and_the_basis_not_under_15_1_c(
    app, tmp_path, lang
):
    """Finding 9: a broker that sends messages itself and never hands lists over cannot
    deny the question word for word; the legal basis rests on 6, 14(1)(c) and 5(2)."""
    first = answered(
        app, tmp_path, "Vos coordonnées nous ont été transmises par Welcoming.", lang=lang
    )
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "n"))
    wanted = {
        "fr": ("ou les avez utilisées pour son compte (envoi de messages)",
               "sur quelle base légale (art. 6, 14(1)(c) et 5(2))",
               "le texte exact du consentement que j’aurais donné et sa preuve (art. 7(1) et 15(1)(g))"),
        "en": ("or used it on its behalf (sending messages)",
               "on what legal basis (Art. 6, 14(1)(c) and 5(2))",
               "the exact text of the consent I would have given and its proof (Art. 7(1) and 15(1)(g))"),
    }[lang]  # fmt: skip
    for phrase in wanted:
        assert phrase in text, phrase
    assert "15(1)(c))" not in text.split("Welcoming")[0] + text.split("Parti Exemple")[-1][:700]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_next_request_says_nothing_enclosed_it_does_not_enclose(app, tmp_path, lang):
    """Finding 10: the PDF is the letter and its annex, the e-mail one text part: the
    earlier request and the answer are offered, never said enclosed; one parenthesis at
    a time."""
    first = app.generate("datacontact", **PERSON, lang=lang, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-11-01")  # fmt: skip
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered")
    done = app.follow(first.reference, to="jeux-concours", out_dir=tmp_path / "n",
                      formats="pdf,email")  # fmt: skip
    text = pdf_of(done)
    mail = message_from_bytes(
        next(p for p in done.written if p.suffix == ".eml").read_bytes(), policy=policy.default
    )
    body = flat(mail.get_body(("plain",)).get_content())
    assert [p.get_content_type() for p in mail.walk() if not p.is_multipart()] == ["text/plain"]
    offered = {
        "fr": "cette demande et cette réponse peuvent vous être communiquées sur demande",
        "en": "that request and that answer can be provided to you on request",
    }[lang]
    for said in (text, body):
        assert offered in said
        for claim in ("jointe en copie", "a copy of which is enclosed"):
            assert claim not in said
        cause = said.split("Je vous écris" if lang == "fr" else "I am writing")[1][:400]
        assert ") (" not in cause


def test_a_recipient_named_is_told_of_articles_13_or_14_and_all_of_14_3(app, tmp_path):
    """Finding 12: the information owed under 13 or 14, 14(3) in full."""
    first = app.generate("datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-11-01")  # fmt: skip
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered", named="recipient",
               organisation="Jeux Concours Magiques")  # fmt: skip
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "n"))
    assert "les informations prévues aux articles 13 ou 14 du RGPD" in text
    assert (
        "dans un délai raisonnable et au plus tard un mois après l’obtention de mes données, ou "
        "plus tôt lors de la première communication avec moi ou de leur communication à un "
        "destinataire (art. 14(3)(a) à (c))"
    ) in text


# ---------------------------------------------------------------- the member's complaint


def complaint_after(runner, tmp_path, *steps, on="2026-03-11") -> str:
    """A request to Renaissance, posted, received on 2 February, then each command of
    `steps` (REF: its reference); the CNIL complaint's text as of `on`."""
    ref, _pdf = generate(runner, tmp_path / "o", broker="renaissance")
    sent(runner, ref, "--lrar", "1A00012345678", "--received", "2026-02-02")
    for step in steps:
        invoke(runner, [a.replace("REF", ref) for a in step])
        if step[0] == "reply-id":  # posted the next day
            reply_ref = next(Path(step[-1]).iterdir()).name[:14]
            invoke(runner, ["sent", reply_ref, "--on", "2026-02-24"])
    cnil = tmp_path / "cnil"
    invoke(runner, ["complain", ref, "--out", str(cnil), "--on", on, "--force"])
    return flat(pdf_text(next(p for p in cnil.iterdir() if "dossier" not in p.name).read_bytes()))


ID_ASKED = ["answer", "REF", "--state", "id-requested", "--on", "2026-02-20"]


def test_an_identification_request_is_never_called_an_id_card_demand(runner, tmp_path):
    """Finding 3: only that identification was asked is on record; 'unanswered' only
    once the person replied to it."""
    text = complaint_after(runner, tmp_path, ID_ASKED)
    assert (
        "Réponse obtenue : une demande d’identification, le 20 février 2026, à laquelle il n’a "
        "pas encore été répondu."
    ) in text
    for claim in (
        "pièce d’identité, disproportionnée",
        "exigence d’une pièce",
        "absence de réponse",
    ):
        assert claim not in text, claim


def test_an_identification_request_answered_is_then_unanswered_on_the_merits(runner, tmp_path):
    out = str(tmp_path / "r")
    reply = ["reply-id", "REF", "--on", "2026-02-23", "--format", "pdf", "--out", out]
    text = complaint_after(runner, tmp_path, ID_ASKED, reply)
    assert "à laquelle j’ai répondu le 24 février 2026 en proposant une vérification" in text
    assert "absence de réponse dans le délai d’un mois et absence de refus motivé" in text
    assert "ne suspend pas ce délai (art. 12(2) et 12(6))" in text
    assert "pièce d’identité" not in text


def test_a_complaint_after_a_valid_extension_names_the_three_months(runner, tmp_path):
    """Finding 4: the deadline named is the one in force."""
    extended = ["answer", "REF", "--extension", "--on", "2026-02-20"]
    text = complaint_after(runner, tmp_path, extended, on="2026-05-20")
    assert (
        "absence de réponse dans le délai de trois mois, prolongé par la notification du "
        "20 février 2026 faite dans le premier mois, et absence de refus motivé"
    ) in text
    assert "délai d’un mois" not in text


def test_a_refusal_is_summarised_as_the_person_noted_it_and_12_4_named(runner, tmp_path):
    """Finding 5: the note is the person's summary (finding 1); whether reasons were given
    is in the reply, which is said joined only when it is."""
    refused = ["answer", "REF", "--state", "refused", "--on", "2026-02-20",
               "--note", "Nous ne donnons pas suite."]  # fmt: skip
    text = complaint_after(runner, tmp_path, refused)
    assert "Selon ma lecture de cette réponse (résumé) : Nous ne donnons pas suite." in text
    assert "« Nous ne donnons" not in text
    assert "refus : la réponse n’est pas jointe (pièce non jointe)" in text
    assert "mentionner la possibilité d’introduire une réclamation" in text


# ---------------------------------------------------------------- under mandate

QUALIFIED = ASSOCIATION + (
    "qualifies_art80: true\ndeclared_on: 2015-03-01\n"
    "purpose: la protection des données personnelles de ses membres\n"
)


def batch_letter(runner, tmp_path, association: str, *, form: bool) -> tuple[str, str]:
    """One member's batch letter (dated 1 June 2026), after `dsar mandate` wrote the
    form (`form`) or not; (its text, its reference)."""
    tmp_path.mkdir(exist_ok=True)
    yaml_file = tmp_path / "association.yaml"
    yaml_file.write_text(association, encoding="utf-8")
    rows = write_csv(tmp_path / "m.csv", [member(0, broker="renaissance")])
    if form:
        invoke(runner, ["mandate", "--association", str(yaml_file), "--out",
                        str(tmp_path / "forms"), str(rows)])  # fmt: skip
    out = tmp_path / "batch"
    invoke(runner, ["batch", str(rows), "--association", str(yaml_file), "--out", str(out),
                    "--date", "2026-06-01", "--mandate-on-request"])  # fmt: skip
    pdf = next(out.rglob("DSAR-*.pdf"))
    return flat(pdf_text(pdf.read_bytes())), pdf.name[:14]


def test_a_request_claims_art80_only_as_the_member_signed_it(runner, tmp_path):
    """Finding 6: the association qualifies on the letter's day, but the member signed
    no form carrying the Art. 80(1) clause (none recorded): no claim."""
    text, _ref = batch_letter(runner, tmp_path, QUALIFIED, form=False)
    assert "80(1)" not in text and "me représenter devant la CNIL" not in text
    text, _ref = batch_letter(runner, tmp_path / "signed", QUALIFIED, form=True)
    assert "peut aussi me représenter devant la CNIL (article 80(1)" in text


def test_the_identity_check_is_said_only_when_the_association_says_it(runner, tmp_path):
    """Finding 12: nothing in association.yaml backed « Elle a vérifié mon identité »."""
    text, _ref = batch_letter(runner, tmp_path, ASSOCIATION, form=False)
    assert "vérifié mon identité" not in text
    assert "Les pouvoirs de son signataire vous seront justifiés sur demande" in text
    text, _ref = batch_letter(
        runner, tmp_path / "checked", ASSOCIATION + "identity_checked: true\n", form=False
    )
    assert "Elle a vérifié mon identité ; les pouvoirs de son signataire" in text


def test_a_purpose_without_data_protection_gives_no_art80(runner, tmp_path):
    """Finding 11: LIL art. 37 IV asks for data protection in the statutory purpose."""
    other = QUALIFIED.replace("la protection des données personnelles de ses membres",
                              "la défense des consommateurs")  # fmt: skip
    text, _ref = batch_letter(runner, tmp_path, other, form=True)
    assert "80(1)" not in text
    form = flat(pdf_text(next((tmp_path / "forms").iterdir()).read_bytes()))
    assert "80(1)" not in form and "article 1984 du Code civil" in form


def test_a_members_own_complaint_under_an_ordinary_mandate_is_sent_by_the_member(runner, tmp_path):
    """Finding 7: only Art. 80(1) lets the association represent the member before the
    CNIL: the member is the sender, the association helped."""
    _text, ref = batch_letter(runner, tmp_path, ASSOCIATION, form=False)
    invoke(runner, ["sent", ref, "--on", "2026-06-02", "--received", "2026-06-05"])
    cnil = tmp_path / "cnil"
    invoke(runner, ["complain", ref, "--out", str(cnil), "--on", "2026-12-03"])
    pdf = next(p for p in cnil.iterdir() if "dossier" not in p.name)
    head = flat(pdf_pages(pdf.read_bytes())[0]).split("Objet")[0]
    assert head.startswith("Membre 0 0 rue des Lilas 75011 Paris")
    assert "Association Halte aux SMS" not in head and "pour Membre 0" not in head
    assert "Paris, le 3 décembre 2026" in head  # the member's town
    assert "préparée avec l’aide de l’Association Halte aux SMS" in flat(pdf_text(pdf.read_bytes()))


# ---------------------------------------------------------------- the report


def test_the_report_counts_only_extensions_in_time_and_writes_french_decimals(runner, tmp_path):
    """Finding 8: an extension notified after the first month has no effect: its own
    column; every category defined in the note; 42,5 in a French CSV."""
    extended = {"2026-02-20": "2026-03-20", "2026-03-10": "2026-03-13"}  # 46 and 39 days
    for number, (notified, answered_on) in enumerate(extended.items()):
        ref, _pdf = generate(runner, tmp_path / f"o{number}", broker="renaissance",
                             phone=f"06 12 34 56 7{number}")  # fmt: skip
        sent(runner, ref, "--received", "2026-02-02")
        invoke(runner, ["answer", ref, "--extension", "--on", notified])
        invoke(runner, ["answer", ref, "--state", "answered", "--on", answered_on])
    out = tmp_path / "report"
    result = runner.invoke(cli, ["--ui-lang", "fr", "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = read_csv(out / "report-recipients.csv")
    assert row["prolongée"] == "1" and row["prolongation tardive (sans effet)"] == "1"
    assert row["jours pour répondre (médiane)"] == "42,5"
    text = flat(pdf_text((out / "report.pdf").read_bytes()))
    for definition in (
        "Sans réponse : délai en vigueur (prolongé ou non) expiré sans réponse enregistrée à la "
        "date du rapport.",
        "En attente : délai non expiré.",
        "Non remise : demande revenue (adresse invalide) ; aucun délai n'a couru.",
        "sur toutes les réponses datées",
    ):
        assert definition in text, definition
    assert "pièce d'identité" not in text
