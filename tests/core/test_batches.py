"""core.batches.whole_groups: chunks of at most `size` items that never split a group."""

from core.batches import whole_groups


def test_groups_are_never_split_and_a_chunk_holds_at_most_size_items():
    pairs = [("a", 1), ("a", 2), ("b", 3), ("c", 4), ("c", 5), ("c", 6), ("d", 7)]

    assert list(whole_groups(pairs, 3)) == [[1, 2, 3], [4, 5, 6], [7]]
    assert list(whole_groups(pairs, 4)) == [[1, 2, 3], [4, 5, 6, 7]]


def test_a_group_larger_than_a_chunk_is_a_chunk_of_its_own():
    pairs = [("a", 1), ("b", 2), ("b", 3), ("b", 4), ("c", 5)]

    assert list(whole_groups(pairs, 2)) == [[1], [2, 3, 4], [5]]
    assert list(whole_groups(iter(pairs), 1)) == [[1], [2, 3, 4], [5]]  # a stream, read once


def test_nothing_gives_no_chunk():
    assert list(whole_groups([], 5)) == []
