"""A discriminator step and a generator step with a spectrally normalised discriminator against the same
steps written in PyTorch (torch.nn.utils.parametrizations.spectral_norm), float64, same weights, same u
and v, same batch, Adam updates included."""

import numpy as np
import pytest

from physdl import generative, nn

torch = pytest.importorskip("torch")
from torch.nn.utils import parametrize  # noqa: E402
from torch.nn.utils.parametrizations import spectral_norm  # noqa: E402

F = torch.nn.functional


def build(backend):
    G = nn.Sequential([nn.Dense(3, 7), nn.Tanh(), nn.Dense(7, 2)], seed=11, dtype="float64", backend=backend)
    D = nn.Sequential([nn.Dense(2, 6, spectral_norm=True), nn.Tanh(), nn.Dense(6, 5, spectral_norm=True), nn.Tanh(),
                       nn.Dense(5, 1, spectral_norm=True)], seed=12, dtype="float64", backend=backend)
    tG = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.Tanh(), torch.nn.Linear(7, 2)).double()
    tG.load_state_dict(G.to_torch_state_dict())
    tD = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 5), torch.nn.Tanh(),
                             torch.nn.Linear(5, 1)).double()
    tD.load_state_dict(D.to_torch_state_dict())
    for i in (0, 2, 4):
        spectral_norm(tD[i])
        u, v, _ = D.spectral_norm_state()[i]
        pm = tD[i].parametrizations.weight[0]
        with torch.no_grad():
            pm._u.copy_(torch.from_numpy(u))
            pm._v.copy_(torch.from_numpy(v))
    return G, D, tG, tD


def assert_same(D, tD):
    P = D.parameters()
    for i in (0, 2, 4):
        np.testing.assert_allclose(P[f"{i}.weight"], tD[i].parametrizations.weight.original.detach().numpy(),
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(P[f"{i}.bias"], tD[i].bias.detach().numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(D.spectral_norm_state()[i][0], tD[i].parametrizations.weight[0]._u.numpy(),
                                   rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", ["gan", "wgan_gp"])
@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_steps_with_spectral_norm_match_torch(kind, backend):
    G, D, tG, tD = build(backend)
    lr, betas = 1e-2, (0.5, 0.9)
    kw = dict(g_optimizer=nn.Adam(lr=lr, betas=betas), d_optimizer=nn.Adam(lr=lr, betas=betas))
    gan = generative.GAN(G, D, **kw) if kind == "gan" else generative.WGAN(G, D, penalty=10.0, **kw)
    oG = torch.optim.Adam(tG.parameters(), lr=lr, betas=betas)
    oD = torch.optim.Adam(tD.parameters(), lr=lr, betas=betas)
    rng = np.random.default_rng(4)
    X = generative.ring_of_gaussians(10, seed=2)
    Z, Z2, eps = rng.normal(size=(10, 3)), rng.normal(size=(10, 3)), rng.uniform(size=10)
    # discriminator step: one power iteration (parametrize.cached: one weight for the whole step)
    with parametrize.cached():
        xr, xf = torch.from_numpy(X), tG(torch.from_numpy(Z)).detach()
        a, b = tD(xr), tD(xf)
        if kind == "gan":
            vd = F.softplus(-a).mean() + F.softplus(b).mean()
        else:
            vd = b.mean() - a.mean()
            e = torch.from_numpy(eps)[:, None]
            xh = (e * xr + (1 - e) * xf).requires_grad_(True)
            g, = torch.autograd.grad(tD(xh).sum(), xh, create_graph=True)
            vd = vd + 10.0 * ((g.norm(dim=1) - 1) ** 2).mean()
        oD.zero_grad()
        vd.backward()
    oD.step()
    ours = gan.discriminator_step(X, Z, eps=eps if kind != "gan" else None)
    assert ours == pytest.approx(vd.item(), abs=1e-10)
    assert_same(D, tD)
    # generator step: the critic's training-mode forward runs one more power iteration
    lf = tD(tG(torch.from_numpy(Z2)))
    vg = F.softplus(-lf).mean() if kind == "gan" else -lf.mean()
    oG.zero_grad()
    vg.backward()
    oG.step()
    ours = gan.generator_step(Z=Z2)
    assert ours == pytest.approx(vg.item(), abs=1e-10)
    for k, v in tG.state_dict().items():
        np.testing.assert_allclose(G.parameters()[k], v.numpy(), rtol=0, atol=1e-6, err_msg=k)
    assert_same(D, tD)
