#!/usr/bin/python3
"""Golden values for the whole-model tests, computed by PyTorch (Debian's python3-torch).

For a fixed batch and fixed weights (both given by formulas that tests/aot/GoldenTest.cpp
computes the same way) and labels stored with the results, PyTorch in double precision computes the loss, the number of
correctly classified examples, the class probabilities and the gradient of the loss with
respect to every parameter. lenetc's compiled pipelines must reproduce them. For each array
it also records how far PyTorch's own float32 computation lands from the double result
(`<name>.f32err`, in the test's error measure): where float32 cannot resolve a value to
1e-4 (sums with cancellation), the test asks lenetc for PyTorch's float32 accuracy instead.

    /usr/bin/python3 tests/golden/make_golden.py [OUTPUT_DIR]     # default: tests/golden

Each model is written out by hand here, from its description in models/ (or tests/golden/
for models that exist only to be tested), the way a PyTorch user would write it. File format (<model>.golden): the line "LENETC-GOLDEN 1", then per
array a line "<name> <count>" followed by <count> little-endian float32 values.
"""
import math, os, struct, sys

import torch
import torch.nn.functional as F

BATCH = 4
A, S = 1.7159, 2.0 / 3.0  # LeCun's scaled tanh

# Table I of LeCun et al. 1998: the S2 maps each C3 map reads (as in models/lenet5_classic.nn).
C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


def f32(t):
    """What a float32 pipeline sees: the value rounded to float32, held in double."""
    return t.float().double()


def batch(c, h, w):
    """The input batch: images in [0, 1]."""
    i = torch.arange(BATCH * c * h * w, dtype=torch.float64)
    return f32(0.5 + 0.5 * torch.sin(0.37 * i + 0.11)).reshape(BATCH, c, h, w)


def param(index, shape, role):
    """Parameter `index` (in the model's order): amplitude 1/sqrt(fan-in) for weights, 0.5 else."""
    n = math.prod(shape)
    amp = 1.0 / math.sqrt(n / shape[0]) if role == "weight" else 0.5
    k = torch.arange(n, dtype=torch.float64)
    return f32(amp * torch.sin(1.3 * k + 0.7 * index + 0.1)).reshape(shape).requires_grad_(True)


def lenet5(params, x):
    c1w, c1b, c3w, c3b, f5w, f5b, f6w, f6b, lw, lb = params
    h = torch.sigmoid(F.conv2d(x, c1w, c1b, padding=2))
    h = F.avg_pool2d(h, 2, 2)
    h = torch.sigmoid(F.conv2d(h, c3w, c3b))
    h = F.avg_pool2d(h, 2, 2)
    h = torch.sigmoid(F.linear(h.flatten(1), f5w, f5b))
    h = torch.sigmoid(F.linear(h, f6w, f6b))
    return F.linear(h, lw, lb)


def lenet5_params():
    specs = [((6, 1, 5, 5), "weight"), ((6,), "bias"), ((16, 6, 5, 5), "weight"), ((16,), "bias"),
             ((120, 400), "weight"), ((120,), "bias"), ((84, 120), "weight"), ((84,), "bias"),
             ((10, 84), "weight"), ((10,), "bias")]
    names = ["c1.w", "c1.b", "c3.w", "c3.b", "f5.w", "f5.b", "f6.w", "f6.b", "logits.w", "logits.b"]
    return names, [param(i, s, r) for i, (s, r) in enumerate(specs)]


def lenet5_modern(params, x):
    """lenet5.nn with ReLU and max pooling (models/lenet5_modern.nn); the same parameters."""
    c1w, c1b, c3w, c3b, f5w, f5b, f6w, f6b, lw, lb = params
    h = F.max_pool2d(torch.relu(F.conv2d(x, c1w, c1b, padding=2)), 2, 2)
    h = F.max_pool2d(torch.relu(F.conv2d(h, c3w, c3b)), 2, 2)
    h = torch.relu(F.linear(h.flatten(1), f5w, f5b))
    h = torch.relu(F.linear(h, f6w, f6b))
    return F.linear(h, lw, lb)


def lenet1(params, x):
    c1w, c1b, c3w, c3b, lw, lb = params
    h = F.avg_pool2d(torch.tanh(F.conv2d(x, c1w, c1b)), 2, 2)
    h = F.avg_pool2d(torch.tanh(F.conv2d(h, c3w, c3b)), 2, 2)
    return F.linear(h.flatten(1), lw, lb)


def lenet1_params():
    specs = [((4, 1, 5, 5), "weight"), ((4,), "bias"), ((12, 4, 5, 5), "weight"), ((12,), "bias"),
             ((10, 192), "weight"), ((10,), "bias")]
    names = ["c1.w", "c1.b", "c3.w", "c3.b", "logits.w", "logits.b"]
    return names, [param(i, s, r) for i, (s, r) in enumerate(specs)]


def scaled_tanh(t):
    return A * torch.tanh(S * t)


def subsample(t, coef, b):
    window_sum = F.avg_pool2d(t, 2, 2) * 4
    return coef.view(1, -1, 1, 1) * window_sum + b.view(1, -1, 1, 1)


def table_weight(sparse, table, channels):
    """The [connections, k, k] weight of a table conv as the dense [F, C, k, k] one."""
    f_idx = torch.tensor([f for f, row in enumerate(table) for _ in row])
    c_idx = torch.tensor([c for row in table for c in row])
    k = sparse.shape[-1]
    dense = torch.zeros(len(table), channels, k, k, dtype=sparse.dtype)
    return dense.index_put((f_idx, c_idx), sparse)


