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
    """Parameter `index` (in the model's order): amplitude 1/sqrt(fan-in) for weights, 0.5 else;
    around 1 for batchnorm's scale and running variance."""
    n = math.prod(shape)
    amp = 1.0 / math.sqrt(n / shape[0]) if role == "weight" else 0.5
    k = torch.arange(n, dtype=torch.float64)
    base = 1.0 if role in ("scale", "running_var") else 0.0
    return f32(base + amp * torch.sin(FREQUENCY * k + 0.7 * index + 0.1)).reshape(shape).requires_grad_(role not in STATE)


# The parameters' pattern along their values. Models with batchnorm use a less smooth one:
# with 1.3 a dense layer's outputs hardly vary across the batch (std 0.007 in lenet5_bn's
# f5), which batchnorm divides by, making the step ill-conditioned; 12.9898 gives 0.075.
FREQUENCY = 1.3
ZERO_BELOW = 1e-12  # tests/aot/GoldenTest.cpp's kZeroBelow


STATE = ("running_mean", "running_var")  # not trained: the step returns their next values


def mix32(h):
    """Chris Wellons' lowbias32, as lenetc's dropout hashes (compiler/halide/Ops.cpp)."""
    h &= 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x7FEB352D) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x846CA68B) & 0xFFFFFFFF
    return h ^ (h >> 16)


def dropout_keep(seed, shape, rate):
    """lenetc's dropout mask (0 or 1) for a batch whose first example is example 0."""
    per_example = math.prod(shape[1:])
    keep = torch.empty(shape[0], per_example)
    for n in range(shape[0]):
        example = mix32(n + mix32(seed))
        for i in range(per_example):
            u = (mix32(i + example) >> 8) / 16777216.0
            keep[n, i] = 1.0 if u >= rate else 0.0
    return keep.reshape(shape)


SEED = 1234  # the noise input's seed in tests/aot/GoldenTest.cpp


def dropout(h, rate, training):
    return h * dropout_keep(SEED, h.shape, rate).to(h.dtype) / (1 - rate) if training else h


def batchnorm(h, scale, shift, mean, var, training, momentum=0.1, eps=1e-5):
    """PyTorch's batch_norm; in training it moves `mean` and `var` (copies of the running
    statistics) in place, as BatchNorm2d/1d do."""
    return F.batch_norm(h, mean, var, scale, shift, training=training, momentum=momentum, eps=eps)


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


def lenet5_bn(params, x, training=True):
    """models/lenet5_bn.nn: D2L's LeNet with batch normalization."""
    (c1w, c1b, b1s, b1h, b1m, b1v, c3w, c3b, b3s, b3h, b3m, b3v, f5w, f5b, b5s, b5h, b5m, b5v,
     f6w, f6b, b6s, b6h, b6m, b6v, lw, lb) = params
    h = torch.sigmoid(batchnorm(F.conv2d(x, c1w, c1b), b1s, b1h, b1m, b1v, training))
    h = F.avg_pool2d(h, 2, 2)
    h = torch.sigmoid(batchnorm(F.conv2d(h, c3w, c3b), b3s, b3h, b3m, b3v, training))
    h = F.avg_pool2d(h, 2, 2)
    h = torch.sigmoid(batchnorm(F.linear(h.flatten(1), f5w, f5b), b5s, b5h, b5m, b5v, training))
    h = torch.sigmoid(batchnorm(F.linear(h, f6w, f6b), b6s, b6h, b6m, b6v, training))
    return F.linear(h, lw, lb)


BN = [("scale", "scale"), ("shift", "shift"), ("running_mean", "running_mean"), ("running_var", "running_var")]


def named_params(layers):
    """[(name, shape, role)] -> names, parameters."""
    return [n for n, _, _ in layers], [param(i, s, r) for i, (_, s, r) in enumerate(layers)]


def bn_layers(name, channels):
    return [(f"{name}.batchnorm.{suffix}", (channels,), role) for suffix, role in BN]


