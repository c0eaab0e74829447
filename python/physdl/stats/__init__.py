"""Statistics shared by every area: one estimate type (a value with its error bar).

Every public function of physdl that returns a number with an error bar returns an
:class:`Estimate`.  Resampling (jackknife, bootstrap, binning) lives beside it.

Examples
--------
>>> from physdl.stats import Estimate
>>> Estimate(-1.45321, 0.00213)
Estimate(-1.4532 ± 0.0021)
>>> str(Estimate(0.7, 0.0))
'0.7 ± 0'
>>> v, e = Estimate(2.5, 0.1)       # unpacks as (value, error)
>>> Estimate(1.0, 0.5, n=100).to_dict()["n"]
100
"""

from __future__ import annotations

from ._estimate import Estimate, format_value_error
from ._resampling import (AutocorrelationTime, BinningResult, autocorrelation, binning_analysis, bootstrap,
                          integrated_autocorrelation_time, jackknife, mean_with_error)

__all__ = ["Estimate", "format_value_error", "AutocorrelationTime", "BinningResult", "autocorrelation",
           "integrated_autocorrelation_time", "mean_with_error", "binning_analysis", "jackknife", "bootstrap"]
