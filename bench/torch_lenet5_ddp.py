#!/usr/bin/env python3
"""LeNet-5 (models/lenet5.nn) trained in PyTorch on Fashion-MNIST, in one process or in
several with DistributedDataParallel on the gloo backend (the one Debian's PyTorch carries):
the peer of lenetc's MPI trainer in bench/mpi.sh.

  torch_lenet5_ddp.py --world N --threads T [--batch 256] [--epochs 3] [--json OUT]

--batch is the global batch, each of N processes taking batch/N of it, as lenetc's ranks do.
Prints each epoch's training examples/s (training only: forward, backward, the gradients'
allreduce and the SGD step; data already in memory); --json writes them."""
import argparse, gzip, json, os, socket, struct, time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    (magic,) = struct.unpack(">I", raw[:4])
    dims = struct.unpack(">" + "I" * (magic & 0xFF), raw[4:4 + 4 * (magic & 0xFF)])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def lenet5():
    """models/lenet5.nn: sigmoid LeNet-5 with average pooling, C1 padded to keep 28x28."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def train(rank, args, port, results):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    world = args.world
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    x = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    model = lenet5()
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.9)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]
    speeds = []
    for epoch in range(args.epochs):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(epoch))  # the same on every rank
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        for first in range(0, n, args.batch):
            batch = order[first:first + args.batch]
            share = batch[len(batch) * rank // world:len(batch) * (rank + 1) // world]
            opt.zero_grad(set_to_none=True)
            # DDP averages the ranks' gradients: each rank's mean loss, equal shares.
            loss_fn(model(x[share]), y[share]).backward()
            opt.step()
        if world > 1:
            dist.barrier()
        speeds.append(n / (time.perf_counter() - start))
        if rank == 0:
            print(f"epoch {epoch + 1}: {speeds[-1]:,.0f} examples/s", flush=True)
    if rank == 0:
        results.put(speeds)
    if world > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--json")
    args = p.parse_args()
    with socket.socket() as s:  # a free port for the process group
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    if args.world == 1:
        train(0, args, port, results)
    else:
        mp.spawn(train, args=(args, port, results), nprocs=args.world, join=True)
    speeds = results.get()
    info = {"system": "pytorch", "torch": torch.__version__, "world": args.world, "threads": args.threads,
            "batch": args.batch, "examples_per_second": speeds}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f)


if __name__ == "__main__":
    main()
