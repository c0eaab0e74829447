"""Each trainer's discriminator and generator gradients against the same objective in PyTorch autograd."""

import numpy as np
import pytest

from physdl import generative, nn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def nets(energy=False, seed=0):
    G = nn.Sequential([nn.Dense(3, 7), nn.Tanh(), nn.Dense(7, 2)], seed=seed + 1, dtype="float64")
    dl = [nn.Dense(2, 6), nn.Tanh(), nn.Dense(6, 5), nn.Tanh(), nn.Dense(5, 1)] + ([nn.Softplus()] if energy else [])
    D = nn.Sequential(dl, seed=seed + 2, dtype="float64")
    return G, D


def torch_net(model):
    mods = []
    for l in model.layers:
        if isinstance(l, nn.Dense):
            mods.append(torch.nn.Linear(l.n_in, l.n_out))
        elif isinstance(l, nn.Tanh):
            mods.append(torch.nn.Tanh())
        elif isinstance(l, nn.Softplus):
            mods.append(torch.nn.Softplus())
    t = torch.nn.Sequential(*mods).double()
    t.load_state_dict(model.to_torch_state_dict())
    return t


def batch(n=9, seed=3):
    X = generative.ring_of_gaussians(n, seed=seed)
    Z = np.random.default_rng(seed).normal(size=(n, 3))
    return X, Z


def grads_of(tnet):
    return {k: p.grad.detach().numpy().copy() for k, p in tnet.named_parameters()}


def assert_grads(ours: nn.Gradients, theirs: dict):
    assert set(ours.layers) == set(theirs)
    for k, v in theirs.items():
        np.testing.assert_allclose(ours.layers[k], v, rtol=0, atol=1e-10 * (1 + np.abs(v).max()), err_msg=k)


def torch_d_objective(kind, D, xr, xf, margin=1.0):
    lr, lf = D(xr), D(xf)
    if kind == "gan":
        return F.softplus(-lr).mean() + F.softplus(lf).mean()  # eq. 6.35
    if kind == "ebgan":
        return lr.mean() + torch.clamp(margin - lf, min=0).mean()  # eq. 6.49
    return lf.mean() - lr.mean()  # WGAN critic, eq. 6.87-6.90


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_gan_generator_and_discriminator_gradients_match_torch(loss):
    G, D = nets()
    gan = generative.GAN(G, D, loss=loss)
    tG, tD = torch_net(G), torch_net(D)
    X, Z = batch()
    z = torch.from_numpy(Z)
    # generator step (eq. 6.36 / 6.48): the discriminator's input gradient is the generator's output gradient
    lf = tD(tG(z))
    vg = -F.softplus(lf).mean() if loss == "minimax" else F.softplus(-lf).mean()
    vg.backward()
    value, grads = gan.generator_gradients(Z)
    assert value == pytest.approx(vg.item(), abs=1e-12)
    assert_grads(grads, grads_of(tG))
    # discriminator step (eq. 6.35)
    tD.zero_grad()
    vd = torch_d_objective("gan", tD, torch.from_numpy(X), tG(z).detach())
    vd.backward()
    value, grads = gan.discriminator_gradients(X, Z)
    assert value == pytest.approx(vd.item(), abs=1e-12)
    assert_grads(grads, grads_of(tD))


def test_minimax_and_non_saturating_differ_where_the_book_says():
    # when D rejects the fakes (D(G(z)) << 0) the minimax gradient vanishes, the non-saturating one does not
    G, D = nets()
    D.parameters()["4.bias"][:] = -12.0
    g_mm = generative.GAN(G, D, loss="minimax").generator_gradients(batch()[1])[1].flat
    g_ns = generative.GAN(G, D, loss="non_saturating").generator_gradients(batch()[1])[1].flat
    assert np.abs(g_mm).max() < 1e-4 * np.abs(g_ns).max()


