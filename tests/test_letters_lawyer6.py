"""The letters as the third review's lawyer read them: a mandate form that names a party
only when the message names one, its scope reaching a processor's client and the
organisations named further down the chain only when the member signed it so, the
collective complaint's words about the mandates true of each, and one member in the
singular. Real SQLite, real PDFs read back, the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.cli import cli
from dsar.errors import DsarError

from .conftest import flat, ok, pdf_text, read_csv
from .test_batch import member, write_csv
from .test_batch_rerun import mandate_args
from .test_follow import app, first_batch, registry_file  # noqa: F401 (fixtures)

pytestmark = pytest.mark.today("2026-12-03")


def test_a_short_number_names_no_party_on_the_mandate_form(runner, tmp_path, association):
    """« le candidat ou le parti au nom duquel le message reçu a été envoyé (« 36111 ») »:
    a number names no one, and a mandate « to any party » is not specific enough
    (lawyer, finding 9). A sender that is a name stays on the form."""
    path = write_csv(
        tmp_path / "m.csv", [member(0, sms_sender="36111"), member(1, sms_sender="Reconquête")]
    )
    forms = tmp_path / "forms"
    ok(runner.invoke(cli, mandate_args(association, forms, path, "--broker", "selfcontact")))
    number = flat(pdf_text((forms / "mandate-M-00000.pdf").read_bytes()))
    named = flat(pdf_text((forms / "mandate-M-00001.pdf").read_bytes()))
    assert "au nom duquel le message reçu a été envoyé" not in number
    assert "36111" not in number.split("suivants")[1].split("exercer")[0]
    assert "au nom duquel le message reçu a été envoyé (« Reconquête »)" in named


# the line of the forms members signed before the wider one: source or recipient only
CHAIN_LINE = (
    "tout responsable de traitement que ces organismes désigneront comme source ou "
    "destinataire de mes données"
)


def signed_the_narrow_form(app, tmp_path, association, count: int, broker="parti-exemple"):  # noqa: F811
    """The members' forms written from a template with the chain's line only (as dsar
    wrote them before the wider one), recorded by dsar mandate; naming `broker`."""
    from dsar.app import App

    override = tmp_path / "narrow"
    override.mkdir()
    shipped = (Path(__file__).parents[1] / "templates" / "mandate.html.j2").read_text()
    start = shipped.index("tout responsable de traitement que ces organismes")
    end = shipped.index("</li>", start)
    (override / "mandate.html.j2").write_text(
        shipped[:start] + CHAIN_LINE + shipped[end:], encoding="utf-8"
    )
    with App(app.paths, registries=app.registries, templates=override, clock=app.clock) as old:
        rows = [member(i, broker=broker) for i in range(1, count + 1)]
        old.mandates(association, tmp_path / "forms", write_csv(tmp_path / "m.csv", rows))


def sent_to_datacontact(app, tmp_path, first: str, sent_on: str) -> str:  # noqa: F811
    """`first` sent on `sent_on`, answered 18 days later naming DataContact as the source,
    the next request to DataContact written the day after and sent the next: its reference."""
    from datetime import date, timedelta

    day = date.fromisoformat(sent_on)
    app.sent(first, day)
    app.answer(first, day + timedelta(18), state="answered", named="source",
               organisation="DataContact", note="Nous tenons votre numéro de DataContact.")  # fmt: skip
    second = app.follow(first, to="datacontact", formats="pdf", out_dir=tmp_path / "n",
                        letter_date=day + timedelta(19)).reference  # fmt: skip
    app.sent(second, day + timedelta(20))
    return second


def test_a_processor_s_client_is_reached_only_under_the_wider_line(app, tmp_path):  # noqa: F811
    """Routeur SMS, a processor, named DataContact as the controller it acts for: the next
    request said « ce mandat vaut pour tout responsable … désigneront comme source ou
    destinataire », which does not reach a processor's client (lawyer, finding 3). A
    member who signed the form with that line alone is held back; one who signed today's
    form, with « pour le compte duquel ils les traitent », gets a letter that says so."""
    association, batch = first_batch(app, tmp_path, 2, "pdf")
    narrow, wide = (row.reference for row in batch.rows)
    signed_the_narrow_form(app, tmp_path, association, 1)  # member 1's form only
    today = write_csv(tmp_path / "m2.csv", [member(2, broker="parti-exemple")])
    app.mandates(association, tmp_path / "forms2", today)  # member 2's, today's form
    for reference in (narrow, wide):
        app.sent(reference, "2026-09-02")
        app.answer(reference, "2026-09-21", state="answered", named="controller",
                   organisation="DataContact", note="Nous agissons pour DataContact.")  # fmt: skip
    with pytest.raises(DsarError, match="controller a processor acts for"):
        app.follow(narrow, to="datacontact", formats="pdf", out_dir=tmp_path / "o")
    done = app.batch_follow(
        "datacontact", association=association, out_dir=tmp_path / "b2", formats="pdf"
    )
    assert done.out_of_scope.first == ["M-00001"] and len(done.written_now) == 1
    [written] = done.written_now
    text = flat(pdf_text(next(p for _r, p, _s in app.journal.files(written)).read_bytes()))
    assert "ou comme celui pour le compte duquel ils les traitent" in text


def test_an_organisation_named_further_down_is_reached_only_under_the_wider_line(
    app,  # noqa: F811
    tmp_path,
):
    """The party named DataContact, which named Jeux Concours: the third letter still
    wrote « en vertu de mon mandat » though the form's « ces organismes » are those it
    names (lawyer, finding 4). Under the narrow form it is refused; DataContact itself,
    named by the party the form names, is reached."""
    association, batch = first_batch(app, tmp_path, 1, "pdf")
    [first] = [row.reference for row in batch.rows]
    signed_the_narrow_form(app, tmp_path, association, 1)
    second = sent_to_datacontact(app, tmp_path, first, "2026-09-02")
    app.answer(second, "2026-10-20", state="answered", named="source",
               organisation="Jeux Concours Magiques", note="Inscription à un jeu concours.")  # fmt: skip
    with pytest.raises(DsarError, match="organisations named further down the chain"):
        app.follow(second, to="jeux-concours", formats="pdf", out_dir=tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_a_member_s_next_request_encloses_the_signed_mandate_given(
    app,  # noqa: F811
    tmp_path,
):
    """The form promises a copy of the mandate with the request to each organisation; the
    next requests said « communiqué sur simple demande » with no attachment although the
    scan was at hand (lawyer, finding 5). With --mandates the member's scan goes with the
    e-mail and the letter says it is joined; a member without one is offered it on request."""
    from email import message_from_bytes, policy

    from pypdf import PdfWriter

    from .test_follow import answered_naming_datacontact

    association, batch = first_batch(app, tmp_path, 2, "email")
    refs = [row.reference for row in batch.rows]
    answered_naming_datacontact(app, refs)
    scans = tmp_path / "signed"
    scans.mkdir()
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    with (scans / "M-00001.pdf").open("wb") as handle:  # member 1's; member 2's never came
        blank.write(handle)
    done = app.batch_follow(
        "datacontact", association=association, out_dir=tmp_path / "b2", formats="email",
        mandates=scans,
    )  # fmt: skip
    assert len(done.written_now) == 2
    said = {}
    for reference in done.written_now:
        [eml] = [p for _r, p, _s in app.journal.files(reference) if p.suffix == ".eml"]
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",)).get_content()
        names = [part.get_filename() for part in message.iter_attachments()]
        said[app.journal.request(reference).mandate.reference] = (names, body)
    names, body = said["M-00001"]
    assert names == ["mandat-M-00001.pdf"] and "communiqué sur simple demande" not in body
    names, body = said["M-00002"]
    assert names == [] and "communiqué sur simple demande" in body


def test_the_closing_and_signature_stay_on_page_one(app, tmp_path):  # noqa: F811
    """With the sender's postal address, a party's paragraph and a member's next request
    citing an answer, the closing and signature fell on page 2, alone (the third review's
    lawyer, 8, and new user, 11; LEGAL.md: the core with the signature block stays on page
    1). A letter that spills is laid out again, tighter."""
    from .conftest import pdf_pages
    from .test_follow import PERSON, answered_naming_datacontact

    citizen = app.generate(
        "parti-exemple", **PERSON, sms_sender="Parti Exemple", formats="pdf",
        sms_text="Le 9 juin, votez pour nos candidats ; STOP au 36111. " * 3,
        out_dir=tmp_path / "c", letter_date="2026-11-02",
    )  # fmt: skip
    association, batch = first_batch(app, tmp_path, 1, "pdf")
    answered_naming_datacontact(app, [batch.rows[0].reference])
    following = app.follow(
        batch.rows[0].reference, to="datacontact", formats="pdf", out_dir=tmp_path / "n",
        letter_date="2026-09-25",
    )  # fmt: skip
    for result, signed in ((citizen, PERSON["name"]), (following, "Pour Membre 1, par mandat")):
        first = flat(pdf_pages(result.pdf)[0])
        assert "Je vous prie d’agréer" in first and signed in first, first[-300:]
    # a batch's letters to the party, laid out together (the second chunk's shape known)
    (tmp_path / "many").mkdir()
    _association, many = first_batch(app, tmp_path / "many", 3, "pdf")
    for row in many.rows:
        [pdf] = [f for _r, f, _s in app.journal.files(row.reference) if f.suffix == ".pdf"]
        first = flat(pdf_pages(pdf.read_bytes())[0])
        assert f"Pour {row.member}, par mandat" in first, first[-300:]


def test_a_next_request_goes_only_where_an_answer_or_the_form_points(
    app,  # noqa: F811
    tmp_path,
):
    """dsar follow --to hipto under a member's mandate, though the answer named no one:
    written « en vertu de mon mandat … ce mandat vaut pour tout responsable … désigneront »
    (second read of today's fixes, 2). And an organisation the form names, reached by a
    next request, names the next one under the chain's line alone (4): not held back."""
    association, batch = first_batch(app, tmp_path, 1, "pdf")
    [first] = [row.reference for row in batch.rows]
    signed_the_narrow_form(app, tmp_path, association, 1, broker="datacontact")
    app.sent(first, "2026-09-02")
    app.answer(first, "2026-09-21", state="answered", note="Nous n’avons pas de données.")
    with pytest.raises(DsarError, match="no answer named Jeux Concours Magiques"):
        app.follow(first, to="jeux-concours", formats="pdf", out_dir=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    # DataContact is on the member's form: the person may write to it
    second = app.follow(first, to="datacontact", formats="pdf", out_dir=tmp_path / "n",
                        letter_date="2026-09-22").reference  # fmt: skip
    app.sent(second, "2026-09-23")
    app.answer(second, "2026-10-20", state="answered", named="source",
               organisation="Jeux Concours Magiques", note="Inscription à un jeu concours.")  # fmt: skip
    third = app.follow(second, to="jeux-concours", formats="pdf", out_dir=tmp_path / "t",
                       letter_date="2026-10-21")  # fmt: skip
    assert "ce mandat vaut pour tout responsable de traitement" in flat(pdf_text(third.pdf))


def test_a_complaint_about_a_next_request_says_how_the_number_led_there(
    app,  # noqa: F811
    tmp_path,
):
    """The complaint against the controller a processor named said only « envoyé depuis
    le numéro court 36111 », never why that organisation was written to (the lawyer's
    third review, 7): it says who named it, when, in answer to which request."""
    from .test_follow import PERSON

    first = app.generate("parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-08-01").reference  # fmt: skip
    second = sent_to_datacontact(app, tmp_path, first, "2026-08-02")
    complaint = app.complain(second, on="2026-11-02", out_dir=tmp_path / "cnil")
    text = flat(
        pdf_text(next(p for p in complaint.written if p.name.endswith("-cnil.pdf")).read_bytes())
    )
    assert (
        f"J’ai écrit à DataContact parce que Parti Exemple, à qui j’avais adressé la demande "
        f"{first}, m’a indiqué le 20 août 2026 tenir mes données de DataContact."
    ) in text


def two_members_named_jeux_concours(app, tmp_path):  # noqa: F811
    """Two members' letters to the party, sent, each answered naming Jeux Concours
    Magiques (known only by post) as the source: the association.yaml."""
    association, batch = first_batch(app, tmp_path, 2, "pdf")
    for row in batch.rows:
        app.sent(row.reference, "2026-09-02")
        app.answer(row.reference, "2026-09-21", state="answered", named="source",
                   organisation="Jeux Concours Magiques", note="Inscription à un jeu.")  # fmt: skip
    return association


def test_batch_follow_writes_no_e_mail_to_a_recipient_without_an_address(app, tmp_path):  # noqa: F811
    """batch --follow --format pdf,email wrote each member an .eml without a To: for a
    recipient the registry knows only by post; dsar batch writes none (the third review's
    new user, 12)."""
    association = two_members_named_jeux_concours(app, tmp_path)
    done = app.batch_follow(
        "jeux-concours", association=association, out_dir=tmp_path / "b2", formats="pdf,email"
    )
    assert len(done.written_now) == 2
    assert not list((tmp_path / "b2").glob("*.eml"))
    assert len(list((tmp_path / "b2").glob("*-jeux-concours.pdf"))) == 2


def test_an_e_mail_draft_alone_gets_no_envelope_label(app, tmp_path):  # noqa: F811
    """batch --follow --format email,labels to a recipient known only by post: e-mail
    drafts without a To:, and a label per member for an envelope with nothing printed to
    put in it (third read of today's fixes, 3)."""
    association = two_members_named_jeux_concours(app, tmp_path)
    drafts = app.batch_follow(
        "jeux-concours", association=association, out_dir=tmp_path / "b3", formats="email,labels"
    )
    assert len(drafts.written_now) == 2 and read_csv(drafts.labels) == []


def test_the_collective_annex_says_how_each_member_s_request_reached_the_organisation(
    app,  # noqa: F811
    tmp_path,
):
    """The collective complaint's annex did not say why the members' requests went to
    DataContact, named by the party's answers (the lawyer's third review, 7: done for a
    member's own complaint, and now in the annex too)."""
    from .test_follow import answered_naming_datacontact

    association, batch = first_batch(app, tmp_path, 2, "pdf")
    answered_naming_datacontact(app, [row.reference for row in batch.rows])
    done = app.batch_follow(
        "datacontact", association=association, out_dir=tmp_path / "b2", formats="pdf",
        letter_date="2026-09-22",
    )  # fmt: skip
    for reference in done.written_now:
        app.sent(reference, "2026-09-23")
    result = app.complain_association(
        association, "datacontact", out_dir=tmp_path / "cnil", on="2026-11-02"
    )
    cover = next(p for p in result.written if p.name.startswith("lettre-de-couverture"))
    text = flat(pdf_text(cover.read_bytes()))
    import re

    for row in batch.rows:  # (a table: the next column's words may come between)
        said = rf"adressée sur l’indication (\S+ )?de Parti Exemple du 2026-09-21 \(demande {row.reference}\)"
        assert re.search(said, text), text
