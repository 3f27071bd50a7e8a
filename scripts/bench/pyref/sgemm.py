"""`sgemm`: torch.mm of two n × n float32 matrices, the roofline of this torch on this device."""
import torch


def run(sizes, device, args, timed):
    n, reps = sizes["particles"], sizes["steps"]
    torch.manual_seed(args.seed)
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(2):
        c = torch.mm(a, b)

    def go():
        c = None
        for _ in range(reps):
            c = torch.mm(a, b)
        return c

    wall, c = timed(device, go)
    return dict(wall_s=wall, work=2.0 * n**3 * reps, unit="flop/s", check=c.abs().mean().item())