def test_ebgan_gradients_match_torch():
    G, D = nets(energy=True)
    m = 0.9
    gan = generative.EBGAN(G, D, margin=m)
    tG, tD = torch_net(G), torch_net(D)
    X, Z = batch(11)
    z = torch.from_numpy(Z)
    tD(tG(z)).mean().backward()  # eq. 6.50
    value, grads = gan.generator_gradients(Z)
    assert value == pytest.approx(tD(tG(z)).mean().item(), abs=1e-12)
    assert_grads(grads, grads_of(tG))
    tD.zero_grad()
    vd = torch_d_objective("ebgan", tD, torch.from_numpy(X), tG(z).detach(), m)
    vd.backward()
    value, grads = gan.discriminator_gradients(X, Z)
    assert value == pytest.approx(vd.item(), abs=1e-12)
    assert_grads(grads, grads_of(tD))


def test_ebgan_hinge_has_both_branches():
    G, D = nets(energy=True)
    X, Z = batch(40)
    e = D.predict(G.predict(Z))[:, 0]
    m = float(np.median(e))
    gan = generative.EBGAN(G, D, margin=m)
    tG, tD = torch_net(G), torch_net(D)
    vd = torch_d_objective("ebgan", tD, torch.from_numpy(X), tG(torch.from_numpy(Z)).detach(), m)
    vd.backward()
    value, grads = gan.discriminator_gradients(X, Z)
    assert value == pytest.approx(vd.item(), abs=1e-12)
    assert_grads(grads, grads_of(tD))


@pytest.mark.parametrize("penalty,target", [(0.0, 1.0), (10.0, 1.0), (10.0, 0.0), (3.0, 0.5)])
def test_wgan_gp_critic_gradient_with_penalty_matches_torch_create_graph(penalty, target):
    G, D = nets()
    gan = generative.WGAN(G, D, penalty=penalty, penalty_target=target)
    tG, tD = torch_net(G), torch_net(D)
    X, Z = batch(10)
    eps = np.random.default_rng(5).uniform(size=10)
    xr, xf = torch.from_numpy(X), tG(torch.from_numpy(Z)).detach()
    e = torch.from_numpy(eps).reshape(-1, 1)
    xh = (e * xr + (1 - e) * xf).requires_grad_(True)
    (g,) = torch.autograd.grad(tD(xh).sum(), xh, create_graph=True)
    gp = ((g.norm(dim=1) - target) ** 2).mean()  # eq. 6.91 (target 1), zero-centred with target 0
    v = torch_d_objective("wgan", tD, xr, xf) + penalty * gp
    tD.zero_grad()
    v.backward()
    value, grads = gan.discriminator_gradients(X, Z, eps=eps)
    assert value == pytest.approx(v.item(), abs=1e-12)
    assert_grads(grads, grads_of(tD))
    # generator: V_G = -<C(G(z))>
    tD.zero_grad()
    (-tD(tG(torch.from_numpy(Z))).mean()).backward()
    value, grads = gan.generator_gradients(Z)
    assert_grads(grads, grads_of(tG))


def test_one_full_step_equals_torch_adam_steps():
    """discriminator_step then generator_step (Adam) against the same two updates in PyTorch."""
    G, D = nets()
    gan = generative.WGAN(G, D, penalty=10.0, g_optimizer=nn.Adam(lr=1e-2, betas=(0.5, 0.9)),
                          d_optimizer=nn.Adam(lr=1e-2, betas=(0.5, 0.9)))
    tG, tD = torch_net(G), torch_net(D)
    oG = torch.optim.Adam(tG.parameters(), lr=1e-2, betas=(0.5, 0.9))
    oD = torch.optim.Adam(tD.parameters(), lr=1e-2, betas=(0.5, 0.9))
    X, Z = batch(12)
    eps = np.linspace(0.05, 0.95, 12)
    for _ in range(3):
        xr, xf = torch.from_numpy(X), tG(torch.from_numpy(Z)).detach()
        e = torch.from_numpy(eps).reshape(-1, 1)
        xh = (e * xr + (1 - e) * xf).requires_grad_(True)
        (g,) = torch.autograd.grad(tD(xh).sum(), xh, create_graph=True)
        oD.zero_grad()
        (torch_d_objective("wgan", tD, xr, xf) + 10 * ((g.norm(dim=1) - 1) ** 2).mean()).backward()
        oD.step()
        oG.zero_grad()
        (-tD(tG(torch.from_numpy(Z))).mean()).backward()
        oG.step()
        gan.discriminator_step(X, Z, eps)
        gan.generator_step(Z=Z)
    for ours, theirs in ((G, tG), (D, tD)):
        for k, p in theirs.state_dict().items():
            # 1e-6: the critic's last bias has an exactly-zero gradient (V_C and GP do not depend on it),
            # so Adam divides rounding noise by its own size there; everything else agrees to ~1e-15
            np.testing.assert_allclose(ours.parameters()[k], p.numpy(), rtol=0, atol=1e-6, err_msg=k)


