"""combine_seeds: a trained network's number with the spread over training seeds in its error."""

import numpy as np
import pytest

from physdl.phases import combine_seeds, crossing_temperature
from physdl.stats import Estimate


def test_error_squared_is_unbiased_for_one_networks_spread():
    # Synthetic measurements sharing one test sample: value_k = truth + sample noise (common to the
    # seeds, reported as the error) + training offset_k.  One network's deviation from the truth has
    # variance sb^2 + ss^2; the combined error squared must estimate it without bias.
    rng = np.random.default_rng(7)
    sb, ss, n_exp, n_seeds = 0.3, 0.5, 4000, 3
    noise = rng.normal(0, sb, n_exp)
    offsets = rng.normal(0, ss, (n_exp, n_seeds))
    err2 = np.array([combine_seeds([(noise[i] + o, sb) for o in offsets[i]]).error ** 2 for i in range(n_exp)])
    target = sb ** 2 + ss ** 2
    se = err2.std(ddof=1) / np.sqrt(n_exp)
    assert abs(err2.mean() - target) < 4 * se


def test_one_seed_is_that_estimate_and_means_average():
    e = combine_seeds([Estimate(1.5, 0.2, n=10)])
    assert (e.value, e.error, e.n) == (1.5, 0.2, 10)
    e = combine_seeds([(1.0, 0.0), (3.0, 0.0)])
    assert e.value == 2.0 and e.error == pytest.approx(np.std([1.0, 3.0], ddof=1))


def test_crossing_temperature_of_several_rows_combines_the_rows():
    rng = np.random.default_rng(3)
    T = np.repeat(np.linspace(1.5, 3.0, 7), 40)
    rows = np.array([1 / (1 + np.exp(-(T - tc) * 4)) + rng.normal(0, 0.05, T.size) for tc in (2.2, 2.3, 2.35)])
    both = crossing_temperature(T, rows, n_boot=50, seed=1)
    each = [crossing_temperature(T, r, n_boot=50, seed=1) for r in rows]
    ref = combine_seeds(each)
    assert both.value == ref.value and both.error == ref.error and both.n == T.size


@pytest.mark.parametrize("bad, match", [([], "at least one"), ([(1.0, -0.1)], "negative error"),
                                        (["x"], r"estimates\[0\]"), ([(np.ones(2), 0.1)], "scalar")])
def test_bad_input(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        combine_seeds(bad)
