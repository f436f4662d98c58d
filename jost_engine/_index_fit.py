"""The fit of an index play's curve: per-bucket means and SEs of the EV difference, a
weighted line through the buckets near zero, its root and the root's interval, and the
threshold a player who rounds the count reads (docs/INDICES.md, "The fit"). Pure numpy
over the sums the index kernel keeps; jost_engine.indices turns a fit into a deviation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jost_engine import _index_kernel as ik

MIN_BUCKET_N = 100  # a bucket with fewer states is too thin to weigh by its own variance
# Counts either side of a crossing: the window that finds it, and the one that places it
# (docs/INDICES.md, "The fit").
LOCATE_HALF_WIDTH = 2.5
FIT_HALF_WIDTH = 1.0


@dataclass(frozen=True)
class Curve:
    """The buckets a fit may use: mean count x, EV difference y and its SE, states n."""

    x: np.ndarray
    y: np.ndarray
    se: np.ndarray
    n: np.ndarray
    centre: np.ndarray


def curve(
    sums: np.ndarray,
    centres: np.ndarray,
    min_n: int = MIN_BUCKET_N,
    aversion: np.ndarray | None = None,
) -> Curve:
    """Per-bucket weighted means and SEs from one play's sums [B, N_FIELDS]; the two end
    buckets (which hold every count beyond them) and thin buckets left out.

    y is the weighted mean of g = d - c q: d the EV difference, and with `aversion` (c
    per bucket, half the fraction of the bankroll bet there) less c times the second
    moments' difference, the risk-averse comparison. Its SE is the ratio estimator's:
    sqrt(sum w^2 (g - y)^2) / sum w, states being independent given their compositions.
    """
    n = sums[:, ik.F_N]
    keep = (n >= max(min_n, 2)) & (sums[:, ik.F_W] > 0)
    keep[0] = keep[-1] = False
    s = sums[keep]
    y, se = mean_se(s, None if aversion is None else aversion[keep])
    w = s[:, ik.F_W]
    return Curve(x=s[:, ik.F_WX] / w, y=y, se=se, n=s[:, ik.F_N], centre=centres[keep])


def mean_se(s: np.ndarray, aversion: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means of g = d - c q and their SEs, for rows of sums [..., N_FIELDS] with
    at least two states and some weight each (see curve)."""
    w = s[..., ik.F_W]
    c = np.zeros_like(w) if aversion is None else aversion
    y = (s[..., ik.F_WD] - c * s[..., ik.F_WQ]) / w
    w2g = s[..., ik.F_W2D] - c * s[..., ik.F_W2Q]
    w2gg = s[..., ik.F_W2DD] - 2 * c * s[..., ik.F_W2DQ] + c * c * s[..., ik.F_W2QQ]
    spread = w2gg - 2 * y * w2g + y * y * s[..., ik.F_W2]
    n = s[..., ik.F_N]
    # n / (n - 1) as for an unweighted variance; a bucket whose states all gave the same
    # difference still has sampling error, and a floor keeps its weight finite.
    var = np.maximum(spread * n / (n - 1), 1e-12 * s[..., ik.F_W2])
    return y, np.sqrt(var) / w


@dataclass(frozen=True)
class Fit:
    """A weighted line y = a + slope (x - xc): its root and the root's SE, and what the
    line's value at any x needs (var_a, var_b, cov, already scaled by the misfit)."""

    root: float
    se: float
    slope: float
    slope_se: float
    a: float
    xc: float
    var_a: float
    var_b: float
    cov: float

    def value(self, x: float) -> tuple[float, float]:
        """The line at x and its SE."""
        d = x - self.xc
        var = self.var_a + d * d * self.var_b + 2 * d * self.cov
        return self.a + self.slope * d, math.sqrt(max(var, 0.0))


