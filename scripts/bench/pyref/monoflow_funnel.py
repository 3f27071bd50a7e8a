"""`monoflow-funnel`: seed 000's generator-free GAN (MonoFlow) toward seed 001's funnel.

As in the seed: BCEWithLogitsLoss, D_logit an MLP (the seed leaves its sizes open; pflow's
defaults: [128, 128], SiLU), Adam(lr=1e-3) for D, SGD([xs], lr=1e-3) for the particles, one D
step on a data batch against `np.random.choice` particles, then `G_loss = -torch.sum(D_logit(xs))`.
Particles start from N(0, I); each iteration draws a fresh data batch from the funnel (the seed's
data loader).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from .common import sample_funnel_data

data_dim = 2


class Discriminator(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(data_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def monoflow(n_particles, iterations, batch_size, device):
    # loss
    criterion = nn.BCEWithLogitsLoss()
    # build network
    D_logit = Discriminator().to(device)
    xs = torch.randn(n_particles, data_dim).to(device)
    xs.requires_grad = True
    # optimizer
    D_optimizer = optim.Adam(D_logit.parameters(), lr=0.001)
    G_optimizer = optim.SGD([xs], lr=0.001)
    for _ in range(iterations):
        x = sample_funnel_data(batch_size, device=device)
        # ==============Train the discriminator===============#
        D_optimizer.zero_grad()
        # eval real loss on p
        x_real, y_real = x.view(-1, data_dim), torch.ones(batch_size, 1).to(device)
        real_loss = criterion(D_logit(x_real), y_real)
        # randomly select some particles to train the discriminator
        idx = np.random.choice(xs.shape[0], batch_size, replace=False)
        x_fake, y_fake = xs[idx], torch.zeros(batch_size, 1).to(device)
        fake_loss = criterion(D_logit(x_fake), y_fake)
        # gradient backprop & optimize ONLY D's parameters
        D_loss = real_loss + fake_loss
        D_loss.backward()
        D_optimizer.step()
        # ==============Update particles===============#
        G_optimizer.zero_grad()
        # update all particles
        # allow for the batch gradient for each particle
        G_loss = -torch.sum(D_logit(xs))
        G_loss.backward()
        G_optimizer.step()
    return xs.detach()


def run(sizes, device, args, timed):
    n, k, b = sizes["particles"], sizes["steps"], sizes["batch"]
    if b > n:
        raise SystemExit(f"--batch {b} must be at most --particles {n} (a batch of distinct particles)")
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    monoflow(n, min(k, 5), b, device)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    wall, x = timed(device, lambda: monoflow(n, k, b, device))
    return dict(wall_s=wall, work=k, unit="iterations/s", check=x.double().mean().item())
