"""dsar follow as a lawyer and a new user reviewed it: the organisation an answer named
(never the sentence around it), no claim an answer did not make, the right the first
request used, no employee's address, the page and the review that let the person correct
the name. Real replies read by the inbox, real SQLite, real PDFs read back."""

from __future__ import annotations

from datetime import date

import pytest

from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError, InputError, UsageError
from dsar.inbox import apply, meaning, sources
from dsar.paths import Paths

from . import test_follow
from .conftest import flat, ok, page_client, pdf_pages
from .test_follow import PERSON, REGISTRY, pdf_of, reply, sent

app = test_follow.app  # its fixture, on this file's registry_file

pytestmark = pytest.mark.today("2026-12-03")

MORE = """\
  - slug: welcoming
    kind: broker
    name: Welcoming
    contacts:
      - {kind: postal, value: "Welcoming\\n5 rue du Port\\n13002 Marseille", source: test}
    sources: [{publication: test}]
    quality: unverified
  - slug: selfcontact
    kind: broker
    name: Selfcontact
    contacts:
      - {kind: postal, value: "Selfcontact\\n6 rue du Pont\\n59000 Lille", source: test}
    sources: [{publication: test}]
    quality: unverified
"""


@pytest.fixture
def registry_file(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY + MORE, encoding="utf-8")
    return path


def answered(app, tmp_path, says: str, right: str = "access", lang: str = "fr"):
    """A first request, sent, and its answer read by the inbox and confirmed."""
    first = app.generate(
        "parti-exemple", **PERSON, right=right, lang=lang, formats="pdf,email", out_dir=tmp_path / "first",
        letter_date="2026-09-01",
    )  # fmt: skip
    sent(app, first.reference, "2026-09-02")
    mail = tmp_path / f"mail-{first.reference}"
    reply(mail, app, first.reference, "donnees@parti-exemple.example", date(2026, 9, 21), says)
    apply.read(app, sources.read_files(mail))
    for item in apply.pending(app):
        apply.confirm(app, item["id"], item["kind"])
    return first


def followed(app, tmp_path, says: str):
    """The first request answered with `says`, and the next request to whom the answer named
    (dated 25 September): (first, next)."""
    first = answered(app, tmp_path, says)
    return first, app.follow(first.reference, out_dir=tmp_path / "next", letter_date="2026-09-25")


def test_the_words_around_a_name_are_not_the_name():
    assert (
        meaning.organisation_name("la societe welcoming dans le cadre d'un partenariat")
        == "welcoming"
    )
    assert meaning.organisation_name("notre partenaire selfcontact") == "selfcontact"
    assert meaning.organisation_name("son client") == ""
    assert meaning.organisation_name("reconquete le 2 mai 2026 dans") == "reconquete"


def test_the_registry_entry_the_answer_names_wins_and_the_paraphrase_says_your_organisation(
    app, tmp_path
):
    _first, second = followed(
        app, tmp_path,
        "Vos coordonnées nous ont été transmises par la société Welcoming dans le cadre "
        "d'un partenariat commercial.",
    )  # fmt: skip
    assert app.journal.request(second.reference).broker.slug == "welcoming"
    text = pdf_of(second)
    assert "que mes données provenaient de votre organisme" in text
    assert "« la société Welcoming dans le cadre" not in text  # the name is not the sentence
    assert "courriel reçu de Parti Exemple" in text  # F8
    assert "jean.dupont" not in text
    # F3: the first request's right, as it was
    assert "une demande d’accès (art. 15)" in text
    # F9: the source is asked how the data left it
    assert "si vous avez communiqué mes données à Parti Exemple" in text


def test_a_name_dsar_cannot_tell_is_refused_without_to(app, tmp_path):
    first = answered(
        app, tmp_path,
        "Nous agissons en qualité de sous-traitant pour le compte de son client.",
    )  # fmt: skip
    with pytest.raises(DsarError, match="--to"):
        app.follow(first.reference, out_dir=tmp_path / "next")
    assert not list((tmp_path / "next").glob("*")) if (tmp_path / "next").exists() else True
    # named by the person: written, and the processor's paragraph asks, never asserts (F4)
    second = app.follow(first.reference, to="selfcontact", out_dir=tmp_path / "next")
    text = pdf_of(second)
    assert "à la suite de la réponse que m’a adressée Parti Exemple" in text  # F1: neutral
    assert "provenaient" not in text and "sous-traitant, pour le compte de votre" not in text


