"""`vp-train`: seed 001's VP-SDE training loop for its ScoreModel (ε-prediction).

As in the seed: 100 000 funnel samples in a TensorDataset, DataLoader(batch_size=512,
shuffle=True), Adam(lr=3e-4), t ~ U(0, 1), the plain ε-MSE, `loss.item()` every step. The run
stops after `train_steps` optimiser steps (crossing epochs) instead of 200 epochs.
"""
import torch
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from .common import ScoreModel, sample_funnel_data

beta_min, beta_max = 0.1, 20.0


def train(model, optimizer, dataloader, steps, device):
    done = 0
    total_loss = 0.0
    while done < steps:
        for batch, in dataloader:
            x0 = batch.to(device)
            batch_size = x0.size(0)
            # 采样时间和噪声 (sample times and noise)
            t = torch.rand(batch_size, 1, device=device)
            epsilon = torch.randn_like(x0, device=device)
            # 计算 α(t) 和 σ(t)
            integral = beta_min * t + 0.5 * (beta_max - beta_min) * t**2
            alpha = torch.exp(-integral)
            # 扰动数据 (perturb the data)
            x_t = torch.sqrt(alpha) * x0 + torch.sqrt(1.0 - alpha) * epsilon
            # 预测噪声 (predict the noise)
            score_pred = model(x_t, t)
            loss = torch.mean((score_pred - epsilon)**2)
            # 反向传播 (backpropagate)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * batch_size
            done += 1
            if done == steps:
                break
    return loss.item()


def run(sizes, device, args, timed):
    steps, batch = sizes["train_steps"], sizes["batch"]
    torch.manual_seed(args.seed)
    model = ScoreModel().to(device)
    optimizer = optim.Adam(model.parameters(), lr=3e-4)
    data = sample_funnel_data(100000)
    dataset = TensorDataset(data)
    dataloader = DataLoader(dataset, batch_size=batch, shuffle=True)
    train(model, optimizer, dataloader, min(steps, 5), device)
    wall, loss = timed(device, lambda: train(model, optimizer, dataloader, steps, device))
    return dict(wall_s=wall, work=steps * batch, unit="samples/s", check=loss)
