"""`langevin-funnel`: seed 001's Langevin sampling on its funnel.

Fixed from the seed: `funnel_score` is the score of the funnel the seed trains on
(z ~ N(0, 0.8²), x | z ~ N(0, (e^z/5)²)); the seed's formula belongs to another density (see
pf-core's funnel.rs erratum). Not kept: the per-step `trajectory.append(samples.clone())`
(recording frames for the GIF is not sampling; the Rust side records nothing either).
"""
import math

import torch


def funnel_score(x, z):
    """Compute the score function (gradient of log-density) of the funnel distribution."""
    e = torch.exp(-2 * z)
    score_x = -25 * x * e
    score_z = -z / 0.64 - 1 + 25 * x**2 * e
    return torch.stack([score_x, score_z], dim=1)


def langevin_sampling_funnel(num_samples=10000, lr=0.001, num_steps=1500, noise_scale=0.001, device="cpu"):
    """Sample from the funnel distribution using Langevin dynamics."""
    # Initialize samples from a normal distribution
    samples = torch.randn(num_samples, 2, device=device)
    for _ in range(num_steps):
        x, z = samples[:, 0], samples[:, 1]
        score = funnel_score(x, z)
        samples = samples + lr * score + math.sqrt(2 * noise_scale) * torch.randn_like(samples)
    return samples


def run(sizes, device, args, timed):
    n, k = sizes["particles"], sizes["steps"]
    torch.manual_seed(args.seed)
    langevin_sampling_funnel(n, num_steps=min(k, 10), device=device)
    torch.manual_seed(args.seed)
    wall, x = timed(device, lambda: langevin_sampling_funnel(n, num_steps=k, device=device))
    return dict(wall_s=wall, work=n * k, unit="particle-steps/s", check=x.double().mean().item())
