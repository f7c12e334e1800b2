"""What dsar show and the inbox's review say comes next, as the third review found them:
a letter written and not sent comes before advice about the answer, a draft without an
address is not offered `dsar sent`, and no name from outside hides a command. Real
SQLite, the real CLI."""

from __future__ import annotations

import json

import pytest

from dsar.cli import cli
from dsar.inbox import apply

from .conftest import ASSOCIATION, ok
from .test_follow import app, registry_file  # noqa: F401 (fixtures)
from .test_follow_review import PERSON

pytestmark = pytest.mark.today("2026-12-03")


def shown(runner, app, reference: str) -> dict:  # noqa: F811
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    return json.loads(ok(runner.invoke(cli, ["show", reference, "--json"], env=home)).stdout)


def also_possible(runner, app, reference: str) -> list[str]:  # noqa: F811
    home = {"DSAR_HOME": str(app.paths.data_dir)}
    text = ok(runner.invoke(cli, ["show", reference], env=home)).stdout
    rest = text.split("also possible:\n")[1] if "also possible:" in text else ""
    return [line.strip() for line in rest.splitlines() if line.startswith("  ")]


def answered_naming(app, tmp_path, organisation: str, state: str = "answered") -> str:  # noqa: F811
    first = app.generate("parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-09-01")  # fmt: skip
    app.sent(first.reference, "2026-09-02")
    app.answer(first.reference, "2026-09-21", state=state, named="source",
               organisation=organisation, note="Nous tenons votre numéro de là.")  # fmt: skip
    return first.reference


def test_a_complaint_written_comes_before_the_organisation_the_answer_named(
    app,  # noqa: F811
    tmp_path,
    runner,
):
    """A partial answer naming DataContact, and a complaint written: « next » said to write
    to DataContact and never named the complaint to file (attacker, finding 8)."""
    first = app.generate("parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-09-01").reference  # fmt: skip
    app.sent(first, "2026-09-02")
    app.answer(first, "2026-09-21", state="partial", note="Une partie de la réponse.")
    complaint = app.complain(first, out_dir=tmp_path / "cnil").reference
    app.answer(first, "2026-11-30", state="answered", named="source", organisation="DataContact",
               note="Nous tenons votre numéro de DataContact.")  # fmt: skip
    step = shown(runner, app, first)["next_step"]
    assert step.startswith(f"file the complaint {complaint} with the CNIL"), step
    assert f"dsar follow {first}" in also_possible(runner, app, first)


def test_a_next_request_written_not_sent_is_the_next_step(
    app,  # noqa: F811
    tmp_path,
    runner,
):
    """The next request to DataContact written (a draft, not sent): dsar show said
    « nothing: the request was answered » (new user, finding 4)."""
    first = answered_naming(app, tmp_path, "DataContact")
    following = app.follow(first, formats="pdf", letter_date="2026-12-03").reference
    step = shown(runner, app, first)["next_step"]
    assert step == (
        f"the next request {following} is written, not sent: send it, then record it: "
        f"dsar sent {following} --on YYYY-MM-DD"
    )


def test_a_draft_without_an_address_is_not_offered_dsar_sent(
    app,  # noqa: F811
    tmp_path,
    runner,
):
    """« next: send it, then record it: dsar sent » for a draft that dsar sent refuses (no
    postal address, no e-mail): it says to add the address (new user, finding 5)."""
    draft = app.generate("selfcontact", **PERSON, formats="pdf",
                         out_dir=tmp_path / "d", letter_date="2026-11-01").reference  # fmt: skip
    found = shown(runner, app, draft)
    assert found["next_step"].startswith("add Selfcontact's address (dsar brokers ")
    assert not any(c.startswith("dsar sent") for c in found["next"])


