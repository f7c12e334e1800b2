"""The tests' frozen day, in every Python they start (`dsar serve`, batch runs, workers):
tests/conftest.py puts this folder on PYTHONPATH and the day in DSAR_TEST_TODAY, so a
subprocess agrees with the test on what today is. Tests only: dsar's code never reads
DSAR_TEST_TODAY, and this folder is on no path but the tests' subprocesses'."""

import os

if os.environ.get("DSAR_TEST_TODAY"):
    from datetime import UTC, date, datetime, time

    import time_machine

    day = date.fromisoformat(os.environ["DSAR_TEST_TODAY"])
    time_machine.travel(datetime.combine(day, time(12), tzinfo=UTC), tick=True).start()
