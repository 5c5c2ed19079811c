"""The exact search for a small group whose figures the published cells determine (disclosure.py)."""

from __future__ import annotations

import threading

import numpy as np

from reticulist.disclosure import _in_row_space_search

# A round's published system (the total and eight visible cells over 30 cross-classified groups) on which
# SciPy 1.17's milp never returned, its time limit notwithstanding; it stopped a release, and the suite,
# for good. No union of up to three groups of fewer than four people lies in the row space here.
ROWS = np.array(
    [
        [1] * 30,
        [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0],
        [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0],
        [0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1],
    ],
    dtype=float,
)
WEIGHTS = np.array([2, 3, 2, 4, 4, 1, 1, 1, 1, 7, 1, 1, 1, 2, 1, 2, 3, 1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1])


def _search_within(seconds: float, *args: object) -> tuple[list[int], list[int]]:
    """Run the search on a thread of its own, so a solver that never returns fails this test instead of
    stopping the suite."""
    answer: list[tuple[list[int], list[int]]] = []
    worker = threading.Thread(target=lambda: answer.append(_in_row_space_search(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert answer, f"the union search did not return within {seconds:g} s"
    return answer[0]


def test_the_search_that_hung_the_solver_returns_and_finds_nothing() -> None:
    assert _search_within(30, ROWS, WEIGHTS, 4, False) == ([], [])


def test_a_group_that_two_cells_pin_down_is_found_with_the_cells_used() -> None:
    # Three groups: cell A = groups 0 and 1, cell B = group 1. A minus B is group 0 (2 people, under 4).
    rows = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0]], dtype=float)
    exposed, used = _search_within(30, rows, np.array([2, 5, 6]), 4, True)
    assert exposed == [0] and set(used) == {1, 2}


def test_groups_the_published_cells_cannot_separate_are_safe() -> None:
    # Only the total is published over groups of 2, 5 and 6: no union of small groups is determined.
    rows = np.array([[1, 1, 1]], dtype=float)
    assert _search_within(30, rows, np.array([2, 5, 6]), 4, True) == ([], [])
