#!/usr/bin/python3
"""LeNet-5 on Fashion-MNIST in PyTorch on the CPU: what lenetc's trainers are measured
against in bench/ (speed.sh, accuracy.sh, mpi.sh). D2L's model and initialisation: Xavier
uniform weights, PyTorch's default biases; --model modern: ReLU and max pooling; --model bn:
D2L's LeNet with batch normalization; --model best: models/lenet5_best.nn.

  /usr/bin/python3 bench/lenet_torch.py bench --threads 2 [--modern] [--channels-last] [--jit] [--json OUT]
  /usr/bin/python3 bench/lenet_torch.py train --threads 2 --lr 0.9 --batch 256 --epochs 10 [--seed S] [--json OUT]
  /usr/bin/python3 bench/lenet_torch.py train --threads 2 --modern --lr 0.1 --momentum 0.9 --batch 128
  /usr/bin/python3 bench/lenet_torch.py train --threads 2 --model bn --lr 1.0 --batch 256

bench times training steps (forward, backward, SGD) at batches 256 and 64 and inference at
256 and 1 on data held in memory: repeats of about --repeat-s seconds, the median kept,
and a repeat during which other processes kept more than a tenth of a core busy is thrown
away and run again (the machine's other load would be timed otherwise). train trains and
evaluates each epoch; --json writes the per-epoch history. Debian's PyTorch (python3-torch)
runs with /usr/bin/python3; with libopenblas0-openmp installed it is at its best.
"""
import argparse, gzip, json, os, statistics, struct, time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_fashion_mnist():
    """Training and test images as float32 [N, 1, 28, 28] in [0, 1], labels as int64."""
    def images(name):
        return (read_idx(name).astype(np.float32) / 255.0)[:, None, :, :]
    return (images("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz").astype(np.int64),
            images("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))


def lenet(model="lenet5"):
    """models/lenet5.nn (sigmoid, average pooling), models/lenet5_modern.nn (ReLU, max;
    "modern"), models/lenet5_bn.nn (D2L's LeNet with batch normalization; "bn") or
    models/lenet5_best.nn ("best")."""
    if model == "bn":
        net = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
            nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10))
    elif model == "best":
        net = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(800, 96), nn.BatchNorm1d(96), nn.ReLU(), nn.Dropout(0.3), nn.Linear(96, 10))
    else:
        act, pool = (nn.ReLU, nn.MaxPool2d) if model == "modern" else (nn.Sigmoid, nn.AvgPool2d)
        net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), act(), pool(2, 2),
            nn.Conv2d(6, 16, 5), act(), pool(2, 2), nn.Flatten(),
            nn.Linear(400, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, 10))
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    return net