def lenet5_bn_params():
    return named_params(
        [("c1.w", (6, 1, 5, 5), "weight"), ("c1.b", (6,), "bias")] + bn_layers("c1", 6) +
        [("c3.w", (16, 6, 5, 5), "weight"), ("c3.b", (16,), "bias")] + bn_layers("c3", 16) +
        [("f5.w", (120, 256), "weight"), ("f5.b", (120,), "bias")] + bn_layers("f5", 120) +
        [("f6.w", (84, 120), "weight"), ("f6.b", (84,), "bias")] + bn_layers("f6", 84) +
        [("logits.w", (10, 84), "weight"), ("logits.b", (10,), "bias")])


def regularized(params, x, training=True):
    """tests/golden/regularized.nn: batchnorm and dropout on maps and on features."""
    c1w, c1b, b1s, b1h, b1m, b1v, c3w, c3b, f5w, f5b, b5s, b5h, b5m, b5v, f6w, f6b, lw, lb = params
    h = torch.relu(batchnorm(F.conv2d(x, c1w, c1b, padding=2), b1s, b1h, b1m, b1v, training))
    h = F.max_pool2d(h, 2, 2)
    h = torch.relu(dropout(F.conv2d(h, c3w, c3b), 0.25, training))
    h = F.max_pool2d(h, 2, 2)
    h = torch.relu(batchnorm(F.linear(h.flatten(1), f5w, f5b), b5s, b5h, b5m, b5v, training, 0.2, 1e-3))
    h = dropout(h, 0.5, training)
    h = torch.relu(F.linear(h, f6w, f6b))
    return F.linear(h, lw, lb)


def regularized_params():
    return named_params(
        [("c1.w", (16, 1, 5, 5), "weight"), ("c1.b", (16,), "bias")] + bn_layers("c1", 16) +
        [("c3.w", (16, 16, 5, 5), "weight"), ("c3.b", (16,), "bias"),
         ("f5.w", (120, 400), "weight"), ("f5.b", (120,), "bias")] + bn_layers("f5", 120) +
        [("f6.w", (84, 120), "weight"), ("f6.b", (84,), "bias"),
         ("logits.w", (10, 84), "weight"), ("logits.b", (10,), "bias")])


MODELS = {
    "lenet5": (lenet5, lenet5_params, (1, 28, 28)),
    "lenet5_classic": (lenet5_classic, lenet5_classic_params, (1, 32, 32)),
    "lenet5_modern": (lenet5_modern, lenet5_params, (1, 28, 28)),
    "lenet1": (lenet1, lenet1_params, (1, 28, 28)),
    "activations": (activations, activations_params, (1, 28, 28)),
    # Batch statistics at the batch the trainer would split into micro-batches.
    "lenet5_bn": (lenet5_bn, lenet5_bn_params, (1, 28, 28), 256, 12.9898),
    "regularized": (regularized, regularized_params, (1, 28, 28), 8, 12.9898),
}


def deviation(got, want):
    """The test's error measure: max |got - want| / max(|want|, max|want| / 10); for an array
    that is zero but for rounding (ZERO_BELOW: a bias's gradient ahead of batchnorm, which
    subtracts the mean), max |got|."""
    want = want.detach()
    if want.abs().max() < ZERO_BELOW:
        return got.detach().double().abs().max().reshape(1)
    floor = 0.1 * want.abs().max()
    return ((got.detach().double() - want).abs() / torch.clamp(want.abs(), min=floor)).max().reshape(1)


def write(path, arrays):
    with open(path, "wb") as f:
        f.write(b"LENETC-GOLDEN 1\n")
        for name, values in arrays:
            flat = [float(v) for v in values.detach().reshape(-1)]
            f.write(f"{name} {len(flat)}\n".encode())
            f.write(struct.pack(f"<{len(flat)}f", *flat))


