#!/usr/bin/env python3
"""A small data set for the trainer's tests, cut from the real Fashion-MNIST, plus damaged
copies. Usage: make_fixture.py OUT_DIR [TRAIN TEST]

  OUT_DIR/good/          TRAIN train and TEST test examples, gzipped IDX (as Debian ships them)
  OUT_DIR/truncated/     the image file cut short
  OUT_DIR/badmagic/      image and label files swapped (wrong magic numbers)
  OUT_DIR/badlabels/     a label of 12
  OUT_DIR/badgzip/       the image file's gzip stream damaged
  OUT_DIR/first.pgm      the first test image, as a binary PGM
  OUT_DIR/first.png      the same image as an 8-bit RGB PNG
"""
import gzip, os, shutil, struct, sys, zlib

SRC = "/usr/share/datasets/fashion-mnist"


def read(name):
    with gzip.open(os.path.join(SRC, name), "rb") as f:
        return f.read()


def cut(images, labels, n):
    return images[:4] + struct.pack(">I", n) + images[8:16] + images[16:16 + 784 * n], \
           labels[:4] + struct.pack(">I", n) + labels[8:8 + n]


def write(d, name, data, compress=True):
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + (".gz" if compress else ""))
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def main():
    out = sys.argv[1]
    ntrain = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    ntest = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    train_i, train_l = cut(read("train-images-idx3-ubyte.gz"), read("train-labels-idx1-ubyte.gz"), ntrain)
    test_i, test_l = cut(read("t10k-images-idx3-ubyte.gz"), read("t10k-labels-idx1-ubyte.gz"), ntest)
    sets = {
        "good": (train_i, train_l),
        "truncated": (train_i[:len(train_i) // 2], train_l),
        "badmagic": (train_l, train_i),
        "badlabels": (train_i, train_l[:8] + bytes([12]) + train_l[9:]),
    }
    for name, (images, labels) in sets.items():
        d = os.path.join(out, name)
        write(d, "train-images-idx3-ubyte", images)
        write(d, "train-labels-idx1-ubyte", labels)
        write(d, "t10k-images-idx3-ubyte", test_i)
        write(d, "t10k-labels-idx1-ubyte", test_l)
    # A damaged gzip stream: flip bytes in the middle of the compressed image file.
    bad = os.path.join(out, "badgzip")
    shutil.copytree(os.path.join(out, "good"), bad, dirs_exist_ok=True)
    path = os.path.join(bad, "train-images-idx3-ubyte.gz")
    data = bytearray(open(path, "rb").read())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x5A
    open(path, "wb").write(bytes(data))
    pixels = test_i[16:16 + 784]
    with open(os.path.join(out, "first.pgm"), "wb") as f:
        f.write(b"P5\n28 28\n255\n" + pixels)
    write_png(os.path.join(out, "first.png"), pixels, 28, 28)


def write_png(path, gray, width, height):
    """An RGB PNG of a gray image (libpng reads it back to gray)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(v for p in gray[r * width:(r + 1) * width] for v in (p, p, p))
                    for r in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
