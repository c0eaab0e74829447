"""Optimizers: SGD (with momentum / Nesterov), Adam; weight decay and gradient-norm clipping.

The update rules follow ``torch.optim.SGD`` / ``torch.optim.Adam`` (L2 weight decay added to the
gradient) and ``torch.nn.utils.clip_grad_norm_`` (clipping before weight decay), so a model trained
here and one trained by PyTorch from the same weights follow the same trajectory.
"""

from __future__ import annotations

from .._validate import check_float
from ._kinds import OPTIMIZER_KINDS

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Base class; the state (momentum buffers, Adam moments) lives in the engine of one model."""

    kind = -1

    def __init__(self, lr, weight_decay, clip_norm):
        self.lr = check_float(lr, "lr", positive=True)
        self.weight_decay = check_float(weight_decay, "weight_decay", nonnegative=True)
        self.clip_norm = 0.0 if clip_norm is None else check_float(clip_norm, "clip_norm", positive=True)
        self._owner = None
        self._state = None

    def _hyper(self):
        raise NotImplementedError

    @property
    def lr(self) -> float:
        """Learning rate; may be changed between steps (schedules)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_float(value, "lr", positive=True)
        if getattr(self, "_state", None) is not None:
            self._state.set_lr(self._lr)

    def _bind(self, model):
        """The optimizer state for ``model`` (created on first use)."""
        if self._owner is not None and self._owner() is not model:
            raise ValueError("this optimizer already holds the state of another model; create a new optimizer")
        if self._state is None:
            import weakref

            self._owner = weakref.ref(model)
            self._state = model._make_optimizer_state(self)
        return self._state

    @property
    def steps(self) -> int:
        """Number of updates applied so far."""
        return 0 if self._state is None else int(self._state.steps)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum (book eq. 3.59-3.60).

    Parameters
    ----------
    lr : float
    momentum : float, default 0
    nesterov : bool, default False
    weight_decay : float, default 0 (L2 term added to the gradient)
    clip_norm : float or None
        Rescale the gradient when its global L2 norm exceeds this (exploding gradients, book lines 1733-1750).
    """


    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, clip_norm=None):
        super().__init__(lr, weight_decay, clip_norm)
        self.momentum = check_float(momentum, "momentum", nonnegative=True)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _hyper(self):
        return dict(kind=self.kind, lr=self.lr, momentum=self.momentum, beta1=0.0, beta2=0.0, eps=0.0,
                    weight_decay=self.weight_decay, clip_norm=self.clip_norm, nesterov=self.nesterov)

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, weight_decay={self.weight_decay})"


class Adam(Optimizer):
    """Adam with PyTorch's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8).

    Parameters
    ----------
    lr : float
    betas : (float, float)
    eps : float
    weight_decay : float, default 0 (L2 term added to the gradient, as torch.optim.Adam)
    clip_norm : float or None
    """


    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(lr, weight_decay, clip_norm)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of floats in [0, 1), got {betas!r}")
        b1, b2 = (check_float(b, f"betas[{i}]", nonnegative=True) for i, b in enumerate(betas))
        if b1 >= 1 or b2 >= 1:
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas = (b1, b2)
        self.eps = check_float(eps, "eps", positive=True)

    def _hyper(self):
        return dict(kind=self.kind, lr=self.lr, momentum=0.0, beta1=self.betas[0], beta2=self.betas[1], eps=self.eps,
                    weight_decay=self.weight_decay, clip_norm=self.clip_norm, nesterov=False)

    def __repr__(self):
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"


# kind codes from the one registry (src/physdl/nn/layer_kinds.hpp)
SGD.kind = OPTIMIZER_KINDS["SGD"]
Adam.kind = OPTIMIZER_KINDS["Adam"]
