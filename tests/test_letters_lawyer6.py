"""The letters as the third review's lawyer read them: a mandate form that names a party
only when the message names one, its scope reaching a processor's client and the
organisations named further down the chain only when the member signed it so, the
collective complaint's words about the mandates true of each, and one member in the
singular. Real SQLite, real PDFs read back, the command line."""

from __future__ import annotations

import pytest

from dsar.cli import cli

from .conftest import flat, ok, pdf_text
from .test_batch import member, write_csv
from .test_batch_rerun import mandate_args

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
