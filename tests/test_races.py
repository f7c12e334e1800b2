"""Two real processes change one request at once, 200 times per pair of commands; the
journal and the letter files must agree every time (issue 18: a redo started before a
`sent` overwrote the sent letter's files, then removed them; `forget` racing `sent`
deleted a sent request; `sent` undid a recorded answer).

The workers are forked once per pair and meet the parent at a barrier for every try,
so each try is two processes acting within the same instant on a fresh request."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from dsar import compose, profile
from dsar.app import App
from dsar.errors import DsarError
from dsar.files import write_private
from dsar.paths import Paths
from dsar.vocabulary import output_name

TRIES = 200
TODAY = date(2030, 1, 2)  # the App's clock, frozen
FIRST_DAY = date(2026, 1, 1)
PERSON = {"name": "Camille Martin", "phone": "06 12 34 56 78", "address": "1 rue A\n75011 Paris"}


def app_for(home: Path) -> App:
    return App(Paths(config_dir=home, data_dir=home), clock=lambda: TODAY)


def draft(app: App, out: Path, day: date) -> str:
    """A draft as `dsar generate --format html` records it (the same reference, file
    name and journal rows), without rendering: the race is in what follows."""
    person = profile.requester(PERSON["name"], PERSON["address"], PERSON["phone"], None)
    request = compose.build_request(
        app.registry, "renaissance", person, compose.evidence(), letter_date=day
    )
    path = out / output_name(request.reference, "renaissance", "html")
    write_private(path, f"<p>draft {request.reference}</p>", overwrite=True)
    app.journal.record(request, subject="s", body_text="b", medium=("html",), files={"html": path})
    return request.reference


def act(pair: str, side: int, app: App, out: Path, reference: str, day: date) -> None:
    if pair == "redo/sent":
        if side == 0:  # dsar generate --force: the same request written again
            draft_again = app.generate(
                "renaissance",
                **PERSON,
                sms_text=f"v2 {reference}",
                formats=("html",),
                letter_date=day,
                out_dir=out,
                force=True,
            )
            assert draft_again.reference
        else:
            app.sent(reference, day)
    elif pair == "forget/sent":
        app.forget(reference) if side == 0 else app.sent(reference, day)
    elif pair == "sent/answer":
        if side == 0:
            app.sent(reference, day, lrar="1A0001")
        else:
            app.answer(reference, day, state="partial", missing="source")


def worker(pair, side, home, out, tasks, start, done, results):
    with app_for(home) as app:
        assert app.journal  # opened before the race: the race is between the transitions
        while (task := tasks.get()) is not None:
            reference, day = task
            start.wait()
            try:
                act(pair, side, app, out, reference, day)
                results.put((side, "ok"))
            except DsarError:
                results.put((side, "refused"))
            except Exception as exc:  # anything else is a defect: reported, counted
                results.put((side, f"crash {type(exc).__name__}: {exc}"))
            done.wait()


def problems(home: Path, out: Path, references: set[str]) -> list[str]:
    """What the journal says of these requests against what is on disk."""
    found = []
    db = sqlite3.connect(home / "journal.sqlite3")
    rows = db.execute("SELECT reference, path, sha256 FROM files").fetchall()
    for reference, path, sha in (row for row in rows if row[0] in references):
        file = Path(path)
        if not file.is_file():
            found.append(f"{reference}: {file.name} recorded, not on disk")
        elif hashlib.sha256(file.read_bytes()).hexdigest() != sha:
            found.append(f"{reference}: {file.name} differs from what the journal recorded")
    staged = [p.name for p in out.glob(".*.tmp")]
    if staged:
        found.append(f"staged files left: {staged}")
    db.close()
    return found


@pytest.mark.parametrize("pair", ["redo/sent", "forget/sent", "sent/answer"])
def test_two_processes_on_one_request_leave_journal_and_files_consistent(
    tmp_path, pair, monkeypatch
):
    # what is tested is the order of writes, not the disk's durability: fsync (10 ms a
    # file here) would make 600 tries last a minute
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    home, out = tmp_path / "home", tmp_path / "letters"
    context = multiprocessing.get_context("fork")
    start, done = context.Barrier(3), context.Barrier(3)
    tasks = [context.Queue(), context.Queue()]
    results = context.Queue()
    workers = [
        context.Process(
            target=worker, args=(pair, side, home, out, tasks[side], start, done, results)
        )
        for side in (0, 1)
    ]
    with app_for(home) as app:
        assert app.journal  # the schema exists before the workers open it
        for process in workers:
            process.start()
        outcomes: dict[tuple[str, str], int] = {}
        inconsistent = []
        try:
            for number in range(TRIES):
                day = FIRST_DAY + timedelta(days=number)
                reference = draft(app, out, day)
                if pair == "sent/answer":
                    app.sent(reference, day)
                before = {path: path.read_bytes() for _r, path, _s in app.journal.files(reference)}
                for queue in tasks:
                    queue.put((reference, day))
                start.wait(timeout=30)
                done.wait(timeout=60)
                said = dict(results.get(timeout=5) for _ in (0, 1))
                outcomes[(said[0], said[1])] = outcomes.get((said[0], said[1]), 0) + 1
                # this try's request, and any the redo got under a reference of its own
                mine = {reference} | {
                    e.reference for e in app.journal.entries() if e.letter_date == day
                }
                found = problems(home, out, mine)
                state = app.journal.stored_state(reference)
                if any(s.startswith("crash") for s in said.values()):
                    found.append(f"a worker crashed: {said}")
                if pair == "redo/sent" and state == "sent" and said[0] == "refused":
                    # refused: the sent letter's files are exactly those of before
                    after = {p: p.read_bytes() for _r, p, _s in app.journal.files(reference)}
                    if after != before:
                        found.append("a refused redo changed the sent letter's files")
                if pair == "forget/sent":
                    if said == {0: "ok", 1: "ok"} and state is not None:
                        found.append("forgotten and sent, yet still in the journal")
                    if said[1] == "ok" and state != "sent":
                        found.append(f"recorded as sent, then {state}")
                    if said[0] == "ok" and state is not None:
                        found.append("forgotten, yet in the journal")
                if pair == "sent/answer" and state != "partial":
                    found.append(f"the answer was undone: {state}")
                inconsistent += [f"try {number}: {p}" for p in found]
        finally:
            for queue in tasks:
                queue.put(None)
            for process in workers:
                process.join(timeout=30)
    print(f"{pair}: {TRIES} tries, outcomes {outcomes}, {len(inconsistent)} inconsistencies")
    assert not inconsistent, inconsistent[:10]
    # both orders happened: the race was run, not two sequential steps
    assert sum(outcomes.values()) == TRIES
