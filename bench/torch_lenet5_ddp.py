#!/usr/bin/env python3
"""LeNet-5 (models/lenet5.nn) trained in PyTorch on Fashion-MNIST, in one process or in
several with DistributedDataParallel on the gloo backend (the one Debian's PyTorch carries):
the peer of lenetc's MPI trainer in bench/mpi.sh.

  torch_lenet5_ddp.py --world N --threads T [--batch 256] [--epochs 3] [--json OUT]

--batch is the global batch, each of N processes taking batch/N of it, as lenetc's ranks do.
Prints each epoch's training examples/s (training only: forward, backward, the gradients'
allreduce and the SGD step; data already in memory); --json writes them."""
import argparse, json, os, socket, sys, time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lenet_torch import lenet, load_fashion_mnist  # noqa: E402 (the one LeNet-5 of bench/)

def train(rank, args, port, results):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    world = args.world
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    xs, ys, _, _ = load_fashion_mnist()
    x, y = torch.from_numpy(xs), torch.from_numpy(ys)
    model = lenet()
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
