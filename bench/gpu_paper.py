"""The CUDA schedules on paper, without a GPU: every model's kernels as NVIDIA's ptxas
assembles them for sm_80 (A100) and sm_90 (H100) -- registers, spills, shared memory --,
the kernel launches per training step, and a roofline estimate of LeNet-5's training
step on both GPUs from its kernels' FLOPs and bytes.

    /usr/bin/python3 bench/gpu_paper.py        -> bench/results/gpu-paper.md

Each model is compiled with `lenetc compile --target host-cuda-cuda_capability_80` (Halide
14 knows capabilities up to 86; an H100 runs sm_80 code, and ptxas for sm_90 says what its
registers would be); the PTX is taken from the static libraries (tests/lit/halide/
extract_ptx.py) and assembled with `ptxas -v`. Needs the build and ptxas
(/usr/local/cuda/bin or PATH).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENETC = os.path.join(ROOT, "build/compiler/lenetc")
OUT = os.path.join(ROOT, "build/gpu-paper")
ARCHS = ["sm_80", "sm_90"]
# Published peaks: FP32 without tensor cores, HBM bandwidth (A100 SXM4 80 GB, H100 SXM5).
GPUS = {"A100": dict(flops=19.5e12, bw=2.039e12), "H100": dict(flops=66.9e12, bw=3.35e12)}
# A kernel launch costs the host a few microseconds however little the kernel does: 3 us
# is about the best a stream of launches reaches; Halide's runtime adds its own work per
# call (argument packing, a context push), so 6 us is the likelier figure.
LAUNCH_US = (3.0, 6.0)
BATCH = 256


def ptxas():
    found = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if not os.path.exists(found):
        sys.exit("gpu_paper: ptxas not found (PATH, /usr/local/cuda/bin)")
    return found


def kernels_of(model):
    """{pipeline: [(kernel, {arch: (registers, spill stores, spill loads, smem)})]}"""
    d = os.path.join(OUT, model)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    subprocess.run([LENETC, "compile", os.path.join(ROOT, "models", model + ".nn"), "-o", d, "--target",
                    "host-cuda-cuda_capability_80"], check=True, stdout=subprocess.DEVNULL)
    result = {}
    for pipeline in ("train_step", "infer"):
        prefix = os.path.join(d, pipeline)
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/lit/halide/extract_ptx.py"),
                        os.path.join(d, f"{model}_{pipeline}_gpu.a"), prefix], check=True, stdout=subprocess.DEVNULL)
        stats = {}
        for ptx in sorted(glob.glob(prefix + ".*.ptx")):
            for arch in ARCHS:
                log = subprocess.run([ptxas(), "-v", "-arch=" + arch, ptx, "-o", ptx + "." + arch + ".cubin"],
                                     check=True, capture_output=True, text=True).stderr
                kernel = None
                for line in log.splitlines():
                    m = re.search(r"Compiling entry function '(\w+)'", line)
                    if m:
                        kernel = m.group(1)
                    m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
                    if m and kernel:
                        stats.setdefault(kernel, {}).setdefault(arch, {})["spills"] = (int(m.group(1)), int(m.group(2)))
                    # "Used 32 registers, used 0 barriers, 1024 bytes smem, 380 bytes cmem[0]"
                    # (ptxas 12-13; no smem field when a kernel has none)
                    m = re.search(r"Used (\d+) registers", line)
                    if m and kernel:
                        s = stats.setdefault(kernel, {}).setdefault(arch, {})
                        smem = re.search(r"(\d+) bytes smem", line)
                        s["registers"], s["smem"] = int(m.group(1)), int(smem.group(1)) if smem else 0
        result[pipeline] = stats
    return result


def short(kernel):
    # Halide names a kernel after its Func and the loop it replaces:
    # _kernel_c3__grad_in__acc__1_s1_c_f3___block_id_z -> c3.grad_in.acc (update 1)
    m = re.match(r"_?kernel_(.+?)(?:__\d+)?_s(\d+)_", kernel)
    if not m:
        return kernel
    return m.group(1).replace("__", ".") + ("" if m.group(2) == "0" else f" (update {m.group(2)})")


def lenet5_roofline():
    """LeNet-5's training step at batch 256 as its kernels do it: each Func a kernel that
    reads its inputs and writes its output once (the fewest bytes a kernel of its own can
    move; fp32), with the FLOPs of its arithmetic. Returns [(op, flops, bytes)]."""
    n, f = BATCH, 4
    ops = []

    def conv(name, cin, cout, out, k, input_grad=True):
        macs = n * cout * out * out * cin * k * k
        inp, outp, w = n * cin * (out + k - 1) ** 2, n * cout * out * out, cout * cin * k * k
        ops.append((f"{name} forward", 2 * macs, f * (inp + w + outp)))
        if input_grad:
            ops.append((f"{name} input gradient", 2 * macs, f * (outp + w + inp)))
        ops.append((f"{name} weight gradient", 2 * macs, f * (outp + inp + w)))

    def dense(name, i, o, input_grad=True):
        macs = n * i * o
        ops.append((f"{name} forward", 2 * macs, f * (n * i + i * o + n * o)))
        if input_grad:
            ops.append((f"{name} input gradient", 2 * macs, f * (n * o + i * o + n * i)))
        ops.append((f"{name} weight gradient", 2 * macs, f * (n * o + n * i + i * o)))

    def elementwise(name, count, reads=1, flops_each=4):
        ops.append((name, flops_each * n * count, f * n * count * (reads + 1)))

    conv("C1", 1, 6, 28, 5, input_grad=False)
    elementwise("C1 sigmoid", 6 * 28 * 28)
    elementwise("C1 sigmoid gradient", 6 * 28 * 28, reads=2)
    elementwise("S2 average pool", 6 * 14 * 14, reads=4, flops_each=4)
    elementwise("S2 gradient", 6 * 28 * 28, reads=1, flops_each=1)
    conv("C3", 6, 16, 10, 5)
    elementwise("C3 sigmoid", 16 * 10 * 10)
    elementwise("C3 sigmoid gradient", 16 * 10 * 10, reads=2)
    elementwise("S4 average pool", 16 * 5 * 5, reads=4, flops_each=4)
    elementwise("S4 gradient", 16 * 10 * 10, reads=1, flops_each=1)
    dense("F5", 400, 120)
    dense("F6", 120, 84)
    dense("F7", 84, 10)
    for name, count in (("F5", 120), ("F6", 84)):
        elementwise(f"{name} sigmoid", count)
        elementwise(f"{name} sigmoid gradient", count, reads=2)
    elementwise("softmax cross-entropy and its gradient", 10, reads=2, flops_each=10)
    params = 61706
    ops.append(("SGD update (the runtime's, on the host today)", 2 * params, f * 3 * params))
    return ops


def main():
    models = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "models", "*.nn")))
    rows = ["# The CUDA schedules on paper: ptxas for sm_80 and sm_90, launches, roofline", "",
            "`/usr/bin/python3 bench/gpu_paper.py` (no GPU: Halide's PTX for cuda_capability_80, assembled "
            "by NVIDIA's ptxas -v for each architecture). Registers per thread, spill stores/loads in bytes, "
            "static shared memory in bytes.", ""]
    launches = {}
    for model in models:
        per = kernels_of(model)
        launches[model] = {p: len(k) for p, k in per.items()}
        every = [(a.get("registers", 0), sum(a.get("spills", (0, 0))), a.get("smem", 0), short(kernel), arch)
                 for kernels in per.values() for kernel, s in kernels.items() for arch, a in s.items()]
        top = max(every)
        spilling = sorted({f"{e[3]} ({e[4]})" for e in every if e[1]})
        rows += [f"## {model}", "",
                 f"Kernels: {launches[model]['train_step']} in the training step, {launches[model]['infer']} in "
                 "inference; Halide launches each once per call, and a GPU trainer steps a whole batch in one "
                 f"call. Most registers: {top[0]} ({top[3]}, {top[4]}); "
                 + (f"spills: {', '.join(spilling)}; " if spilling else "no kernel spills; ")
                 + f"shared memory: {max(e[2] for e in every)} bytes at most.", "",
                 "| pipeline | kernel (Func) | sm_80 registers | sm_80 spills | sm_80 smem | sm_90 registers | "
                 "sm_90 spills | sm_90 smem |", "|---|---|---|---|---|---|---|---|"]
        for pipeline, kernels in per.items():
            for kernel, s in kernels.items():
                cells = []
                for arch in ARCHS:
                    a = s.get(arch, {})
                    sp = a.get("spills", (0, 0))
                    cells += [str(a.get("registers", "?")), f"{sp[0]}/{sp[1]}", str(a.get("smem", 0))]
                rows.append(f"| {pipeline} | {short(kernel)} | " + " | ".join(cells) + " |")
        rows.append("")

    ops = lenet5_roofline()
    flops = sum(o[1] for o in ops)
    nbytes = sum(o[2] for o in ops)
    k = launches.get("lenet5", {}).get("train_step", 0)
    rows += ["## Roofline: LeNet-5's training step at batch 256", "",
             f"{flops / 1e6:.0f} MFLOP and at least {nbytes / 1e6:.1f} MB moved per step (each Func's kernel "
             "reading its inputs and writing its output once, fp32; arithmetic intensity "
             f"{flops / nbytes:.1f} FLOP/byte), in {k} kernel launches.", "",
             "| operation | MFLOP | MB | A100 us (compute / memory) | H100 us (compute / memory) |",
             "|---|---|---|---|---|"]
    total = {g: 0.0 for g in GPUS}
    for name, fl, by in ops:
        cells = []
        for g, spec in GPUS.items():
            c, m = fl / spec["flops"] * 1e6, by / spec["bw"] * 1e6
            total[g] += max(c, m)
            cells.append(f"{c:.2f} / {m:.2f}")
        rows.append(f"| {name} | {fl / 1e6:.1f} | {by / 1e6:.2f} | " + " | ".join(cells) + " |")
    rows.append("")
    for g in GPUS:
        lo, hi = (k * us for us in LAUNCH_US)
        step_lo, step_hi = total[g] + lo, total[g] + hi
        rows.append(f"- **{g}**: the kernels' own time at the roofline {total[g]:.0f} us; launches {lo:.0f}-{hi:.0f} "
                    f"us ({k} x {LAUNCH_US[0]:.0f}-{LAUNCH_US[1]:.0f} us); a step {step_lo:.0f}-{step_hi:.0f} us, "
                    f"{BATCH / step_hi * 1e6:,.0f}-{BATCH / step_lo * 1e6:,.0f} examples/s.")
    with open(os.path.join(ROOT, "bench/results/gpu-paper.md"), "w") as out:
        out.write("\n".join(rows) + "\n")
    print("\n".join(rows[-4:]))


if __name__ == "__main__":
    main()
