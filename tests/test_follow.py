"""Follow the number: party -> broker -> source, each next request citing the answer that
named its recipient. Real SQLite, real replies read by the inbox, real PDFs read back."""

from __future__ import annotations

import csv
import json
import multiprocessing
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pypdf
import pytest

from dsar.app import App
from dsar.cli import cli
from dsar.errors import DsarError
from dsar.fields import long_date
from dsar.inbox import apply, sources
from dsar.paths import Paths
from dsar.render.mail import message_id_for

from .conftest import ASSOCIATION, flat, ok, page_client, pdf_text, read_csv
from .test_batch import HEADER, member

# the letters, sendings and answers of that autumn: whatever day DSAR_TEST_TODAY says
pytestmark = pytest.mark.today("2026-12-03")

REGISTRY = """\
schema_version: 1
brokers:
  - slug: parti-exemple
    kind: party
    name: Parti Exemple
    contacts:
      - {kind: email, value: donnees@parti-exemple.example, source: test}
      - {kind: postal, value: "Parti Exemple\\n1 rue du Parti\\n75007 Paris", source: test}
    sources: [{publication: test}]
    quality: unverified
  - slug: datacontact
    kind: broker
    name: DataContact
    contacts:
      - {kind: email, value: dpo@datacontact.example, source: test}
      - {kind: postal, value: "DataContact\\n2 avenue des Fichiers\\n69002 Lyon", source: test}
    sources: [{publication: test}]
    quality: unverified
  - slug: jeux-concours
    kind: company
    name: Jeux Concours Magiques
    contacts:
      - {kind: postal, value: "Jeux Concours Magiques\\n3 place du Lot\\n33000 Bordeaux", source: test}
    sources: [{publication: test}]
    quality: unverified
"""
PERSON = {
    "name": "Camille Martin",
    "phone": "06 12 34 56 78",
    "email": "camille@example.org",
    "address": "12 rue des Lilas\n75011 Paris",
}
PARTY_SAYS = (
    "Votre numéro de téléphone nous a été fourni par DataContact, auprès de qui nous avons "
    "loué un fichier pour la campagne de juin 2024."
)
BROKER_SAYS = (
    "Vos données proviennent du site Jeux Concours Magiques, où vous vous êtes inscrite le "
    "3 mars 2023."
)


