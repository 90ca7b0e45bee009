#!/usr/bin/env python3
"""Checks a trainer's ONNX export (`<model>-train export FILE.onnx`) with the two readers a
user would trust: ONNX's own checker (Debian's python3-onnx 1.12, full_check: the graph, its
types and shapes are valid), and OpenCV's ONNX importer (python3-opencv 4.6), whose logits on
the test images of DATA_DIR must be the trainer's (--eval --outputs) to TOLERANCE, up to a
shift per example (compare_outputs.py).

  check_export.py MODEL.onnx OUTPUTS.csv DATA_DIR unit|lecun [TOLERANCE]    (default 1e-5)

The images are normalized as the trainer does (unit: pixel / 255; lecun: -0.1 + 1.275 *
pixel / 255) and centred in the model's input, padded with the background.
"""
import os, struct, sys

import cv2
import numpy as np
import onnx

from compare_outputs import compare, read_probabilities


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def main():
    path, outputs, data, normalize = sys.argv[1:5]
    tolerance = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-5
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim][1:]
    output = model.graph.output[0].name
    if output != "logits":
        sys.exit(f"{path}: the output is '{output}', not 'logits'")

    probs = read_probabilities(outputs)
    if len(probs) != len(read_idx(os.path.join(data, "t10k-images-idx3-ubyte"))):
        sys.exit(f"{outputs}: {len(probs)} examples, not the test set's")
    images = read_idx(os.path.join(data, "t10k-images-idx3-ubyte"))[:len(probs)].astype(np.float32) / 255.0
    background, scale = (-0.1, 1.275) if normalize == "lecun" else (0.0, 1.0)
    n, h, w = images.shape
    if len(dims) == 3:
        x = np.full((n, dims[0], dims[1], dims[2]), background, dtype=np.float32)
        top, left = (dims[1] - h) // 2, (dims[2] - w) // 2
        x[:, 0, top:top + h, left:left + w] = background + scale * images
    else:
        x = (background + scale * images).reshape(n, -1)

    net = cv2.dnn.readNetFromONNX(path)
    net.setInput(x)
    logits = net.forward().astype(np.float64)
    print(f"{path}: onnx.checker (full) accepts it; OpenCV {cv2.__version__} reads it")
    if not compare(probs, logits.tolist(), tolerance, "OpenCV's logits against the trainer's"):
        sys.exit(1)


if __name__ == "__main__":
    main()
