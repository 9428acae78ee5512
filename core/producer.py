"""Items drawn in a child process while this one writes them: for a long, CPU-bound generator feeding
a database that has a CPU of its own (the demo data: drawing and formatting the rows takes about 15 s
per 100,000 customers, PostgreSQL's COPY of them about 4 s; side by side, the COPY is hidden).

`produced_aside(produce)` forks a child that runs `produce()` and sends each item back through a
bounded queue (`ahead` items at most wait, so memory stays flat), and yields them here in order.
The child is a copy of this process at the fork, so a seeded random generator continues exactly
where it was: the items are the same as `produce()` run here would give.

The child must not use Django's database connection (the parent's, perhaps in a transaction: both
would talk on one socket). What it needs from the database it asks over a connection of its own
(core.copy.SequenceIds). Where fork is not available, `produce()` runs here, item by item.
"""

import multiprocessing
import pickle  # nosec B403 - between this process and its own forked child
import queue as queues
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_ITEM, _ERROR, _DONE = "item", "error", "done"
_POLL_SECONDS = 1.0


class ProducerFailed(RuntimeError):
    """The child raised: its traceback is the message."""


def produced_aside(produce: Callable[[], Iterable[T]], *, ahead: int = 2) -> Iterator[T]:
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from produce()
        return
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=ahead)
    child = context.Process(target=_produce, args=(produce, channel), name="producer", daemon=True)
    child.start()
    try:
        while True:
            try:
                kind, value = channel.get(timeout=_POLL_SECONDS)
            except queues.Empty:
                if not child.is_alive():
                    raise ProducerFailed(f"The producer process ended without a word (exit code {child.exitcode}).") from None
                continue
            if kind == _ITEM:
                yield pickle.loads(value)  # nosec B301 - pickled by our own forked child
            elif kind == _ERROR:
                raise ProducerFailed(value)
            else:
                break
        child.join()
    finally:
        if child.is_alive():  # the consumer stopped early or failed: the child's work is not wanted
            child.terminate()
            child.join()
        channel.close()


def _produce(produce: Callable[[], Iterable], channel) -> None:
    try:
        for item in produce():
            # Pickled here, not by the queue's feeder thread, whose errors would be printed and the item lost.
            channel.put((_ITEM, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)))
    except BaseException:  # noqa: BLE001 - every failure is told to the parent, which raises it
        channel.put((_ERROR, traceback.format_exc()))
    else:
        channel.put((_DONE, None))
