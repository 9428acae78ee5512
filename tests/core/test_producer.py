"""core.producer: a generator run in a forked child while the parent consumes its items."""

import multiprocessing
import os
import random
import time

import pytest

from core import producer
from core.producer import ProducerFailed, produced_aside


def draws(rng: random.Random, count: int):
    for _ in range(count):
        yield [rng.random() for _ in range(3)]


def test_the_child_continues_the_parent_s_random_generator_and_the_items_come_in_order():
    rng = random.Random(7)
    rng.random()  # the parent has drawn already: the child goes on from here
    twin = random.Random(7)
    twin.random()

    assert list(produced_aside(lambda: draws(rng, 50), ahead=2)) == list(draws(twin, 50))


def test_an_error_in_the_child_is_raised_here_with_its_traceback():
    def produce():
        yield 1
        raise ValueError("the catalogue is empty")

    items = produced_aside(produce)
    assert next(items) == 1
    with pytest.raises(ProducerFailed, match="ValueError: the catalogue is empty"):
        next(items)


def test_an_item_that_cannot_be_sent_is_an_error_not_a_lost_item():
    def produce():
        yield lambda: None  # not picklable

    with pytest.raises(ProducerFailed, match="pickle"):
        list(produced_aside(produce))


def test_a_child_that_dies_without_a_word_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(producer, "_POLL_SECONDS", 0.05)

    def produce():
        os._exit(3)  # killed, say: what it had queued may be lost with it
        yield 1

    with pytest.raises(ProducerFailed, match="exit code 3"):
        list(produced_aside(produce))


def test_a_consumer_that_stops_early_ends_the_child():
    def produce():
        while True:
            yield os.getpid()

    items = produced_aside(produce, ahead=1)
    child_pid = next(items)
    assert child_pid != os.getpid()
    items.close()

    for _ in range(100):
        if not any(child.pid == child_pid for child in multiprocessing.active_children()):
            break
        time.sleep(0.05)
    assert not any(child.pid == child_pid for child in multiprocessing.active_children())


def test_without_fork_the_items_are_made_here(monkeypatch):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])

    assert set(produced_aside(lambda: (os.getpid() for _ in range(3)))) == {os.getpid()}
