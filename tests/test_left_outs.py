"""Left-outs a new user running an association from the README found (session 4):
show's steps, mandate forms left behind, the collective summary, the report's flow
chart. Each test fails on the code before its fix; the clock is frozen in every one."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from xml.etree import ElementTree

import pikepdf
import pytest

from dsar import findings, i18n
from dsar.app import App
from dsar.cli import cli
from dsar.errors import InputError
from dsar.inbox import apply
from dsar.paths import Paths

from .conftest import ASSOCIATION, flat, ok, pdf_text
from .test_batch import HEADER, batch_args, member, write_csv
from .test_follow import (  # noqa: F401 (fixtures)
    answered_naming_datacontact,
    app,
    first_batch,
    members_csv,
    registry_file,
)
from .test_follow_review import PERSON
from .test_lifecycle import app_on, request
from .test_report import build

# ---------------------------------------------------------------- dsar show: each step once


@pytest.mark.today("2026-12-03")
def test_show_lists_each_step_once_named_for_what_it_is(tmp_path, runner, dsar_home):
    """A draft redone, the sending recorded three times (then its registered-letter
    number, then an acknowledgement the inbox read): 'generated' twice and 'sent' three
    times were listed, the acknowledgement as a sending."""
    with app_on(dsar_home, date(2026, 12, 3)) as opened:
        ref = request(opened, tmp_path / "l")
        assert request(opened, tmp_path / "l", force=True) == ref  # the draft redone in place
        opened.sent(ref, "2026-10-01")
        opened.sent(ref, "2026-10-01", lrar="1A23456789012")
        apply.record(opened, ref, "acknowledgement", {"day": "2026-10-03"}, [])
        opened.answer(ref, "2026-11-20", state="partial", missing="source")
        reminder = opened.remind(ref, out_dir=tmp_path / "r").reference
    steps = json.loads(ok(runner.invoke(cli, ["show", ref, "--json"])).output)["steps"]
    named = [s["what"] for s in steps]
    assert named == ["generated", "sent", "received", "answer:partial", "remind"]
    assert [s["on"] for s in steps] == [
        "2026-10-01",
        "2026-10-01",
        "2026-10-03",
        "2026-11-20",
        "2026-12-03",
    ]
    assert steps[1]["detail"] == "lrar=1A23456789012" and steps[-1]["detail"] == reminder
    french = ok(runner.invoke(cli, ["--ui-lang", "fr", "show", ref])).output
    lines = french.split("étapes :\n")[1].split("lettres qui la suivent")[0].splitlines()
    assert lines == [
        "  1er octobre 2026 généré (PDF)",
        "  1er octobre 2026 envoyé (lettre recommandée n°\u00a01A23456789012)",
        "  3 octobre 2026 reçu (accusé de réception)",
        "  20 novembre 2026 réponse\u00a0: partielle",
        f"  3 décembre 2026 relance écrite ({reminder})",
    ]
    english = ok(runner.invoke(cli, ["show", ref])).output
    assert Counter(english.split("steps:\n")[1].split("letters")[0].split())["sent"] == 1
    assert "2026-10-03 received (acknowledgement of receipt)" in english


# ---------------------------------------------------------------- dsar mandate run again


def test_mandate_run_again_names_the_forms_of_no_row_and_deletes_none(
    tmp_path, runner, association
):
    """A member removed from the CSV, another's mandate_ref changed: their old forms
    stayed beside the new ones, unsaid, for a later batch or complaint to meet."""
    forms = tmp_path / "forms"
    members_file = tmp_path / "members.csv"

    def run(*rows: list[str]) -> object:
        with members_file.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=";").writerows([HEADER, *rows])
        args = ["mandate", "--association", str(association), "--out", str(forms)]
        return ok(runner.invoke(cli, [*args, "--force", str(members_file)]))

    run(member(1), member(2))
    scan = forms / "mandate-M-00009.pdf"  # a signed scan kept under a form's name
    pikepdf.new().save(scan)
    again = run(member(1, mandate_ref="M-00007"))  # member 2 left, member 1's ref changed
    told = {line for line in again.stderr.splitlines() if "mandate-M-0000" in line}
    unsigned = next(line for line in told if "mandate-M-00001.pdf" in line)
    assert "mandate-M-00002.pdf" in unsigned and "mandate-M-00009.pdf" not in unsigned
    [unknown] = told - {unsigned}  # the scan, told apart: not dsar's unsigned form
    assert "mandate-M-00009.pdf" in unknown and "mandate-M-00007.pdf" not in again.stderr
    assert {p.name for p in forms.iterdir()} == {
        "mandate-M-00001.pdf",
        "mandate-M-00002.pdf",
        "mandate-M-00007.pdf",
        "mandate-M-00009.pdf",
    }  # none deleted: a file of that name may be a signed scan
    # what the run wrote is on stdout, the forms of no row are warnings
    assert "mandate-M-00001.pdf" not in again.stdout
    # a file name from outside stays on its line: a line break would forge one of dsar's
    pikepdf.new().save(forms / "mandate-X\nall 12 forms are signed, nothing to do.pdf")
    third = run(member(1, mandate_ref="M-00007"))
    assert not any(line.startswith("all 12 forms") for line in third.stderr.splitlines())
    assert "mandate-X all 12 forms are signed" in third.stderr


# ---------------------------------------------------------------- the collective complaint


@pytest.mark.today("2026-12-03")  # the day its error names
def test_the_collective_complaint_says_what_it_wrote_as_output_not_warnings(
    app,  # noqa: F811
    tmp_path,
    runner,
    registry_file,  # noqa: F811
):
    """Who is in which letter was printed as `warning:` lines on stderr; a French error
    named the recipient by its slug and the day as 2026-12-03."""
    association, batch = first_batch(app, tmp_path, 2, "pdf")
    for row in batch.rows:
        app.sent(row.reference, "2026-09-02")  # never answered: overdue on 3 December
    env = {"DSAR_HOME": str(app.paths.data_dir)}
    args = ["complain", "--association", str(association), "--registry", str(registry_file)]
    out = ["--out", str(tmp_path / "cnil")]
    done = ok(runner.invoke(cli, [*args, "--recipient", "parti-exemple", *out], env=env))
    assert "2 member(s) sign their own complaint" in done.stdout
    assert "signed mandates enclosed: 0" in done.stdout
    assert "member(s)" not in done.stderr and "enclosed" not in done.stderr
    nothing = runner.invoke(cli, ["--ui-lang", "fr", *args, "--recipient", "datacontact", *out])
    assert nothing.exit_code == 1 and "aucune demande" in nothing.stderr
    said = nothing.stderr.split("(voir")[0]  # the command it suggests names the slug
    assert "DataContact" in said and "3 décembre 2026" in said
    assert "datacontact" not in said and "2026-12-03" not in said


@pytest.mark.today("2026-12-03")  # the complaint's day
def test_the_cover_letter_for_one_member_s_complaint_is_in_the_singular(
    app,  # noqa: F811
    tmp_path,
):
    """« Objet : 1 réclamations …, signées par les membres », then « Ces demandes » (new
    user, fourth read, 6)."""
    association, batch = first_batch(app, tmp_path, 1, "pdf")
    app.sent(batch.rows[0].reference, "2026-09-02")
    result = app.complain_association(
        association, "parti-exemple", out_dir=tmp_path / "cnil", on="2026-12-03"
    )
    cover = next(p for p in result.written if p.name.startswith("lettre-de-couverture"))
    text = flat(pdf_text(cover.read_bytes()))
    assert "1 réclamation (art. 77 du RGPD) contre Parti Exemple, signée par le membre" in text
    assert "Cette demande a reçu la suite suivante" in text and "réclamations (art" not in text
    # and the rest of it (the third review's lawyer, 11)
    assert "à la demande d’un de ses membres, une réclamation contre Parti Exemple" in text
    assert "Elle l’a aidé à la préparer" in text and "chacun d’eux" not in text
    assert "Nous vous serions reconnaissants de l’instruire." in text


# ---------------------------------------------------------------- the report's flow chart


@pytest.mark.today("2026-12-03")  # its letters and report are dated that autumn
def test_the_flow_chart_draws_every_label_whole(tmp_path, runner):
    """« pas de réponse sur le… »: the flow cut its labels at 22 characters; each is
    drawn whole now, on lines, as the SVG (and the PDF that inlines it) reads back."""
    made = build(tmp_path, members=20)  # every outcome, the undelivered too
    out = tmp_path / "report"
    args = ["--ui-lang", "fr", "report", "--association", str(made["association"])]
    ok(runner.invoke(cli, [*args, "--out", str(out)], env={"DSAR_HOME": str(made["home"])}))
    drawn = ElementTree.parse(out / "report-flow.svg").iter("{http://www.w3.org/2000/svg}text")
    text = " ".join(" ".join(t.text or "" for t in drawn).split())
    whole = "pas de réponse sur le fond (non remise, identification demandée, en attente ou sans réponse)"
    assert whole in text and "…" not in text
    with App(Paths(config_dir=made["home"], data_dir=made["home"])) as opened, i18n.using("fr"):
        found = findings.gather(opened.journal, opened.registry, date(2026, 12, 3))
    for (_column, start, end), _count in found.flow.items():
        assert start in text and end in text  # every node, whatever its column


@pytest.mark.today("2026-12-03")  # the complaints' day
def test_the_collective_complaint_rerun_elsewhere_says_nothing_was_written_and_why(
    app,  # noqa: F811
    tmp_path,
    runner,
    registry_file,  # noqa: F811
):
    """Run again into another folder, with every member's own complaint already written:
    it printed « dsar sent RÉCLAMATION » (no reference), « joints : 0 » and « déposez-la »,
    and exited 0 having written nothing; the first run gave three possible reasons for
    the members' own complaints instead of the one that applies."""
    association, batch = first_batch(app, tmp_path, 2, "pdf")
    for row in batch.rows:
        app.sent(row.reference, "2026-09-02")
    env = {"DSAR_HOME": str(app.paths.data_dir)}
    args = ["complain", "--association", str(association), "--registry", str(registry_file)]
    args += ["--recipient", "parti-exemple"]
    done = ok(runner.invoke(cli, [*args, "--out", str(tmp_path / "cnil")], env=env))
    [why] = [line for line in done.stdout.splitlines() if "sign their own" in line]
    assert "(no Art. 80(1) claim: association.yaml does not say qualifies_art80: true)" in why
    assert "not found" not in why and "does not give" not in why
    complaints = {
        app.journal.follow_ups(r.reference, "complaint")[0].reference: app.journal.request(
            r.reference
        ).mandate.reference
        for r in batch.rows
    }
    # each member's complaint named, and what to do with it (the third review's new user, 9)
    for complaint, member_ref in complaints.items():
        member = next(
            r.member
            for r in batch.rows
            if complaint in str(app.journal.follow_ups(r.reference, "complaint"))
        )
        assert f"{member_ref} ({member}): complaint {complaint}" in done.stdout
    assert "each member signs the complaint written for them" in done.stdout
    assert "file the complaint under Art. 80(1)" not in done.stdout
    again = runner.invoke(
        cli, ["--ui-lang", "fr", *args, "--out", str(tmp_path / "cnil2")], env=env
    )
    assert again.exit_code == 1 and not (tmp_path / "cnil2").exists()
    assert "rien n’est écrit" in again.stderr and "déposez-la" not in again.stdout
    for complaint, member_ref in complaints.items():
        assert f"{member_ref} ({complaint})" in again.stderr


