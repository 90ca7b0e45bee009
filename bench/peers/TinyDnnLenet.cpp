// lenet5_classic (models/lenet5_classic.nn) trained by tiny-dnn, the header-only C++ library
// whose MNIST example is this network: 32x32 input, C1 6@5x5, S2 subsampling (trainable
// coefficient and bias), C3 16@5x5 with LeCun's connection table, S4, C5 120@5x5, F6 84,
// 10 outputs, tanh throughout (tiny-dnn's tanh is the plain one, not 1.7159 tanh(2x/3):
// the same work), softmax with cross-entropy, SGD with momentum 0.9 (each train() call
// starts its optimizer afresh, so the momentum is zeroed per step: the same arithmetic).
// Timed as bench/TrainerBench.cpp times lenetc; a step is one mini-batch of tiny-dnn's train().
// Built with its AVX kernels and OpenMP, as its README advises for speed.
//   tiny_dnn_lenet --threads N [--batch B]
#include "Bench.h"
#include "Data.h"

#include <tiny_dnn/tiny_dnn.h>

#include <cstdlib>
#include <string>

using namespace tiny_dnn;
using namespace tiny_dnn::activation;

int main(int argc, char **argv) {
  const bench::PeerArgs args = bench::peerArgs(argc, argv);
  const int threads = args.threads;
  const int64_t batch = args.batch;
  // Threads: OpenMP's (bench/peers.sh sets OMP_NUM_THREADS and the CPUs).
  lenetc::DataSplits data = lenetc::loadData("fashion-mnist", 10);
  // 16 batches, each its own vector: train() takes whole vectors.
  const int64_t batches = 16, count = batches * batch;
  const std::vector<float> images = bench::centredImages(data.train.images, count, 28, 28, 32, 32);
  std::vector<std::vector<vec_t>> x(batches);
  std::vector<std::vector<label_t>> y(batches);
  for (int64_t n = 0; n < count; ++n) {
    x[size_t(n / batch)].emplace_back(images.begin() + n * 1024, images.begin() + (n + 1) * 1024);
    y[size_t(n / batch)].push_back(label_t(data.train.labels[size_t(n)]));
  }

  // C3's table (Table I of LeCun et al. 1998, as in models/lenet5_classic.nn): table[i][o]
  // says whether S2's map i feeds C3's map o.
  const std::vector<std::vector<int>> reads = {
      {0, 1, 2},    {1, 2, 3},    {2, 3, 4},    {3, 4, 5},    {0, 4, 5},    {0, 1, 5},
      {0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {0, 3, 4, 5}, {0, 1, 4, 5}, {0, 1, 2, 5},
      {0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5}, {0, 1, 2, 3, 4, 5}};
  bool table[6 * 16] = {};
  for (size_t o = 0; o < reads.size(); ++o)
    for (int i : reads[o])
      table[i * 16 + int(o)] = true;

  network<sequential> net;
  net << convolutional_layer<tan_h>(32, 32, 5, 1, 6) << average_pooling_layer<tan_h>(28, 28, 6, 2)
      << convolutional_layer<tan_h>(14, 14, 5, 6, 16, connection_table(table, 6, 16))
      << average_pooling_layer<tan_h>(10, 10, 16, 2) << convolutional_layer<tan_h>(5, 5, 5, 16, 120)
      << fully_connected_layer<tan_h>(120, 84) << fully_connected_layer<softmax>(84, 10);
  momentum sgd;
  sgd.alpha = 1e-6f; // a tiny rate: the parameters stay sane over many steps
  sgd.mu = 0.9f;
  net.train<cross_entropy_multiclass>(sgd, x[0], y[0], size_t(batch), 1); // set-up and first weights
  auto step = [&](int i) {
    size_t b = size_t(i % batches);
    net.train<cross_entropy_multiclass>(sgd, x[b], y[b], size_t(batch), 1);
  };
  bench::report("tiny-dnn", "lenet5_classic", "train", batch, threads, bench::measure(step, batch, 1.5, 7));
  return 0;
}
