"""Build the PyTorch twin of a physdl.nn.Sequential (test helper)."""

import math

import numpy as np

from physdl import nn


def torch_model(model):
    import torch
    from torch import nn as tnn

    class Step(tnn.Module):
        def forward(self, x):
            return (x > 0).to(x.dtype) + 0 * x  # zero gradient, as the step function

    class NBitReLU(tnn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            u = torch.arange(1, self.n + 1, dtype=x.dtype)
            return torch.sigmoid(x.unsqueeze(-1) + 0.5 - u).sum(-1)

    class Cube(tnn.Module):
        def forward(self, x):
            return x ** 3

    class Attn(tnn.Module):
        def __init__(self, d, dk, dv):
            super().__init__()
            self.wq = tnn.Parameter(torch.zeros(dk, d, dtype=torch.float64))
            self.wk = tnn.Parameter(torch.zeros(dk, d, dtype=torch.float64))
            self.wv = tnn.Parameter(torch.zeros(dv, d, dtype=torch.float64))
            self.dk = dk

        def forward(self, x):
            q, k, v = x @ self.wq.T, x @ self.wk.T, x @ self.wv.T
            a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.dk), dim=-1)
            return a @ v

    def recurrent(base, layer):
        class R(base):
            def forward(self, x):
                out = base.forward(self, x)[0]
                return out if layer.return_sequences else out[:, -1]

        return R(layer.input_size, layer.hidden_size, num_layers=layer.num_layers, batch_first=True,
                 dtype=torch.float64)

    mods = []
    for l in model.layers:
        if isinstance(l, nn.Dense):
            mods.append(tnn.Linear(l.n_in, l.n_out, dtype=torch.float64))
        elif isinstance(l, nn.Sigmoid):
            mods.append(tnn.Sigmoid())
        elif isinstance(l, nn.Tanh):
            mods.append(tnn.Tanh())
        elif isinstance(l, nn.ReLU):
            mods.append(tnn.ReLU())
        elif isinstance(l, nn.Step):
            mods.append(Step())
        elif isinstance(l, nn.Softmax):
            mods.append(tnn.Softmax(dim=-1))
        elif isinstance(l, nn.HamiltonianReLU):
            mods.append(NBitReLU(l.nbits))
        elif isinstance(l, nn.Cube):
            mods.append(Cube())
        elif isinstance(l, nn.Softplus):
            mods.append(tnn.Softplus(beta=1.0, threshold=1e9))
        elif isinstance(l, nn.Flatten):
            mods.append(tnn.Flatten())
        elif isinstance(l, nn.Conv2d):
            mods.append(tnn.Conv2d(l.in_channels, l.out_channels, l.kernel_size, stride=l.stride, padding=l.padding,
                                   padding_mode="circular" if l.padding_mode == "periodic" else "zeros",
                                   dtype=torch.float64))
        elif isinstance(l, nn.ConvTranspose2d):
            mods.append(tnn.ConvTranspose2d(l.in_channels, l.out_channels, l.kernel_size, stride=l.stride,
                                            padding=l.padding, dtype=torch.float64))
        elif isinstance(l, nn.MaxPool2d):
            mods.append(tnn.MaxPool2d(l.kernel_size, l.stride))
        elif isinstance(l, nn.AvgPool2d):
            mods.append(tnn.AvgPool2d(l.kernel_size, l.stride))
        elif isinstance(l, nn.LSTM):
            mods.append(recurrent(tnn.LSTM, l))
        elif isinstance(l, nn.RNN):
            mods.append(recurrent(tnn.RNN, l))
        elif isinstance(l, nn.Attention):
            mods.append(Attn(l.d_in, l.d_k, l.d_v))
        else:
            raise NotImplementedError(type(l))
    tm = tnn.Sequential(*mods)
    tm.load_state_dict(model.to_torch_state_dict())
    return tm


def torch_loss(loss, out, y):
    import torch
    import torch.nn.functional as F

    if loss == "mse":
        return F.mse_loss(out, torch.as_tensor(y))
    if loss == "binary_cross_entropy":
        return F.binary_cross_entropy(out, torch.as_tensor(y))
    if loss == "binary_cross_entropy_with_logits":
        return F.binary_cross_entropy_with_logits(out, torch.as_tensor(y))
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), torch.as_tensor(np.asarray(y)).reshape(-1), ignore_index=-100)


def torch_grads(model, tm):
    """Torch parameter gradients flattened in physdl's layout."""
    named = dict(tm.named_parameters())
    parts = []
    for key, arr in model.parameters().items():
        i, name = key.split(".", 1)
        k = f"{i}.bias_ih_l0" if name == "bias" and f"{i}.bias_ih_l0" in named else key
        g = named[k].grad
        parts.append(np.zeros(arr.size) if g is None else g.detach().numpy().reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0)
