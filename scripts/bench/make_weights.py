#!/usr/bin/env python3
"""Writes the likelihood-gmm1d score net's weights (seed 001's ScoreModel for D = 1, PyTorch's
default initialisation under torch.manual_seed(SEED)) as .safetensors with the state_dict names,
which `pf bench likelihood-gmm1d --weights FILE` loads too: both languages integrate the same
field, so the adaptive solver takes the same steps.

    python scripts/bench/make_weights.py OUT.safetensors [--seed 0]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from pyref.common import ScoreModel  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
torch.manual_seed(a.seed)
net = ScoreModel(dim=1)
os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
save_file({k: v.contiguous() for k, v in net.state_dict().items()}, a.out)
print(a.out)
