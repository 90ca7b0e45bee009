"""FLOPs of one example through a model, from `lenetc summary`: a conv's multiply-adds are
its output positions times its weights per filter (a connection table's counted as
connected), a dense layer's its weights. Inference does each once; the training step three
times (forward, input and weight gradients) but the first layer's input gradient, which
nothing needs. Pooling, activations, batchnorm and the loss are left out: a share of the
peak from these is of the useful arithmetic. Used by bench/speed.sh and schedule_share.py.
"""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENETC = os.path.join(ROOT, "build/compiler/lenetc")


def layer_macs(model):
    """Multiply-adds of each conv and dense layer for one example, in the model's order."""
    out = subprocess.run([LENETC, "summary", model], check=True, capture_output=True, text=True).stdout
    macs = []
    for line in out.splitlines():
        m = re.match(r"\S+\s+(conv|dense)\b.*\[([\d, ]+)\]\s+([\d,]+)\s*$", line)
        if not m:
            continue
        shape = [int(v) for v in m.group(2).split(",")]
        params = int(m.group(3).replace(",", ""))
        filters = shape[0]
        positions = shape[1] * shape[2] if m.group(1) == "conv" else 1
        macs.append(positions * (params - filters))  # weights per output position, less the biases
    return macs


def step_flops(model):
    """{"train": FLOPs of one example's training step, "infer": of its inference}."""
    macs = layer_macs(model)
    return {"train": 2 * (3 * sum(macs) - macs[0]), "infer": 2 * sum(macs)}
