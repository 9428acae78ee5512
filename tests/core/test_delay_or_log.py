"""core.task_base.AuditedTask.delay_or_log: a broker outage is logged and left to the fallback; a bug raises."""

import logging

import pytest
from kombu.exceptions import OperationalError

from club.tasks import liability_snapshot_store as task


@pytest.mark.parametrize("outage", [ConnectionError("refused"), OperationalError("broker gone")])
def test_a_broker_outage_is_logged_and_answered_false(monkeypatch, caplog, outage):
    def down(*args, **kwargs):
        raise outage

    monkeypatch.setattr(task, "delay", down)
    with caplog.at_level(logging.ERROR):
        assert task.delay_or_log("2026-12-01", None, fallback="stored in the request") is False
    assert any("could not queue" in r.getMessage() and "stored in the request" in r.getMessage() for r in caplog.records)


def test_any_other_error_is_a_bug_and_raises(monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("a task called with the wrong arguments")

    monkeypatch.setattr(task, "delay", broken)
    with pytest.raises(TypeError):
        task.delay_or_log("2026-12-01", None, fallback="stored in the request")


def test_queued_is_true(monkeypatch):
    queued = []
    monkeypatch.setattr(task, "delay", lambda *args: queued.append(args))
    assert task.delay_or_log("2026-12-01", 7, fallback="-") is True and queued == [("2026-12-01", 7)]