def test_no_organisation_s_name_hides_a_command_from_also_possible(
    app,  # noqa: F811
    tmp_path,
    runner,
):
    """« also possible » left out each command whose text was in the next step, and the
    step holds the name an answer gave: a name carrying « dsar remind REF » hid it
    (attacker, finding 9)."""
    first = app.generate("parti-exemple", **PERSON, formats="pdf", out_dir=tmp_path / "l",
                         letter_date="2026-09-01").reference  # fmt: skip
    app.sent(first, "2026-09-02")
    app.answer(first, "2026-11-25", state="answered", named="recipient",
               organisation=f"Foo dsar remind {first} dsar complain {first} --out DIR")  # fmt: skip
    assert shown(runner, app, first)["next_step"].startswith(f"write to Foo dsar remind {first}")
    commands = also_possible(runner, app, first)
    assert f"dsar remind {first}" in commands and f"dsar complain {first} --out DIR" in commands


def test_the_inbox_review_says_what_dsar_show_says_of_an_answer_naming_a_source(
    app,  # noqa: F811
    tmp_path,
):
    """« nothing: the request was answered; write to DataContact next: dsar follow » in the
    inbox's review (attacker, finding 12), where dsar show says the one thing to do."""
    first = answered_naming(app, tmp_path, "DataContact")
    words = apply.next_action(app, first, {"organisation": "DataContact"})
    assert (
        words
        == f"write to DataContact, which the answer named: dsar follow {first} --to datacontact"
    )


def test_a_text_preview_offers_no_dsar_sent_it_would_refuse(runner, tmp_path):
    """dsar generate --format text printed « once sent: dsar sent DSAR-… », and dsar sent
    answered « no request DSAR-… in the journal »: a preview is not recorded (new user,
    finding 3). The reminder's preview too."""
    home = {"DSAR_HOME": str(tmp_path / "home")}
    args = ["generate", "--broker", "renaissance", "--name", "Camille Martin", "--phone",
            "06 12 34 56 78", "--format", "text"]  # fmt: skip
    said = ok(runner.invoke(cli, args, env=home)).output
    assert "preview, not recorded" in said and "dsar sent DSAR-" not in said
    written = ok(runner.invoke(cli, [*args[:-2], "--format", "pdf", "--date", "2026-09-01",
                                     "--out", str(tmp_path / "l")], env=home)).output  # fmt: skip
    reference = next(
        line.split()[1] for line in written.splitlines() if line.startswith("reference")
    )
    ok(runner.invoke(cli, ["sent", reference, "--on", "2026-09-02"], env=home))
    reminded = ok(runner.invoke(cli, ["remind", reference, "--format", "text"], env=home)).output
    assert "preview, not recorded" in reminded and "dsar sent DSAR-" not in reminded


def test_complain_writes_beside_the_request_s_letter_by_default(runner, tmp_path):
    """dsar remind and dsar follow write beside the letter they follow; dsar complain
    required --out (the third review's new user, 12). --association still needs it."""
    home = {"DSAR_HOME": str(tmp_path / "home")}
    args = ["generate", "--broker", "renaissance", "--name", "Camille Martin", "--phone",
            "06 12 34 56 78", "--format", "pdf", "--date", "2026-09-01",
            "--out", str(tmp_path / "l")]  # fmt: skip
    written = ok(runner.invoke(cli, args, env=home)).output
    reference = next(
        line.split()[1] for line in written.splitlines() if line.startswith("reference")
    )
    ok(runner.invoke(cli, ["sent", reference, "--on", "2026-09-02"], env=home))
    ok(runner.invoke(cli, ["complain", reference], env=home))
    assert any(p.name.endswith("-cnil.pdf") for p in (tmp_path / "l").iterdir())
    assert any("dossier-cnil" in p.name for p in (tmp_path / "l").iterdir())
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION, encoding="utf-8")
    refused = runner.invoke(
        cli,
        ["complain", "--association", str(association), "--recipient", "renaissance"],
        env=home,
    )
    assert refused.exit_code == 2 and "--out" in refused.output
