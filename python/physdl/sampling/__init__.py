"""Sampling toolkit (book ch. 5): direct sampling, finite Markov chains, MCMC error analysis."""

from . import mcmc

__all__ = ["mcmc"]