def test_the_processor_paragraph_asks_the_controller_to_confirm(app, tmp_path):
    first = answered(
        app, tmp_path,
        "Nous agissons en qualité de sous-traitant pour le compte de notre partenaire "
        "Selfcontact.",
    )  # fmt: skip
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "next"))
    assert (
        "qu’il n’agissait qu’en qualité de sous-traitant, pour le compte de votre organisme" in text
    )
    assert "Si cette indication est exacte, vous êtes le responsable de ce traitement" in text
    assert "pour le compte de qui ce message a été envoyé" in text


def test_a_recipient_not_named_gets_the_neutral_paragraph_never_an_invented_claim(app, tmp_path):
    first = answered(
        app, tmp_path,
        "Votre numéro de téléphone nous a été fourni par DataContact, auprès de qui nous "
        "avons loué un fichier.",
        right="erasure",
    )  # fmt: skip
    text = pdf_of(app.follow(first.reference, to="jeux-concours", out_dir=tmp_path / "n"))
    assert "Je vous écris à la suite de la réponse que m’a adressée Parti Exemple" in text
    assert "provenaient" not in text and "DataContact »" not in text
    # F3 in the naming letter: the first request was an objection and erasure
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "n2"))
    assert "une demande d’opposition et d’effacement (art. 21 et 17)" in text
    assert "demande d’accès" not in text.split("Je vous écris")[1][:200]


def test_an_answer_typed_in_says_what_it_named_or_stays_neutral(
    app, tmp_path, runner, registry_file
):
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    first = app.generate("datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-11-01")  # fmt: skip
    app.sent(first.reference, "2026-11-02")
    # without --named: a note says nothing of what it named
    app.answer(first.reference, "2026-11-20", state="answered", note="Jeux Concours Magiques")
    text = pdf_of(app.follow(first.reference, to="jeux-concours", out_dir=tmp_path / "a"))
    assert "à la suite de la réponse" in text and "provenaient" not in text
    other = app.generate("datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l2",
                         letter_date="2026-11-02", force=True)  # fmt: skip
    app.sent(other.reference, "2026-11-03")
    args = ["answer", other.reference, "--state", "answered", "--on", "2026-11-21", "--named",
            "recipient", "--organisation", "Jeux Concours Magiques"]  # fmt: skip
    done = ok(runner.invoke(cli, args, env=home))
    assert "dsar follow" in done.output
    shown = ok(runner.invoke(cli, ["show", other.reference], env=home))
    assert f"dsar follow {other.reference}" in shown.output
    with App(app.paths, registries=[registry_file]) as again:
        result = again.follow(other.reference, out_dir=tmp_path / "b")
        assert again.journal.request(result.reference).broker.slug == "jeux-concours"
        text = pdf_of(result)
    assert "que mes données avaient été communiquées à votre organisme" in text
    assert (
        "articles 13 ou 14 du RGPD" in text
    )  # F9: a recipient that got the data from a third party
    bad = runner.invoke(cli, args[:-4] + ["--named", "nobody"], env=home)
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_an_english_letter_marks_a_french_quote(app, tmp_path):
    first = answered(
        app, tmp_path,
        "Vos coordonnées nous ont été transmises par la société Welcoming dans le cadre "
        "d'un partenariat commercial.",
        lang="en",
    )  # fmt: skip
    text = pdf_of(app.follow(first.reference, out_dir=tmp_path / "next"))
    assert "that my data came from your organisation" in text
    assert "Extract of its answer (in French, as written):" in text
    assert "e-mail received from Parti Exemple" in text and "jean.dupont" not in text
    assert "to whom I had sent an access request (Art. 15)" in text


def test_a_quote_keeps_whole_sentences_and_the_one_naming_the_same_organisation():
    text = (
        "Bonjour. Le message a été envoyé par CM.com pour le compte de Welcoming. "
        "Welcoming est le responsable du traitement. Cordialement."
    )
    said = meaning._sentence(text, "pour le compte de Welcoming", "Welcoming")
    assert said.startswith("Le message a été envoyé par CM.com")
    assert said.endswith("Welcoming est le responsable du traitement.")


def test_closing_and_signature_stay_on_page_one(app, tmp_path):
    long = "Vos coordonnées nous ont été transmises par Welcoming. " + " ".join(
        ["Cette transmission a eu lieu dans le cadre d'un contrat de partenariat signé"] * 8
    )
    first = answered(app, tmp_path, long)
    second = app.follow(first.reference, out_dir=tmp_path / "next")
    pdf = next(p for p in second.written if p.suffix == ".pdf").read_bytes()
    page1 = flat(pdf_pages(pdf)[0])
    assert "Camille Martin" in page1.split("Je vous écris")[1]  # the signature, after the cause
    assert "[…]" in page1  # the quote, capped and the cut marked