TRAINING_MODE = (lenet5_bn, regularized)  # models that behave differently in inference
DROPOUT = (regularized,)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.set_default_dtype(torch.float64)
    for model, (net, make_params, shape, *batch_and_frequency) in MODELS.items():
        global BATCH, FREQUENCY
        BATCH, FREQUENCY = batch_and_frequency if batch_and_frequency else (4, 1.3)
        names, params = make_params()
        x = batch(*shape)
        # The training step: batchnorm with the batch's statistics, moving copies of the running
        # ones (their next values); dropout with lenetc's masks. Inference: neither.
        stepped = [p.detach().clone() if p.requires_grad is False else p for p in params]
        logits = net(stepped, x)
        # Labels: the first half of the batch as the network predicts it, the rest not, so
        # that the correct count is neither 0 nor the batch (they are stored in the file).
        predicted = logits.argmax(1)
        y = torch.tensor([int(p) if n < BATCH // 2 else (int(p) + 1 + n) % 10
                          for n, p in enumerate(predicted)])
        loss = F.cross_entropy(logits, y)  # softmax + cross-entropy, mean over the batch
        trained = [p for p in params if p.requires_grad]
        grads = iter(torch.autograd.grad(loss, trained))
        grads = [next(grads) if p.requires_grad else s for p, s in zip(params, stepped)]
        correct = (logits.argmax(1) == y).sum().double()
        probs = torch.softmax(net(params, x, training=False) if net in TRAINING_MODE else logits, 1)
        # The same in float32: how far PyTorch's own float32 lands from the double result
        # bounds what any float32 implementation can be asked for (ill-conditioned sums).
        # Samples of float32 rounding: the batch as it is; its pixels nudged by 2^-18 relative,
        # the error of lenetc's fast sigmoid and tanh (compiler/halide/Activations.cpp), which
        # shows how far an error of that size moves each result (batchnorm's backward
        # cancels); and, where the order may change (no dropout, whose masks follow the
        # examples' places), the batch reversed.
        def float32_step(order, nudge=0.0):
            params32 = [p.detach().float().requires_grad_(p.requires_grad) for p in params]
            stepped32 = [p.detach().clone() if not p.requires_grad else p for p in params32]
            x32 = x.float() * (1 + nudge * torch.sin(torch.arange(x.numel()).reshape(x.shape) * 0.7).float())
            logits32 = net(stepped32, x32[order])
            trained32 = [p for p in params32 if p.requires_grad]
            grads32 = iter(torch.autograd.grad(F.cross_entropy(logits32, y[order]), trained32))
            grads32 = [next(grads32) if p.requires_grad else s for p, s in zip(params32, stepped32)]
            logits32 = net(params32, x.float()[order], training=False) if net in TRAINING_MODE else logits32
            probs32 = torch.empty_like(logits32)
            probs32[order] = torch.softmax(logits32, 1)
            return grads32, probs32
        natural = torch.arange(BATCH)
        samples = [float32_step(natural), float32_step(natural, 2.0 ** -18)]
        if net not in DROPOUT:
            samples.append(float32_step(torch.arange(BATCH - 1, -1, -1)))
        def f32err(pick, want):
            return max(deviation(pick(grads32, probs32), want) for grads32, probs32 in samples)

        arrays = [("labels", y.double()), ("loss", loss.reshape(1)), ("correct", correct.reshape(1)),
                  ("probs", probs), ("probs.f32err", f32err(lambda g, p: p, probs))]
        for i, (n, p, g) in enumerate(zip(names, params, grads)):
            # A gradient, or a state's next value (the training step returns it in its place).
            what = ".grad" if p.requires_grad else ".next"
            arrays += [(n + what, g), (n + what + ".f32err", f32err(lambda gs, _: gs[i], g))]
        path = os.path.join(out, model + ".golden")
        write(path, arrays)
        print(f"{path}: loss {loss.item():.6f}, correct {int(correct)}/{BATCH}, "
              f"{sum(p.numel() for p in params)} parameters (torch {torch.__version__})")


if __name__ == "__main__":
    main()
