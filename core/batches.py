"""Batches that never split a group: a file's orders announced, or orders credited, a chunk of whole customers at a
time, so that each customer's orders are handled together (each member locked, credited and its tier reviewed once)
whatever the chunk size."""

from collections.abc import Hashable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def whole_groups(pairs: Iterable[tuple[Hashable, T]], size: int) -> Iterator[list[T]]:
    """(group, item) pairs sorted by group, as lists of items of at most `size` that never split a group; a group of
    more than `size` items is a list of its own. Reads `pairs` lazily (a stream of pages), holding one list."""
    chunk: list[T] = []
    group: list[T] = []
    current = object()
    for key, item in pairs:
        if key != current:
            if len(chunk) + len(group) > size and chunk:
                yield chunk
                chunk = []
            chunk.extend(group)
            group, current = [], key
        group.append(item)
    if len(chunk) + len(group) > size and chunk:
        yield chunk
        chunk = []
    chunk.extend(group)
    if chunk:
        yield chunk