def test_weight_clipping_step_equals_torch_sgd_then_clamp():
    G, D = nets()
    c = 0.05
    gan = generative.WGAN(G, D, clip=c, d_optimizer=nn.SGD(lr=0.1))
    tG, tD = torch_net(G), torch_net(D)
    X, Z = batch(8)
    tD.zero_grad()
    torch_d_objective("wgan", tD, torch.from_numpy(X), tG(torch.from_numpy(Z)).detach()).backward()
    with torch.no_grad():
        for p in tD.parameters():
            p -= 0.1 * p.grad
            p.clamp_(-c, c)
    gan.discriminator_step(X, Z)
    assert np.abs(D.params).max() <= c
    for k, p in tD.state_dict().items():
        np.testing.assert_allclose(D.parameters()[k], p.numpy(), rtol=0, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(D.predict(X)[:, 0], tD(torch.from_numpy(X)).detach().numpy()[:, 0], atol=1e-12)


def test_bad_input_is_refused():
    G, D = nets()
    with pytest.raises(ValueError, match="does not chain"):
        generative.GAN(nn.Sequential([nn.Dense(3, 4)], dtype="float64"), D)
    with pytest.raises(ValueError, match="one number per sample"):
        generative.GAN(G, nn.Sequential([nn.Dense(2, 3)], dtype="float64"))
    with pytest.raises(ValueError, match="same dtype"):
        generative.GAN(G, nn.Sequential([nn.Dense(2, 1)], dtype="float32"))
    with pytest.raises(TypeError, match="generator"):
        generative.GAN("G", D)
    with pytest.raises(ValueError, match="loss"):
        generative.GAN(G, D, loss="hinge")
    with pytest.raises(ValueError, match="clip"):
        generative.WGAN(G, D, clip=0.0)
    with pytest.raises(ValueError, match="clip"):
        generative.WGAN(G, D, clip=-1.0)
    with pytest.raises(ValueError, match="penalty"):
        generative.WGAN(G, D, penalty=-1.0)
    with pytest.raises(ValueError, match="penalty_target"):
        generative.WGAN(G, D, penalty=1.0, penalty_target=-0.5)
    with pytest.raises(ValueError, match="exactly one"):
        generative.WGAN(G, D)
    with pytest.raises(ValueError, match="margin"):
        generative.EBGAN(G, D, margin=0)
    gan = generative.WGAN(G, D, penalty=1.0)
    with pytest.raises(ValueError, match="X_real"):
        gan.discriminator_step(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        gan.discriminator_step(np.full((4, 2), np.nan))
    with pytest.raises(ValueError, match="eps"):
        gan.discriminator_step(np.zeros((4, 2)), eps=np.full(4, 2.0))
    with pytest.raises(ValueError, match="Z"):
        gan.generator_step(Z=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="data"):
        gan.train(np.zeros((10, 5)), steps=1)


def test_binary_output_critic_sees_spins_and_generator_gets_the_straight_through_gradient():
    """binary_output: the critic's objective (with the penalty) on spins drawn from G(z), and the generator's
    gradient through s = x + stop_gradient(s - x), both against PyTorch with the same draws."""
    from physdl.random import Generator

    G = nn.Sequential([nn.Dense(3, 7), nn.Tanh(), nn.Dense(7, 4), nn.Tanh()], seed=1, dtype="float64")
    D = nn.Sequential([nn.Dense(4, 6), nn.Tanh(), nn.Dense(6, 1)], seed=2, dtype="float64")
    gan = generative.WGAN(G, D, penalty=10.0, binary_output=True, seed=7)
    spins = Generator(7, generative.STREAMS["spins"])  # the trainer's draws, reproduced
    tG, tD = torch_net(G), torch_net(D)
    X = np.random.default_rng(1).choice([-1.0, 1.0], size=(10, 4))
    Z = np.random.default_rng(2).normal(size=(10, 3))
    eps = np.random.default_rng(5).uniform(size=10)

    def draw(x):
        return np.where(2.0 * spins.uniform(x.shape) < 1.0 + x, 1.0, -1.0)

    S = draw(G.predict(Z))
    assert 0 < (S == 1).mean() < 1
    xr, xf = torch.from_numpy(X), torch.from_numpy(S)
    e = torch.from_numpy(eps).reshape(-1, 1)
    xh = (e * xr + (1 - e) * xf).requires_grad_(True)
    (g,) = torch.autograd.grad(tD(xh).sum(), xh, create_graph=True)
    v = torch_d_objective("wgan", tD, xr, xf) + 10.0 * ((g.norm(dim=1) - 1) ** 2).mean()
    v.backward()
    value, grads = gan.discriminator_gradients(X, Z, eps=eps)
    assert value == pytest.approx(v.item(), abs=1e-12)
    assert_grads(grads, grads_of(tD))
    x = tG(torch.from_numpy(Z))
    s = x + (torch.from_numpy(draw(x.detach().numpy())) - x).detach()
    tD.zero_grad()
    vg = -tD(s).mean()
    vg.backward()
    value, grads = gan.generator_gradients(Z)
    assert value == pytest.approx(vg.item(), abs=1e-12)
    assert_grads(grads, grads_of(tG))
    with pytest.raises(TypeError, match="binary_output"):
        generative.WGAN(G, D, penalty=1.0, binary_output="yes")


def test_wgan_penalty_weights_are_checked():
    """eps must hold n weights in [0, 1]: NaN, inf, values outside and a wrong count are refused."""
    G, D = nets()
    gan = generative.WGAN(G, D, penalty=1.0)
    X = np.zeros((4, 2))
    for bad in (np.nan, np.inf, -np.inf, -0.1, 1.5):
        eps = np.full(4, 0.5)
        eps[2] = bad
        with pytest.raises(ValueError, match="eps"):
            gan.discriminator_step(X, eps=eps)
    with pytest.raises(ValueError, match="eps"):
        gan.discriminator_step(X, eps=np.full(3, 0.5))
    before = D.params.copy()
    gan.discriminator_step(X, eps=np.array([0.0, 1.0, 0.5, 1.0]))  # the ends of [0, 1] are allowed
    assert not np.array_equal(D.params, before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wgan_critic_output_gradient_equals_the_generic_terms_as_batch_sizes_change(dtype):
    """WGAN's critic objective and output gradient (its constant gradient kept between steps) are the
    bits of the generic path through _d_terms, for every pair of batch sizes in turn."""
    G = nn.Sequential([nn.Dense(3, 7), nn.Tanh(), nn.Dense(7, 2)], seed=1, dtype=dtype)
    D = nn.Sequential([nn.Dense(2, 6), nn.Tanh(), nn.Dense(6, 1)], seed=2, dtype=dtype)
    gan = generative.WGAN(G, D, penalty=1.0)
    rng = np.random.default_rng(3)
    for n, m in [(5, 5), (5, 5), (3, 5), (7, 2), (5, 5), (1, 1)]:
        logits = rng.normal(size=(n + m, 1)).astype(dtype)
        value, dY = gan._d_output(logits, n)
        ref_value, ref_dY = generative.gan.Adversarial._d_output(gan, logits, n)
        assert value == ref_value and np.asarray(value).dtype == np.asarray(ref_value).dtype
        assert dY.dtype == ref_dY.dtype and dY.shape == ref_dY.shape and dY.tobytes() == ref_dY.tobytes()
        # and the terms themselves: the objective <C(G(z))> - <C(x)>, the gradient -1/n and 1/m
        np.testing.assert_allclose(value, logits[n:].astype(np.float64).mean() - logits[:n].astype(np.float64).mean(),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(dY[:n], np.float64(-1.0 / n).astype(dtype))
        np.testing.assert_array_equal(dY[n:], np.float64(1.0 / m).astype(dtype))
