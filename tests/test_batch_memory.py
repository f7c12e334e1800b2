"""A batch's memory stays flat in its number of members (issue 21, item 12).

Measured by tracemalloc (the Python objects a run allocates), never by time: the peak of
a 600-member e-mail batch against a 200-member one (caches and buffers full at 200), the whole of App.batch (rows read,
letters, journal, manifest and labels written, the result handed back). The old code
held every member's manifest row, address and file names, then built the whole
manifest in memory: ~1 kB more a member. benchmarks/batch.py --memory measures RSS.
"""

from __future__ import annotations

import tracemalloc

from dsar.app import App
from dsar.paths import Paths

from .conftest import ASSOCIATION, read_csv
from .test_batch import member, write_csv

SMALL, LARGE = 200, 600
# bytes a member may add to the peak: the old code's ~1,000 fail it by far; SQLite's
# own memory (results.Rows on disk) is not Python's and is bounded by its cache
PER_MEMBER = 250


def peak_of_batch(app: App, tmp_path, first: int, count: int) -> int:
    """The peak of one batch of `count` members (numbers from `first` on: new requests)."""
    folder = tmp_path / f"run-{first}"
    folder.mkdir()
    csv_path = write_csv(folder / "members.csv", [member(first + i) for i in range(count)])
    association = folder / "association.yaml"
    association.write_text(ASSOCIATION)
    tracemalloc.start()
    try:
        result = app.batch(
            csv_path,
            association=association,
            out_dir=folder / "out",
            broker="renaissance",
            formats="email,labels",
            workers=1,
            mandate_on_request=True,  # every member's e-mail built and queued
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    lines = read_csv(result.manifest)
    assert [line["reference"] != "" for line in lines] == [True] * count
    assert len(read_csv(result.labels)) == count
    assert len(list((folder / "out").glob("*.eml"))) == count
    return peak


def test_a_batchs_memory_does_not_grow_with_its_members(tmp_path):
    with App(Paths(config_dir=tmp_path / "home", data_dir=tmp_path / "home")) as app:
        # the registry read, the templates compiled: once for the App, not the members' cost
        peak_of_batch(app, tmp_path, 0, 20)
        small = peak_of_batch(app, tmp_path, 1000, SMALL)
        large = peak_of_batch(app, tmp_path, 5000, LARGE)
    assert large - small < PER_MEMBER * (LARGE - SMALL), (small, large)
