"""DTW against brute-force enumeration of every monotone path."""
import itertools

import numpy as np
import pytest

from voice.dtw import dtw

STEPS = ((1, 0), (0, 1), (1, 1))


def all_paths(n_a, n_b):
    """Every path from (0, 0) to (n_a - 1, n_b - 1) with the three DTW steps."""
    def extend(path):
        i, j = path[-1]
        if (i, j) == (n_a - 1, n_b - 1):
            yield path
            return
        for di, dj in STEPS:
            if i + di < n_a and j + dj < n_b:
                yield from extend(path + [(i + di, j + dj)])
    yield from extend([(0, 0)])


@pytest.mark.parametrize("n_a,n_b", [(1, 1), (1, 4), (3, 3), (4, 2), (5, 4)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dtw_matches_brute_force(n_a, n_b, seed):
    cost = np.random.default_rng(seed).random((n_a, n_b))
    best = min(sum(cost[c] for c in path) for path in all_paths(n_a, n_b))
    total, path = dtw(cost)
    assert total == pytest.approx(best, abs=1e-12)
    assert sum(cost[c] for c in path) == pytest.approx(total, abs=1e-12)


@pytest.mark.parametrize("n_a,n_b", [(7, 3), (2, 9), (6, 6)])
def test_dtw_path_is_a_valid_warping(n_a, n_b):
    cost = np.random.default_rng(3).random((n_a, n_b))
    _, path = dtw(cost)
    assert path[0] == (0, 0) and path[-1] == (n_a - 1, n_b - 1)
    for (i0, j0), (i1, j1) in zip(path, path[1:]):
        assert (i1 - i0, j1 - j0) in STEPS


def test_dtw_follows_a_zero_cost_diagonal():
    cost = 1.0 - np.eye(5)
    total, path = dtw(cost)
    assert total == 0.0
    assert path == [(i, i) for i in range(5)]


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.zeros(4), np.full((2, 2), np.nan), -np.ones((2, 2))])
def test_dtw_rejects_bad_costs(bad):
    with pytest.raises(ValueError, match="cost must"):
        dtw(bad)


def test_all_paths_helper_counts_delannoy_numbers():
    # The number of such paths in an m x n grid is the Delannoy number D(m-1, n-1).
    def delannoy(m, n):
        return sum(2 ** k * _comb(m, k) * _comb(n, k) for k in range(min(m, n) + 1))
    for m, n in itertools.product(range(1, 5), repeat=2):
        assert sum(1 for _ in all_paths(m, n)) == delannoy(m - 1, n - 1)


def _comb(n, k):
    from math import comb
    return comb(n, k)
