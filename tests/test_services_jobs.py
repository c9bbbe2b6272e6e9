"""The job runner: long work on a background thread, with progress a page
polls, failures reported on the job (never raised into the page), lanes,
keys and coalescing. The work here waits on events so every state is seen."""

from __future__ import annotations

import threading
import time

import pytest

from adapt.services import jobs

DB = "sqlite:///test.db"


def _until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_job_reports_progress_then_its_result() -> None:
    runner = jobs.JobRunner()
    go, step = threading.Event(), threading.Event()

    def work(progress: jobs.Progress) -> str:
        progress("reading", 1, 4)
        step.set()
        go.wait(10)
        progress("reading", 4, 4)
        return "stored"

    job_id = runner.submit("import", work, database=DB, label="Import", owner="analyst")
    step.wait(10)
    running = runner.get(job_id)
    assert running.state == jobs.RUNNING and running.active
    assert (running.stage, running.done, running.total) == ("reading", 1, 4)
    assert running.fraction == 0.25 and running.status == "Import: reading 1/4"
    go.set()
    done = runner.wait(job_id)
    assert done.state == jobs.DONE and not done.active and done.result == "stored"
    assert done.started_at is not None and done.finished_at >= done.started_at
    assert running.state == jobs.RUNNING  # a snapshot does not change under the page


def test_a_failure_is_reported_on_the_job_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    runner = jobs.JobRunner()

    def crash(progress: jobs.Progress) -> None:
        raise RuntimeError("Jane Smith 01/02/1980")  # data must not reach the page or the log

    def refuse(progress: jobs.Progress) -> None:
        raise jobs.JobFailed("The import failed; nothing was stored.")

    crashed = runner.wait(runner.submit("import", crash, database=DB, label="Import"))
    assert crashed.state == jobs.FAILED and crashed.result is None
    assert "RuntimeError" in crashed.error and "Jane" not in crashed.error
    assert crashed.status.startswith("Import: failed.")
    assert "RuntimeError" in caplog.text and "Jane" not in caplog.text
    refused = runner.wait(runner.submit("import", refuse, database=DB, label="Import"))
    assert refused.error == "The import failed; nothing was stored."
    # the lane's thread is still serving after the failures
    assert runner.wait(runner.submit("import", lambda p: 1, database=DB, label="x")).result == 1


def test_one_write_at_a_time_and_reads_beside_it() -> None:
    runner = jobs.JobRunner()
    release = threading.Event()
    first = runner.submit("import", lambda p: release.wait(10), database=DB, label="first")
    second = runner.submit("identity run", lambda p: "second", database=DB, label="second")
    read = runner.submit("backtest", lambda p: "curve", database=DB, label="bt", lane="read")
    assert runner.wait(read).result == "curve"  # not held up by the write lane
    assert runner.get(second).state == jobs.QUEUED
    assert runner.get(second).status == "second: waiting to start"
    assert [j.id for j in runner.active(DB)] == [first, second]
    release.set()
    assert runner.wait(second).result == "second"
    assert runner.active(DB) == []


def test_keys_reuse_a_job_and_its_result_and_a_failure_is_tried_again() -> None:
    runner = jobs.JobRunner()
    calls: list[int] = []

    def work(progress: jobs.Progress) -> int:
        calls.append(1)
        return len(calls)

    a = runner.submit("backtest", work, database=DB, label="bt", key=("v1", "s"), lane="read")
    runner.wait(a)
    assert runner.submit("backtest", work, database=DB, label="bt", key=("v1", "s")) == a
    assert runner.submit("backtest", work, database="other", label="bt", key=("v1", "s")) != a
    assert runner.submit("backtest", work, database=DB, label="bt", key=("v2", "s")) != a

    failing = runner.submit("backtest", lambda p: 1 / 0, database=DB, label="bt", key="bad")
    assert runner.wait(failing).state == jobs.FAILED
    retried = runner.submit("backtest", lambda p: "ok", database=DB, label="bt", key="bad")
    assert retried != failing and runner.wait(retried).result == "ok"


def test_a_run_not_yet_started_is_shared() -> None:
    runner = jobs.JobRunner()
    release = threading.Event()
    running = runner.submit("identity run", lambda p: release.wait(10), database=DB,
                            label="run", coalesce=True)  # fmt: skip
    _until(lambda: runner.get(running).state == jobs.RUNNING)
    # running already: it read the decisions before this one, so a new run is queued ...
    queued = runner.submit("identity run", lambda p: "b", database=DB, label="run", coalesce=True)
    assert queued != running
    # ... and a third request joins the queued run, which will read every decision
    assert runner.submit("identity run", lambda p: "c", database=DB, label="run",
                         coalesce=True) == queued  # fmt: skip
    release.set()
    assert runner.wait(queued).result == "b"


def test_a_newer_request_replaces_the_owners_waiting_ones() -> None:
    runner = jobs.JobRunner()
    release = threading.Event()
    ran: list[str] = []

    def work(name: str):  # type: ignore[no-untyped-def]
        return lambda progress: ran.append(name) or name

    busy = runner.submit("backtest", lambda p: release.wait(10), database=DB, label="bt",
                         owner="analyst", lane="read")  # fmt: skip
    _until(lambda: runner.get(busy).state == jobs.RUNNING)
    old = runner.submit("backtest", work("old"), database=DB, label="bt", owner="analyst",
                        key="a", lane="read", supersede=True)  # fmt: skip
    theirs = runner.submit("backtest", work("theirs"), database=DB, label="bt", owner="admin",
                           key="b", lane="read", supersede=True)  # fmt: skip
    new = runner.submit("backtest", work("new"), database=DB, label="bt", owner="analyst",
                        key="c", lane="read", supersede=True)  # fmt: skip
    assert runner.get(old).state == jobs.FAILED and runner.get(old).error == jobs.SUPERSEDED
    assert runner.get(busy).state == jobs.RUNNING  # a started job is never dropped
    release.set()
    assert runner.wait(new).result == "new" and runner.wait(theirs).result == "theirs"
    assert sorted(ran) == ["new", "theirs"]
    # asked for again, the replaced request runs (a failed job is tried again)
    again = runner.submit("backtest", work("old"), database=DB, label="bt", owner="analyst",
                          key="a", lane="read", supersede=True)  # fmt: skip
    assert again != old and runner.wait(again).result == "old"


def test_latest_of_a_kind_and_old_jobs_are_forgotten() -> None:
    runner = jobs.JobRunner(keep=3)
    ids = [runner.submit("import", lambda p, n=n: n, database=DB, label="i") for n in range(5)]
    runner.wait(ids[-1])
    assert runner.latest("import", DB).id == ids[-1]
    assert runner.latest("import", "another database") is None
    assert runner.latest("backtest", DB) is None
    runner.submit("import", lambda p: 0, database=DB, label="i")  # forgetting happens on submit
    assert runner.get(ids[0]) is None and runner.get(ids[-1]) is not None
    with pytest.raises(KeyError):
        runner.wait(ids[0])


def test_an_unknown_lane_is_refused() -> None:
    with pytest.raises(ValueError, match="lane"):
        jobs.JobRunner().submit("x", lambda p: 1, database=DB, label="x", lane="fast")


def test_the_app_has_one_runner_for_every_session() -> None:
    assert jobs.runner() is jobs.runner()