# ------------------------------------------------------------------------------ bench
def machine_busy_seconds():
    """CPU seconds all CPUs have been busy (/proc/stat: all but idle and iowait)."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def timed(fn, steps, repeats, max_attempts):
    """Seconds per step of `steps` calls of fn, median of `repeats` quiet repeats."""
    kept, attempts = [], 0
    while len(kept) < repeats and attempts < max_attempts:
        attempts += 1
        busy, own, start = machine_busy_seconds(), time.process_time(), time.perf_counter()
        for i in range(steps):
            fn(i)
        wall = time.perf_counter() - start
        others = (machine_busy_seconds() - busy) - (time.process_time() - own)
        if others / wall < 0.1:
            kept.append(wall / steps)
        else:
            time.sleep(0.5)
    if not kept:
        raise SystemExit("lenet_torch.py: the machine never went quiet enough to time")
    return statistics.median(kept), len(kept), attempts


def bench(args):
    Xtr, ytr, _, _ = load_fashion_mnist()
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    # What a PyTorch user tries for speed on a CPU: NHWC tensors (oneDNN's preferred layout)
    # and TorchScript (traced for training; traced, frozen and optimized for inference).
    if args.channels_last:
        X = X.contiguous(memory_format=torch.channels_last)
    torch.manual_seed(0)
    net = lenet(args.model)
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss = nn.CrossEntropyLoss()
    results = []
    for mode, batch in [("train", 256), ("train", 64), ("infer", 256), ("infer", 1)]:
        if args.only and args.only not in (mode, f"{mode}:{batch}"):
            continue
        batches = max(1, len(X) // batch)
        net.train(mode == "train")  # batchnorm and dropout in their inference form to infer
        model = net
        if args.jit:
            with torch.no_grad():
                model = torch.jit.trace(net, X[:batch])
            if mode == "infer":
                model = torch.jit.optimize_for_inference(torch.jit.freeze(model.eval()))

        def step(i):
            first = (i % batches) * batch
            xb, yb = X[first:first + batch], y[first:first + batch]
            if mode == "train":
                opt.zero_grad(set_to_none=True)
                loss(model(xb), yb).backward()
                opt.step()
            else:
                with torch.no_grad():
                    torch.softmax(model(xb), dim=1)

        for i in range(args.warmup):
            step(i)
        t0 = time.perf_counter()  # steps for about --repeat-s seconds
        for i in range(5):
            step(i)
        steps = max(5, int(args.repeat_s / ((time.perf_counter() - t0) / 5)))
        per_step, kept, attempts = timed(step, steps, args.repeats, 4 * args.repeats)
        r = dict(mode=mode, batch=batch, ex_per_s_median=batch / per_step, ms_per_step_median=per_step * 1e3,
                 config=config(args),
                 steps=steps, repeats=kept, attempts=attempts)
        print(json.dumps(r), flush=True)
        results.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(env=env(), results=results), f, indent=1)


def config(args):
    """The benchmark's PyTorch configuration, as speed.sh's table names it."""
    parts = [name for name, on in (("channels_last", args.channels_last), ("jit", args.jit)) if on]
    return "+".join(parts) or "eager"


# ------------------------------------------------------------------------------ train
def evaluate(net, X, y, loss):
    net.eval()
    total, right = 0.0, 0
    with torch.no_grad():
        for first in range(0, len(X), 1000):
            out = net(X[first:first + 1000])
            total += loss(out, y[first:first + 1000]).item() * len(out)
            right += (out.argmax(1) == y[first:first + 1000]).sum().item()
    net.train()
    return total / len(X), right / len(X)


def train(args):
    Xtr, ytr, Xte, yte = (torch.from_numpy(a) for a in load_fashion_mnist())
    torch.manual_seed(args.seed)
    net = lenet(args.model)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum, nesterov=args.nesterov,
                          weight_decay=args.weight_decay)
    # lenetc's step schedule: lr * gamma after every `step_every` epochs.
    sched = torch.optim.lr_scheduler.StepLR(opt, args.step_every or args.epochs + 1, args.step_gamma)
    loss = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, args.epochs + 1):
        start, total, right = time.perf_counter(), 0.0, 0
        for idx in torch.randperm(len(Xtr)).split(args.batch):
            opt.zero_grad(set_to_none=True)
            out = net(Xtr[idx])
            l = loss(out, ytr[idx])
            l.backward()
            opt.step()
            total += l.item() * len(idx)
            right += (out.argmax(1) == ytr[idx]).sum().item()
        seconds = time.perf_counter() - start
        sched.step()
        test_loss, test_acc = evaluate(net, Xte, yte, loss)
        h = dict(epoch=epoch, train_loss=total / len(Xtr), train_acc=right / len(Xtr), test_loss=test_loss,
                 test_acc=test_acc, seconds=seconds, ex_per_s=len(Xtr) / seconds)
        history.append(h)
        print(f"epoch {epoch:2d}/{args.epochs}  train loss {h['train_loss']:.4f} acc {h['train_acc']:.4f} | "
              f"test loss {test_loss:.4f} acc {test_acc:.4f} | {seconds:.1f} s, {h['ex_per_s']:.0f} ex/s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(env=env(), args=vars(args), history=history), f, indent=1)


def env():
    return dict(torch=torch.__version__, threads=torch.get_num_threads(), mkldnn=torch.backends.mkldnn.is_available())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["bench", "train"])
    ap.add_argument("--threads", type=int, default=2, help="PyTorch's default here is 1: say how many")
    ap.add_argument("--model", choices=["lenet5", "modern", "bn", "best"], default="lenet5",
                    help="the model of models/lenet5.nn, lenet5_modern.nn, lenet5_bn.nn or lenet5_best.nn")
    ap.add_argument("--modern", action="store_const", const="modern", dest="model", help="--model modern")
    ap.add_argument("--nesterov", action="store_true")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--step-every", type=int, default=0, help="lr *= --step-gamma every N epochs (0: never)")
    ap.add_argument("--step-gamma", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=0.9)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--repeat-s", type=float, default=1.5, help="seconds per timed repeat")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--json")
    ap.add_argument("--channels-last", action="store_true", help="bench: NHWC tensors and weights")
    ap.add_argument("--jit", action="store_true",
                    help="bench: the model traced (TorchScript); for inference also frozen and optimized")
    ap.add_argument("--only", help="bench: one mode (train, infer) or mode:batch (train:256), as lenetc_bench's")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    (bench if args.mode == "bench" else train)(args)


if __name__ == "__main__":
    main()
