"""One worker runs every background job: each at its pace, again at once while work is waiting,
and a failing pass never stops the others."""

from __future__ import annotations

import pytest

from app.worker import JOBS, Job, run


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(seconds, 0.01)


def test_jobs_run_at_their_pace_and_again_at_once_while_work_waits(app):
    clock, calls = Clock(), []
    backlog = {"left": 3}

    def busy():
        calls.append(("busy", clock.now))
        backlog["left"] -= 1
        return backlog["left"] > 0

    def slow():
        calls.append(("slow", clock.now))
        return False

    with app.app_context():
        run((Job("busy", 1.0, busy), Job("slow", 5.0, slow)), stop=lambda: clock.now > 11,
            sleep=clock.sleep, clock=clock)
    busy_times = [t for name, t in calls if name == "busy"]
    slow_times = [t for name, t in calls if name == "slow"]
    assert busy_times[2] - busy_times[0] < 0.1  # the backlog drains without waiting its pace
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(busy_times[3:], busy_times[4:], strict=False))
    assert slow_times[0] == 0.0 and all(b - a >= 5.0 - 1e-9 for a, b in zip(slow_times, slow_times[1:], strict=False))
    assert len(slow_times) in (2, 3)


def test_a_failing_pass_is_counted_and_the_others_go_on(app):
    seen = []

    def broken():
        raise RuntimeError("database restarting")

    with app.app_context():
        failures = run((Job("broken", 1, broken), Job("fine", 1, lambda: seen.append(1) or False)),
                       stop=lambda: False, once=True)
    assert failures == {"broken": 1, "fine": 0} and seen == [1]


def test_every_job_passes_once_on_an_idle_service(app, world):
    with app.app_context():
        failures = run(JOBS, stop=lambda: False, once=True)
    # The bank and the portal are not running in this test: the jobs that call them report
    # nothing to do or fail softly; none may crash the worker, and the local jobs succeed.
    local = ("seal-history", "send-notifications", "remind-due-notices", "purge-throttles",
             "purge-idempotency-keys", "archive-outbox", "send-refunds")
    assert {name: failures[name] for name in local} == dict.fromkeys(local, 0)


def test_the_command_refuses_an_unknown_job(app):
    result = app.test_cli_runner().invoke(args=["worker", "--only", "deliver-outbox,nothing"])
    assert result.exit_code != 0 and "nothing" in result.output


@pytest.mark.parametrize("name", [job.name for job in JOBS])
def test_each_job_has_its_own_command(app, name):
    """Each job is also a `flask` command of its own (for cron, or to run it by hand)."""
    assert name in app.cli.commands
