#!/usr/bin/python3
"""PyTorch 1.13 versions of every model in models/, exported with torch.onnx.export, and
their logits on fixed inputs: the committed files the ONNX tests check `lenetc import`
against (tests/lit/onnx). CI needs no PyTorch; rerun this after changing a model:

  /usr/bin/python3 tests/onnx/make_onnx.py tests/onnx

writes, per model M: M.onnx (opset 13, inference graph, dynamic batch, initializers from a
seeded PyTorch start with non-trivial running statistics), M.logits (the logits of the
inputs below, one line of floats per image, %.9g). The inputs, data/: the first 100 test
images of Fashion-MNIST (Debian's dataset-fashion-mnist) as IDX files (also as the training
files: the trainer reads both), normalized as the trainer does (pixels / 255; for
lenet5_classic, "lecun": background -0.1, ink 1.175, padded from 28x28 to 32x32).

The modules are written as PyTorch users write them, in the export's different shapes:
nn.Sequential (names "0.weight"), modules with attributes, x.view(x.size(0), -1) (a Shape /
Gather / Concat / Reshape chain), a hand-written linear layer (MatMul + Add), a final
LogSoftmax, C3's connection table as a masked dense Conv, LeCun's subsampling as
AveragePool, Mul and Add, and his scaled tanh as Mul, Tanh, Mul.
"""
import os, struct, sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from lenet_torch import read_idx  # Debian's Fashion-MNIST, as the benchmarks read it

COUNT = 100


def write_idx(path, array):
    codes = {np.uint8: 0x08}
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, codes[array.dtype.type], array.ndim))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.tobytes())


class LeNet1(nn.Module):
    """models/lenet1.nn; x.view(x.size(0), -1) and a final log_softmax (as PyTorch's MNIST
    example)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 5)
        self.c3 = nn.Conv2d(4, 12, 5)
        self.fc = nn.Linear(192, 10)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.c3(x)), 2)
        return F.log_softmax(self.fc(x.view(x.size(0), -1)), dim=1)


def lenet5():
    """models/lenet5.nn as D2L writes it: nn.Sequential."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


class Linear(nn.Module):
    """A hand-written dense layer: x @ w + b exports as MatMul and Add."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.w = nn.Parameter(torch.randn(inputs, outputs) / inputs ** 0.5)
        self.b = nn.Parameter(torch.randn(outputs) * 0.1)

    def forward(self, x):
        return x @ self.w + self.b


class LeNet5Modern(nn.Module):
    """models/lenet5_modern.nn; x.view(-1, 400) and MatMul + Add layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = Linear(400, 120)
        self.fc2 = Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.view(-1, 400)))
        return self.fc3(F.relu(self.fc2(x)))


def lenet5_bn():
    """models/lenet5_bn.nn: D2L's BatchNorm LeNet."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10))


class LeNet5Best(nn.Module):
    """models/lenet5_best.nn; convolutions without bias ahead of batch normalization."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 5, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.c3 = nn.Conv2d(16, 32, 5)
        self.bn3 = nn.BatchNorm2d(32)
        self.f5 = nn.Linear(800, 96)
        self.bn5 = nn.BatchNorm1d(96)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(96, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.c3(x))), 2)
        x = self.drop(F.relu(self.bn5(self.f5(torch.flatten(x, 1)))))
        return self.out(x)


C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


def scaled_tanh(x):
    return 1.7159 * torch.tanh(2.0 / 3.0 * x)


