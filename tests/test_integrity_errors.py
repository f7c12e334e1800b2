"""No traceback, ever: unreadable files, a damaged journal, first runs at once, and any
text in any field or cell."""

from __future__ import annotations

import csv
import multiprocessing
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsar.cli import cli
from dsar.errors import JournalError
from dsar.journal import SCHEMA_VERSION, Journal

from .test_batch import ASSOCIATION, HEADER, batch_args, member
from .test_integrity import BASE, generate


def clean_exit(result, code: int):
    """Exited with this code and a message, not a Python exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def taken_or_refused(result, refused: int):
    """Any text is taken (0) or refused with the one code its kind of error has: 2 for
    a value the option cannot take, 1 for a name dsar does not know, 3 for a bad row."""
    clean_exit(result, 0 if result.exit_code == 0 else refused)


def test_text_files_that_are_not_utf8_are_one_line_errors(runner, tmp_path):
    latin = tmp_path / "sms.txt"
    latin.write_bytes("Votez pour Hélène".encode("latin-1"))
    result = runner.invoke(cli, [*BASE, "--sms-text-file", str(latin), "--format", "text"])
    clean_exit(result, 2)
    assert "--sms-text-file" in result.stderr and "not UTF-8" in result.stderr
    result = runner.invoke(cli, ["identify", "--text-file", str(latin)])
    clean_exit(result, 2)
    assert "--text-file" in result.stderr and "not UTF-8" in result.stderr


def test_a_damaged_journal_is_a_message(runner, tmp_path, dsar_home):
    for day in ("2026-01-30", "2026-01-29", "2026-01-28"):
        generate(runner, tmp_path, "--date", day, "--force")
    journal = dsar_home / "journal.sqlite3"
    data = bytearray(journal.read_bytes())
    assert len(data) > 3 * 4096 and not (dsar_home / "journal.sqlite3-wal").exists()
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page but the header's
    journal.write_bytes(bytes(data))
    for args in (["status"], ["show", "DSAR-AAAA-AAAA"], [*BASE, "--out", str(tmp_path / "n")]):
        result = runner.invoke(cli, args)
        clean_exit(result, 1)
        assert str(journal) in result.stderr, result.output
    assert not (tmp_path / "n").exists() or not any((tmp_path / "n").iterdir())


def test_files_are_not_left_behind_when_the_journal_cannot_record(runner, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise JournalError("the journal x: database disk image is malformed")

    monkeypatch.setattr(Journal, "record", broken)
    out = tmp_path / "letters"
    result = runner.invoke(cli, [*BASE, "--out", str(out)])
    clean_exit(result, 1)
    assert "malformed" in result.stderr and list(out.iterdir()) == []


def _open_when_all_are_ready(path, barrier):
    barrier.wait()
    with Journal(path) as journal:
        return journal.db.execute("PRAGMA user_version").fetchone()[0]


def test_first_runs_at_once_on_a_new_journal(tmp_path):
    context = multiprocessing.get_context("fork")  # six processes, each opens its own
    workers = 6
    with context.Manager() as manager:
        barrier = manager.Barrier(workers)
        with context.Pool(workers) as pool:
            versions = pool.starmap(
                _open_when_all_are_ready, [(tmp_path / "new.sqlite3", barrier)] * workers
            )
    assert versions == [SCHEMA_VERSION] * workers


# ------------------------------------------------------------------ any text, anywhere

ANY_TEXT = st.text(max_size=60) | st.sampled_from(
    ["", " ", "[/x]", "=1+1", "..", "../x", "\r\n", "\x00", "\x1b[31m", "{{ 7*7 }}", "9999-12-31"]
)
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(
    option=st.sampled_from(
        [
            "--name",
            "--address",
            "--phone",
            "--email",
            "--sms-date",
            "--sms-time",
            "--sms-sender",
            "--sms-text",
            "--place",
            "--to-email",
            "--to-address",
            "--date",
            "--broker",
        ]
    ),
    value=ANY_TEXT,
)
def test_any_text_in_any_generate_field_exits_cleanly(runner, tmp_path, option, value):
    args = [*BASE, "--format", "text", "--out", str(tmp_path / "t")]
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    taken_or_refused(runner.invoke(cli, args), 1 if option == "--broker" else 2)


@FAST
@given(
    command=st.sampled_from(
        [
            ["identify", "--text"],
            ["identify", "--sender"],
            ["identify", "--date"],
            ["brokers", "search"],
            ["brokers", "show"],
            ["show"],
            ["forget"],
            ["status", "--as-of"],
        ]
    ),
    value=ANY_TEXT,
)
def test_any_text_in_any_other_argument_exits_cleanly(runner, command, value):
    # an argument, not an option's value: not found (1), or read as an option by click (2)
    positional = command[-1] in ("show", "forget", "search")
    refused = (2 if value.startswith("-") and value != "-" else 1) if positional else 2
    taken_or_refused(runner.invoke(cli, [*command, value]), refused)


@FAST
@given(
    column=st.sampled_from(HEADER),
    value=ANY_TEXT,
    delimiter=st.sampled_from([";", ","]),
)
def test_any_text_in_any_csv_cell_exits_cleanly(runner, tmp_path_factory, column, value, delimiter):
    folder = tmp_path_factory.mktemp("cells")
    association = folder / "association.yaml"
    association.write_text(ASSOCIATION)
    row = dict(zip(HEADER, member(1), strict=True)) | {column: value}
    path = folder / "m.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows([HEADER, [row[c] for c in HEADER]])
    result = runner.invoke(cli, batch_args(path, association, folder / "o", "--format", "email"))
    taken_or_refused(result, 3)  # the row is left out, the rest done


@pytest.mark.parametrize("value", [string.printable, "é" * 300, "\ud800"])
def test_odd_values_as_a_reference(runner, value):
    clean_exit(runner.invoke(cli, ["show", value]), 1)
