"""Words dealt into groups of related meaning."""

from __future__ import annotations

import numpy as np

from core.text.grouping import capped_groups, related_groups


def test_the_most_alike_go_together_and_no_group_outgrows_its_share() -> None:
    similarity = np.array(
        [
            [1.0, 0.1, 0.9, 0.0],
            [0.1, 1.0, 0.2, 0.8],
            [0.9, 0.2, 1.0, 0.1],
            [0.0, 0.8, 0.1, 1.0],
        ]
    )
    assert capped_groups(similarity, 2) == [[0, 2], [1, 3]]
    assert capped_groups(similarity, 4) == [[0], [1], [2], [3]]
    assert capped_groups(np.ones((5, 5)), 2) == [[0, 1, 2], [3, 4]]  # ties: the earlier pair


def test_a_group_grows_past_its_share_only_where_nothing_else_fits() -> None:
    groups = capped_groups(np.eye(7), 2)  # a cap of 4: 4 + 3
    assert sorted(map(len, groups)) == [3, 4]
    assert sorted(i for group in groups for i in group) == list(range(7))


def test_related_words_share_a_group_in_the_order_given() -> None:
    words = ["Snow", "piano", "winter", "violin"]
    assert related_groups(words, 2) == [["Snow", "winter"], ["piano", "violin"]]
    assert related_groups(["dog"], 3) == [["dog"]]
    assert related_groups(words, 9) == [[w] for w in words]
