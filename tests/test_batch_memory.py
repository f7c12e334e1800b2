"""A batch's memory stays flat in its number of members (issue 21, item 12).

Counted, never timed: when the last member's row is done, the run holds no manifest
row per member in memory (the old code held every one, with its address and file
names: ~0.9 kB of RSS a member). benchmarks/batch.py --memory measures the RSS.
"""

from __future__ import annotations

import gc

from dsar.app import App
from dsar.paths import Paths
from dsar.results import ManifestRow

from .conftest import ASSOCIATION, read_csv
from .test_batch import member, write_csv

MEMBERS = 60


def test_a_batch_holds_no_row_per_member_in_memory(tmp_path):
    csv_path = write_csv(tmp_path / "members.csv", [member(i) for i in range(MEMBERS)])
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)
    held = []
    done = [0]

    def progress(stage: str, advance: int, total) -> None:
        done[0] += advance if stage == "rows" else 0
        if stage == "rows" and advance and done[0] == MEMBERS:  # the last member's row
            gc.collect()
            held.append(sum(isinstance(o, ManifestRow) for o in gc.get_objects()))

    with App(Paths(config_dir=tmp_path / "home", data_dir=tmp_path / "home")) as app:
        result = app.batch(
            csv_path,
            association=association,
            out_dir=tmp_path / "out",
            broker="renaissance",
            formats="email,labels",
            workers=1,
            mandate_on_request=True,  # every member's e-mail built and queued
            progress=progress,
        )
    assert held and held[0] <= 2, held  # the row being done, not one per member
    assert len(read_csv(result.manifest)) == MEMBERS == len(read_csv(result.labels))
    assert len(result.rows) == MEMBERS and all(row.eml for row in result.rows)
