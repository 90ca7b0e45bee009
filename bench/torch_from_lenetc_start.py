#!/usr/bin/python3
"""PyTorch trained from lenetc's own start: the same Xavier and bias draws (runtime/src/Init.cpp:
one std::mt19937_64 stream, each layer's weights then its biases) and the same per-epoch
Fisher-Yates order (runtime/src/Data.cpp's shuffledOrder), so that only the float arithmetic
differs.

    /usr/bin/python3 bench/torch_from_lenetc_start.py SEED EPOCHS [LIMIT_TRAIN] [--sigmoid]
                                                      [--bias zero|fan_in_uniform]

The biases start as the model file's train block says (lenet5_modern.nn: fan_in_uniform;
lenet5.nn: zero) unless --bias names the other (the trainer's --bias-init).

LeNet-5 with ReLU/max pooling (SGD lr 0.1, momentum 0.9, batch 128; --sigmoid: the sigmoid
model, lr 0.9, batch 256) on Fashion-MNIST, its first LIMIT_TRAIN training examples if
given. Compare with lenetc's trainer on the same arguments, e.g.
    build/bin/lenet5_modern-train --seed 0 --limit-train 1280 --epochs 2 --no-checkpoint
The first tens of steps agree to 4-6 digits; after that rounding differences grow until
the two runs are different samples of the same recipe (README, Accuracy). The 10-epoch
runs of seeds 0-14 are in bench/results/torch-from-lenetc-start/ (about a minute each on 2
cores); bench/relu_seeds_summary.py sets them beside lenetc's.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
    from torch import nn
except ImportError as e:
    sys.exit(f"torch_from_lenetc_start.py: {e}: install Debian's python3-torch "
             "(bench/accuracy.sh does it when missing)")
from lenet_torch import load_fashion_mnist

M64 = (1 << 64) - 1


class MT64:
    """std::mt19937_64, number for number."""
    def __init__(self, seed):
        self.mt = [0] * 312; self.mt[0] = seed & M64
        for i in range(1, 312):
            self.mt[i] = (6364136223846793005 * (self.mt[i-1] ^ (self.mt[i-1] >> 62)) + i) & M64
        self.i = 312
    def __call__(self):
        if self.i >= 312:
            mt = self.mt
            for k in range(312):
                y = (mt[k] & 0xFFFFFFFF80000000) | (mt[(k+1) % 312] & 0x7FFFFFFF)
                v = mt[(k+156) % 312] ^ (y >> 1)
                if y & 1: v ^= 0xB5026F5AA96619E9
                mt[k] = v
            self.i = 0
        y = self.mt[self.i]; self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & M64


def main():
    seed, epochs = int(sys.argv[1]), int(sys.argv[2])
    modern = "--sigmoid" not in sys.argv
    torch.set_num_threads(2)
    Act = nn.ReLU if modern else nn.Sigmoid
    Pool = nn.MaxPool2d if modern else nn.AvgPool2d
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), Act(), Pool(2, 2), nn.Conv2d(6, 16, 5), Act(), Pool(2, 2),
                        nn.Flatten(), nn.Linear(400, 120), Act(), nn.Linear(120, 84), Act(), nn.Linear(84, 10))
    # Init.cpp's stream in the model's parameter order (c1.w, c1.b, c3.w, ...): weights uniform
    # in +-sqrt(6/(fan_in+fan_out)), fan_in_uniform biases in +-1/sqrt(fan_in), from 53-bit draws.
    bias = sys.argv[sys.argv.index("--bias") + 1] if "--bias" in sys.argv[:-1] else \
        ("fan_in_uniform" if modern else "zero")
    if bias not in ("zero", "fan_in_uniform"):
        sys.exit(f"torch_from_lenetc_start.py: --bias {bias}: expected zero or fan_in_uniform")
    draw = lambda count, bound: torch.tensor(
        [(2 * ((rng() >> 11) * (1.0 / 9007199254740992.0)) - 1) * bound for _ in range(count)],
        dtype=torch.float64).float()
    rng = MT64((seed * 0x9E3779B97F4A7C15 + 0x1234567) & M64)
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                w = m.weight
                fan_in = w[0].numel(); fan_out = w.shape[0] * (w[0, 0].numel() if w.dim() == 4 else 1)
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                w.copy_(draw(w.numel(), bound).reshape(w.shape))
                if bias == "fan_in_uniform":
                    m.bias.copy_(draw(m.bias.numel(), fan_in ** -0.5))
                else:
                    m.bias.zero_()
    lr, mom, b = (0.1, 0.9, 128) if modern else (0.9, 0.0, 256)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=mom)
    loss = nn.CrossEntropyLoss()
    Xtr, ytr, Xte, yte = [torch.from_numpy(a) for a in load_fashion_mnist()]
    n = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else len(Xtr)
    Xtr, ytr = Xtr[:n], ytr[:n]
    order_rng = MT64(seed)
    for ep in range(epochs):
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = order_rng() % (i + 1); order[i], order[j] = order[j], order[i]
        perm = torch.tensor(order)
        lsum = csum = 0.0
        for step, i in enumerate(range(0, n, b)):
            idx = perm[i:i + b]; X, y = Xtr[idx], ytr[idx]
            opt.zero_grad(); out = net(X); l = loss(out, y); l.backward(); opt.step()
            lsum += l.item() * len(y); csum += (out.argmax(1) == y).sum().item()
        with torch.no_grad():
            net.eval(); acc = (net(Xte).argmax(1) == yte).float().mean().item(); net.train()
        print(f"epoch {ep+1} train loss {lsum/n:.6f} acc {csum/n:.6f} test acc {acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
