"""`ddpm-train` and `ddpm-sample`: seed 001's DDPM code (from the nano-diffusion post it cites)
with its DiffusionModel(nfeatures=2, nblocks=4), T = `diffusion_steps` = 1000.

The seed leaves `noise`, `diffusion_steps`, `betas`, `alphas`, `baralphas` and `X` undefined;
they are the post's: the cosine schedule (s = 0.008) and `noise(Xbatch, t)`; X is 100 000 funnel
samples. Fixed: `**init**`, `epoch_loss += loss` (kept every step's graph alive; now
`loss.item()`), the LinearLR scheduler is stepped once per epoch (the seed creates it but never
steps it). The training run stops after `train_steps` optimiser steps. Sampling keeps the seed's
loop (t = T−1 … 1, i.e. T − 1 network calls) without collecting the trajectory list `xt`.
"""
import torch
import torch.nn as nn
import torch.optim as optim

from .common import DiffusionModel, sample_funnel_data

diffusion_steps = 1000


def schedule(steps):
    s = 0.008
    timesteps = torch.tensor(range(0, steps), dtype=torch.float32)
    sched = torch.cos((timesteps / steps + s) / (1 + s) * torch.pi / 2)**2
    baralphas = sched / sched[0]
    betas = 1 - baralphas / torch.concatenate([baralphas[0:1], baralphas[0:-1]])
    alphas = 1 - betas
    return betas, alphas, baralphas


betas, alphas, baralphas = schedule(diffusion_steps)


def noise(Xbatch, t):
    eps = torch.randn(size=Xbatch.shape)
    noised = (baralphas[t] ** 0.5).repeat(1, Xbatch.shape[1]) * Xbatch + ((1 - baralphas[t]) ** 0.5).repeat(1, Xbatch.shape[1]) * eps
    return noised, eps


def train(model, optimizer, scheduler, X, batch_size, steps, device):
    loss_fn = nn.MSELoss()
    done = 0
    while done < steps:
        epoch_loss = n = 0
        for i in range(0, len(X), batch_size):
            Xbatch = X[i:i + batch_size]
            timesteps = torch.randint(0, diffusion_steps, size=[len(Xbatch), 1])
            noised, eps = noise(Xbatch, timesteps)
            predicted_noise = model(noised.to(device), timesteps.to(device))
            loss = loss_fn(predicted_noise, eps.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
            n += 1
            done += 1
            if done == steps:
                break
        scheduler.step()
    return epoch_loss / n


def run_train(sizes, device, args, timed):
    steps, batch = sizes["train_steps"], sizes["batch"]
    torch.manual_seed(args.seed)
    model = DiffusionModel(nfeatures=2, nblocks=4).to(device)
    X = sample_funnel_data(100000)
    nepochs = 100
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    scheduler = optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.01, total_iters=nepochs)
    train(model, optimizer, scheduler, X, batch, min(steps, 5), device)
    wall, loss = timed(device, lambda: train(model, optimizer, scheduler, X, batch, steps, device))
    return dict(wall_s=wall, work=steps * batch, unit="samples/s", check=loss)


def sample_ddpm(model, nsamples, nfeatures, steps, device="cpu"):
    """Sampler following the Denoising Diffusion Probabilistic Models method by Ho et al (Algorithm 2)"""
    betas, alphas, baralphas = schedule(steps)
    with torch.no_grad():
        x = torch.randn(size=(nsamples, nfeatures)).to(device)
        for t in range(steps - 1, 0, -1):
            predicted_noise = model(x, torch.full([nsamples, 1], t).to(device))
            # See DDPM paper between equations 11 and 12
            x = 1 / (alphas[t] ** 0.5) * (x - (1 - alphas[t]) / ((1 - baralphas[t]) ** 0.5) * predicted_noise)
            if t > 1:
                # See DDPM paper section 3.2.
                # Choosing the variance through beta_t is optimal for x_0 a normal distribution
                variance = betas[t]
                std = variance ** (0.5)
                x += std * torch.randn(size=(nsamples, nfeatures)).to(device)
        return x


def run_sample(sizes, device, args, timed):
    n, k = sizes["particles"], sizes["steps"]
    torch.manual_seed(args.seed)
    model = DiffusionModel(nfeatures=2, nblocks=4).to(device)
    sample_ddpm(model, n, 2, min(k, 10), device)
    torch.manual_seed(args.seed)
    wall, x = timed(device, lambda: sample_ddpm(model, n, 2, k, device))
    return dict(wall_s=wall, work=n * (k - 1), unit="particle-steps/s", nfe=k - 1, check=x.double().mean().item())
