"""The register of Philox streams: each purpose owns a named range of stream numbers.

Every random number in physdl is ``philox(seed, stream, counter)``.  Two purposes that drew from the
same stream with the same seed would see the same numbers, so every purpose takes its streams from
one entry of :data:`REGISTER`, and :func:`check_register` (run at import and by the tests) refuses any
two entries whose ranges overlap, unless the overlap is declared in the entry (``shares``), which
only the legacy low block does (see below).

A new area adds one :class:`StreamRange` to ``REGISTER`` (a range of its own above the ones in use)
and draws with ``Generator(seed, stream=streams.stream("area.purpose", k))``.

Layout (all values are those the kernels have always used, so no result changes):

* ``lattice.chain``: ``(chain << 40) | k`` for chain < 2**22 and k < 2**40 (k = sweep * colours +
  colour for the local updates, the cluster or sweep number for Wolff / Swendsen-Wang, and
  ``2**40 - 1`` for the initial configuration), the streams ``[0, 2**62)``.
* ``lattice.disorder``: ``2**62``, the quenched couplings of Edwards-Anderson and SK glasses.
* ``lattice.tempering``: ``2**63``, the exchange decisions of parallel tempering.
* the legacy low block ``[0, 16)``: streams ``0, 1, 5, 11, 12, 13`` (network weights, shuffling,
  the sorting data set, the phases data sets).  They were chosen before the register and sit inside
  chain 0's first sweeps; they are kept (changing them would change every trained network and data
  set) and declared as shared with ``lattice.chain``.  Draw them with a seed of their own when an
  experiment also samples lattice chain 0 with that seed.
* new areas: ranges of ``2**40`` streams each from ``2**63 + 2**40`` up (``AREA_BASE``).

Examples
--------
>>> from physdl.random import streams
>>> streams.stream("lattice.disorder") == 2**62
True
>>> streams.stream("lattice.chain", (3 << 40) | 7) == (3 << 40) | 7
True
>>> streams.check_register()
"""

from __future__ import annotations

from dataclasses import dataclass

from .._validate import check_int

UINT64 = 1 << 64
CHAIN_SHIFT = 40
MAX_CHAINS = 1 << 22
AREA_BASE = (1 << 63) + (1 << 40)
AREA_SIZE = 1 << 40


@dataclass(frozen=True)
class StreamRange:
    """Streams ``[start, start + size)`` owned by one purpose."""

    name: str
    start: int
    size: int
    doc: str
    shares: tuple[str, ...] = ()

    @property
    def stop(self) -> int:
        return self.start + self.size

    def overlaps(self, other: "StreamRange") -> bool:
        return self.start < other.stop and other.start < self.stop


def _area(i: int, name: str, doc: str) -> StreamRange:
    return StreamRange(name, AREA_BASE + i * AREA_SIZE, AREA_SIZE, doc)


_LEGACY = ("lattice.chain",)

REGISTER: tuple[StreamRange, ...] = (
    StreamRange("lattice.chain", 0, MAX_CHAINS << CHAIN_SHIFT,
                "Monte Carlo sweeps and initial state of lattice chain c: (c << 40) | k"),
    StreamRange("lattice.disorder", 1 << 62, 1, "quenched couplings (Edwards-Anderson, SK)"),
    StreamRange("lattice.tempering", 1 << 63, 1, "parallel-tempering exchange decisions"),
    StreamRange("nn.weights", 0, 1, "initial network weights (Sequential)", _LEGACY),
    StreamRange("nn.shuffle", 1, 1, "minibatch shuffling in Sequential.fit", _LEGACY),
    StreamRange("nn.sorting_data", 5, 1, "the sorting-task data set (nn.datasets)", _LEGACY),
    StreamRange("phases.dataset", 11, 1, "phases: Ising data-set chains and shuffles", _LEGACY),
    StreamRange("phases.training", 12, 1, "phases: classifier training", _LEGACY),
    StreamRange("phases.thermometer", 13, 1, "phases: thermometer and three-unit network", _LEGACY),
    _area(0, "hopfield", "Hopfield patterns and update orders"),
    _area(1, "boltzmann", "Boltzmann machines and RBMs: chains, initial weights, minibatches"),
    _area(2, "slmc", "self-learning Monte Carlo proposals"),
    _area(3, "generative", "GAN latent draws, weights and minibatches"),
    _area(4, "inverse", "noise and cross-validation folds of inverse problems"),
    _area(5, "quantum", "variational Monte Carlo chains, RBM wave-function weights"),
    _area(6, "tensornet", "random tensors and MPS initial states"),
    _area(7, "dynamics", "dynamical-system networks: weights and trajectories"),
    _area(8, "holography", "holographic networks: weights and data"),
    _area(9, "sweeps", "per-point seeds of distributed sweeps"),
    _area(10, "stats.bootstrap", "bootstrap resampling indices (physdl.stats.bootstrap)"),
)

_BY_NAME = {r.name: r for r in REGISTER}

__all__ = ["StreamRange", "REGISTER", "AREA_BASE", "AREA_SIZE", "MAX_CHAINS", "CHAIN_SHIFT",
           "stream", "lookup", "check_register"]


def lookup(name: str) -> StreamRange:
    """The range registered under ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"no stream range named {name!r}; registered: {', '.join(_BY_NAME)}") from None


def stream(name: str, k: int = 0) -> int:
    """Stream number ``k`` of the range ``name`` (ValueError when ``k`` is outside it)."""
    r = lookup(name)
    k = check_int(k, "k", minimum=0, maximum=r.size - 1)
    return r.start + k


def check_register(register=REGISTER) -> None:
    """Raise ValueError when two ranges overlap without declaring it, or a range leaves [0, 2**64)."""
    names = set()
    for r in register:
        if r.name in names:
            raise ValueError(f"stream range {r.name!r} is registered twice")
        names.add(r.name)
        if r.start < 0 or r.size < 1 or r.stop > UINT64:
            raise ValueError(f"stream range {r.name!r} = [{r.start}, {r.stop}) is not inside [0, 2**64)")
    for i, a in enumerate(register):
        for b in register[i + 1:]:
            if a.overlaps(b) and b.name not in a.shares and a.name not in b.shares:
                raise ValueError(f"stream ranges {a.name!r} [{a.start}, {a.stop}) and {b.name!r} "
                                 f"[{b.start}, {b.stop}) overlap")


check_register()
