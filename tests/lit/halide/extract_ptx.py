"""Writes the PTX that Halide embeds in a CUDA build's static library (one NUL-terminated
string per object file that has GPU kernels) to OUT_PREFIX.N.ptx; prints how many.
    extract_ptx.py LIB.a OUT_PREFIX"""
import subprocess, sys, tempfile, pathlib

lib, prefix = sys.argv[1], sys.argv[2]
count = 0
with tempfile.TemporaryDirectory() as d:
    subprocess.run(["ar", "x", str(pathlib.Path(lib).resolve())], cwd=d, check=True)
    for obj in sorted(pathlib.Path(d).iterdir()):
        data = obj.read_bytes()
        at = data.find(b".target sm_")
        while at >= 0:
            start = data.rfind(b"\0", 0, at) + 1
            end = data.find(b"\0", at)
            pathlib.Path(f"{prefix}.{count}.ptx").write_bytes(data[start:end])
            count += 1
            at = data.find(b".target sm_", end)
print(f"{count} PTX module(s)")
sys.exit(0 if count else 1)
