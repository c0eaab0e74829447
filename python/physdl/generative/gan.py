"""Adversarial trainers over two :class:`physdl.nn.Sequential` networks (book eq. 6.35-6.50, 6.87-6.91)."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ..nn import Adam, Gradients, History, Optimizer, Sequential
from ..random import Generator
from .data import STREAMS

__all__ = ["Adversarial", "GAN", "WGAN", "EBGAN"]


def _odd_layers():
    from ..nn import AvgPool2d, Conv2d, ConvTranspose2d, Dense, Flatten, Tanh

    return (AvgPool2d, Conv2d, ConvTranspose2d, Dense, Flatten, Tanh)


_ODD_LAYERS = _odd_layers()


def _fingerprint(X) -> str:
    return hashlib.sha256(np.ascontiguousarray(X).view(np.uint8)).hexdigest()[:32] + f":{X.shape}"


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class Adversarial:
    """Common machinery: a generator ``G: z -> x`` and a discriminator/critic ``D: x -> scalar``.

    Parameters
    ----------
    generator, discriminator : physdl.nn.Sequential
        Built networks (input shapes known) of one dtype; ``generator.output_shape`` must equal
        ``discriminator.input_shape`` and the discriminator's output per sample must be one number.
    g_optimizer, d_optimizer : physdl.nn.Optimizer, optional
        Default ``Adam(lr=2e-4, betas=(0.5, 0.999))`` (WGAN: ``betas=(0.5, 0.9)``, ``lr=1e-4``).
    n_critic : int, default 1
        Discriminator steps per generator step in :meth:`train`.
    seed : int
        Philox seed of the latent noise (``STREAMS["latent"]``), the penalty's interpolation weights
        (``STREAMS["interpolation"]``) and the minibatch draws (``STREAMS["batches"]``).
    global_latent : int, default 0
        For a generator whose latent input is a stack of lattice channels ``(C, H, W)`` (a fully
        convolutional generator): the last ``global_latent`` channels hold one standard-normal number
        per sample, the same at every site, the others independent noise per site.  A translation
        equivariant generator then still has global degrees of freedom (e.g. the sign of the
        magnetisation below ``T_c``) without any layer that breaks the lattice's symmetry.
    odd_generator : bool, default False
        Hold every bias of the generator at zero (set to zero here, their gradients dropped), so that a
        generator of linear layers and odd activations (``tanh``) is odd, ``G(-z) = -G(z)``: with
        ``z ~ -z`` the generated distribution is then exactly symmetric under ``x -> -x`` (the Ising
        model's spin flip), and no uniform bias can order the lattice; order must come from the noise.
    binary_output : bool, default False
        For a generator with outputs in ``[-1, 1]`` (``tanh``) read as mean spins: the discriminator
        sees spins ``s = +-1`` drawn per site with probability ``(1 + x) / 2`` (Philox stream
        ``STREAMS["spins"]``), exactly what :func:`sample_spins` makes of the outputs, not ``x`` itself;
        the generator's output gradient is by default the discriminator's input gradient at ``s``
        (the straight-through estimate, exact in the mean only for a discriminator linear in its
        input, since ``<s> = x``; see ``binary_gradient`` for the unbiased one).  Real and generated samples then differ only in their correlations, not in
        ``|x| < 1``.
    binary_gradient : {"straight_through", "exact"}, default "straight_through"
        The generator's output gradient with ``binary_output``.  ``"straight_through"``: the
        discriminator's input gradient at ``s`` (one backward pass; biased for a discriminator that is
        nonlinear in its input, whose local slope at ``s`` is not its change when a spin jumps by 2).
        ``"exact"``: the unbiased estimate of ``d/dx_i <f(D(s))>_s`` for independent spins,
        ``(1/2) <f(D(s^{i+})) - f(D(s^{i-}))>`` with ``s^{i+-}`` the spins with site ``i`` set to
        ``+-1`` (``f`` the generator loss's function of ``D``), from the drawn ``s`` and ``s`` with
        site ``i`` flipped: one discriminator forward pass per site and sample, batched over all of
        them (in chunks of about ``2**20`` inputs) without a loop over sites or samples.  For a
        discriminator of periodic "same" convolutions, elementwise activations and a global average
        pool (:func:`ising_critic` with ``global_pool``) the flips of sites further apart than the
        convolutions reach are evaluated together, one forward pass per colour of a colouring of the
        lattice (36 for ``L = 16`` and two 3x3 convolutions) instead of one per site.
    flip_fraction : float in (0, 1], default 1
        With ``binary_gradient="exact"``: the part of the sites (of the colours, on the local path)
        whose flips are evaluated per sample, drawn at random (stream ``STREAMS["spins"]``); the
        gradient is then the straight-through one plus the exact one's difference from it on the
        drawn sites divided by ``flip_fraction``, still unbiased, at about that part of the cost.
    ema : float in [0, 1), default 0
        When positive, an exponential moving average of the generator's parameters is kept,
        ``avg <- ema avg + (1 - ema) params`` after every generator update (started at the first);
        :meth:`sample` draws from the averaged generator (:attr:`averaged_params`).  Averaging damps
        the oscillation of adversarial training around its equilibrium.
    """

    _default_lr, _default_betas = 2e-4, (0.5, 0.999)

    def __init__(self, generator, discriminator, g_optimizer: Optimizer | None = None,
                 d_optimizer: Optimizer | None = None, n_critic: int = 1, seed: int = 0, global_latent: int = 0,
                 odd_generator: bool = False, binary_output: bool = False, ema: float = 0.0,
                 binary_gradient: str = "straight_through", flip_fraction: float = 1.0):
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, Sequential):
                raise TypeError(f"{name} must be a physdl.nn.Sequential, got {type(net).__name__}")
            if net.input_shape is None:
                raise ValueError(f"{name} is not built: give it input_shape (or a leading Dense layer)")
        if generator.dtype != discriminator.dtype:
            raise ValueError(f"generator ({generator.dtype}) and discriminator ({discriminator.dtype}) "
                             "must have the same dtype")
        if tuple(generator.output_shape) != tuple(discriminator.input_shape):
            raise ValueError(f"the generator's output per sample {tuple(generator.output_shape)} does not chain "
                             f"with the discriminator's input {tuple(discriminator.input_shape)}")
        if tuple(discriminator.output_shape) != (1,):
            raise ValueError(f"the discriminator must output one number per sample, not shape "
                             f"{tuple(discriminator.output_shape)}")
        self.G, self.D = generator, discriminator
        self.dtype = generator.dtype
        self.latent_shape = tuple(generator.input_shape)
        self.global_latent = check_int(global_latent, "global_latent", minimum=0, maximum=2**20)
        if self.global_latent and (len(self.latent_shape) != 3 or self.global_latent > self.latent_shape[0]):
            raise ValueError(f"global_latent={self.global_latent} needs a generator input of shape (C, H, W) with "
                             f"C >= {self.global_latent} channels, got {self.latent_shape}")
        if not isinstance(odd_generator, (bool, np.bool_)):
            raise TypeError(f"odd_generator must be a bool, got {type(odd_generator).__name__}")
        self.odd_generator = bool(odd_generator)
        self._g_bias = None
        if not isinstance(binary_output, (bool, np.bool_)):
            raise TypeError(f"binary_output must be a bool, got {type(binary_output).__name__}")
        self.binary_output = bool(binary_output)
        self.binary_gradient = check_choice(binary_gradient, "binary_gradient", ("straight_through", "exact"))
        if self.binary_gradient == "exact" and not self.binary_output:
            raise ValueError('binary_gradient="exact" needs binary_output=True (it is the gradient through drawn spins)')
        self.flip_fraction = check_float(flip_fraction, "flip_fraction", positive=True)
        if self.flip_fraction > 1:
            raise ValueError(f"flip_fraction must be in (0, 1], got {flip_fraction!r}")
        if self.flip_fraction < 1 and self.binary_gradient != "exact":
            raise ValueError('flip_fraction < 1 needs binary_gradient="exact"')
        self.ema = check_float(ema, "ema", nonnegative=True)
        if self.ema >= 1:
            raise ValueError(f"ema must be in [0, 1), got {ema!r}")
        self._G_avg = None
        if self.odd_generator:
            bad = [type(layer).__name__ for layer in generator.layers if not isinstance(layer, _ODD_LAYERS)]
            if bad:
                raise ValueError(f"odd_generator needs a generator of linear layers and odd activations "
                                 f"(Dense, Conv2d, ConvTranspose2d, AvgPool2d, Flatten, Tanh); it has {bad}")
            self._g_bias = np.zeros(generator.params.shape, dtype=bool)
            for _, name, o, sh in generator._blocks:  # (layer, name, flat offset, shape) of each block
                if name == "bias":
                    self._g_bias[o:o + int(np.prod(sh))] = True
            generator.params[self._g_bias] = 0
        self.g_optimizer = self._opt(g_optimizer, "g_optimizer")
        self.d_optimizer = self._opt(d_optimizer, "d_optimizer")
        if self.g_optimizer is self.d_optimizer:
            raise ValueError("g_optimizer and d_optimizer must be two optimizer objects (each holds one model's state)")
        self.n_critic = check_int(n_critic, "n_critic", minimum=1, maximum=1000)
        self.seed = check_seed(seed)
        self._latent = Generator(self.seed, STREAMS["latent"])
        self._interp = Generator(self.seed, STREAMS["interpolation"])
        self._batches = Generator(self.seed, STREAMS["batches"])
        self._spins = Generator(self.seed, STREAMS["spins"])
        self._d_sn = bool(getattr(self.D, "_sn_layers", []))
        self._g_sn = bool(getattr(self.G, "_sn_layers", []))
        self._step = 0
        self._history = History()

    def _opt(self, opt, name):
        if opt is None:
            return Adam(lr=self._default_lr, betas=self._default_betas)
        if not isinstance(opt, Optimizer):
            raise TypeError(f"{name} must be a physdl.nn optimizer (SGD, Adam), got {type(opt).__name__}")
        return opt

    # ------------------------------------------------------------------ helpers
    def latent(self, n: int) -> np.ndarray:
        """``n`` standard-normal latent inputs ``z`` (the next ones of the latent stream; the last
        ``global_latent`` channels constant over the lattice)."""
        n = check_int(n, "n", minimum=1, maximum=2**32)
        k = self.global_latent
        if not k:
            return self._latent.normal((n,) + self.latent_shape).astype(self.dtype)
        C, H, W = self.latent_shape
        z = np.empty((n, C, H, W), dtype=self.dtype)
        z[:, :C - k] = self._latent.normal((n, C - k, H, W))
        z[:, C - k:] = self._latent.normal((n, k, 1, 1))  # one value per sample and channel, at every site
        return z

    def sample(self, n: int, averaged: bool = True) -> np.ndarray:
        """``n`` generated samples ``G(z)`` (with ``ema``, of the averaged generator unless ``averaged=False``)."""
        Z = self.latent(n)
        if not (averaged and self._G_avg is not None):
            return self.G.predict(Z)
        keep = np.array(self.G.params, copy=True)
        try:
            self.G.params[:] = self._G_avg
            return self.G.predict(Z)
        finally:
            self.G.params[:] = keep

    @property
    def averaged_params(self):
        """The moving average of the generator's parameters (a copy; ``None`` before the first update or
        without ``ema``)."""
        return None if self._G_avg is None else self._G_avg.copy()

    def _check_real(self, X, name="X_real"):
        X = check_array(X, name, dtype=self.dtype)
        want = tuple(self.D.input_shape)
        if X.ndim != len(want) + 1 or X.shape[1:] != want or X.shape[0] < 1:
            raise ValueError(f"{name} must have shape (n, {', '.join(map(str, want))}) (the discriminator's "
                             f"input per sample), got {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
        return X

    def _check_Z(self, Z, n):
        if Z is None:
            return self.latent(n)
        Z = check_array(Z, "Z", dtype=self.dtype)
        if Z.shape[1:] != self.latent_shape or Z.ndim != len(self.latent_shape) + 1:
            raise ValueError(f"Z must have shape (n, {', '.join(map(str, self.latent_shape))}), got {Z.shape}")
        if not np.isfinite(Z).all():
            raise ValueError("Z must contain only finite values (found NaN or inf)")
        return Z

    def _as_seen(self, X_fake):
        """What the discriminator sees of generated samples: ``X_fake``, or spins drawn from it."""
        if not self.binary_output:
            return X_fake
        u = self._spins.uniform(X_fake.shape)
        return np.where(2.0 * u < 1.0 + np.clip(X_fake, -1.0, 1.0), 1.0, -1.0).astype(self.dtype)

    # ------------------------------------------------------------------ loss hooks (output gradients)
    def _d_terms(self, l_real, l_fake):
        """Discriminator objective and its gradients with respect to ``D(x_real)``, ``D(x_fake)``."""
        raise NotImplementedError

    def _d_output(self, logits, n):
        """Discriminator objective and its output gradient (in the networks' dtype) from the logits of
        ``n`` real samples followed by the generated ones, by :meth:`_d_terms` in float64."""
        logits = logits.astype(np.float64)
        value, d_real, d_fake = self._d_terms(logits[:n], logits[n:])
        return value, np.concatenate([d_real, d_fake]).astype(self.dtype)

    def _g_terms(self, l_fake):
        """Generator objective and its gradient with respect to ``D(G(z))``."""
        raise NotImplementedError

    def _g_values(self, l_fake):
        """The generator objective's terms per sample, ``f(D(G(z)))`` (the objective is their mean)."""
        raise NotImplementedError

    def _d_extra(self, X_real, X_fake, eps):
        return 0.0, None

    def _after_d_update(self):
        pass

    # ------------------------------------------------------------------ gradients
    def discriminator_gradients(self, X_real, Z=None, eps=None):
        """Discriminator objective and its parameter gradient on one real batch and ``G(Z)``.

        ``Z`` defaults to ``len(X_real)`` fresh latent vectors; ``eps`` (WGAN-GP only) are the
        interpolation weights, one per sample, drawn when omitted.

        Returns
        -------
        value : float
        grads : physdl.nn.Gradients of the discriminator
        """
        X_real = self._check_real(X_real)
        return self._discriminator_gradients(X_real, self._check_Z(Z, X_real.shape[0]), eps)

    def _discriminator_gradients(self, X_real, Z, eps):
        """:meth:`discriminator_gradients` of checked ``X_real`` and ``Z`` (``eps`` is checked here)."""
        n = X_real.shape[0]
        if self._d_sn:
            self.D.spectral_norm_step()  # one power iteration per discriminator step (torch: training mode)
        X_fake = self._as_seen(self.G.predict(Z))
        both = self.D._check_X(np.concatenate([X_real, X_fake]), "the real and generated samples")
        # one forward pass; the loss's output gradient from it; the backward pass from the same state
        value, flat = self.D._objective_gradient(both, lambda logits: self._d_output(logits, n))
        extra, egrads = self._d_extra(X_real, X_fake, eps)
        if egrads is not None:
            flat += egrads
        self._last_d = value
        return float(value + extra), Gradients(flat, self.D._blocks)

    def generator_gradients(self, Z):
        """Generator objective and its parameter gradient: the discriminator's input gradient at ``G(Z)``
        is the generator's output gradient (``G.backward(Z, dY=dV_G/dx)``).

        Returns
        -------
        value : float
        grads : physdl.nn.Gradients of the generator
        """
        Z = self._check_Z(Z, 1)
        if self._d_sn:
            self.D.spectral_norm_step()
        if self._g_sn:
            self.G.spectral_norm_step()
        out = {}

        def d_logits(logits):
            out["value"], dl = self._g_terms(logits.astype(np.float64))
            return dl.astype(self.dtype)

        # one forward pass of each network: G(Z), then D's input gradient only (no weight gradients)
        # as G's output gradient, then G's backward from its own forward state
        if self.binary_gradient == "exact":
            def d_output(X_fake):
                out["value"], dX = self._exact_binary_gradient(self._as_seen(X_fake), d_logits)
                return dX
        else:
            def d_output(X_fake):
                return self.D.backward(self._as_seen(X_fake), d_logits, param_grad=False).input
        grads = self.G.backward(Z, d_output)
        if self._g_bias is not None:
            grads.flat[self._g_bias] = 0  # the biases stay at zero (odd generator)
        return float(out["value"]), grads

    _FLIP_CHUNK = 2**20  # discriminator inputs (values) per forward pass of the flipped configurations

    def _exact_binary_gradient(self, S, d_logits):
        """Generator objective ``<f(D(s))>`` on the spins ``S`` and its exact-in-the-mean output gradient
        ``(1/n) (1/2) s_i (f(D(s)) - f(D(s with site i flipped)))`` (see ``binary_gradient``); with
        ``flip_fraction < 1`` on a random part of the sites, the straight-through gradient elsewhere."""
        n = S.shape[0]
        flat = S.reshape(n, -1)
        N = flat.shape[1]
        plan = self._flip_plan()
        groups = N if plan is None else plan["flips"].shape[0]  # sites, or colours of sites
        chosen, k = None, groups
        if self.flip_fraction < 1:
            k = max(1, int(round(self.flip_fraction * groups)))
            if k < groups:  # k of the groups per sample, uniformly without replacement
                chosen = np.argsort(self._spins.uniform((n, groups)), axis=1)[:, :k]
        if plan is None:
            l0, l1, done = self._flipped_logits_generic(S, chosen)
        else:
            l0, l1, done = self._flipped_logits_local(S, plan, chosen)
        f0 = self._g_values(l0)
        dX = 0.5 / n * flat * (f0[:, None] - self._g_values(l1))
        if chosen is not None:  # unbiased: E[straight + (groups / k) 1_chosen (exact - straight)] = exact
            st = self.D.backward(S, d_logits, param_grad=False).input.reshape(n, N).astype(np.float64)
            dX = st + np.where(done, (dX - st) * (groups / k), 0.0)
        return float(f0.mean()), dX.reshape(S.shape).astype(self.dtype)

    def _flipped_logits_generic(self, S, chosen=None):
        """``D(s)`` (n,) and ``D(s with site i flipped)`` (n, N) by forward passes of the whole flipped
        configurations (only at the ``chosen`` (n, k) sites when given; the mask of those computed)."""
        n, shape = S.shape[0], S.shape[1:]
        N = int(np.prod(shape))
        flat = S.reshape(n, N)
        l0 = self.D.predict(S).astype(np.float64).reshape(n)
        l1 = np.zeros((n, N))
        done = np.ones((n, N), dtype=bool)
        if chosen is not None:
            k = chosen.shape[1]
            Sf = np.repeat(flat[:, None, :], k, axis=1)  # (n, k, N)
            b, j = np.arange(n)[:, None], np.arange(k)[None, :]
            Sf[b, j, chosen] *= -1
            l1[b, chosen] = self.D.predict(Sf.reshape((n * k,) + shape), batch_size=max(1, self._FLIP_CHUNK // N)
                                           ).astype(np.float64).reshape(n, k)
            done[:] = False
            done[b, chosen] = True
            return l0, l1, done
        per = max(1, self._FLIP_CHUNK // N)  # flipped configurations per pass
        if per >= N:  # whole samples per pass, every site of each
            rows = per // N
            flip = 1.0 - 2.0 * np.eye(N, dtype=self.dtype)  # row i: site i flipped
            for b0 in range(0, n, rows):
                blk = flat[b0:b0 + rows]
                Sf = (blk[:, None, :] * flip[None]).reshape((-1,) + shape)
                l1[b0:b0 + rows] = self.D.predict(Sf).astype(np.float64).reshape(blk.shape[0], N)
        else:  # large inputs: part of one sample's sites per pass
            for b in range(n):
                for i0 in range(0, N, per):
                    k = min(per, N - i0)
                    Sf = np.repeat(flat[b:b + 1], k, axis=0)
                    Sf[np.arange(k), i0 + np.arange(k)] *= -1
                    l1[b, i0:i0 + k] = self.D.predict(Sf.reshape((k,) + shape)).astype(np.float64).reshape(k)
        return l0, l1, done

    def _flip_plan(self):
        """For a discriminator ``(1, H, W) ->`` periodic stride-1 "same" convolutions and elementwise
        activations ``->`` a global average pool ``->`` any tail (no spectral normalisation): the pieces
        of the local evaluation of flipped configurations, or ``None`` (the generic path).

        A flip at site ``i`` moves the features before the pool only in the window of sites within
        ``r`` of ``i`` (``r`` the convolutions' summed radii, per axis).  Sites whose rows are more
        than ``2r`` apart (or columns) have disjoint windows that neither's flip reaches, so they are
        flipped together in one configuration: the sites are coloured so that each colour's sites are
        pairwise that far apart, one configuration per colour and sample goes through the convolutions,
        and each site's pooled features are the unflipped ones plus its window's change over ``H W``."""
        if hasattr(self, "_plan"):
            return self._plan
        from scipy import sparse

        from .. import nn

        self._plan = None
        D, layers = self.D, self.D.layers
        if self._d_sn or len(D.input_shape) != 3 or D.input_shape[0] != 1:
            return None
        H, W = D.input_shape[1:]
        elementwise = (nn.Tanh, nn.Softplus, nn.Sigmoid, nn.ReLU)
        r = [0, 0]
        k = 0
        while k < len(layers) and isinstance(layers[k], (nn.Conv2d,) + elementwise):
            c = layers[k]
            if isinstance(c, nn.Conv2d):
                kh, kw = c.kernel_size
                if (c.stride != (1, 1) or kh % 2 == 0 or kw % 2 == 0 or c.padding != (kh // 2, kw // 2)
                        or c.padding_mode != "periodic"):
                    return None
                r = [r[0] + kh // 2, r[1] + kw // 2]
            k += 1
        if (k == 0 or k + 1 >= len(layers) or not isinstance(layers[k], nn.AvgPool2d)
                or layers[k].kernel_size != (H, W) or not isinstance(layers[k + 1], nn.Flatten)):
            return None

        def classes(n, d):  # colour of each of n sites on a ring, same colours more than d - 1 apart
            q = max(1, n // d) if n >= 2 * d else 1  # blocks of >= d consecutive sites
            if q == 1:
                return np.arange(n), n
            starts = (np.arange(q + 1) * n) // q
            out = np.empty(n, dtype=np.int64)
            for b in range(q):
                out[starts[b]:starts[b + 1]] = np.arange(starts[b + 1] - starts[b])
            return out, int(np.max(np.diff(starts)))

        (cy, ky), (cx, kx) = classes(H, 2 * r[0] + 1), classes(W, 2 * r[1] + 1)
        if ky * kx >= H * W:  # nothing to share: the generic path is as fast
            return None
        colour = (cy[:, None] * kx + cx[None, :]).reshape(-1)  # (N,)
        K, N = ky * kx, H * W
        flips = np.ones((K, N), dtype=self.dtype)
        flips[colour, np.arange(N)] = -1
        # each colour's sites (padded with site N, a zero column) and their windows' positions
        M = int(np.bincount(colour, minlength=K).max())
        members = np.full((K, M), N, dtype=np.int64)
        for q in range(K):
            at = np.flatnonzero(colour == q)
            members[q, :at.size] = at
        y, x = np.divmod(np.arange(N), W)
        dy, dx = np.meshgrid(np.arange(-r[0], r[0] + 1), np.arange(-r[1], r[1] + 1), indexing="ij")
        pos = ((y[:, None] + dy.reshape(1, -1)) % H) * W + (x[:, None] + dx.reshape(1, -1)) % W  # (N, window)
        pos = np.concatenate([pos, np.full((1, pos.shape[1]), N)])  # the padding site's window: the zero column
        rows = np.repeat(np.arange(N), pos.shape[1])
        window = sparse.csr_matrix((np.ones(rows.size), (rows, pos[:N].reshape(-1))), shape=(N, N))

        def copy(layer):
            args, kwargs = layer._init_args
            return type(layer)(*args, **kwargs)

        convs = nn.Sequential([copy(x) for x in layers[:k]], input_shape=(1, H, W), dtype=self.dtype)
        tail = nn.Sequential([copy(x) for x in layers[k + 2:]], input_shape=(convs.output_shape[0],),
                             dtype="float64")
        self._plan = {"convs": convs, "tail": tail, "split": D._layer_offsets[k], "flips": flips,
                      "members": members, "window_pos": pos[members], "window": window}
        return self._plan

    def _flipped_logits_local(self, S, plan, chosen=None):
        """As :meth:`_flipped_logits_generic` by the colouring of :meth:`_flip_plan`, ``chosen`` (n, k)
        colours per sample when given."""
        convs, tail, split, flips = plan["convs"], plan["tail"], plan["split"], plan["flips"]
        members, wpos = plan["members"], plan["window_pos"]  # (K, M), (K, M, window)
        convs.params[:] = self.D.params[:split]
        tail.params[:] = self.D.params[split:]
        n = S.shape[0]
        K, N = flips.shape
        h = convs.predict(S)  # (n, c, H, W): the features before the pool
        c = h.shape[1]
        h = h.reshape(n, c, N)
        pooled = h.mean(axis=2, dtype=np.float64)  # (n, c)
        l0 = tail.predict(pooled).reshape(n)
        old = (plan["window"] @ h.transpose(2, 0, 1).reshape(N, n * c).astype(np.float64)).reshape(N, n, c)
        old = np.concatenate([old, np.zeros((1, n, c))])  # each site's window sum before the flip; padding 0
        cols = np.broadcast_to(np.arange(K), (n, K)) if chosen is None else chosen
        k = cols.shape[1]
        l1 = np.zeros((n, N + 1))
        done = np.zeros((n, N + 1), dtype=bool)
        rows = max(1, self._FLIP_CHUNK // (k * c * N))
        for b0 in range(0, n, rows):
            m = min(rows, n - b0)
            cb = cols[b0:b0 + m]  # (m, k) colours
            Sf = (S[b0:b0 + m].reshape(m, 1, N) * flips[cb]).reshape((m * k,) + S.shape[1:])
            hf = convs.predict(Sf).reshape(m, k, c, N)
            hf = np.concatenate([hf, np.zeros((m, k, c, 1), dtype=hf.dtype)], axis=3)
            bi, ji = np.arange(m)[:, None, None, None], np.arange(k)[None, :, None, None]
            new = hf[bi, ji, :, wpos[cb]]  # (m, k, M, window, c): each member's window after its colour's flips
            new = new.sum(axis=3, dtype=np.float64)  # (m, k, M, c)
            sites = members[cb]  # (m, k, M)
            before = old[sites, np.arange(b0, b0 + m)[:, None, None]]  # (m, k, M, c)
            moved = pooled[b0:b0 + m, None, None, :] + (new - before) / N
            lm = tail.predict(moved.reshape(-1, c)).reshape(sites.shape)
            bb = np.broadcast_to(np.arange(b0, b0 + m)[:, None, None], sites.shape)
            l1[bb, sites] = lm
            done[bb, sites] = True
        return l0, l1[:, :N], done[:, :N]

    # ------------------------------------------------------------------ steps
    def discriminator_step(self, X_real, Z=None, eps=None) -> float:
        """One update of the discriminator; returns its objective before the update."""
        value, grads = self.discriminator_gradients(X_real, Z, eps)
        return self._d_update(value, grads)

    def _d_update(self, value, grads):
        self.D._apply_flat(grads.flat, self.d_optimizer)
        self._after_d_update()
        return value

    def generator_step(self, n: int = None, Z=None) -> float:
        """One update of the generator on ``Z`` (or ``n`` fresh latent vectors)."""
        if Z is None:
            Z = self.latent(check_int(n, "n", minimum=1, maximum=2**32))
        value, grads = self.generator_gradients(Z)
        self.G._apply_flat(grads.flat, self.g_optimizer)
        if self.ema > 0:
            if self._G_avg is None:
                self._G_avg = np.array(self.G.params, copy=True)
            else:
                self._G_avg *= self.ema
                self._G_avg += (1.0 - self.ema) * self.G.params
        return value

    def step(self, X_real) -> dict:
        """One discriminator update on ``X_real`` and fresh latents, then one generator update of the same batch size."""
        d = self.discriminator_step(X_real)
        g = self.generator_step(len(X_real))
        return {"d_loss": d, "g_loss": g}

    def train(self, data, steps: int, batch_size: int = 64, progress: bool = False, callback=None,
              checkpoint=None, checkpoint_every: int = 100) -> History:
        """Train up to ``steps`` generator updates in all, each after ``n_critic`` discriminator updates.

        Minibatches are drawn from ``data`` with replacement (Philox stream ``STREAMS["batches"]``).
        ``callback(step, record)`` is called after every generator update.  The count of steps done
        is kept (:attr:`steps_done`): a second call with a larger ``steps`` continues the same run.

        checkpoint : str or path, optional
            Written atomically (:func:`physdl.io.save_checkpoint`) every ``checkpoint_every`` steps and
            at the end, with both networks, both optimizer states, the spectral-normalisation vectors,
            the random streams' positions and the history.  When the file exists the run resumes from
            it, bit for bit as if it had not stopped (it must be of the same trainer, networks and data).
            A Ctrl-C lands between steps.

        Returns
        -------
        physdl.nn.History with ``d_loss`` and ``g_loss`` per generator step (WGAN adds ``wasserstein``,
        the critic's estimate ``<C(x_real)> - <C(G(z))>``).
        """
        from .._interrupt import deferred_sigint
        from ..io import checkpoint_path

        data = self._check_real(data, "data")
        steps = check_int(steps, "steps", minimum=1, maximum=2**31)
        batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=2**24)
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1, maximum=2**31)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        from .._progress import bar as progress_bar

        fp = _fingerprint(data)
        if checkpoint is not None:
            if checkpoint_path(checkpoint).exists():
                self.load_checkpoint(checkpoint, data_fingerprint=fp)
        hist = self._history
        n = data.shape[0]
        bar = progress_bar(progress=bool(progress), total=steps, initial=min(self._step, steps),
                           desc=type(self).__name__, leave=False)
        try:
            while self._step < steps:
                with deferred_sigint():
                    idx = self._batches.integers(n, (self.n_critic, batch_size))
                    for k in range(self.n_critic):  # (data checked once above; latents drawn here)
                        X = data[idx[k]]
                        d = self._d_update(*self._discriminator_gradients(X, self.latent(batch_size), None))
                    g = self.generator_step(batch_size)
                    rec = {"d_loss": d, "g_loss": g, **self._record()}
                    hist._add(self._step, **rec)
                    self._step += 1
                    if checkpoint is not None and (self._step % checkpoint_every == 0 or self._step == steps):
                        self.save_checkpoint(checkpoint, data_fingerprint=fp)
                bar.update(1)
                if callback is not None:
                    callback(self._step - 1, rec)
        finally:
            bar.close()
        return hist

    @property
    def steps_done(self) -> int:
        """Generator updates done by :meth:`train` so far."""
        return self._step

    @property
    def history(self) -> History:
        return self._history

    # ------------------------------------------------------------------ checkpoints
    def _settings(self) -> dict:
        return {"trainer": type(self).__name__, "G": self.G._config(), "D": self.D._config(),
                "n_critic": self.n_critic, "seed": self.seed, "global_latent": self.global_latent,
                "odd_generator": self.odd_generator, "binary_output": self.binary_output,
                "binary_gradient": self.binary_gradient, "flip_fraction": self.flip_fraction, "ema": self.ema,
                **self._own_settings()}

    def _own_settings(self) -> dict:
        return {}

    def save_checkpoint(self, path, data_fingerprint: str | None = None):
        """Write the whole training state atomically (see :meth:`train`); returns the path written."""
        from ..io import save_checkpoint

        meta = {"settings": self._settings(), "step": self._step, "data": data_fingerprint,
                "streams": {k: g.offset for k, g in (("latent", self._latent), ("interp", self._interp),
                                                      ("spins", self._spins),
                                                      ("batches", self._batches))},
                "history": self._history.history, "history_epochs": self._history.epoch,
                "last_d": float(getattr(self, "_last_d", 0.0))}
        arrays = {}
        for tag, net, opt in (("G", self.G, self.g_optimizer), ("D", self.D, self.d_optimizer)):
            sub_meta, sub = {}, {"params": np.array(net.params, copy=True), **net._sn_arrays()}
            net._optimizer_arrays(opt, sub_meta, sub)
            meta[f"{tag}_optimizer"] = sub_meta["optimizer"]
            arrays.update({f"{tag}_{k}": v for k, v in sub.items()})
        if self._G_avg is not None:
            arrays["ema_params"] = self._G_avg
        return save_checkpoint(path, "physdl.generative.adversarial", meta, arrays)

    def load_checkpoint(self, path, data_fingerprint: str | None = None) -> None:
        """Restore the training state written by :meth:`save_checkpoint` into this trainer."""
        from ..io import checkpoint_path, load_checkpoint

        p = checkpoint_path(path, existing=True)
        meta, arrays = load_checkpoint(p, "physdl.generative.adversarial")
        if meta.get("settings") != json.loads(json.dumps(self._settings())):
            raise ValueError(f"{p}: the checkpoint is of another trainer (networks, settings or seed differ)")
        if data_fingerprint is not None and meta.get("data") not in (None, data_fingerprint):
            raise ValueError(f"{p}: the checkpoint was written while training on other data")
        step, st = meta.get("step"), meta.get("streams", {})
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64  # noqa: E731
        if not (ok(step) and isinstance(st, dict) and all(ok(st.get(k)) for k in ("latent", "interp", "batches", "spins"))):
            raise ValueError(f"{p}: the checkpoint's step count or stream positions are invalid")
        h, he = meta.get("history", {}), meta.get("history_epochs", [])
        if not (isinstance(h, dict) and isinstance(he, list) and len(he) == step):
            raise ValueError(f"{p}: the checkpoint's history is invalid")
        for tag, net, opt in (("G", self.G, self.g_optimizer), ("D", self.D, self.d_optimizer)):
            sub = {k[2:]: v for k, v in arrays.items() if k.startswith(tag + "_")}
            from ..nn import _files

            net.params[:] = _files.real_array(p, sub, "params", net.params.shape)
            net._sn_restore(p, sub)
            net._restore_optimizer(p, {"optimizer": meta.get(f"{tag}_optimizer")}, sub, opt)
        from ..nn import _files

        self._G_avg = (np.array(_files.real_array(p, arrays, "ema_params", self.G.params.shape), dtype=self.G.params.dtype)
                       if "ema_params" in arrays else None)
        if self.ema > 0 and step > 0 and self._G_avg is None:
            raise ValueError(f"{p}: the checkpoint lacks the generator's moving average")
        self._latent.offset, self._interp.offset, self._batches.offset = st["latent"], st["interp"], st["batches"]
        self._spins.offset = st["spins"]
        self._history = History()
        self._history.history = {k: [float(x) for x in v] for k, v in h.items()}
        self._history.epoch = [int(e) for e in he]
        self._step = step
        self._last_d = float(meta.get("last_d", 0.0))

    def _record(self):
        return {}


class GAN(Adversarial):
    """The original GAN (Goodfellow et al.) with the discriminator's output a logit ``D(x)``.

    Discriminator objective (eq. 6.35), ``sigma(D)`` the probability of "real"::

        V_D = <log(1 + e^{-D(x)})>_{x ~ P} + <log(1 + e^{D(G(z))})>_z

    Generator objective: ``loss="minimax"`` ``V_G = -V_D`` (eq. 6.36; only its fake term depends on
    ``G``, and that term is what is returned), or ``loss="non_saturating"``
    ``V_G = <log(1 + e^{-D(G(z))})>_z`` (eq. 6.48), which keeps its gradient when ``D`` wins early.

    Parameters
    ----------
    generator, discriminator : physdl.nn.Sequential
    loss : {"minimax", "non_saturating"}
    g_optimizer, d_optimizer, n_critic, seed : see :class:`Adversarial`
    """

    def __init__(self, generator, discriminator, loss: str = "non_saturating", **kwargs):
        self.loss = check_choice(loss, "loss", ("minimax", "non_saturating"))
        super().__init__(generator, discriminator, **kwargs)

    def _own_settings(self):
        return {"loss": self.loss}

    def _d_terms(self, lr, lf):
        nr, nf = lr.shape[0], lf.shape[0]
        value = _softplus(-lr).mean() + _softplus(lf).mean()
        return value, -_sigmoid(-lr) / nr, _sigmoid(lf) / nf

    def _g_terms(self, lf):
        n = lf.shape[0]
        if self.loss == "minimax":
            return -_softplus(lf).mean(), -_sigmoid(lf) / n
        return _softplus(-lf).mean(), -_sigmoid(-lf) / n

    def _g_values(self, lf):
        return -_softplus(lf) if self.loss == "minimax" else _softplus(-lf)


class EBGAN(Adversarial):
    """Energy-based GAN (eq. 6.49-6.50): ``D(x) >= 0`` is an energy, low on real data.

    ``V_D = <D(x)>_{x ~ P} + <max(0, m - D(G(z)))>_z`` and ``V_G = <D(G(z))>_z``.  The condition
    ``D >= 0`` (eq. 6.51) is the network's: end the discriminator with e.g. :class:`physdl.nn.Softplus`.

    Parameters
    ----------
    margin : float > 0
        The margin ``m``.
    """

    def __init__(self, generator, discriminator, margin: float = 1.0, **kwargs):
        self.margin = check_float(margin, "margin", positive=True)
        super().__init__(generator, discriminator, **kwargs)

    def _own_settings(self):
        return {"margin": self.margin}

    def _d_terms(self, lr, lf):
        nr, nf = lr.shape[0], lf.shape[0]
        gap = self.margin - lf
        value = lr.mean() + np.maximum(gap, 0.0).mean()
        return value, np.full_like(lr, 1.0 / nr), -(gap > 0).astype(np.float64) / nf

    def _g_terms(self, lf):
        return lf.mean(), np.full_like(lf, 1.0 / lf.shape[0])

    def _g_values(self, lf):
        return lf


class WGAN(Adversarial):
    """Wasserstein GAN (eq. 6.87-6.91): a critic ``C`` estimates the earth mover's distance.

    Critic objective ``V_C = <C(G(z))>_z - <C(x)>_{x ~ P}`` (+ ``penalty * GP``), generator objective
    ``V_G = -<C(G(z))>_z``.  The critic is kept (about) 1-Lipschitz either by clipping every
    parameter into ``[-clip, clip]`` after each update, or by the gradient penalty (eq. 6.91)
    ``GP = <(||dC/dx(x_hat)|| - 1)^2>`` on ``x_hat = eps x_real + (1 - eps) G(z)``, ``eps ~ U(0, 1)``
    per sample, whose parameter gradient is the engine's exact double backward
    (:meth:`physdl.nn.Sequential.gradient_penalty`).

    Parameters
    ----------
    clip : float > 0, optional
    penalty : float >= 0, optional
        The weight lambda of the gradient penalty (10 in Gulrajani et al.).  Give ``clip`` or ``penalty``.
    penalty_target : float >= 0, default 1
        The norm the penalty pulls the critic's input gradient to, ``<(||dC/dx(x_hat)|| - target)^2>``:
        1 as in Gulrajani et al.; 0 is the zero-centred penalty, under which the critic of two equal
        distributions is flat (no gradient left for the generator), so the game can come to rest at
        the data's distribution instead of circling it.
    n_critic : int, default 5
    """

    _default_lr, _default_betas = 1e-4, (0.5, 0.9)

    def __init__(self, generator, discriminator, clip: float | None = None, penalty: float | None = None,
                 n_critic: int = 5, penalty_target: float = 1.0, **kwargs):
        if (clip is None) == (penalty is None):
            raise ValueError("give exactly one of clip (weight clipping) or penalty (gradient penalty weight)")
        self.clip = None if clip is None else check_float(clip, "clip", positive=True)
        self.penalty = None if penalty is None else check_float(penalty, "penalty", nonnegative=True)
        self.penalty_target = check_float(penalty_target, "penalty_target", nonnegative=True)
        super().__init__(generator, discriminator, n_critic=n_critic, **kwargs)
        self._last_d = 0.0

    def _own_settings(self):
        return {"clip": self.clip, "penalty": self.penalty, "penalty_target": self.penalty_target}

    def _d_terms(self, lr, lf):
        nr, nf = lr.shape[0], lf.shape[0]
        return lf.mean() - lr.mean(), np.full_like(lr, -1.0 / nr), np.full_like(lf, 1.0 / nf)

    def _d_output(self, logits, n):
        # _d_terms' values, without rebuilding its constant output gradient at every step: the means
        # as np.mean forms them (one add.reduce over all elements, then the division)
        l64 = logits.astype(np.float64)
        nf = l64.shape[0] - n
        value = np.add.reduce(l64[n:], axis=None) / nf - np.add.reduce(l64[:n], axis=None) / n
        key = (n, nf, logits.shape)
        if getattr(self, "_dY_key", None) != key:
            self._dY = super()._d_output(l64, n)[1]
            self._dY.flags.writeable = False
            self._dY_key = key
        return value, self._dY

    def _g_terms(self, lf):
        return -(np.add.reduce(lf, axis=None) / lf.shape[0]), np.full_like(lf, -1.0 / lf.shape[0])  # -np.mean

    def _g_values(self, lf):
        return -lf

    def _d_extra(self, X_real, X_fake, eps):
        if self.penalty is None:
            return 0.0, None
        n = X_real.shape[0]
        if eps is None:
            eps = self._interp.uniform(n)  # float64 in [0, 1)
        else:
            eps = check_array(eps, "eps", dtype=np.float64).reshape(-1)
            # min >= 0 and max <= 1 also refuse NaN and inf
            if eps.shape != (n,) or not (eps.min() >= 0 and eps.max() <= 1):
                raise ValueError(f"eps must hold {n} interpolation weights in [0, 1], got shape {eps.shape}")
        e = eps.astype(self.dtype).reshape((n,) + (1,) * (X_real.ndim - 1))
        x_hat = e * X_real + (1 - e) * X_fake
        gp, grads = self.D.gradient_penalty(x_hat, target=self.penalty_target)
        return self.penalty * gp, self.penalty * grads.flat

    def _after_d_update(self):
        if self.clip is not None:
            p = self.D.params
            np.clip(p, -self.clip, self.clip, out=p)

    def _record(self):
        return {"wasserstein": -self._last_d}