@pytest.fixture
def registry_file(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


@pytest.fixture
def app(tmp_path, registry_file):
    home = tmp_path / "home"
    with App(Paths(config_dir=home, data_dir=home), registries=[registry_file]) as app:
        yield app


def reply(folder: Path, app: App, reference: str, sender: str, day: date, text: str) -> None:
    """The recipient's e-mail answering `reference`, as it lands in the mailbox."""
    request = app.journal.request(reference)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = request.reply_email
    message["Subject"] = f"Re: {reference}"
    message["Date"] = format_datetime(datetime(day.year, day.month, day.day, 10, tzinfo=UTC))
    message["Message-ID"] = f"<{reference.lower()}-{day.isoformat()}@answers.example>"
    message["In-Reply-To"] = message_id_for(request)
    message.set_content(f"Madame, Monsieur,\n\n{text}\n\nLe délégué à la protection des données\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{reference}-{day}.eml").write_bytes(message.as_bytes())


def read_and_confirm(app: App, folder: Path) -> None:
    """dsar inbox FOLDER, then --review confirming each answer as the inbox read it."""
    apply.read(app, sources.read_files(folder))
    for item in apply.pending(app):
        assert item["kind"] in ("source-named", "processor", "recipient-named"), item
        apply.confirm(app, item["id"], item["kind"])


def sent(app: App, reference: str, day: str) -> None:
    app.sent(reference, day, message_id=message_id_for(app.journal.request(reference)))


def pdf_of(result) -> str:
    return flat(pdf_text(next(p for p in result.written if p.suffix == ".pdf").read_bytes()))


def test_a_chain_of_three_for_one_person(app, tmp_path):
    out, mail = tmp_path / "letters", tmp_path / "mail"
    first = app.generate(
        "parti-exemple",
        **PERSON,
        sms_date="2024-06-06",
        sms_sender="Parti Exemple",
        formats="pdf,email",
        letter_date=date(2026, 9, 1),
        out_dir=out,
    )
    sent(app, first.reference, "2026-09-02")
    reply(
        mail, app, first.reference, "donnees@parti-exemple.example", date(2026, 9, 21), PARTY_SAYS
    )
    read_and_confirm(app, mail)

    # no --to: the organisation the answer named, found in the registry
    second = app.follow(first.reference, out_dir=out, letter_date="2026-09-25")
    assert app.journal.entry(second.reference).follows == first.reference
    assert app.journal.request(second.reference).broker.slug == "datacontact"
    assert "datacontact" in second.found
    text = pdf_of(second)
    assert "Parti Exemple" in text and first.reference in text
    assert "21 septembre 2026" in text
    assert "Votre numéro de téléphone nous a été fourni par DataContact" in text
    # the same person, the same evidence, right and language of the first request
    was, now = app.journal.request(first.reference), app.journal.request(second.reference)
    assert (now.requester, now.evidence, now.right, now.lang) == (
        was.requester,
        was.evidence,
        was.right,
        was.lang,
    )

    sent(app, second.reference, "2026-09-26")
    reply(mail, app, second.reference, "dpo@datacontact.example", date(2026, 10, 15), BROKER_SAYS)
    read_and_confirm(app, mail)
    third = app.follow(second.reference, to="jeux-concours", out_dir=out, letter_date="2026-10-20")
    text = pdf_of(third)
    # the third letter cites the second answer: who, when, under what reference, its words
    assert "DataContact" in text and second.reference in text and "15 octobre 2026" in text
    assert "Vos données proviennent du site Jeux Concours Magiques" in text
    assert "courriel reçu de DataContact" in text  # F8: never an employee's address
    assert "dpo@datacontact.example" not in text
    assert third.reference in text  # and asks for its own answer under its own reference

    [trail] = app.trail(third.reference)
    chain = trail["request"]
    assert chain["reference"] == first.reference and chain["recipient"] == "Parti Exemple"
    assert chain["said"][0]["organisation"] == "DataContact"
    [step2] = chain["steps"]
    assert step2["reference"] == second.reference and step2["state"] == "answered"
    assert "Jeux Concours Magiques" in step2["said"][0]["words"]
    [step3] = step2["steps"]
    assert step3["reference"] == third.reference and step3["state"] == "draft"
    assert step3["cause"]["on"] == "2026-10-15"


def test_untrusted_words_are_quoted_as_text_and_bounded(app, tmp_path):
    first = app.generate(
        "datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l", letter_date="2026-11-01"
    )
    app.sent(first.reference, "2026-11-02")
    hostile = "Source : Jeux Concours Magiques {{ 7*7 }} <b>gras</b> \x1b[31m" + "x" * 2000
    app.answer(first.reference, "2026-11-20", state="answered", note=hostile)
    second = app.follow(first.reference, to="jeux-concours", formats="pdf,html", out_dir=tmp_path)
    text = pdf_of(second)
    assert "{{ 7*7 }}" in text and "<b>gras</b>" in text and "49" not in text.split("Source")[1]
    page = next(p for p in second.written if p.suffix == ".html").read_text()
    assert "&lt;b&gt;gras&lt;/b&gt;" in page and "<b>gras" not in page and "\x1b" not in page
    assert "x" * 300 not in text  # bounded


def test_an_organisation_the_registry_lacks_gets_a_draft_never_an_invented_address(app, tmp_path):
    first = app.generate(
        "datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l", letter_date="2026-11-01"
    )
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered", note="source: Quiz Soleil SARL")
    result = app.follow(first.reference, to_name="Quiz Soleil SARL", out_dir=tmp_path)
    assert "neither in the registry nor in the datenanfragen" in result.found
    request = app.journal.request(result.reference)
    assert request.recipient_address is None and not request.printable  # a draft
    # given, the address is used as given
    again = app.follow(
        first.reference,
        to_name="Quiz Soleil SARL",
        to_address="Quiz Soleil SARL\n4 rue Haute\n13001 Marseille",
        right="access",
        out_dir=tmp_path / "2",
    )
    assert "4 rue Haute" in pdf_of(again)


def test_to_name_takes_only_a_whole_name_and_lists_the_candidates_of_a_part(app, tmp_path):
    """--to-name picks an entry only by its whole name, alias or slug (case, accents and
    legal form aside); a part of a name ('Data', 'SA') is refused with the candidates,
    never taken for the one entry that holds it (attacker's F4)."""
    from dsar import follow
    from dsar.errors import InputError
    from dsar.paths import SHIPPED_REGISTRY
    from dsar.registry import Registry

    for typed, slug in (
        ("DATACONTACT SAS", "datacontact"),
        ("Jeux Concours Magiques SARL", "jeux-concours"),
        ("jeux-concours", "jeux-concours"),
        ("Parti Exemplé", "parti-exemple"),
    ):
        assert follow.lookup(app.registry, typed, None)[0].slug == slug, typed
    first = app.generate(
        "parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l", letter_date="2026-11-01"
    )
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered", note="source: Data")
    for typed, candidates in (("Data", {"datacontact"}), ("Jeux", {"jeux-concours"})):
        with pytest.raises(InputError) as refused:
            app.follow(first.reference, to_name=typed, out_dir=tmp_path / "o")
        said = str(refused.value)
        assert "--to SLUG" in said and {s for s in candidates if s in said} == candidates
    assert not (tmp_path / "o").exists()
    assert app.journal.follow_ups(first.reference, "request") == []
    # the shipped registry: a legal form alone is no name; a letter held in 17 names
    # lists ten of them
    shipped = Registry.load([SHIPPED_REGISTRY])
    for typed in ("SA", "e"):
        with pytest.raises(InputError) as refused:
            follow.lookup(shipped, typed, None)
        listed = str(refused.value).split("could be ")[1].split(":")[0].split(", ")
        assert all(slug in shipped.brokers for slug in listed) and len(listed) <= 10
    assert len(listed) == 10


def test_follow_is_refused_without_an_answer_or_to_the_same_recipient(app, tmp_path, runner):
    first = app.generate(
        "datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l", letter_date="2026-11-01"
    )
    with pytest.raises(DsarError, match="no recorded answer"):
        app.follow(first.reference, to="jeux-concours", out_dir=tmp_path)
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered", note="DataContact")
    with pytest.raises(DsarError):
        app.follow(first.reference, to="datacontact", out_dir=tmp_path)
    assert not list(tmp_path.glob("*.pdf"))


# ---------------------------------------------------------------- an association


def members_csv(path: Path, count: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows(
            [HEADER, *(member(i, broker="parti-exemple") for i in range(1, count + 1))]
        )
    return path


def first_batch(app: App, tmp_path: Path, count: int, formats: str, mandates: Path | None = None):
    """The association's first letters, to the party, dated 1 September 2026; with
    `mandates`, each encloses the member's signed scan, else it offers it on request."""
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    batch = app.batch(
        members_csv(tmp_path / "members.csv", count),
        association=association,
        out_dir=tmp_path / "b1",
        formats=formats,
        workers=1,
        mandates=mandates,
        mandate_on_request=mandates is None,
        letter_date="2026-09-01",
    )
    return association, batch


def answered_naming_datacontact(app: App, references) -> None:
    """Each request sent on 2 September, the party's answer of the 21st naming DataContact."""
    for reference in references:
        app.sent(reference, "2026-09-02")
        app.answer(
            reference, "2026-09-21", state="answered", named="source",
            organisation="DataContact", note=PARTY_SAYS,
        )  # fmt: skip


def without_the_chain(app: App, tmp_path: Path) -> App:
    """An App whose mandate template lacks the chain's scope (« source ou destinataire »)."""
    override = tmp_path / "templates"
    override.mkdir()
    shipped = (Path(__file__).parents[1] / "templates" / "mandate.html.j2").read_text()
    (override / "mandate.html.j2").write_text(
        shipped.replace("source ou destinataire", "fournisseur"), encoding="utf-8"
    )
    return App(app.paths, registries=app.registries, templates=override, clock=app.clock)


def test_a_chain_of_three_for_thirty_members(app, tmp_path, runner, registry_file):
    association, batch = first_batch(app, tmp_path, 30, "pdf")
    firsts = [row.reference for row in batch.rows]
    assert len(firsts) == 30
    mail = tmp_path / "mail"
    for reference in firsts:
        sent(app, reference, "2026-09-02")
        reply(mail, app, reference, "donnees@parti-exemple.example", date(2026, 9, 21), PARTY_SAYS)
    read_and_confirm(app, mail)

    second = app.batch_follow(
        "datacontact", association=association, out_dir=tmp_path / "b2", letter_date="2026-09-25"
    )
    assert len(second.written_now) == 30 and not second.already
    for reference in second.written_now:
        sent(app, reference, "2026-09-26")
        reply(mail, app, reference, "dpo@datacontact.example", date(2026, 10, 15), BROKER_SAYS)
    read_and_confirm(app, mail)

    # the command line, as an association runs it; a rerun writes nothing twice
    args = ["batch", "--follow", "jeux-concours", "--association", str(association)]
    args += ["--out", str(tmp_path / "b3"), "--format", "pdf", "--date", "2026-10-20"]
    args += ["--registry", str(registry_file)]
    first_run = ok(runner.invoke(cli, args, env={"DSAR_HOME": str(app.paths.data_dir)}))
    # posted as a batch's letters (new user, item 8): the print file, then the record
    printed = pypdf.PdfReader(tmp_path / "b3" / "print-duplex.pdf")
    assert (
        flat(pdf_text((tmp_path / "b3" / "print-duplex.pdf").read_bytes())).count(
            "Jeux Concours Magiques"
        )
        >= 30
        and len(printed.pages) >= 30
    )
    assert "dsar sent --from-manifest" in first_run.stdout
    assert "CSV rows" not in first_run.stderr and "30/30" in first_run.stderr  # no CSV read
    assert "dsar generate" not in first_run.output  # a citizen's command, for one person
    rerun = ok(runner.invoke(cli, args, env={"DSAR_HOME": str(app.paths.data_dir)}))
    assert "0 next requests written, 30 written by an earlier run" in rerun.output
    rows = read_csv(tmp_path / "b3" / "manifest.csv")
    assert len(rows) == 30 and len({r["reference"] for r in rows}) == 30
    thirds = {r["member"]: r for r in rows}
    by_second = {app.journal.entry(ref).member: ref for ref in second.written_now}
    for name in ("Membre 1", "Membre 17", "Membre 30"):
        text = flat(pdf_text((tmp_path / "b3" / thirds[name]["pdf"]).read_bytes()))
        assert "DataContact" in text and by_second[name] in text and "15 octobre 2026" in text
        assert "Vos données proviennent du site Jeux Concours Magiques" in text
        assert "Pour " + name in text  # under the member's mandate
        # no signed scan goes with a next request: offered on request, never said joined
        assert "communiqué sur simple demande" in text
        assert "Pièce jointe : mandat signé" not in text and ", joint" not in text
    assert len(list((tmp_path / "b3").glob("*-jeux-concours.pdf"))) == 30

    shown = ok(
        runner.invoke(
            cli,
            ["trail", "--member", "Membre 17", "--json"],
            env={"DSAR_HOME": str(app.paths.data_dir)},
        )
    )
    [trail] = json.loads(shown.output)
    said = ok(
        runner.invoke(
            cli,
            ["--ui-lang", "fr", "trail", "--member", "Membre 17"],
            env={"DSAR_HOME": str(app.paths.data_dir)},
        )
    )
    day = date.fromisoformat(trail["message"]["received_on"])
    # the channel and the day in French words, not "sms" and an ISO date
    assert f"SMS du {long_date(day, 'fr')}" in said.output and "message sms" not in said.output
    step3 = trail["request"]["steps"][0]["steps"][0]
    assert step3["recipient"] == "Jeux Concours Magiques" and trail["member"] == "Membre 17"


def _follow_at_once(home, registry_file, association, out, barrier):
    with App(Paths(config_dir=home, data_dir=home), registries=[registry_file]) as app:
        assert app.journal  # opened before the race: the race is between the runs
        barrier.wait()
        done = app.batch_follow(
            "datacontact", association=association, out_dir=out, letter_date="2026-09-25"
        )
        return done.written_now, done.already


def test_letters_after_one_that_enclosed_the_mandate_offer_it_on_request(app, tmp_path):
    """The first letter enclosed the member's signed scan; the next request and a reminder
    enclose nothing, so they offer the mandate « sur simple demande » and never say it is
    joined (lawyer 3; the thirty members' first letters offered it on request already, so
    that test could not see a next request copying « joint » from the first)."""
    signed = tmp_path / "signed"
    signed.mkdir()
    scan = pypdf.PdfWriter()  # the member's form, printed, signed and scanned: a new PDF
    scan.add_blank_page(595, 842)
    with (signed / "M-00001.pdf").open("wb") as handle:
        scan.write(handle)
    association, batch = first_batch(app, tmp_path, 1, "pdf", mandates=signed)
    app.mandates(association, tmp_path / "forms", tmp_path / "members.csv")  # its scope recorded
    [first] = [row.reference for row in batch.rows]
    first_text = flat(pdf_text((tmp_path / "b1" / batch.rows[0].pdf).read_bytes()))
    assert "simple demande" not in first_text  # this one encloses it
    sent(app, first, "2026-09-02")
    app.answer(
        first, "2026-09-21", state="answered", named="source",
        organisation="DataContact", note=PARTY_SAYS,
    )  # fmt: skip
    follows = app.follow(
        first, to="datacontact", formats="pdf", out_dir=tmp_path / "b2", letter_date="2026-09-25"
    )
    next_request = pdf_of(follows)
    assert "Pour Membre 1" in next_request and "DataContact" in next_request
    # DataContact is not named in the mandate: the letter says the scope that covers it
    assert (
        "ce mandat vaut pour tout responsable de traitement que les organismes qu’il nomme "
        "désigneront comme source ou destinataire de mes données" in next_request
    )
    assert "désigneront comme source" not in first_text  # the first recipient is named
    [reminded] = [e.reference for e in app.journal.entries() if e.reference != first]
    sent(app, reminded, "2026-09-26")
    reminder = pdf_of(app.remind(reminded, on="2026-10-30", out_dir=tmp_path / "b3"))
    for text in (next_request, reminder):
        assert "communiqué sur simple demande" in text
        assert "Pièce jointe : mandat signé" not in text and ", joint" not in text
    # one step further, the form's « ces organismes » no longer name who named it: only
    # the form's wider line (« ou ceux qu’ils auront ainsi désignés ») covers it
    app.answer(
        reminded, "2026-10-31", state="answered", named="source",
        organisation="Jeux Concours Magiques", note=BROKER_SAYS,
    )  # fmt: skip
    third = pdf_of(
        app.follow(
            reminded, to="jeux-concours", formats="pdf", out_dir=tmp_path / "b4",
            letter_date="2026-11-02",
        )
    )  # fmt: skip
    assert "Pour Membre 1" in third and "ou ceux qu’ils auront ainsi désignés" in third


def test_two_batch_follow_runs_at_once_write_each_next_request_once(app, tmp_path, registry_file):
    """Two `dsar batch --follow` of one association started together: each member's
    next request is written and recorded by one run only (attacker's F7: both wrote
    every one; an ordinary batch's reference and the journal's write lock decide)."""
    members = 6
    association, batch = first_batch(app, tmp_path, members, "html")
    answered_naming_datacontact(app, [row.reference for row in batch.rows])
    app.close()
    out = tmp_path / "b2"
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(2)
        with context.Pool(2) as pool:
            runs = pool.starmap(
                _follow_at_once,
                [(app.paths.data_dir, registry_file, association, out, barrier)] * 2,
            )
    (first_now, first_already), (second_now, second_already) = runs
    assert len(first_now) + len(second_now) == members
    assert not set(first_now) & set(second_now)
    assert set(first_now) | set(second_now) == set(first_now + first_already)
    assert set(first_now + first_already) == set(second_now + second_already)
    with App(app.paths, registries=[registry_file]) as again:
        for reference in first_now + second_now:
            generated = [e for e in again.journal.events(reference) if e["what"] == "generated"]
            assert len(generated) == 1, reference
    assert len(list(out.glob("DSAR-*.pdf"))) == members  # (and the print file)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_batch_follow_refuses_a_mandate_without_the_chain_scope(app, tmp_path):
    override = tmp_path / "templates"
    override.mkdir()
    shipped = (Path(__file__).parents[1] / "templates" / "mandate.html.j2").read_text()
    (override / "mandate.html.j2").write_text(
        shipped.replace("source ou destinataire", "fournisseur"), encoding="utf-8"
    )
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    strict = App(app.paths, registries=app.registries, templates=override)
    with strict, pytest.raises(DsarError, match="mandate.html.j2"):
        strict.batch_follow("datacontact", association=association, out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- the page


def test_a_member_s_next_request_drafted_without_an_address_is_completed(app, tmp_path):
    """A next request to an organisation the registry lacks is a draft; given its address,
    it is the same request completed: its reference, the answer it follows, the member's
    mandate. complete() rebuilt it without the mandate and refused (« cannot be
    rewritten »), and the member was stuck (fourth read, attacker's 5)."""
    _association, batch = first_batch(app, tmp_path, 1, "pdf")
    [first] = [row.reference for row in batch.rows]
    sent(app, first, "2026-09-02")
    app.answer(
        first, "2026-09-21", state="answered", named="source",
        organisation="Quiz Soleil SARL", note="Nous tenons vos données de Quiz Soleil SARL.",
    )  # fmt: skip
    draft = app.follow(first, formats="pdf", out_dir=tmp_path / "n", letter_date="2026-09-25")
    assert app.journal.entry(draft.reference).stored_state == "draft"
    done = app.complete(
        draft.reference, to_address="Quiz Soleil SARL\n4 rue Haute\n13001 Marseille"
    )
    assert done.reference == draft.reference
    text = pdf_of(done)
    assert "4 rue Haute" in text and "Pour Membre 1" in text
    assert "21 septembre 2026" in text and first in text  # the answer it follows, cited
    assert "désigneront comme source" not in text  # no form recorded: its scope unknown
    assert "communiqué sur simple demande" in text
    assert app.journal.request(draft.reference).cause.answered == first


def test_batch_follow_proposes_no_party_its_members_already_wrote_to(app, tmp_path):
    """The members' first letters went to the party behind the SMS; batch --follow to the
    broker it named still said « Write also to the parties that ordered the members'
    campaigns: parti-exemple (2) » (new user, fourth read, 8)."""
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    sheet = tmp_path / "members.csv"
    rows = [member(i, broker="parti-exemple", sms_sender="Parti Exemple") for i in (1, 2)]
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([HEADER, *rows])
    batch = app.batch(
        sheet, association=association, out_dir=tmp_path / "b1", formats="pdf", workers=1,
        mandate_on_request=True, letter_date="2026-09-01",
    )  # fmt: skip
    answered_naming_datacontact(app, [row.reference for row in batch.rows])
    result = app.batch_follow(
        "datacontact", association=association, out_dir=tmp_path / "b2", letter_date="2026-09-25"
    )
    assert len(result.written_now) == 2
    assert not [w for w in result.warnings if "parti-exemple" in w], result.warnings


def test_batch_follow_holds_back_a_member_whose_signed_form_lacks_the_chain(app, tmp_path):
    """Member 1 signed a form made from a template without the chain's scope, member 2 the
    shipped one: batch --follow writes member 2's next request and holds member 1 back,
    naming the mandate (it stopped the whole run at member 1 before)."""
    association, batch = first_batch(app, tmp_path, 2, "html")
    answered_naming_datacontact(app, [row.reference for row in batch.rows])
    strict = without_the_chain(app, tmp_path)
    with strict:
        strict.mandates(association, tmp_path / "forms", members_csv(tmp_path / "m1.csv", 1))
    second = tmp_path / "m2.csv"
    with second.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([HEADER, member(2, broker="parti-exemple")])
    app.mandates(association, tmp_path / "forms2", second)
    result = app.batch_follow(
        "datacontact", association=association, out_dir=tmp_path / "b2", letter_date="2026-09-25"
    )
    [written] = result.written_now
    assert app.journal.entry(written).member == "Membre 2"
    assert result.out_of_scope.first == ["M-00001"]
    assert any("1 member(s) held back" in w and "M-00001" in w for w in result.warnings)
    assert result.exit_code == 3  # partial: the command line exits 3, as with bad rows
    # no member is missing from the manifest: the one held back says why, in its place
    held, done = read_csv(tmp_path / "b2" / "manifest.csv")
    assert held["member"] == "Membre 1" and not held["reference"]
    assert "M-00001: held back" in held["email_status"]
    assert done["member"] == "Membre 2" and done["reference"] == written


def test_the_page_shows_the_chain_and_writes_the_next_request(tmp_path):
    import re

    paths = Paths.from_env()
    paths.user_registry.parent.mkdir(parents=True, exist_ok=True)
    paths.user_registry.write_text(REGISTRY, encoding="utf-8")
    with App(paths) as app:
        first = app.generate(
            "datacontact", **PERSON, formats="pdf", out_dir=tmp_path, letter_date="2026-11-01"
        )
        app.sent(first.reference, "2026-11-02")
        app.answer(first.reference, "2026-11-20", state="answered", note=BROKER_SAYS)
    client = page_client()
    page = client.get(f"/requests/{first.reference}?lang=fr").text
    assert 'id="h-trail"' in page and "Vos données proviennent du site" in page
    assert "Écrire la demande suivante" in page  # the page's words, in French
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    done = client.post(
        f"/requests/{first.reference}/next",
        data={"csrf": csrf, "to": "jeux-concours"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with App(paths) as app:
        [next_one] = app.journal.follow_ups(first.reference)
        assert app.journal.request(next_one.reference).broker.slug == "jeux-concours"
        assert app.journal.request(next_one.reference).cause.answered == first.reference
    wrong = client.post(
        f"/requests/{first.reference}/next",
        data={"csrf": csrf, "to": "datacontact"},
        follow_redirects=False,
    )
    assert wrong.status_code == 400 and 'id="h-next"' in wrong.text


def test_inbox_review_proposes_the_next_request_in_one_step(
    app, tmp_path, runner, registry_file, monkeypatch
):
    first = app.generate(
        "parti-exemple", **PERSON, formats="email", out_dir=tmp_path, letter_date="2026-09-01"
    )
    sent(app, first.reference, "2026-09-02")
    reply(tmp_path / "mail", app, first.reference, "donnees@parti-exemple.example",
          date(2026, 9, 21), PARTY_SAYS)  # fmt: skip
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    args = ["inbox", str(tmp_path / "mail"), "--review", "--registry", str(registry_file)]
    monkeypatch.chdir(tmp_path)
    # confirm the answer as read, then yes to the next request it proposes
    done = ok(runner.invoke(cli, args, input="c\ny\n\n", env=home))  # the name as read
    assert "DataContact" in done.output and "reference DSAR-" in done.output
    [letter] = tmp_path.glob("*-datacontact.eml")  # beside the e-mail it follows
    with App(app.paths, registries=[registry_file]) as again:
        [next_one] = again.journal.follow_ups(first.reference)
        assert next_one.broker == "datacontact" and letter.name.startswith(next_one.reference)


def test_the_command_line_writes_the_next_request_and_shows_the_trail(
    app, tmp_path, runner, registry_file
):
    first = app.generate(
        "datacontact", **PERSON, formats="pdf", out_dir=tmp_path, letter_date="2026-11-01"
    )
    app.sent(first.reference, "2026-11-02")
    app.answer(first.reference, "2026-11-20", state="answered", note=BROKER_SAYS)
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    args = ["follow", first.reference, "--to", "jeux-concours", "--format", "pdf"]
    args += ["--out", str(tmp_path / "next"), "--registry", str(registry_file)]
    done = ok(runner.invoke(cli, args, env=home))
    [pdf] = (tmp_path / "next").glob("*-jeux-concours.pdf")
    assert f"follows {first.reference}" in done.output and pdf.name in done.output
    shown = ok(runner.invoke(cli, ["trail", first.reference], env=home)).output
    assert first.reference in shown and "Jeux Concours Magiques" in shown
    assert pdf.name.split("-jeux")[0] in shown  # the next request, under the first
    # neither a reference nor a member; a batch with neither CSV nor --follow
    assert runner.invoke(cli, ["trail"], env=home).exit_code == 2
    assert runner.invoke(cli, ["batch", "--association", str(registry_file), "--out", "o"],
                         env=home).exit_code == 2  # fmt: skip


def test_follow_on_a_members_request_checks_the_mandate_like_batch_follow(app, tmp_path):
    """Attacker's F4 (third round): `dsar follow` on a member's request wrote "en vertu de
    mon mandat" under a template lacking the chain's scope, and forms signed from such a
    template passed later with the shipped one: the form each member signed counts."""
    association, batch = first_batch(app, tmp_path, 2, "html")
    one, other = (row.reference for row in batch.rows)
    answered_naming_datacontact(app, (one, other))
    strict = without_the_chain(app, tmp_path)
    with strict:
        with pytest.raises(DsarError, match="mandate.html.j2"):
            strict.follow(one, to="datacontact", formats="pdf", out_dir=tmp_path / "o")
        assert not (tmp_path / "o").exists()
        # the members sign forms made from that template
        strict.mandates(association, tmp_path / "forms", members_csv(tmp_path / "m.csv", 2))
    with pytest.raises(DsarError, match="form this member signed"):  # today's shipped one
        app.follow(one, to="datacontact", formats="pdf", out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()
