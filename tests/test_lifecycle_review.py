"""Defects the new user's and the lifecycle review found (cli, app, lifecycle). Each
test fails on the code before its fix; the clock is frozen in every one."""

from __future__ import annotations

from datetime import date

import pytest

from dsar.cli import cli
from dsar.errors import DsarError

from .test_lifecycle import PERSON, app_on, request


# ---------------------------------------------------------------- a draft is never posted


def test_a_draft_without_the_postal_address_is_refused_as_posted(tmp_path, runner):
    with app_on(tmp_path / "h", date(2026, 12, 3)) as app:
        draft = request(app, tmp_path / "l", broker="selfcontact")  # no address known
        assert not app.journal.request(draft).printable
        with pytest.raises(DsarError, match="--to-address"):
            app.sent(draft, "2026-10-02")
        assert app.journal.entry(draft).stored_state == "draft"  # nothing recorded
    result = runner.invoke(cli, ["sent", draft, "--on", "2026-10-02", "--lrar", "1A2"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_an_e_mailed_request_without_postal_address_is_recorded_as_sent(tmp_path):
    with app_on(tmp_path / "h", date(2026, 12, 3)) as app:
        mailed = app.generate(
            "selfcontact",
            **PERSON,
            sms_date="2026-09-28",
            formats="pdf,email",
            to_email="dpo@selfcontact.example",
            letter_date=date(2026, 10, 1),
            out_dir=tmp_path / "l",
        ).reference
        with pytest.raises(DsarError):  # a registered letter is a posting: not of this PDF
            app.sent(mailed, "2026-10-02", lrar="1A23456789012")
        app.sent(mailed, "2026-10-02")
        assert app.journal.entry(mailed).stored_state == "sent"
