"""Neural networks derived from Hamiltonians (book ch. 3-4): layers, losses, optimizers, training.

A :class:`Sequential` runs its whole forward pass, loss, backpropagation (eq. 3.59-3.69) and
optimizer update in one call of a fused C++ network (matrix products through BLAS) or of its Numba
twin.  Layers: :class:`Dense`; activations :class:`Sigmoid`, :class:`Softmax`, :class:`Tanh`,
:class:`ReLU`, :class:`Step`, the N-bit :class:`HamiltonianReLU` (eq. 3.33-3.41), :class:`Cube`, :class:`Softplus`;
:class:`Conv2d` with zero or periodic padding (eq. 4.2-4.8), :class:`ConvTranspose2d` (eq. 4.9),
:class:`MaxPool2d`, :class:`AvgPool2d`, :class:`Flatten`; :class:`RNN` (eq. 4.13-4.21),
:class:`LSTM` (eq. 4.25-4.35), :class:`Attention`.  Losses (``loss=``): ``"mse"``,
``"binary_cross_entropy"``, ``"binary_cross_entropy_with_logits"``, ``"softmax_cross_entropy"``
(labels ``-100`` are ignored, as in PyTorch).  Optimizers: :class:`SGD` (momentum, Nesterov),
:class:`Adam` (PyTorch's update rule), with weight decay and gradient-norm clipping.

Submodules: :mod:`physdl.nn.demos` (N-bit ReLU, deep vs wide, universal approximation, LSTM
sorting, checkerboard artifact), :mod:`physdl.nn.automata` (elementary cellular automata, the
box-ball system and its soliton sorting), :mod:`physdl.nn.datasets` (the sorting task).

Notes
-----
* Matrix products use SciPy's BLAS (``scipy.linalg.cython_blas``), handed to the C++ core once at
  import; a C++ host application passes its own ``dgemm_``/``sgemm_`` to ``physdl::nn::set_blas``
  (see ``examples/nn/cpp_host``).  The BLAS thread count is SciPy's OpenBLAS setting; for small
  layers on a busy machine one thread is often fastest (``threadpoolctl.threadpool_limits(1)``).
* Initial weights come from Philox stream 0 of the model's seed and minibatch shuffling from
  stream 1, so the same seed gives the same trained weights; the cpp and numba backends agree to
  rounding.
* A model is not safe to train from several threads at once (its workspaces are shared).
* Float32 and float64 training give the same weights on 1 and 2 BLAS threads: the engine itself
  runs single-threaded and its reductions (bias sums, losses, norms) have a fixed order; the BLAS
  products (SciPy's OpenBLAS for cpp, NumPy's for numba) were found thread-count independent for
  every shape the tests cover (``tests/nn/test_threads.py``: MLP, convolution, LSTM).  A BLAS build
  whose threaded kernels split the summed dimension can differ in the last bits; pin it with
  ``threadpoolctl.threadpool_limits(1)`` when bit identity across machines matters.
* scikit-learn / Keras conveniences: :meth:`Sequential.predict_proba` and :meth:`Sequential.score`
  (accuracy, or R^2 for ``"mse"``); ``fit`` records the training accuracy of classifiers and takes
  ``validation_split``, ``patience`` (early stopping that restores the best epoch) and a
  ``callback(epoch, history)``; a first :class:`Conv2d` with one input channel takes configurations
  ``(n, L, L)``; :class:`RNN`/:class:`LSTM` take ``num_layers`` (stacked), ``predict`` an
  ``initial_state`` (and ``return_state``), and :meth:`Sequential.generate` rolls a sequence model
  forward on its own predictions.
* Beyond losses: :meth:`Sequential.backward` (any output gradient), :meth:`Sequential.per_sample_gradients`,
  :meth:`Sequential.double_backward` / :meth:`Sequential.gradient_penalty` (gradient of a function of
  the input gradient, WGAN-GP eq. 6.91) and :meth:`Sequential.apply_gradients`.

Examples
--------
>>> import numpy as np
>>> from physdl import nn
>>> X = np.linspace(-1, 1, 64).reshape(-1, 1); y = X ** 2
>>> model = nn.Sequential([nn.Dense(1, 16), nn.Tanh(), nn.Dense(16, 1)], seed=0, dtype="float64")
>>> hist = model.fit(X, y, loss="mse", optimizer=nn.Adam(lr=1e-2), epochs=200, batch_size=16)
>>> hist["loss"][-1] < 1e-3
True
"""

from . import _blas  # noqa: F401  (loads SciPy's BLAS now, see _blas)
from .layers import (
    AvgPool2d, Attention, Conv2d, ConvTranspose2d, Cube, Dense, Flatten, HamiltonianReLU, Layer, LSTM,
    MaxPool2d, ReLU, RNN, Sigmoid, Softmax, Softplus, Step, Tanh,
)
from .model import LOSSES, Gradients, History, Sequential
from .optim import SGD, Adam, Optimizer

__all__ = [
    "Layer", "Dense", "Sigmoid", "Tanh", "ReLU", "Step", "Softmax", "HamiltonianReLU", "Cube", "Flatten", "Softplus",
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "RNN", "LSTM", "Attention",
    "Sequential", "History", "Gradients", "LOSSES", "Optimizer", "SGD", "Adam",
]
