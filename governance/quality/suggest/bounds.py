"""Bounds on a metric from its per-partition history, sized for a false-alarm budget.

After "Auto-Validate by History" (Tu, He et al., KDD 2023): a metric measured on every past partition
(row count, null fraction, mean, min, max) gets a bound that a new clean partition crosses with
probability at most `alpha`; the suite's budget R is split evenly over all bounded sides (union bound),
so a clean partition fails any bounded expectation with probability at most R.

The width is a prediction interval for one new value: `mean ± k·sd·sqrt(1 + 1/n)`. When the history
looks normal (moderate skewness and kurtosis) k is Student's t quantile for `alpha`; otherwise k comes
from Cantelli's inequality, which holds for any distribution (`P(X - μ ≥ kσ) ≤ 1 / (1 + k²)`); so it is
for per-partition minima and maxima, whose tails are an extreme value's, never normal. A trend
in the history (the metric drifts with time) makes a fixed bound wrong: such a series gets none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev

MIN_HISTORY = 5  # fewer partitions than this: no statistical bound
TREND_R = 0.6  # |correlation with time| above this: the metric drifts, no fixed bound


@dataclass(frozen=True)
class Interval:
    lower: float | None
    upper: float | None
    n: int
    mean: float
    sd: float
    k: float
    method: str  # "normal" | "cantelli" | "constant"

    def describe(self) -> str:
        if self.method == "constant":
            return f"the same in all {self.n} partitions"
        return f"{self.n} partitions, mean {self.mean:.6g}, sd {self.sd:.3g}; {self.method} k={self.k:.2f}"


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (Cornish-Fisher expansion around the normal; accurate to ~1 % for df ≥ 4)."""
    z = NormalDist().inv_cdf(p)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def _moments(values: list[float], mean: float, sd: float) -> tuple[float, float]:
    n = len(values)
    skew = sum(((v - mean) / sd) ** 3 for v in values) / n
    kurt = sum(((v - mean) / sd) ** 4 for v in values) / n - 3
    return skew, kurt


def trend(values: list[float]) -> float:
    """Pearson correlation of the values with their position in time (0 for a constant series)."""
    n = len(values)
    xs = list(range(n))
    mx, my = fmean(xs), fmean(values)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in values)
    return 0.0 if syy == 0 else sxy / math.sqrt(sxx * syy)


def interval(
    values: list[float], alpha: float, lower: bool = True, upper: bool = True, extreme: bool = False
) -> Interval | None:
    """A bound per requested side, each crossed by a new clean value with probability ≤ alpha; None when
    the history is too short or drifts. The interval always contains every past value. `extreme`: the
    values are per-partition minima or maxima, whose tails are not normal; Cantelli's bound is used."""
    n = len(values)
    if n < MIN_HISTORY:
        return None
    mean = fmean(values)
    sd = stdev(values)
    if sd == 0:
        return Interval(mean if lower else None, mean if upper else None, n, mean, 0.0, 0.0, "constant")
    if abs(trend(values)) > TREND_R:
        return None
    skew, kurt = _moments(values, mean, sd)
    if not extreme and abs(skew) <= 1 and kurt <= 2:
        k, method = t_quantile(1 - alpha, n - 1), "normal"
    else:
        k, method = math.sqrt((1 - alpha) / alpha), "cantelli"
    width = k * sd * math.sqrt(1 + 1 / n)
    lo = min(mean - width, min(values)) if lower else None
    hi = max(mean + width, max(values)) if upper else None
    return Interval(lo, hi, n, mean, sd, k, method)