class Subsample(nn.Module):
    """LeCun's trainable subsampling: coef * (sum of each 2x2 window) + bias, per map."""

    def __init__(self, maps):
        super().__init__()
        self.coef = nn.Parameter(torch.rand(maps) + 0.5)
        self.bias = nn.Parameter(torch.randn(maps) * 0.1)

    def forward(self, x):
        return F.avg_pool2d(x, 2) * 4 * self.coef.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class LeNet5Classic(nn.Module):
    """models/lenet5_classic.nn; C3's table as a mask on a dense convolution."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = Subsample(6)
        self.c3 = nn.Conv2d(6, 16, 5)
        mask = torch.zeros(16, 6, 1, 1)
        for f, row in enumerate(C3_TABLE):
            mask[f, row] = 1
        with torch.no_grad():
            self.c3.weight.mul_(mask)
        self.s4 = Subsample(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = scaled_tanh(self.s2(scaled_tanh(self.c1(x))))
        x = scaled_tanh(self.s4(scaled_tanh(self.c3(x))))
        x = scaled_tanh(self.c5(x))
        x = scaled_tanh(self.f6(torch.flatten(x, 1)))
        return self.out(x)


class TinyMixed(nn.Module):
    """Not a model of models/: a small network with the ops the others lack (strided Conv,
    LeakyRelu, Elu, BatchNorm1d ahead of a hand-written dense layer). Small, it also seeds the
    importer's fuzzer (tests/fuzz/run.sh onnx)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 4, stride=3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.hidden = Linear(3 * 8 * 8, 12)
        self.norm = nn.BatchNorm1d(12)
        self.out = nn.Linear(12, 10)

    def forward(self, x):
        x = F.max_pool2d(F.leaky_relu(self.bn(self.conv(x)), 0.2), 2, stride=1)
        x = F.elu(self.norm(self.hidden(torch.flatten(x, 1))), alpha=0.5)
        return F.softmax(self.out(x), dim=1)


MODELS = {"lenet1": LeNet1, "lenet5": lenet5, "lenet5_modern": LeNet5Modern, "lenet5_bn": lenet5_bn,
          "lenet5_best": LeNet5Best, "lenet5_classic": LeNet5Classic, "tiny_mixed": TinyMixed}


def inputs(images, model):
    x = torch.from_numpy(images.astype(np.float32))[:, None, :, :]
    if model == "lenet5_classic":  # --normalize lecun, padded to 32x32
        return F.pad(x / 255.0 * 1.275 - 0.1, (2, 2, 2, 2), value=-0.1)
    return x / 255.0


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    images = read_idx("t10k-images-idx3-ubyte.gz")[:COUNT].copy()
    labels = read_idx("t10k-labels-idx1-ubyte.gz")[:COUNT].copy()
    for prefix in ("t10k", "train"):
        write_idx(os.path.join(out, "data", prefix + "-images-idx3-ubyte"), images)
        write_idx(os.path.join(out, "data", prefix + "-labels-idx1-ubyte"), labels)
    for i, (name, make) in enumerate(MODELS.items()):
        torch.manual_seed(1000 + i)
        net = make()
        for m in net.modules():  # running statistics away from PyTorch's trivial start
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                with torch.no_grad():
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
        net.eval()
        x = inputs(images, name)
        with torch.no_grad():
            logits = net(x)
            # The models' own outputs are log_softmax (lenet1) and softmax (tiny_mixed): the
            # log of either is log_softmax(logits), which is what the test compares.
            if name in ("lenet1", "tiny_mixed"):
                logits = torch.log(logits.exp() if name == "lenet1" else logits)
        # lenet5_bn and tiny_mixed keep their batchnorm layers (TrainingMode.PRESERVE: what a model to fine-tune
        # needs); the others export as PyTorch does by default, lenet5_best's convolutions with
        # their batchnorm folded in.
        keep = name in ("lenet5_bn", "tiny_mixed")
        preserve = torch.onnx.TrainingMode.PRESERVE if keep else torch.onnx.TrainingMode.EVAL
        torch.onnx.export(net, x[:2], os.path.join(out, name + ".onnx"), opset_version=13, training=preserve,
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
        np.savetxt(os.path.join(out, name + ".logits"), logits.numpy(), fmt="%.9g")
        print(name, tuple(x.shape), sum(p.numel() for p in net.parameters()), "parameters")


if __name__ == "__main__":
    main()
