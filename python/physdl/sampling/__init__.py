"""Sampling toolkit (book ch. 5): direct sampling, finite Markov chains, MCMC error analysis.

* :mod:`physdl.sampling.direct`: inverse transform, Box-Muller, rejection sampling (eq. 5.23-5.35);
* :mod:`physdl.sampling.markov`: transition matrices, stationary distributions, master equation,
  detailed balance, the book's weather models (eq. 5.36-5.65);
* :mod:`physdl.sampling.mcmc`: burn-in, thinning, autocorrelation times, binning and jackknife errors
  (eq. 5.66-5.68).

The most used names are re-exported here.

Examples
--------
>>> from physdl import sampling
>>> sampling.gothenburg_weather().stationary().tolist()      # eq. 5.42
[0.5, 0.5]
"""

from . import direct, markov, mcmc
from .direct import RejectionResult, box_muller, discrete, exponential, inverse_transform, rejection_sample
from .markov import (
    DetailedBalanceReport,
    MarkovChain,
    check_transition_matrix,
    detailed_balance,
    empirical_transition_matrix,
    gothenburg_weather,
    ising_transition_matrix,
    los_angeles_weather,
    master_equation_flux,
    transition_matrix_from_rates,
)
from .mcmc import (
    AutocorrelationTime,
    BinningResult,
    Estimate,
    autocorrelation,
    binder_cumulant,
    binning_analysis,
    detect_equilibration,
    discard_burn_in,
    integrated_autocorrelation_time,
    jackknife,
    mean_with_error,
    specific_heat,
    susceptibility,
    thin,
)

__all__ = [
    "direct", "markov", "mcmc",
    "inverse_transform", "exponential", "discrete", "box_muller", "rejection_sample", "RejectionResult",
    "MarkovChain", "check_transition_matrix", "gothenburg_weather", "los_angeles_weather",
    "master_equation_flux", "transition_matrix_from_rates", "detailed_balance", "DetailedBalanceReport",
    "ising_transition_matrix", "empirical_transition_matrix",
    "Estimate", "AutocorrelationTime", "BinningResult", "autocorrelation", "integrated_autocorrelation_time",
    "mean_with_error", "discard_burn_in", "thin", "detect_equilibration", "binning_analysis", "jackknife",
    "specific_heat", "susceptibility", "binder_cumulant",
]