def lenet5_classic(params, x):
    c1w, c1b, s2c, s2b, c3w, c3b, s4c, s4b, c5w, c5b, f6w, f6b, lw, lb = params
    h = scaled_tanh(F.conv2d(x, c1w, c1b))
    h = scaled_tanh(subsample(h, s2c, s2b))
    h = scaled_tanh(F.conv2d(h, table_weight(c3w, C3_TABLE, 6), c3b))
    h = scaled_tanh(subsample(h, s4c, s4b))
    h = scaled_tanh(F.conv2d(h, c5w, c5b))
    h = scaled_tanh(F.linear(h.flatten(1), f6w, f6b))
    return F.linear(h, lw, lb)


def lenet5_classic_params():
    specs = [((6, 1, 5, 5), "weight"), ((6,), "bias"), ((6,), "coef"), ((6,), "bias"),
             ((60, 5, 5), "weight"), ((16,), "bias"), ((16,), "coef"), ((16,), "bias"),
             ((120, 16, 5, 5), "weight"), ((120,), "bias"), ((84, 120), "weight"), ((84,), "bias"),
             ((10, 84), "weight"), ((10,), "bias")]
    names = ["c1.w", "c1.b", "s2.coef", "s2.b", "c3.w", "c3.b", "s4.coef", "s4.b", "c5.w", "c5.b",
             "f6.w", "f6.b", "logits.w", "logits.b"]
    return names, [param(i, s, r) for i, (s, r) in enumerate(specs)]


def activations(params, x):
    """tests/golden/activations.nn: lenet5.nn's shapes with leaky ReLU, GELU and ELU."""
    c1w, c1b, c3w, c3b, f5w, f5b, f6w, f6b, lw, lb = params
    h = F.max_pool2d(F.leaky_relu(F.conv2d(x, c1w, c1b, padding=2), 0.1), 2, 2)
    h = F.avg_pool2d(F.gelu(F.conv2d(h, c3w, c3b), approximate="tanh"), 2, 2)
    h = F.elu(F.linear(h.flatten(1), f5w, f5b), 1.0)
    h = F.gelu(F.linear(h, f6w, f6b), approximate="tanh")
    return F.linear(h, lw, lb)


def activations_params():
    _, params = lenet5_params()
    names = ["c1.w", "c1.b", "s4.conv.w", "s4.conv.b", "f5.w", "f5.b", "f6.w", "f6.b", "logits.w", "logits.b"]
    return names, params


MODELS = {
    "lenet5": (lenet5, lenet5_params, (1, 28, 28)),
    "lenet5_classic": (lenet5_classic, lenet5_classic_params, (1, 32, 32)),
    "lenet5_modern": (lenet5_modern, lenet5_params, (1, 28, 28)),
    "lenet1": (lenet1, lenet1_params, (1, 28, 28)),
    "activations": (activations, activations_params, (1, 28, 28)),
}


def deviation(got, want):
    """The test's error measure: max |got - want| / max(|want|, max|want| / 10)."""
    want = want.detach()
    floor = 0.1 * want.abs().max()
    return ((got.detach().double() - want).abs() / torch.clamp(want.abs(), min=floor)).max().reshape(1)


def write(path, arrays):
    with open(path, "wb") as f:
        f.write(b"LENETC-GOLDEN 1\n")
        for name, values in arrays:
            flat = [float(v) for v in values.detach().reshape(-1)]
            f.write(f"{name} {len(flat)}\n".encode())
            f.write(struct.pack(f"<{len(flat)}f", *flat))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.set_default_dtype(torch.float64)
    for model, (net, make_params, shape) in MODELS.items():
        names, params = make_params()
        x = batch(*shape)
        logits = net(params, x)
        # Labels: the first half of the batch as the network predicts it, the rest not, so
        # that the correct count is neither 0 nor the batch (they are stored in the file).
        predicted = logits.argmax(1)
        y = torch.tensor([int(p) if n < BATCH // 2 else (int(p) + 1 + n) % 10
                          for n, p in enumerate(predicted)])
        loss = F.cross_entropy(logits, y)  # softmax + cross-entropy, mean over the batch
        grads = torch.autograd.grad(loss, params)
        correct = (logits.argmax(1) == y).sum().double()
        probs = torch.softmax(logits, 1)
        # The same in float32: how far PyTorch's own float32 lands from the double result
        # bounds what any float32 implementation can be asked for (ill-conditioned sums).
        params32 = [p.detach().float().requires_grad_(True) for p in params]
        logits32 = net(params32, x.float())
        grads32 = torch.autograd.grad(F.cross_entropy(logits32, y), params32)
        probs32 = torch.softmax(logits32, 1)

        arrays = [("labels", y.double()), ("loss", loss.reshape(1)), ("correct", correct.reshape(1)),
                  ("probs", probs), ("probs.f32err", deviation(probs32, probs))]
        for n, g, g32 in zip(names, grads, grads32):
            arrays += [(n + ".grad", g), (n + ".grad.f32err", deviation(g32, g))]
        path = os.path.join(out, model + ".golden")
        write(path, arrays)
        print(f"{path}: loss {loss.item():.6f}, correct {int(correct)}/{BATCH}, "
              f"{sum(p.numel() for p in params)} parameters (torch {torch.__version__})")


if __name__ == "__main__":
    main()
