"""Loads pf-nets checkpoints in PyTorch and checks the outputs against Rust's.

Usage: python pytorch_check.py DIR [TOL]

DIR holds, for each case i, `net{i}.safetensors` (weights), `net{i}.json` (the pf-nets sidecar
with the model config) and `io{i}.safetensors` (tensors `x`, `t`, `out` computed by Rust).
The modules below are the seeds' PyTorch modules (001 ScoreModel / DiffusionModel, 004
MLPVectorField, 000 discriminator), parameterised by the sidecar config; the weights are loaded
with `safetensors.torch.load_file` + `load_state_dict(strict=True)`. Exit status 1 if any case's
max |out_torch - out_rust| exceeds TOL (default 1e-6).
"""

import glob
import json
import os
import sys

import torch
import torch.nn as nn
from safetensors.torch import load_file


class LeakyMax(nn.Module):
    """pf-nets' `leaky-relu`: max(x, 0.2 x), i.e. nn.LeakyReLU(0.2)."""

    def forward(self, x):
        return torch.maximum(x, x * 0.2)


def activation(name):
    return {
        "relu": nn.ReLU(),
        "silu": nn.SiLU(),
        "tanh": nn.Tanh(),
        "gelu": nn.GELU(),
        "softplus": nn.Softplus(),
        "leaky-relu": LeakyMax(),
    }[name]


class Fourier(nn.Module):
    """Gaussian Fourier features [sin(t w), cos(t w)], w = 2 pi B stored as buffer `freqs`."""

    def __init__(self, half):
        super().__init__()
        self.register_buffer("freqs", torch.zeros(1, half))

    def forward(self, t):
        a = t * self.freqs
        return torch.cat([a.sin(), a.cos()], dim=1)


def add_time(m, cfg):
    """Adds the time embedding's submodules to m; returns the number of time features E."""
    kind, e = cfg["time_embed"], cfg["embed_dim"]
    m.time_kind = kind
    if kind == "learned":
        m.embed = nn.Sequential(nn.Linear(1, e), nn.SiLU(), nn.Linear(e, e))
        return e
    if kind == "fourier":
        m.fourier = Fourier(e // 2)
        m.embed = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        return e
    return 1 if kind == "raw" else 0


def time_features(m, t):
    if m.time_kind == "none":
        return None
    if m.time_kind == "raw":
        return t
    if m.time_kind == "learned":
        return m.embed(t)
    return m.embed(m.fourier(t))


class ScoreModel(nn.Module):
    """Seed 001's ScoreModel."""

    def __init__(self, cfg):
        super().__init__()
        e = add_time(self, cfg)
        self.net = nn.ModuleList()
        d = cfg["dim"]
        for h in cfg["hidden"]:
            self.net.append(nn.Sequential(nn.Linear(d + e, h), activation(cfg["activation"])))
            d = h
        self.out = nn.Linear(d, cfg["dim"])

    def forward(self, x, t):
        te = time_features(self, t)
        for layer in self.net:
            x = layer(torch.cat([x, te], dim=1))
        return self.out(x)


class DiffusionBlock(nn.Module):
    def __init__(self, nunits, act):
        super().__init__()
        self.linear = nn.Linear(nunits, nunits)
        self.act = activation(act)

    def forward(self, x):
        return self.act(self.linear(x))


class DiffusionModel(nn.Module):
    """Seed 001's DDPM DiffusionModel."""

    def __init__(self, cfg):
        super().__init__()
        e = add_time(self, cfg)
        n = cfg["nunits"]
        self.inblock = nn.Linear(cfg["dim"] + e, n)
        self.midblocks = nn.ModuleList(
            [DiffusionBlock(n, cfg["activation"]) for _ in range(cfg["nblocks"])]
        )
        self.outblock = nn.Linear(n, cfg["dim"])

    def forward(self, x, t):
        te = time_features(self, t)
        val = x if te is None else torch.hstack([x, te])
        val = self.inblock(val)
        for midblock in self.midblocks:
            val = midblock(val)
        return self.outblock(val)


class MLP(nn.Module):
    """Seed 004's MLPVectorField (out = dim) and seed 000's discriminator (out = 1)."""

    def __init__(self, cfg, out):
        super().__init__()
        e = add_time(self, cfg)
        widths = [cfg["dim"] + e] + list(cfg["hidden"]) + [out]
        layers = []
        for i in range(len(widths) - 1):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(activation(cfg["activation"]))
        self.net = nn.Sequential(*layers)

    def forward(self, x, t):
        te = time_features(self, t)
        return self.net(x if te is None else torch.cat([x, te], dim=-1))


def build(cfg):
    arch = cfg["arch"]
    if arch == "score-mlp":
        return ScoreModel(cfg)
    if arch == "ddpm-mlp":
        return DiffusionModel(cfg)
    if arch == "vector-mlp":
        return MLP(cfg, cfg["dim"])
    if arch == "discriminator":
        return MLP(cfg, 1)
    raise ValueError(f"unknown arch {arch}")


def main():
    d = sys.argv[1]
    tol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-6
    cases = sorted(glob.glob(os.path.join(d, "net*.safetensors")))
    if not cases:
        print(f"no checkpoints in {d}")
        return 1
    failed = 0
    for ck in cases:
        side = json.load(open(ck[: -len(".safetensors")] + ".json"))
        assert side["format"] == "pflow-net/1", side["format"]
        cfg = side["model"]
        m = build(cfg)
        m.load_state_dict(load_file(ck), strict=True)
        m.eval()
        io = load_file(os.path.join(d, "io" + os.path.basename(ck)[3:]))
        with torch.no_grad():
            out = m(io["x"], io["t"])
        diff = (out - io["out"]).abs().max().item()
        ok = out.shape == io["out"].shape and diff <= tol
        failed += not ok
        print(f"{os.path.basename(ck)} {cfg['arch']} time={cfg['time_embed']}: max|diff| = {diff:.3e} {'ok' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
