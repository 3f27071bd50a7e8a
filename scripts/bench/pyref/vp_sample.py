"""`vp-sample-sde` and `vp-sample-ode`: seed 001's `vp_sde_sample` and `vp_ode_sample` with its
ScoreModel (untrained: the cost does not depend on the weights), 20 000 particles, timesteps =
1500 (the score is evaluated at t = k/1500 for k = 1499 … 1).

Kept from the seed: the per-step scalar tensors, `torch.Tensor([t]*len(x_t))`, the finiteness
check of the prediction, `.cpu()`/`.to(device)` (no-ops on the CPU). Not kept: the `print` of t
on every step and the trajectory (`save_trajectory=False`, an option of the seed's function).
"""
import math

import torch

from .common import ScoreModel


def vp_sde_sample(model, x_T, timesteps, beta_min=0.1, beta_max=20.0, save_trajectory=True, device="cpu"):
    """Implements the reverse sampling process for VP-SDE using Euler-Maruyama method."""
    dt = 1.0 / timesteps  # Time step for numerical integration
    x_t = x_T.clone()
    trajectory = [x_t.clone().cpu().numpy()] if save_trajectory else None
    model = model.eval()
    for t_index in reversed(range(1, timesteps)):
        t = t_index * dt
        # 计算 α(t) 和 σ(t)
        integral = beta_min * t + 0.5 * (beta_max - beta_min) * t**2
        integral = torch.Tensor([integral])
        alpha = torch.exp(-integral)
        beta_t = beta_min + (beta_max - beta_min) * t
        beta_t = torch.Tensor([beta_t])
        with torch.no_grad():
            t_input = torch.Tensor([t] * len(x_t)).to(device).unsqueeze(-1)
            noise_pred = model(x_t.to(device), t_input)
            if not torch.isfinite(noise_pred).all():
                raise RuntimeError(f"score_function got nan at {t_index}")
            score_function = - noise_pred.cpu() / torch.sqrt(1 - alpha)
        s_theta = score_function.cpu()
        # Reverse SDE Euler-Maruyama step
        x_t = x_t + 1 / 2 * beta_t * (x_t + 2 * s_theta) * dt  # dritf term
        x_t += torch.sqrt(beta_t) * torch.randn_like(x_t) * math.sqrt(dt)  # diffusion term
        if not torch.isfinite(x_t).all():
            print("xt got infinite", t_index, x_t[:2], torch.sqrt(1 - alpha))
        if save_trajectory:
            trajectory.append(x_t.clone().cpu().numpy())
    return x_t, trajectory if save_trajectory else None


def vp_ode_sample(model, x_T, timesteps, beta_min=0.1, beta_max=20.0, save_trajectory=True, device="cpu"):
    """The probability-flow ODE counterpart (Euler)."""
    dt = 1.0 / timesteps  # Time step for numerical integration
    x_t = x_T.clone()
    trajectory = [x_t.clone().cpu().numpy()] if save_trajectory else None
    model = model.eval()
    for t_index in reversed(range(1, timesteps)):
        t = t_index * dt
        # 计算 α(t) 和 σ(t)
        integral = beta_min * t + 0.5 * (beta_max - beta_min) * t**2
        integral = torch.Tensor([integral])
        alpha = torch.exp(-integral)
        beta_t = beta_min + (beta_max - beta_min) * t
        beta_t = torch.Tensor([beta_t])
        with torch.no_grad():
            t_input = torch.Tensor([t] * len(x_t)).to(device).unsqueeze(-1)
            noise_pred = model(x_t.to(device), t_input)
            if not torch.isfinite(noise_pred).all():
                raise RuntimeError(f"score_function got nan at {t_index}")
            score_function = - noise_pred.cpu() / torch.sqrt(1 - alpha)
        s_theta = score_function.cpu()
        x_t = x_t + 1 / 2 * beta_t * (x_t + s_theta) * dt
        if not torch.isfinite(x_t).all():
            print("xt got infinite", t_index, x_t[:2], torch.sqrt(1 - alpha))
        if save_trajectory:
            trajectory.append(x_t.clone().cpu().numpy())
    return x_t, trajectory if save_trajectory else None


def _run(sampler, sizes, device, args, timed):
    n, k = sizes["particles"], sizes["steps"]
    if k < 2:
        raise SystemExit("--steps must be at least 2 (the seed's `timesteps`)")
    torch.manual_seed(args.seed)
    model = ScoreModel().to(device)
    sampler(model, torch.randn(n, 2), min(k, 11), save_trajectory=False, device=device)
    torch.manual_seed(args.seed)
    x_T = torch.randn(n, 2)  # Sample from Gaussian prior (standard normal)
    wall, (x, _) = timed(device, lambda: sampler(model, x_T, k, save_trajectory=False, device=device))
    return dict(wall_s=wall, work=n * (k - 1), unit="particle-steps/s", nfe=k - 1, check=x.double().mean().item())


def run_sde(sizes, device, args, timed):
    return _run(vp_sde_sample, sizes, device, args, timed)


def run_ode(sizes, device, args, timed):
    return _run(vp_ode_sample, sizes, device, args, timed)
