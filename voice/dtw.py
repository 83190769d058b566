"""Dynamic time warping over a precomputed frame-to-frame cost matrix."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np


def _accumulate(cost: np.ndarray) -> np.ndarray:
    """Accumulated cost ``D`` ``(T_a + 1, T_b + 1)``; ``D[i, j]`` ends at frames ``(i-1, j-1)``.

    Steps are (1, 0), (0, 1) and (1, 1), each adding the cost of the frame pair
    it lands on. Cells on one anti-diagonal only depend on the two before it,
    so each anti-diagonal is computed at once.
    """
    n_a, n_b = cost.shape
    acc = np.full((n_a + 1, n_b + 1), np.inf)
    acc[0, 0] = 0.0
    for diagonal in range(2, n_a + n_b + 1):
        i = np.arange(max(1, diagonal - n_b), min(n_a, diagonal - 1) + 1)
        j = diagonal - i
        best = np.minimum(np.minimum(acc[i - 1, j], acc[i, j - 1]), acc[i - 1, j - 1])
        acc[i, j] = cost[i - 1, j - 1] + best
    return acc


def _backtrack(acc: np.ndarray) -> List[Tuple[int, int]]:
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(i - 1, j - 1)]
    while (i, j) != (1, 1):
        moves = ((i - 1, j - 1), (i - 1, j), (i, j - 1))  # diagonal first on ties
        i, j = min(moves, key=lambda cell: acc[cell])
        path.append((i - 1, j - 1))
    return path[::-1]


def dtw(cost: np.ndarray) -> Tuple[float, List[Tuple[int, int]]]:
    """Cheapest monotone path through ``cost`` from ``(0, 0)`` to ``(T_a - 1, T_b - 1)``.

    Args:
        cost: non-negative pair costs ``(T_a, T_b)``, e.g. distances between
            frames of two sequences.

    Returns:
        ``(total, path)``: the summed cost of the path's cells and the path as
        ``(i, j)`` pairs, starting at ``(0, 0)``, each step moving by (1, 0),
        (0, 1) or (1, 1).

    Raises:
        ValueError: ``cost`` is not 2-D, is empty, or holds NaN or negative values.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
        raise ValueError(f"cost must be a non-empty 2-D matrix (T_a, T_b), got shape {cost.shape}")
    if np.isnan(cost).any() or (cost < 0).any():
        raise ValueError("cost must hold non-negative numbers without NaN")
    acc = _accumulate(cost)
    return float(acc[-1, -1]), _backtrack(acc)
