"""A batch's memory stays flat in its number of members (issue 21, item 12).

Counted, never timed (benchmarks/batch.py --memory measures the RSS, README):
- while the rows are read, no manifest row nor bad row per member is held (the old
  code held every one, with its address and file names: ~0.9 kB of RSS a member);
- while the e-mails are sent, no list, set or tuple holds the batch's references (the
  old code listed every reference of the run, made a set of them, read the whole
  outbox at once and listed every waiting message).
"""

from __future__ import annotations

import gc

from dsar.app import App
from dsar.members import BadRow
from dsar.paths import Paths
from dsar.results import BadRows, ManifestRow, Rows
from dsar.sending import SmtpSettings

from . import smtp_server
from .conftest import ASSOCIATION, read_csv
from .test_batch import member, write_csv

MEMBERS = 60
BAD_EVERY = 5  # one member in five has a phone that is no number: a bad row


def live(kind: type) -> int:
    """Objects of a kind alive now (the list of all objects gone before returning)."""
    gc.collect()
    return sum(isinstance(o, kind) for o in gc.get_objects())


def most_references_held() -> int:
    """The most references (DSAR-...) one live list, set or tuple holds."""
    gc.collect()
    most = 0
    for o in gc.get_objects():
        if isinstance(o, list | set | frozenset | tuple):
            most = max(most, sum(isinstance(x, str) and x.startswith("DSAR-") for x in o))
    return most


def test_a_batch_holds_no_row_per_member(tmp_path, monkeypatch):
    # rows and bad rows come back from disk a page at a time: pages smaller than the
    # batch, so that what is held is the pages' bound, not the batch's size
    monkeypatch.setattr(Rows, "PAGE", 10)
    monkeypatch.setattr(BadRows, "PAGE", 10)
    rows = [member(i, phone="0") if i % BAD_EVERY == 0 else member(i) for i in range(MEMBERS)]
    csv_path = write_csv(tmp_path / "members.csv", rows)
    (tmp_path / "association.yaml").write_text(ASSOCIATION)
    held: dict[str, int] = {}
    done = {"rows": 0, "e-mails": 0}

    def progress(stage: str, advance: int, total) -> None:
        done[stage] += advance
        if stage == "rows" and advance and done["rows"] == MEMBERS:  # the last member's row
            held["manifest rows"] = live(ManifestRow)
            held["bad rows"] = live(BadRow)
        if stage == "e-mails" and advance and done["e-mails"] == 2:  # while sending
            held["references"] = most_references_held()

    controller, recorder = smtp_server.start()
    try:
        with App(Paths(config_dir=tmp_path / "home", data_dir=tmp_path / "home")) as app:
            result = app.batch(
                csv_path,
                association=tmp_path / "association.yaml",
                out_dir=tmp_path / "out",
                broker="renaissance",
                formats="email,labels",
                workers=1,
                mandate_on_request=True,  # every member's e-mail built and queued
                send=True,
                smtp=SmtpSettings("127.0.0.1", controller.port, "none", rate_per_minute=0),
                progress=progress,
            )
    finally:
        controller.stop()
    # the row being done at most, not one per member; a page of references at most
    assert held["manifest rows"] <= 2 and held["bad rows"] <= 1, held
    assert held["references"] <= 10, held
    # the guarantees stand: every member in the manifest, each bad row said, each e-mail once
    manifest = read_csv(result.manifest)
    assert [int(line["row"]) for line in manifest] == list(range(2, MEMBERS + 2))
    bad = MEMBERS // BAD_EVERY
    assert len(result.bad_rows) == bad == sum(not line["reference"] for line in manifest)
    assert [b.row for b in result.bad_rows] == list(range(2, MEMBERS + 2, BAD_EVERY))
    assert len(result.rows) == MEMBERS - bad
    assert read_csv(result.labels) == []  # every letter left by e-mail: none to post
    assert recorder.count == MEMBERS - bad == result.sent["sent"]
