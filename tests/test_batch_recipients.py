"""A batch says, before rendering, what its recipients lack, and never sends to no one."""

from __future__ import annotations

import pytest

from dsar import batch
from dsar.cli import cli
from dsar.errors import DsarError

from .conftest import flat, parse_eml, pdf_text, read_csv
from .test_batch import batch_args, member, write_csv


def test_warns_before_rendering_when_the_recipient_lacks_an_address(runner, tmp_path, association):
    path = write_csv(tmp_path / "members.csv", [member(1)])
    args = batch_args(path, association, tmp_path / "out", "--format", "email")
    args[args.index("renaissance")] = "selfcontact"
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    err = flat(result.stderr)
    assert "Selfcontact [selfcontact]: no e-mail address in the registry" in err
    assert "dsar brokers add-contact selfcontact --email" in err
    assert err.index("no e-mail address") < err.index("CSV rows")  # before the progress bar

    refused = runner.invoke(cli, [*args, "--send", "--smtp-host", "127.0.0.1", "--force"])
    assert refused.exit_code == 1
    assert "--send: Selfcontact [selfcontact]: no e-mail address" in flat(refused.stderr)


def test_to_email_and_to_address_as_in_generate(runner, tmp_path, association):
    path = write_csv(tmp_path / "members.csv", [member(1)])
    out = tmp_path / "out"
    args = batch_args(path, association, out, "--workers", "1")
    args[args.index("renaissance")] = "selfcontact"
    args += ["--to-email", "dpo@selfcontact.example"]
    args += ["--to-address", "Selfcontact\\nService DPO\\n60400 Noyon"]
    args += ["--mandate-on-request"]  # no signed scan here: the e-mail is not held back
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "no e-mail address" not in result.stderr and "no postal address" not in result.stderr
    row = read_csv(out / "manifest.csv")[0]
    message = parse_eml((out / row["eml"]).read_bytes())
    assert message["To"].addresses[0].addr_spec == "dpo@selfcontact.example"
    assert "Service DPO 60400 Noyon" in flat(pdf_text((out / row["pdf"]).read_bytes()))


def test_pdf_recipients_without_postal_address_or_with_a_secondary_one(shipped, tmp_path):
    path = write_csv(
        tmp_path / "m.csv",
        [member(1, broker="the-optin-machine"), member(2, broker="LFI"), member(3)],
    )
    names = batch.recipient_names(path, "renaissance")
    assert names == ["the-optin-machine", "LFI", "renaissance"]
    lines = batch.check_recipients(shipped, names, ("pdf",))
    text = "\n".join(lines)
    assert "The Optin Machine [the-optin-machine]: no postal address" in text
    assert (
        "La France insoumise: the postal address comes from a source that is not verified" in text
    )
    assert "renaissance" not in text  # verified e-mail and address
    with pytest.raises(DsarError, match="--to-email is for one recipient, and the rows write to 3"):
        batch.check_recipients(shipped, names, ("email",), to_email="x@example.org")


def test_app_refuses_to_send_to_no_one_before_any_work(tmp_path, association):
    from dsar.app import App
    from dsar.paths import Paths

    path = write_csv(tmp_path / "members.csv", [member(1)])
    home, out = tmp_path / "home", tmp_path / "out"
    with App(Paths(config_dir=home, data_dir=home)) as app:
        with pytest.raises(DsarError, match="--send: Selfcontact"):
            app.batch(
                path,
                association=association,
                out_dir=out,
                broker="selfcontact",
                formats="email",
                send=True,
                dry_run=True,
            )
        assert not out.exists()  # refused before any letter or manifest
        lines = app.batch_recipients(path, broker="selfcontact", formats="email")
        assert lines and "no e-mail address" in lines[0]
