"""Pieces shared by several references: seed 001's funnel data and its two networks."""
import torch
import torch.nn as nn


def sample_funnel_data(num_samples=10000, device="cpu"):
    """Seed 001: z ~ N(0, 0.8²), x | z ~ N(0, (e^z/5)²); columns [x, z]."""
    z = torch.randn(num_samples, device=device) * 0.8
    x = torch.randn(num_samples, device=device) * torch.exp(z) / 5
    return torch.stack([x, z], dim=1)


class ScoreModel(nn.Module):
    """Seed 001's ScoreModel (its input/output width 2 generalised to `dim`, for seed 002's 1-D
    likelihood)."""

    def __init__(self, hidden_dims=[128, 256, 128], embed_dim=64, dim=2):
        super().__init__()
        # 时间嵌入层 (time embedding)
        self.embed = nn.Sequential(
            nn.Linear(1, embed_dim),
            nn.SiLU(),
            nn.Linear(embed_dim, embed_dim)
        )
        # 主干网络 (trunk)
        self.net = nn.ModuleList()
        input_dim = dim  # 输入维度
        for h_dim in hidden_dims:
            self.net.append(nn.Sequential(
                nn.Linear(input_dim + embed_dim, h_dim),
                nn.SiLU()))
            input_dim = h_dim
        self.out = nn.Linear(input_dim, dim)  # 输出噪声预测

    def forward(self, x, t):
        t_embed = self.embed(t)
        for layer in self.net:
            x = layer(torch.cat([x, t_embed], dim=1))
        return self.out(x)


class DiffusionBlock(nn.Module):
    """Seed 001's DDPM block (its `**init**` typo fixed)."""

    def __init__(self, nunits):
        super(DiffusionBlock, self).__init__()
        self.linear = nn.Linear(nunits, nunits)

    def forward(self, x: torch.Tensor):
        x = self.linear(x)
        x = nn.functional.relu(x)
        return x


class DiffusionModel(nn.Module):
    """Seed 001's DDPM DiffusionModel (its `**init**` typo fixed)."""

    def __init__(self, nfeatures: int, nblocks: int = 2, nunits: int = 64):
        super(DiffusionModel, self).__init__()
        self.inblock = nn.Linear(nfeatures + 1, nunits)
        self.midblocks = nn.ModuleList([DiffusionBlock(nunits) for _ in range(nblocks)])
        self.outblock = nn.Linear(nunits, nfeatures)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        val = torch.hstack([x, t])  # Add t to inputs
        val = self.inblock(val)
        for midblock in self.midblocks:
            val = midblock(val)
        val = self.outblock(val)
        return val
