"""`likelihood-gmm1d`: seed 002's exact log-likelihood through the probability-flow ODE,
d/dt [x, log p] = [f̃, tr ∂f̃/∂x] with f̃ = −½β(t)(x + s(x, t)), from T_ε = 1e-5 to T = 1 for
10 000 equidistant points of (−4, 4), rtol = atol = 1e-5, prior N(0, 1), VP β ∈ [0.1, 20].

The score net is seed 001's ScoreModel for D = 1 predicting the score (seed 002 trains its own;
the timing depends on the field only through the step count, so both languages load the same
weights with --weights and report their `nfe`).

Two solvers:
- `scipy` — seed 002's loop as written: scipy's RK45 over a float64 numpy state, each right-hand
  side converting to torch, evaluating the net once for the drift and again inside the
  divergence (autograd with create_graph=True), and converting back. Fixed from the seed: the
  garbled `solve_ivp` call (its t_span, y0, rtol, atol, method are restored) and the missing
  `requires_grad_` on x before `autograd.grad`.
- `torchdiffeq` — what a careful user writes with torchdiffeq's dopri5 at the same tolerances:
  the state stays a torch tensor, one forward and one `autograd.grad` per evaluation.
"""
import numpy as np
import scipy.integrate
import torch
import torch.nn as nn

from .common import ScoreModel

beta_min, beta_max = 0.1, 20.0
Teps, T = 1e-5, 1.0


def beta(t):
    return beta_min + (beta_max - beta_min) * t


def likelihood_ode(score_net, x_low=-4., x_high=4., x_npts=10000, device="cpu"):
    """likelihood via probability flow equation (ODE)"""
    nfe = [0]

    def gen_score_net_div(score_net):
        def score_net_div(x, t):
            x.requires_grad_(True)
            model_output = score_net(x, t)
            model_div = torch.autograd.grad(torch.sum(model_output), x, create_graph=True)[0]
            return model_div
        return score_net_div

    def gen_ode_likelihood(init_x: np.ndarray, rtol=1e-5, atol=1e-5, method='RK45'):
        def ode_func(x, t):
            return -0.5 * beta(t) * (x + score_net(x, t))

        def ode_func_div(x, t):
            return -0.5 * beta(t) * (1 + score_net_div(x, t))

        def prior_logp(z):
            logZ = -0.5 * np.log(2 * np.pi)
            return (logZ - 0.5 * z**2).sum(axis=1, keepdims=True)

        def x_logp_ode_solver_func(t: float, x_logp: np.ndarray):
            nfe[0] += 1
            x = torch.from_numpy(x_logp[:x_npts * x_dim].reshape(x_npts, x_dim))
            x = x.to(device).float()
            t = (torch.ones(x_npts, 1).to(device) * t).requires_grad_(False)
            drift = ode_func(x, t).reshape(-1).detach().cpu().numpy()
            logp_grad = ode_func_div(x, t).reshape(-1).detach().cpu().numpy()
            return np.concatenate([drift, logp_grad], axis=0)

        x_npts, x_dim = init_x.shape
        init_x_logp = np.concatenate([init_x.reshape(-1), np.zeros(x_npts)], axis=0)
        solution = scipy.integrate.solve_ivp(x_logp_ode_solver_func, (Teps, T), init_x_logp,
                                             rtol=rtol, atol=atol, method=method,
                                             t_eval=np.linspace(Teps, T, 100))
        sol = solution.y[:, -1]
        x = sol[:x_npts * x_dim].reshape(x_npts, x_dim)
        logp = sol[x_npts * x_dim:].reshape(x_npts, 1)
        logpT = prior_logp(x)  # log(p(x(T)))
        logp = logpT + logp
        return logp

    score_net_div = gen_score_net_div(score_net)
    init_x = np.linspace(x_low, x_high, x_npts)
    init_x = np.expand_dims(init_x, -1)
    logp = gen_ode_likelihood(init_x=init_x)
    return init_x, logp, nfe[0]


class AugmentedDrift(nn.Module):
    """[f̃, tr ∂f̃/∂x] for torchdiffeq, with the exact trace of a 1-D field."""

    def __init__(self, score_net):
        super().__init__()
        self.score_net = score_net
        self.nfe = 0

    def forward(self, t, state):
        self.nfe += 1
        with torch.enable_grad():
            x = state[:, :1].detach().requires_grad_(True)
            tt = torch.ones(x.shape[0], 1, device=x.device) * t
            s = self.score_net(x, tt)
            div = torch.autograd.grad(s.sum(), x)[0]
        b = beta(t)
        return torch.cat([-0.5 * b * (x + s), -0.5 * b * (1 + div)], dim=1).detach()


def likelihood_torchdiffeq(score_net, x_low=-4., x_high=4., x_npts=10000, device="cpu"):
    from torchdiffeq import odeint
    x = torch.linspace(x_low, x_high, x_npts, device=device).unsqueeze(1)
    func = AugmentedDrift(score_net)
    y0 = torch.cat([x, torch.zeros_like(x)], dim=1)
    with torch.no_grad():
        y = odeint(func, y0, torch.tensor([Teps, T], device=device), rtol=1e-5, atol=1e-5, method="dopri5")[-1]
    xT, delta = y[:, :1], y[:, 1:]
    logp = -0.5 * np.log(2 * np.pi) - 0.5 * xT**2 + delta
    return x, logp, func.nfe


def run(sizes, device, args, timed):
    n = sizes["particles"]
    torch.manual_seed(args.seed)
    score_net = ScoreModel(dim=1).to(device)
    if args.weights:
        from safetensors.torch import load_file
        score_net.load_state_dict(load_file(args.weights))
    solve = likelihood_ode if args.solver == "scipy" else likelihood_torchdiffeq
    solve(score_net, x_npts=min(n, 256), device=device)
    wall, (_, logp, nfe) = timed(device, lambda: solve(score_net, x_npts=n, device=device))
    check = float(np.mean(logp)) if isinstance(logp, np.ndarray) else logp.double().mean().item()
    return dict(wall_s=wall, work=n * nfe, unit="point-evals/s", nfe=nfe, check=check)
