"""The two experiments of book ch. 12, each one call: the AdS-Schwarzschild metric recovered from data
(sec. 12.3.1) and the metric emerging from the QCD chiral condensate (sec. 12.4, Table 12.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import check_float, check_int, check_seed
from ..stats import Estimate
from .data import (QCD_LAMBDA, QCD_R, QCD_TABLE_12_2, ads_schwarzschild_data, ads_schwarzschild_metric,
                   qcd_data)
from .network import FitResult, HolographicNetwork

__all__ = ["AdSResult", "QCDResult", "ads_schwarzschild_experiment", "qcd_experiment"]


@dataclass
class AdSResult:
    """Learned metric (trial with the lowest final loss) against ``3 coth(3 eta)``."""

    eta: np.ndarray
    h_learned: np.ndarray
    h_true: np.ndarray
    max_rel_error_away: float      # on eta >= 0.3
    rel_error_near_horizon: float  # at the last layer
    accuracy: float                # classification of the training data
    fit: FitResult = field(repr=False)
    x: np.ndarray = field(default=None, repr=False)          # the boundary data (phi, pi)
    labels: np.ndarray = field(default=None, repr=False)     # 0 positive, 1 negative
    predicted_positive: np.ndarray = field(default=None, repr=False)  # by the learned metric


def ads_schwarzschild_experiment(*, n_data: int = 1000, epochs: int = 200, trials: int = 4, seed: int = 1,
                                 lr: float = 0.01, progress: bool = False) -> AdSResult:
    """Sec. 12.3.1: 10 layers from eta = 1 to 0.1, m^2 = -1, V = phi^4/4, batch 10, c_reg = 1e-3.

    The output is the smooth window ``y ~ 0`` for ``|pi| < 0.1`` (steepness 100) and the initial metric
    ``3 +- 2`` (normal per layer); the trial with the lowest final loss is reported.
    """
    n_data = check_int(n_data, "n_data", minimum=10, maximum=10**7)
    seed = check_seed(seed)
    x, lab = ads_schwarzschild_data(n_data, seed=seed)
    net = HolographicNetwork(10, 1.0, 0.1, m2=-1.0, lam=1.0, output="window", eps=0.1, sharpness=100.0,
                             c_smooth=1e-3)
    r = net.fit(x, lab, epochs=epochs, batch=10, lr=check_float(lr, "lr", positive=True), trials=trials,
                h_init=np.full(10, 3.0), h_spread=2.0, seed=seed + 1, progress=progress)
    best = int(np.nanargmin(r.final_loss))
    net.h = r.h[best]
    true = ads_schwarzschild_metric(net.eta)
    away = net.eta >= 0.3
    rel = np.abs(r.h[best] - true) / true
    pred = net.predict(x) == 1
    acc = float(np.mean(pred == (lab == 0)))
    return AdSResult(net.eta, r.h[best].copy(), true, float(rel[away].max()), float(rel[-1]), acc, r, x, lab, pred)


@dataclass
class QCDResult:
    """The emergent metric over the kept trials, beside Table 12.2 and eq. 12.27-12.28."""

    eta: np.ndarray
    h: list            # Estimate per layer (mean and standard deviation over kept trials)
    lam: Estimate
    R: Estimate
    kept: int
    trials: int
    final_loss: np.ndarray
    table_12_2: np.ndarray = field(default_factory=lambda: QCD_TABLE_12_2.copy())
    fit: FitResult = field(default=None, repr=False)

    def table(self) -> str:
        """Markdown table of the learned metric beside Table 12.2."""
        rows = ["| n - 1 | eta | h learned | h (Table 12.2) |", "|---|---|---|---|"]
        for i, (e, est) in enumerate(zip(self.eta, self.h)):
            b = self.table_12_2[i]
            rows.append(f"| {i} | {e:.2f} | {est} | {b[0]} ± {b[1]} |")
        rows.append(f"| lambda | | {self.lam} | {QCD_LAMBDA[0]} ± {QCD_LAMBDA[1]} |")
        rows.append(f"| R [GeV^-1] | | {self.R} | {QCD_R[0]} ± {QCD_R[1]} |")
        return "\n".join(rows)


def qcd_experiment(*, trials: int = 8, epochs: int = 1500, n_data: int = 10000, seed: int = 0,
                   keep_below: float = 0.008, lr: float = 1e-3, output: str = "window", sharpness: float = 10.0,
                   progress: bool = False) -> QCDResult:
    """Sec. 12.4 as the book states it: 15 layers from eta = 1 to 0.1, m^2 = -3, V = lam phi^4/4, the
    input map of eq. 12.22-12.24 (N_c = 3), h initialised around 4 with fluctuation 3, lam = 0.2,
    R = 0.8 GeV^-1, batch 10, Adam, ``epochs`` epochs, regularisers eq. 12.25-12.26 with c_reg = 0.01;
    trials whose final loss is below ``keep_below`` are kept (all trials when none is, flagged by
    ``kept = 0``).  The book does not give the output function or the learning rate: they are parameters.
    """
    trials = check_int(trials, "trials", minimum=1, maximum=4096)
    x, lab = qcd_data(n_data, seed=check_seed(seed))
    net = HolographicNetwork(15, 1.0, 0.1, m2=-3.0, lam=0.2, R=0.8, input_map="qcd", output=output, eps=0.1,
                             sharpness=sharpness, c_smooth=0.01, c_bdry=0.01, d_bdry=4.0)
    r = net.fit(x, lab, epochs=epochs, batch=10, lr=lr, trials=trials, h_init=np.full(15, 4.0), h_spread=3.0,
                train=("h", "lam", "R"), seed=seed + 1, progress=progress)
    ok = np.isfinite(r.final_loss) & (r.final_loss < check_float(keep_below, "keep_below", positive=True))
    kept = int(ok.sum())
    use = ok if kept else np.isfinite(r.final_loss)
    if not np.any(use):
        raise RuntimeError("every QCD trial diverged (non-finite loss); lower lr")

    def est(a):
        a = a[use]
        return Estimate(float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else float("nan"), n=int(a.size))

    h = [est(r.h[:, i]) for i in range(15)]
    return QCDResult(net.eta, h, est(r.lam), est(r.R), kept, trials, r.final_loss, fit=r)