# ---------------------------------------------------------------- dsar show: what comes next


@pytest.mark.today("2026-12-03")
def test_show_s_next_step_follows_what_was_written_and_what_the_answer_named(
    app,  # noqa: F811
    tmp_path,
    runner,
    registry_file,  # noqa: F811
):
    """« next: nothing: the request was answered » above « dsar follow » for an answer
    naming an organisation; « no answer in time: dsar remind » and « dsar complain »
    under a complaint already written, not yet filed."""
    home = {"DSAR_HOME": str(app.paths.data_dir)}

    def show(reference: str) -> tuple[str, list[str]]:
        text = ok(runner.invoke(cli, ["show", reference], env=home)).stdout.split("\nnext: ")[1]
        step, *rest = text.splitlines()
        return step, [line.strip() for line in rest if line.startswith("  ")]

    first = app.generate("datacontact", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-11-01")  # fmt: skip
    app.sent(first.reference, "2026-11-02")
    args = ["answer", first.reference, "--state", "answered", "--on", "2026-11-21", "--named",
            "recipient", "--organisation", "Jeux Concours Magiques"]  # fmt: skip
    ok(runner.invoke(cli, args, env=home))
    step, others = show(first.reference)
    assert step == (
        f"write to Jeux Concours Magiques, which the answer named: dsar follow {first.reference}"
    )
    assert not any("follow" in c for c in others) and "nothing" not in step
    party = app.generate("parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "p",
                         letter_date="2026-09-01", force=True)  # fmt: skip
    app.sent(party.reference, "2026-09-02")
    assert show(party.reference)[0] == f"no answer in time: dsar remind {party.reference}"
    complaint = app.complain(party.reference, out_dir=tmp_path / "cnil").reference
    step, others = show(party.reference)
    assert step.startswith(f"file the complaint {complaint} with the CNIL")
    assert step.endswith(f"dsar sent {complaint} --on YYYY-MM-DD")
    assert not any("complain" in c for c in others)  # a second one only with --force
    shown = json.loads(ok(runner.invoke(cli, ["show", party.reference, "--json"], env=home)).stdout)
    assert shown["next_step"] == step and shown["next"] == others
    app.sent(complaint, "2026-12-03")  # filed: the request is 'complained'
    assert show(party.reference)[0] == "wait for the CNIL's answer"


# ---------------------------------------------------------------- batch --follow, a slug unknown


@pytest.mark.today("2026-12-03")
def test_batch_follow_with_an_unknown_slug_lists_what_the_members_answers_named(
    app,  # noqa: F811
    tmp_path,
    runner,
    registry_file,  # noqa: F811
):
    """« unknown broker 'datacontact'. Did you mean: selfcontact? »: a look-alike slug is
    another company, and the members' next requests would go to it."""
    association, batch = first_batch(app, tmp_path, 2, "pdf")
    answered_naming_datacontact(app, [row.reference for row in batch.rows])
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    args = ["batch", "--association", str(association), "--out", str(tmp_path / "next")]
    shipped = runner.invoke(cli, [*args, "--follow", "datacontact"], env=home)
    assert shipped.exit_code == 2 and not (tmp_path / "next").exists()
    said = flat(shipped.stderr)
    assert "selfcontact" not in said
    assert "DataContact: not in the registry (2 member(s))" in said
    assert "your own brokers.yaml or a --registry FILE" in said
    typo = [*args, "--registry", str(registry_file), "--follow", "datacontac"]
    said = flat(runner.invoke(cli, typo, env=home).stderr)
    assert "DataContact: --follow datacontact (2 member(s))" in said
    assert "selfcontact" not in said


# ---------------------------------------------------------------- dsar follow, a member's draft


@pytest.mark.today("2026-12-03")
def test_a_member_s_next_request_goes_beside_the_batch_and_its_draft_is_completed(
    app,  # noqa: F811
    tmp_path,
    runner,
    registry_file,  # noqa: F811
    monkeypatch,
):
    """dsar follow on a member's request wrote to ./letters, far from the batch's letters,
    and the draft it wrote (no address known) could be completed only with --force."""
    monkeypatch.chdir(tmp_path)
    _association, batch = first_batch(app, tmp_path, 1, "pdf")
    [first] = [row.reference for row in batch.rows]
    app.sent(first, "2026-09-02")
    app.answer(first, "2026-09-21", state="answered", named="source",
               organisation="Quiz Soleil SARL", note="Nous tenons vos données de Quiz Soleil SARL.")  # fmt: skip
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    args = ["follow", first, "--registry", str(registry_file), "--format", "pdf"]
    drafted = ok(runner.invoke(cli, args, env=home))
    [pdf] = [p for p in (tmp_path / "b1").iterdir() if "quiz-soleil" in p.name]
    assert f"wrote {pdf}" in drafted.stdout and not (tmp_path / "letters").exists()
    reference = pdf.name[:14]
    assert app.journal.stored_state(reference) == "draft"
    assert "BROUILLON" in flat(pdf_text(pdf.read_bytes()))
    address = "Quiz Soleil SARL\n4 rue Haute\n13001 Marseille"
    done = ok(runner.invoke(cli, [*args, "--to-address", address], env=home))  # no --force
    assert f"wrote {pdf}" in done.stdout and f"reference {reference}" in done.stdout
    text = flat(pdf_text(pdf.read_bytes()))
    assert "4 rue Haute" in text and "BROUILLON" not in text
    assert [e.reference for e in app.journal.follow_ups(first, "request")] == [reference]
    app.sent(reference, "2026-12-03")  # once it left, it is never rewritten
    again = runner.invoke(cli, [*args, "--to-address", address.replace("4", "6")], env=home)
    assert again.exit_code == 1 and "is already sent and is never rewritten" in again.stderr
    assert "4 rue Haute" in flat(pdf_text(pdf.read_bytes()))


# ---------------------------------------------------------------- a rerun's print file


@pytest.mark.today("2026-12-03")
def test_a_rerun_s_print_file_and_labels_hold_only_the_letters_still_to_post(
    app,  # noqa: F811
    tmp_path,
):
    """Two members' letters printed and member 1's posted; a third member added and the
    batch run again into its folder: the print file held member 1's letter again, to be
    posted twice, and so did the labels."""
    association, batch = first_batch(app, tmp_path, 2, "pdf,labels")
    posted = batch.rows[0].reference
    app.sent(posted, "2026-09-02")
    again = app.batch(
        members_csv(tmp_path / "members3.csv", 3),
        association=association,
        out_dir=tmp_path / "b1",
        formats="pdf,labels",
        workers=1,
        mandate_on_request=True,
        letter_date="2026-09-01",
    )
    [print_file] = again.print_files
    printed = flat(pdf_text(print_file.read_bytes()))
    assert "Membre 1 " not in printed and "Pour Membre 2" in printed and "Pour Membre 3" in printed
    with again.labels.open(encoding="utf-8") as handle:
        labelled = [row[0] for row in csv.reader(handle, delimiter=";")][1:]
    assert posted not in labelled and len(labelled) == 2
    # the manifest still lists every letter of the folder, the posted one too
    assert posted in (tmp_path / "b1" / "manifest.csv").read_text(encoding="utf-8")


@pytest.mark.today("2026-12-03")
def test_a_rerun_says_why_each_letter_not_yet_sent_is_made_again(
    runner, tmp_path, association, dsar_home
):
    """Run again into another --out, the letters not yet sent were « made again: what they
    are made from changed », though nothing had: their files were not in that folder."""
    path = write_csv(tmp_path / "members.csv", [member(i) for i in range(2)])
    first = ok(
        runner.invoke(cli, batch_args(path, association, tmp_path / "o1", "--format", "pdf"))
    )
    assert "made again" not in first.stdout
    elsewhere = batch_args(path, association, tmp_path / "o2", "--format", "pdf")
    moved = ok(runner.invoke(cli, elsewhere)).stdout
    assert "2 letter(s) not yet sent written into this folder: their files were not in it" in moved
    assert "changed" not in moved
    forced = ok(runner.invoke(cli, [*elsewhere, "--force"])).stdout
    assert "2 letter(s) not yet sent made again (--force)" in forced and "changed" not in forced


# ---------------------------------------------------------------- a letter before its mandate


def follow_refused_then_written(app, tmp_path, written, answered, refused, dated, why):  # noqa: F811
    """`written` answered on `answered` naming DataContact: its next request dated
    `refused` is refused (`why`), dated `dated` it is written."""
    app.answer(written, answered, state="answered", named="source", organisation="DataContact")
    with pytest.raises(InputError, match=why):
        app.follow(written, out_dir=tmp_path / "n", letter_date=refused)
    assert app.follow(written, out_dir=tmp_path / "n", letter_date=dated).reference


def two_members_signed(app, tmp_path, first: str, second: str) -> tuple[str, str]:  # noqa: F811
    """Two members' letters of 1 September 2026 to the party, their mandates signed on
    `first` (refused: a bad row, its reason returned) and `second` (the letter written,
    sent the next day: its reference returned)."""
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    rows = [member(1, broker="parti-exemple", mandate_date=first),
            member(2, broker="parti-exemple", mandate_date=second)]  # fmt: skip
    done = app.batch(
        write_csv(tmp_path / "m.csv", rows), association=association, out_dir=tmp_path / "b",
        formats="pdf", workers=1, mandate_on_request=True, letter_date="2026-09-01",
    )  # fmt: skip
    [bad] = list(done.bad_rows)
    assert bad.row == 2 and bad.column == "mandate_date"  # the header is line 1
    [written] = [row.reference for row in done.rows]
    assert app.journal.request(written).mandate.reference == "M-00002"
    app.sent(written, "2026-09-02")
    return bad.reason, written


@pytest.mark.today("2026-12-03")
def test_a_letter_dated_before_the_member_signed_the_mandate_is_refused(
    app,  # noqa: F811
    tmp_path,
):
    """A member's mandate signed on 1 November, the batch's letter dated 1 September: the
    letter acted under a power not yet given, and nothing said so (the tests' own data
    did it)."""
    why, written = two_members_signed(app, tmp_path, "2026-11-01", "2026-08-20")
    assert "signed on 2026-11-01, after the letter's date, 2026-09-01" in why
    follow_refused_then_written(app, tmp_path, written, "2026-09-21", "2026-08-10", "2026-09-25",
                                "after the letter's date, 2026-08-10")  # fmt: skip


@pytest.mark.today("2026-12-03")
def test_a_mandate_that_ran_out_is_never_invoked(
    app,  # noqa: F811
    tmp_path,
):
    """The form gives the mandate « pour une durée de deux ans à compter de sa signature »:
    a letter of 1 September 2026 still wrote « en vertu de mon mandat du 10 juin 2024 »
    (the third review's lawyer, finding 1); a reminder or a next request after it too."""
    why, written = two_members_signed(app, tmp_path, "2024-06-10", "2024-09-20")
    assert "signed on 2024-06-10 ran out on 2026-06-10" in why  # member 2's until 20 Sept
    with pytest.raises(InputError, match="ran out on 2026-09-20"):
        app.remind(written, on="2026-10-05", out_dir=tmp_path / "r")
    reminders = app.remind_batch(tmp_path / "b", on="2026-10-05")
    assert [b.column for b in reminders.bad_rows] == ["mandate_date"] and not reminders.rows
    assert reminders.exit_code == 3
    follow_refused_then_written(app, tmp_path, written, "2026-09-15", "2026-09-25", "2026-09-18",
                                "ran out on 2026-09-20")  # fmt: skip


@pytest.mark.today("2026-12-03")
def test_a_cover_letter_that_went_with_a_filed_complaint_is_never_written_over(
    app,  # noqa: F811
    tmp_path,
):
    """complain --association --force after one member's complaint was filed replaced the
    cover letter that went with it by one listing only the others (the third review's
    attacker, finding 7): it is evidence; the new one has a name of its own."""
    association, batch = first_batch(app, tmp_path, 2, "pdf")
    for row in batch.rows:
        app.sent(row.reference, "2026-09-02")
    out = tmp_path / "cnil"
    first = app.complain_association(association, "parti-exemple", out_dir=out, on="2026-12-03")
    cover = next(p for p in first.written if p.name.startswith("lettre-de-couverture"))
    kept = cover.read_bytes()
    [filed] = [e.reference for e in app.journal.follow_ups(batch.rows[0].reference, "complaint")]
    app.sent(filed, "2026-12-03")
    again = app.complain_association(
        association, "parti-exemple", out_dir=out, on="2026-12-03", force=True
    )
    assert cover.read_bytes() == kept
    [new] = [p for p in again.written if p.name.startswith("lettre-de-couverture")]
    assert new.name == cover.stem + "-2.pdf"
    assert any("went with complaints already filed" in w for w in again.warnings)
