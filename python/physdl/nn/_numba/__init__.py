"""Numba twins of the C++ nn engine, one module per C++ family file (same shapes, same algorithms).

==================  =====================================
module              C++ twin (src/physdl/nn/)
==================  =====================================
``layer``           ``layer.hpp`` (the layer interface)
``dense``           ``dense.cpp`` (Dense, element-wise)
``conv``            ``conv.cpp`` (Conv2d, ConvTranspose2d, pooling)
``recurrent``       ``recurrent.cpp`` (RNN, LSTM)
``attention``       ``attention.cpp``
``losses``          ``losses.cpp``
``optimizers``      ``optimizer.cpp``
``network``         ``network.cpp``
``automata``        ``automata.cpp`` (box-ball system)
==================  =====================================

Matrix products go through ``np.dot`` (BLAS) inside the jitted kernels.  The engine class mirrors
the methods of the compiled ``Network64`` / ``Network32`` so that :class:`physdl.nn.Sequential`
drives either one.  Kind codes come from the one registry (``physdl.nn._kinds``).
"""

from .automata import box_ball_evolve
from .network import Network
from .optimizers import optimizer_class

__all__ = ["Network", "optimizer_class", "box_ball_evolve"]
