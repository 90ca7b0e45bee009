// lenet5_modern (models/lenet5_modern.nn) trained by dlib, the C++ library whose LeNet
// example (dnn_introduction_ex.cpp) has ReLU and max pooling: the same layers, sizes, loss
// and optimizer (SGD with momentum 0.9, no weight decay), timed as bench/TrainerBench.cpp
// times lenetc. A step is what dlib's dnn_trainer does per mini-batch, without its
// background thread: images to a tensor, forward and backward, the solvers' update.
// dlib's convolutions are im2col and the system BLAS (OpenBLAS here).
//   dlib_lenet --threads N [--batch B]
#include "Bench.h"
#include "Data.h"

#include <dlib/dnn.h>

#include <cstdlib>
#include <string>

using namespace dlib;

// Read from the input outwards: conv 6@5x5 "same" (dlib pads a stride-1 convolution by
// half its size), ReLU, max pool 2/2, conv 16@5x5 unpadded, ReLU, max pool, dense 120, 84, 10.
template <long filters, long size, long pad, typename SUBNET>
using conv_layer = add_layer<con_<filters, size, size, 1, 1, pad, pad>, SUBNET>;
using Net = loss_multiclass_log<
    fc<10, relu<fc<84, relu<fc<120, max_pool<2, 2, 2, 2,
        relu<conv_layer<16, 5, 0, max_pool<2, 2, 2, 2, relu<conv_layer<6, 5, 2, input<matrix<float>>>>>>>>>>>>>>;

int main(int argc, char **argv) {
  const bench::PeerArgs args = bench::peerArgs(argc, argv);
  const int threads = args.threads;
  const int64_t batch = args.batch;
  // dlib's threads are the BLAS's (OpenMP): bench/peers.sh sets OMP_NUM_THREADS and the CPUs.
  lenetc::DataSplits data = lenetc::loadData("fashion-mnist", 10);
  const int64_t count = std::min<int64_t>(data.train.count, 512 * batch);
  std::vector<matrix<float>> images(static_cast<size_t>(count), matrix<float>(28, 28));
  std::vector<unsigned long> labels(static_cast<size_t>(count));
  for (int64_t n = 0; n < count; ++n) {
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c)
        images[size_t(n)](r, c) = data.train.images[size_t((n * 28 + r) * 28 + c)];
    labels[size_t(n)] = unsigned(data.train.labels[size_t(n)]);
  }

  Net net;
  std::vector<sgd> solvers(Net::num_computational_layers, sgd(0.0f, 0.9f));
  resizable_tensor x;
  const int64_t batches = count / batch;
  auto step = [&](int i) {
    size_t first = size_t((i % batches) * batch);
    net.to_tensor(images.begin() + long(first), images.begin() + long(first + size_t(batch)), x);
    net.compute_parameter_gradients(x, labels.begin() + long(first));
    net.update_parameters(solvers, 1e-6); // a tiny rate: the parameters stay sane over many steps
  };
  bench::report("dlib", "lenet5_modern", "train", batch, threads, bench::measure(step, batch, 1.5, 7));
  return 0;
}