def test_the_page_offers_the_next_request_once_with_the_registry_slug(tmp_path):
    import re

    paths = Paths.from_env()
    paths.user_registry.parent.mkdir(parents=True, exist_ok=True)
    paths.user_registry.write_text(REGISTRY + MORE, encoding="utf-8")
    with App(paths) as app:
        first = app.generate(
            "datacontact", **PERSON, formats="pdf", out_dir=tmp_path, letter_date="2026-11-01"
        )
        app.sent(first.reference, "2026-11-02")
        app.answer(first.reference, "2026-11-20", state="answered", named="source",
                   organisation="notre partenaire Selfcontact")  # fmt: skip
    client = page_client()
    page = client.get(f"/requests/{first.reference}?lang=fr").text
    assert re.search(r'name="to"[^>]*value="selfcontact"|value="selfcontact"[^>]*name="to"', page)
    assert "—" not in page.split('id="h-next"')[1].split("</form>")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    done = client.post(
        f"/requests/{first.reference}/next",
        data={"csrf": csrf, "to": "selfcontact"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/requests/{first.reference}?lang=fr").text
    assert 'id="h-next"' not in page  # written: the chain shows it, no second form


def test_trail_speaks_french_and_add_contact_says_how_to_write_to_an_unknown_source(
    app, tmp_path, runner, registry_file
):
    first = answered(
        app, tmp_path,
        "Votre numéro de téléphone nous a été fourni par DataContact, auprès de qui nous "
        "avons loué un fichier.",
    )  # fmt: skip
    app.follow(first.reference, out_dir=tmp_path / "n")
    home = {"DSAR_HOME": str(app.paths.data_dir), "DSAR_LANG": "fr"}
    shown = ok(runner.invoke(cli, ["trail", first.reference], env=home)).output
    assert "->" not in shown and "source-named" not in shown
    added = runner.invoke(cli, ["brokers", "add-contact", "quiz-soleil", "--email", "a@b.example",
                                "--source", "answer"], env=home)  # fmt: skip
    assert added.exit_code != 0 and "--to-name" in added.output


def test_only_the_name_the_answer_gave_is_the_one_named_never_another_in_its_sentence(
    app, tmp_path
):
    """Attacker's F1 (issue 20, third round): a registry name elsewhere in the sentence
    ('comme le permet la doctrine de Welcoming', 'et non par Welcoming') was taken for the
    source, and the letter told it the answer had named it."""
    first, second = followed(
        app, tmp_path,
        "Votre numéro nous a été fourni par la société Zorglub Marketing SAS, comme le "
        "permet la doctrine de Welcoming en matière de prospection.",
    )  # fmt: skip
    recipient = app.journal.request(second.reference).broker
    assert recipient.slug != "welcoming" and recipient.name == "Zorglub Marketing SAS"
    assert "que mes données provenaient de votre organisme" in pdf_of(second)
    # the organisation only mentioned, chosen by the person: no claim it was named
    third = app.follow(first.reference, to="welcoming", out_dir=tmp_path / "w")
    text = pdf_of(third)
    assert "à la suite de la réponse que m’a adressée Parti Exemple" in text
    assert "provenaient" not in text
    # "X et non par Y": X is the source, Y never the default
    _other, fourth = followed(
        app, tmp_path / "b",
        "Nous vous confirmons que votre numéro nous a été fourni par Selfcontact et non "
        "par Welcoming.",
    )  # fmt: skip
    assert app.journal.request(fourth.reference).broker.slug == "selfcontact"


@pytest.mark.parametrize("given", ["", "   ", "Evil\nBcc: x@example.org", "Evil\x1b[31m SAS"])
def test_a_blank_or_multi_line_to_name_is_a_usage_error(app, tmp_path, runner, given):
    """Attacker's F7 (third round): a line break ended in a pydantic traceback; '' was
    ignored and the automatic pick written instead."""
    first = answered(
        app, tmp_path, "Votre numéro nous a été fourni par Welcoming, notre partenaire."
    )
    out = tmp_path / "next"
    done = runner.invoke(
        cli,
        ["follow", first.reference, "--to-name", given, "--out", str(out)],
        env={"DSAR_HOME": str(app.paths.data_dir)},
    )
    assert done.exit_code == 2, done.output
    assert "--to-name" in done.output and "Traceback" not in done.output
    assert not out.exists() or not list(out.iterdir())


def test_the_add_contact_advice_names_only_what_add_contact_takes(app, tmp_path):
    """Attacker's F11 (third round): after a follow to an organisation the registry lacks,
    dsar advised `dsar brokers add-contact SLUG`, which refuses that slug."""
    first = answered(
        app, tmp_path, "Votre numéro nous a été fourni par la société Zorglub Marketing SAS."
    )
    second = app.follow(first.reference, out_dir=tmp_path / "next")
    assert app.journal.request(second.reference).broker.slug not in app.registry.brokers
    advice = " ".join(second.warnings)
    assert "--to-email" in advice and "add-contact zorglub" not in advice


def test_follow_force_with_a_folder_in_the_way_writes_and_records_nothing(app, tmp_path):
    """Attacker's F6 (third round): follow --force recorded an .eml with its SHA-256 in the
    journal though a folder stood in its place and it was never written."""
    first = answered(app, tmp_path, "Votre numéro nous a été fourni par Welcoming.")
    out = tmp_path / "next"
    second = app.follow(first.reference, formats="pdf", out_dir=out)
    pdf = next(p for p in second.written if p.suffix == ".pdf")
    pdf.with_suffix(".eml").mkdir()
    before = app.journal.files(second.reference)
    with pytest.raises(DsarError, match=r"\.eml"):
        app.follow(first.reference, formats="pdf,email", out_dir=out, force=True)
    assert app.journal.files(second.reference) == before


@pytest.mark.parametrize(
    ("says", "named"),
    [
        ("Votre numéro ne nous a pas été fourni par The Optin Machine ; il vient d'un jeu.", None),
        ("Your number was not obtained from The Optin Machine.", None),
        ("Votre numéro nous a été fourni par la société Jeux Concours SAS.", "Jeux Concours SAS"),
    ],
)
def test_a_name_the_answer_denies_is_no_source(says, named):
    """Re-read, attacker 1's variant: « ne nous a pas été fourni par X » was read as X
    naming the source, and dsar follow wrote to X that its data came from it."""
    from datetime import datetime

    from dsar.inbox.parse import Reply

    reply = Reply(None, [], "dpo@x.example", "", [], "Re: demande", datetime(2026, 9, 21), {}, says)
    found = meaning.classify(reply)
    assert (found.organisation if found.kind == "source-named" else None) == named


def named_source(app, tmp_path, organisation: str) -> str:
    """A first request to the party of 1 September, sent the next day, answered on the
    21st naming `organisation` as the source: its reference."""
    first = app.generate("parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-09-01").reference  # fmt: skip
    app.sent(first, "2026-09-02")
    app.answer(first, "2026-09-21", state="answered", named="source", organisation=organisation,
               note=f"Nous tenons votre numéro de {organisation}.")  # fmt: skip
    return first


def test_a_next_request_never_rewrites_another_request_s_draft(app, tmp_path):
    """Two first requests about one message (the party and a broker, the same day), each
    answered naming Welcoming, whose e-mail address nobody knows: the second dsar follow
    landed on the first one's draft (same person, message, recipient and day) and rewrote
    it in place, citing the other answer, while the journal said it followed the first
    (the third review's attacker, finding 1)."""
    firsts = []
    for slug in ("parti-exemple", "selfcontact"):
        first = app.generate(
            slug, **PERSON, formats="pdf", out_dir=tmp_path / slug, letter_date="2026-09-01"
        )
        app.sent(first.reference, "2026-09-02")
        app.answer(first.reference, "2026-09-21", state="answered", named="source",
                   organisation="Welcoming", note="Nous tenons votre numéro de Welcoming.")  # fmt: skip
        firsts.append(first.reference)
    drafts = [app.follow(ref, formats="email", letter_date="2026-12-03") for ref in firsts]
    assert drafts[0].reference != drafts[1].reference
    for first, draft in zip(firsts, drafts, strict=True):
        assert app.journal.stored_state(draft.reference) == "draft"
        assert [e.reference for e in app.journal.follow_ups(first, "request")] == [draft.reference]
        [eml] = [p for _r, p, _s in app.journal.files(draft.reference)]
        assert eml.parent == tmp_path / app.journal.request(first).broker.slug  # beside it
        assert first in eml.read_text(encoding="utf-8")  # cites its own first request


def test_a_next_request_is_never_dated_before_the_answer_it_cites(app, tmp_path):
    first = app.generate(
        "parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l", letter_date="2026-09-01"
    )
    app.sent(first.reference, "2026-09-02")
    app.answer(first.reference, "2026-09-21", state="answered", named="source",
               organisation="DataContact", note="Nous tenons votre numéro de DataContact.")  # fmt: skip
    with pytest.raises(InputError, match="before the answer it cites"):
        app.follow(first.reference, out_dir=tmp_path / "o", letter_date="2026-09-20")
    assert not (tmp_path / "o").exists()
    assert app.follow(first.reference, out_dir=tmp_path / "o", letter_date="2026-09-21").reference


def test_the_next_request_to_an_e_mail_only_letter_goes_beside_it(app, tmp_path, monkeypatch):
    """The default folder looked for the role "eml" where the journal says "email": a
    letter written as an e-mail only (the README's SMTP batch) had its next request in
    ./letters (the third review's attacker, finding 5)."""
    monkeypatch.chdir(tmp_path)
    first = app.generate(
        "parti-exemple", **PERSON, formats="email", out_dir=tmp_path / "E", letter_date="2026-09-01"
    )
    app.sent(first.reference, "2026-09-02")
    app.answer(first.reference, "2026-09-21", state="answered", named="source",
               organisation="DataContact", note="Nous tenons votre numéro de DataContact.")  # fmt: skip
    written = app.follow(first.reference, formats="email", letter_date="2026-12-03")
    assert {p.parent for p in written.written} == {tmp_path / "E"}
    assert not (tmp_path / "letters").exists()


def test_a_draft_completed_in_place_keeps_its_folder_and_every_format(app, tmp_path):
    """Completing a next request's draft: an explicit --out elsewhere was ignored without a
    word, and a redo with fewer formats left the draft's .eml (no recipient) beside the
    completed letter, outside the journal (the third review's attacker, 11)."""
    first = named_source(app, tmp_path, "Welcoming")
    draft = app.follow(first, formats="pdf,email", letter_date="2026-12-03")
    assert app.journal.stored_state(draft.reference) == "draft"
    address = "Welcoming\n5 rue du Port\n13002 Marseille"
    with pytest.raises(UsageError, match="it is completed there"):
        app.follow(first, formats="pdf", to_address=address, out_dir=tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()
    done = app.follow(first, formats="pdf", to_address=address, letter_date="2026-12-03")
    assert done.reference == draft.reference and set(done.formats) == {"pdf", "email"}
    import hashlib

    held = {role: (path, sha) for role, path, sha in app.journal.files(done.reference)}
    assert set(held) == {"pdf", "email"}  # each file in the folder is the journal's
    for path, sha in held.values():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_a_default_folder_another_user_may_write_into_is_not_written_into(
    app, tmp_path, monkeypatch
):
    """The default folder of a next request (beside the letter it follows) was used even
    after it had been replaced by a folder open to every user of the machine (the third
    review's attacker, 11): dsar writes there only when told (--out)."""
    first = named_source(app, tmp_path, "DataContact")
    (tmp_path / "l").chmod(0o777)
    monkeypatch.chdir(tmp_path)
    written = app.follow(first, formats="pdf", letter_date="2026-12-03")
    assert {p.parent.name for p in written.written} == {"letters"}
    assert not [p for p in (tmp_path / "l").iterdir() if "datacontact" in p.name]
    # ./letters, where it falls back, is checked the same way (third read, 2)
    (tmp_path / "letters").chmod(0o777)
    with pytest.raises(UsageError, match="not a folder of yours closed to others"):
        app.complain(first, on="2026-12-03", force=True)


def test_a_draft_in_a_folder_others_may_write_into_is_completed_there_only_when_told(app, tmp_path):
    """The draft completed in place was rewritten, forced, in a folder since opened to
    every user (third read of today's fixes, 1): only --out naming that folder does it."""
    first = named_source(app, tmp_path, "Welcoming")
    draft = app.follow(first, formats="pdf", letter_date="2026-12-03")
    [pdf] = draft.written
    kept = pdf.read_bytes()
    (tmp_path / "l").chmod(0o777)
    address = "Welcoming\n7 rue Neuve\n13002 Marseille"  # moved since the registry's
    with pytest.raises(UsageError, match="which others may write into"):
        app.follow(first, formats="pdf", to_address=address, letter_date="2026-12-03")
    assert pdf.read_bytes() == kept
    done = app.follow(first, formats="pdf", to_address=address, letter_date="2026-12-03",
                      out_dir=tmp_path / "l")  # fmt: skip
    assert done.reference == draft.reference and pdf.read_bytes() != kept
