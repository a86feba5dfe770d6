#!/usr/bin/python3
"""Reference values for rulegen/judge, computed apart from the Go code.

U and p come from scipy.stats.mannwhitneyu; the Hodges-Lehmann estimate,
its confidence interval and the exact null distribution are written here
in Python the way R's wilcox.test(conf.int = TRUE) defines them, by other
algorithms than the Go code's (the interval ends by scanning R's wdiff
over every gap between pairwise differences, the null distribution by the
classic recursion). The Brown-Forsythe test is scipy.stats.levene with
center="median"; the count test is scipy.stats.beta's tail.

Run: /usr/bin/python3 make_reference.py > reference.json   (Debian's
python3-scipy; the Go test reads reference.json).
"""
import json
import sys
from functools import lru_cache

import numpy as np
from scipy import stats

EXACT_BELOW = 50


def has_ties(x, y):
    allv = np.concatenate([x, y])
    return len(np.unique(allv)) < len(allv)


@lru_cache(maxsize=None)
def ways(u, m, n):
    """Arrangements of m canary and n baseline values with statistic u."""
    if u < 0 or u > m * n:
        return 0
    if m == 0 or n == 0:
        return 1 if u == 0 else 0
    # The largest value is a canary one (adding n to u) or a baseline one.
    return ways(u - n, m - 1, n) + ways(u, m, n - 1)


def qwilcox(p, m, n):
    total = sum(ways(u, m, n) for u in range(m * n + 1))
    cum = 0
    for q in range(m * n + 1):
        cum += ways(q, m, n)
        if cum / total >= p:
            return q
    return m * n


def wdiff(mu, zq, x, y):
    """R's wdiff: continuity-corrected standardized rank statistic - zq."""
    m, n = len(x), len(y)
    r = stats.rankdata(np.concatenate([x - mu, y]))
    _, counts = np.unique(r, return_counts=True)
    dz = r[:m].sum() - m * (m + 1) / 2 - m * n / 2
    corr = np.sign(dz) * 0.5
    N = m + n
    sigma = np.sqrt(m * n / 12 * ((N + 1) - (counts ** 3 - counts).sum() / (N * (N - 1))))
    return (dz - corr) / sigma - zq


def root(zq, x, y, d):
    """Where wdiff(., zq) turns from positive to at most 0, as a
    difference: wdiff is constant between consecutive differences, so
    evaluate it once inside each gap."""
    if wdiff(d[0] - 1.0 - abs(d[0]), zq, x, y) <= 0:
        return d[0]
    for lo, hi in zip(d[:-1], d[1:]):
        if wdiff((lo + hi) / 2, zq, x, y) <= 0:
            return lo
    return d[-1]


def interval(x, y, conf, exact):
    diffs = np.sort(np.subtract.outer(x, y).ravel())
    alpha = 1 - conf
    if exact:
        m, n = len(x), len(y)
        qu = qwilcox(alpha / 2, m, n)
        if qu == 0:
            qu = 1
        ql = m * n - qu
        return diffs[qu - 1], diffs[ql]
    d = np.unique(diffs)
    z = stats.norm.ppf(1 - alpha / 2)
    return root(z, x, y, d), root(-z, x, y, d)


def case(name, x, y, conf=0.98, events=False, allowed=(1.0, 1.0)):
    x, y = np.asarray(x, float), np.asarray(y, float)
    exact = not has_ties(x, y) and len(x) < EXACT_BELOW and len(y) < EXACT_BELOW
    mw = stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True,
                            method="exact" if exact else "asymptotic")
    lower, upper = interval(x, y, conf, exact)
    out = {
        "name": name, "canary": x.tolist(), "baseline": y.tolist(), "confidence": conf,
        "method": "exact" if exact else "normal",
        "u": float(mw.statistic), "p": float(mw.pvalue),
        "estimate": float(np.median(np.subtract.outer(x, y))),
        "lower": float(lower), "upper": float(upper),
    }
    bf = stats.levene(x, y, center="median")
    if np.isfinite(bf.statistic):
        out["brown_forsythe"] = {"f": float(bf.statistic), "p": float(bf.pvalue)}
    if events:
        kc, kb, nc, nb = x.sum(), y.sum(), len(x), len(y)
        a_inc, a_dec = allowed
        out["count"] = {
            "allowed_increase": a_inc, "allowed_decrease": a_dec,
            "p_higher": float(stats.beta.sf(a_inc * nc / (a_inc * nc + nb), kc + 0.5, kb + 0.5)),
            "p_lower": float(stats.beta.cdf(a_dec * nc / (a_dec * nc + nb), kc + 0.5, kb + 0.5)),
        }
    return out


def main():
    rng = np.random.default_rng(20261207)
    cases = [
        case("small, no ties (exact)", rng.normal(10, 2, 7), rng.normal(11, 2, 9), conf=0.95),
        case("small, no ties, 98%", rng.normal(5, 1, 12), rng.normal(5, 1, 10)),
        case("49 a side, no ties (exact)", rng.lognormal(0, 0.5, 49), rng.lognormal(0.2, 0.5, 49)),
        case("50 a side, no ties (normal)", rng.lognormal(0, 0.5, 50), rng.lognormal(0.1, 0.5, 50)),
        case("small with ties", [1, 2, 2, 3, 4, 4, 4, 7], [2, 3, 3, 5, 6, 6, 8, 9, 9]),
        case("lognormal 60 a side", rng.lognormal(np.log(0.2), 0.3, 60), rng.lognormal(np.log(0.2), 0.3, 60)),
        case("lognormal +20% at 60", rng.lognormal(np.log(0.24), 0.3, 60), rng.lognormal(np.log(0.2), 0.3, 60)),
        case("unequal sizes 80/120", rng.normal(100, 15, 80), rng.normal(95, 15, 120), conf=0.95),
        case("rounded latencies (many ties)", np.round(rng.lognormal(0, 0.4, 150), 1), np.round(rng.lognormal(0.05, 0.4, 140), 1)),
        case("spread x3 same median", rng.lognormal(0, 0.9, 60), rng.lognormal(0, 0.3, 60)),
        case("sparse errors (Kayenta #426)", [0, 1, 2, 1, 0, 0], [0, 0, 0, 0, 0, 0], events=True),
        case("poisson counts", rng.poisson(3, 40), rng.poisson(2, 40), events=True, allowed=(1.1, 0.9)),
        case("zero-heavy counts", rng.poisson(0.3, 60), rng.poisson(0.1, 60), events=True),
        case("shifted by a constant", np.arange(1, 21) + 0.5, np.arange(1, 21), conf=0.95),
    ]
    json.dump({"generator": "rulegen/judge/testdata/make_reference.py",
               "scipy": __import__("scipy").__version__, "numpy": np.__version__,
               "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