def weighted_line(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> Fit | None:
    """y = a + b (x - xc) weighted by 1 / se^2; the root and its delta-method SE, the
    covariance scaled up by the reduced chi-square when the line fits worse than the SEs
    say (curvature inside the window), never down."""
    if x.shape[0] < 3:
        return None
    w = 1.0 / se**2
    xc = float(np.sum(w * x) / np.sum(w))
    d = x - xc
    s0, s1, s2 = np.sum(w), np.sum(w * d), np.sum(w * d * d)
    det = s0 * s2 - s1 * s1
    if det <= 0:
        return None
    t0, t1 = np.sum(w * y), np.sum(w * d * y)
    a = (s2 * t0 - s1 * t1) / det
    b = (s0 * t1 - s1 * t0) / det
    if b == 0:
        return None
    var_a, var_b, cov = s2 / det, s0 / det, -s1 / det
    dof = x.shape[0] - 2
    chi2 = float(np.sum(w * (y - a - b * d) ** 2))
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    r = -a / b
    var_root = scale * (var_a + r * r * var_b + 2 * r * cov) / (b * b)
    return Fit(
        root=float(xc + r),
        se=math.sqrt(max(float(var_root), 0.0)),
        slope=float(b),
        slope_se=math.sqrt(float(scale * var_b)),
        a=float(a),
        xc=xc,
        var_a=float(scale * var_a),
        var_b=float(scale * var_b),
        cov=float(scale * cov),
    )


def fit_crossing(c: Curve, scale: float = 1.0) -> Fit | None:
    """Where the curve crosses zero, in two steps (docs/INDICES.md, "The fit").

    Locate: a line on the buckets within LOCATE_HALF_WIDTH of each bucket; of the
    windows whose own root falls inside them, the one with the smallest root SE (a noisy
    wiggle far out, where buckets are thin, crosses zero too but with a wide interval),
    recentred on its root twice. Refine: a line on the buckets within FIT_HALF_WIDTH of
    that root, recentred twice, which bends less with the curve (a wide window's line is
    pulled by the curvature on either side); it is kept when it crosses inside its
    window in the same direction, else the located line stands (too few or too noisy
    buckets near the root to say more). `scale` widens both windows (running counts: a
    true count is several running counts). None when no window crosses."""
    located: Fit | None = None
    wide = LOCATE_HALF_WIDTH * scale
    for centre in c.centre:
        fit = _window_fit(c, float(centre), wide)
        if fit is None or abs(fit.root - centre) > wide:
            continue
        if located is None or fit.se < located.se:
            located = fit
    if located is None:
        return None
    for _ in range(2):
        located = _window_fit(c, located.root, wide) or located
    narrow = FIT_HALF_WIDTH * scale
    refined: Fit | None = located
    for _ in range(3):
        assert refined is not None
        refined = _window_fit(c, refined.root, narrow)
        if refined is None:
            break
    if (
        refined is None
        or abs(refined.root - located.root) > narrow
        or (refined.slope > 0) != (located.slope > 0)
    ):
        return located
    return refined


def _window_fit(c: Curve, centre: float, half_width: float) -> Fit | None:
    # By bucket centres, so counts that fall on whole numbers (a running count) are not
    # lost to a mean a hair past the window's edge.
    near = np.abs(c.centre - centre) <= half_width + 1e-9
    return weighted_line(c.x[near], c.y[near], c.se[near])


def rounded_index(x: float, rounding: str) -> float:
    """The threshold a player who rounds the count this way compares with: the count at
    which the bucket the player reads is, on a line through the crossing, on b's side.
    Rounding to the nearest reads [n - 1/2, n + 1/2) as n (its middle n is past x when
    n >= x); floor reads [n, n + 1) as n (middle n + 1/2); truncation reads like floor
    above 0 and like a ceiling below, its 0 covering (-1, 1)."""
    if rounding == "none":
        return round(x, 1)
    if rounding == "round":
        return float(math.ceil(x))
    if rounding == "floor":
        return float(math.ceil(x - 0.5))
    if x > 0:
        return float(max(1, math.ceil(x - 0.5)))
    return float(min(0, math.ceil(x + 0.5)))
