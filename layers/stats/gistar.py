"""Getis-Ord Gi* (vectorised, equal to esda's ``G_Local(star=True)``), Benjamini–Hochberg FDR, confidence classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats


@dataclass
class GiStar:
    """Gi* results per observation: statistic, expectation, variance, z-score, p-value (two-sided normal)."""

    g: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray
    p: np.ndarray


def star_weights(adjacency: sp.spmatrix, transform: str = "B") -> sp.csr_matrix:
    """Weights for Gi*: the adjacency with self-weight 1, binary (``B``) or row-standardised (``R``).

    This is what esda does for a binary :class:`libpysal.weights.W` with ``star=True``: the
    diagonal is set to 1 (the row maximum), then the transform is applied.
    """
    w = sp.csr_matrix(adjacency, dtype=float, copy=True)
    w.setdiag(0.0)
    w.eliminate_zeros()
    w.data[:] = 1.0
    w = (w + sp.identity(w.shape[0], format="csr")).tocsr()
    if transform.upper() == "R":
        rows = np.asarray(w.sum(axis=1)).ravel()
        w = sp.diags(1.0 / rows) @ w
    elif transform.upper() != "B":
        raise ValueError(f"transform must be 'B' or 'R', not {transform!r}")
    return w.tocsr()


def gi_star(y: np.ndarray, weights: sp.csr_matrix) -> GiStar:
    """Local Gi* of ``y`` with ``weights`` that already include the self-weight.

    The moments are esda's analytical ones (``esda.getisord.G_Local.calc`` with ``star=True``):
    G_i = Σ_j w_ij y_j / Σ y, E[G_i] = W_i / n, Var[G_i] = W_i (n − W_i) / ((n − 1) n²) · s² / ȳ²,
    where W_i is the row sum of the weights and s² the population variance of ``y``.

    Parameters
    ----------
    y
        Values per observation (e.g. case counts per H3 cell).
    weights
        Sparse n×n weights with the diagonal set (see :func:`star_weights`).

    Returns
    -------
    GiStar
        Statistic, moments, z-scores and two-sided normal p-values (``2 · sf(|z|)``).
    """
    y = np.asarray(y, dtype=float).ravel()
    n = y.size
    total = y.sum()
    statistic = (weights @ y) / total
    mean = total / n
    variance_y = (y @ y) / n - mean**2
    cardinality = np.asarray(weights.sum(axis=1)).ravel()
    expected = cardinality / n
    variance = cardinality * (n - cardinality) / (n - 1) / n**2 * (variance_y / mean**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (statistic - expected) / np.sqrt(variance)
    z = np.where(np.isfinite(z), z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return GiStar(statistic, expected, variance, z, p)


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), same order as ``p``."""
    p = np.asarray(p, dtype=float)
    n = p.size
    if n == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def confidence_class(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Classes −3…3: hot (z > 0) or cold (z < 0) at 99 % (p ≤ 0.01), 95 % (p ≤ 0.05), 90 % (p ≤ 0.10); 0 otherwise."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    level = np.select([p <= 0.01, p <= 0.05, p <= 0.10], [3, 2, 1], default=0)
    return (np.sign(z) * level).astype(int)
