// LeNet-5 (models/lenet5.nn: D2L's, sigmoid and average pooling, C1 padded to keep 28x28)
// trained by a step written directly on oneDNN's primitives, the library under PyTorch's
// convolutions here: the expert-library bound for lenetc. Written as oneDNN's own
// cnn_training_f32 example is: primitives pick their weights' layouts (`any`, the blocked
// layouts of this CPU's kernels), activations are NHWC (with 6 and 16 maps, oneDNN's
// blocked activation layouts sent its sigmoid and C3 to reference code), every later
// primitive takes the layout its input already has, backward primitives get their forward one as hint, sigmoids run in place on
// their outputs and use them for the gradient. Softmax, cross-entropy and the SGD update are
// loops here (a few thousand numbers). Timed as bench/TrainerBench.cpp times lenetc.
//   onednn_lenet5 --threads N [--batch B] [--check]
// --check trains three epochs at D2L's rate instead and prints their mean losses, to be
// set beside the trainer's (bench/results/lenet5-seed0.log: 2.32, 2.25, 1.09).
#include "Bench.h"
#include "Data.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
using Args = std::unordered_map<int, memory>;

namespace {

struct Step {
  primitive p;
  Args args;
};

struct Param {
  memory value, grad;   // in the layout the forward primitive chose
  memory gradAsChosen;  // the gradient as the backward-weights primitive writes it
  bool reorderGrad = false;
  reorder toValueLayout; // gradAsChosen -> grad, when the layouts differ
};

class Lenet5 {
public:
  Lenet5(engine &eng, int64_t batch, uint64_t seed) : eng_(eng), rng_(seed), n_(batch) {
    x_ = memory({{n_, 1, 28, 28}, dt::f32, tag::nhwc}, eng_, DNNL_MEMORY_NONE); // one channel: NCHW too
    // Forward.
    memory h1 = conv(x_, 6, 5, 2, c1_);
    sigmoid(h1, s1_);
    memory p2 = pool(h1, p2_);
    memory h3 = conv(p2, 16, 5, 0, c3_);
    sigmoid(h3, s3_);
    memory p4 = pool(h3, p4_);
    memory h5 = dense(p4, 120, f5_);
    sigmoid(h5, s5_);
    memory h6 = dense(h5, 84, f6_);
    sigmoid(h6, s6_);
    logits_ = dense(h6, 10, f7_);
    dlogits_ = memory(logits_.get_desc(), eng_);
    // Backward, the same layers in reverse; C1 needs no input gradient.
    memory d6 = denseBackward(h6, dlogits_, f7_, true);
    sigmoidBackward(h6, d6, s6_);
    memory d5 = denseBackward(h5, d6, f6_, true);
    sigmoidBackward(h5, d5, s5_);
    memory d4 = denseBackward(p4, d5, f5_, true);
    memory d3 = poolBackward(h3, d4, p4_);
    sigmoidBackward(h3, d3, s3_);
    memory d2 = convBackward(p2, d3, c3_, true);
    memory d1 = poolBackward(h1, d2, p2_);
    sigmoidBackward(h1, d1, s1_);
    convBackward(x_, d1, c1_, false);
  }

  // One training step on `images` (batch x 28 x 28) and `labels`; returns the mean loss.
  float step(stream &s, const float *images, const int32_t *labels, float lr) {
    x_.set_data_handle(const_cast<float *>(images));
    for (Step &f : forward_)
      f.p.execute(s, f.args);
    s.wait();
    float loss = softmaxCrossEntropy(labels);
    for (Step &b : backward_)
      b.p.execute(s, b.args);
    for (Param &p : params_)
      if (p.reorderGrad)
        p.toValueLayout.execute(s, p.gradAsChosen, p.grad);
    s.wait();
    for (Param &p : params_) {
      float *w = static_cast<float *>(p.value.get_data_handle());
      const float *g = static_cast<const float *>(p.grad.get_data_handle());
      size_t count = p.value.get_desc().get_size() / sizeof(float);
      for (size_t i = 0; i < count; ++i)
        w[i] -= lr * g[i];
    }
    return loss;
  }

private:
  // Forward primitives kept for their backward ones' hints.
  struct ConvLayer {
    convolution_forward::primitive_desc pd;
    size_t param;
    int64_t pad;
  };
  struct DenseLayer {
    inner_product_forward::primitive_desc pd;
    size_t param;
  };

  memory conv(const memory &src, int64_t filters, int64_t kernel, int64_t pad, ConvLayer &layer) {
    memory::dims in = src.get_desc().dims();
    int64_t out = in[2] + 2 * pad - kernel + 1;
    memory::desc weights({filters, in[1], kernel, kernel}, dt::f32, tag::any);
    memory::desc bias({filters}, dt::f32, tag::x);
    memory::desc dst({n_, filters, out, out}, dt::f32, tag::nhwc);
    convolution_forward::desc d(prop_kind::forward_training, algorithm::convolution_direct, src.get_desc(), weights,
                                bias, dst, {1, 1}, {pad, pad}, {pad, pad});
    layer.pd = convolution_forward::primitive_desc(d, eng_);
    layer.pad = pad;
    layer.param = addParam(layer.pd.weights_desc(), {filters, in[1], kernel, kernel}, tag::oihw,
                           in[1] * kernel * kernel, filters * kernel * kernel);
    addParam(bias, {filters}, tag::x, 0, 0);
    memory y(layer.pd.dst_desc(), eng_);
    forward_.push_back({convolution_forward(layer.pd), {{DNNL_ARG_SRC, src},
                                                        {DNNL_ARG_WEIGHTS, params_[layer.param].value},
                                                        {DNNL_ARG_BIAS, params_[layer.param + 1].value},
                                                        {DNNL_ARG_DST, y}}});
    return y;
  }

  memory convBackward(const memory &src, const memory &dy, ConvLayer &layer, bool inputGradient) {
    const int64_t pad = layer.pad;
    Param &weights = params_[layer.param], &bias = params_[layer.param + 1];
    // The gradient in the layout its kernels choose (reordered for the update if it differs).
    memory::desc anyWeights(weights.value.get_desc().dims(), dt::f32, tag::any);
    convolution_backward_weights::desc dw(algorithm::convolution_direct, src.get_desc(), anyWeights,
                                          bias.value.get_desc(), dy.get_desc(), {1, 1}, {pad, pad}, {pad, pad});
    convolution_backward_weights::primitive_desc pdw(dw, eng_, layer.pd);
    gradientMemory(weights, pdw.diff_weights_desc());
    gradientMemory(bias, pdw.diff_bias_desc());
    backward_.push_back({convolution_backward_weights(pdw), {{DNNL_ARG_SRC, src},
                                                             {DNNL_ARG_DIFF_DST, dy},
                                                             {DNNL_ARG_DIFF_WEIGHTS, weights.gradAsChosen},
                                                             {DNNL_ARG_DIFF_BIAS, bias.gradAsChosen}}});
    if (!inputGradient)
      return memory();
    // Its kernels want the weights in a layout of their own (reordered each step, 2,400 numbers).
    convolution_backward_data::desc dd(algorithm::convolution_direct, src.get_desc(), anyWeights, dy.get_desc(),
                                       {1, 1}, {pad, pad}, {pad, pad});
    convolution_backward_data::primitive_desc pdd(dd, eng_, layer.pd);
    memory w = weights.value;
    if (pdd.weights_desc() != w.get_desc()) {
      w = memory(pdd.weights_desc(), eng_);
      backward_.push_back({reorder(weights.value, w), {{DNNL_ARG_FROM, weights.value}, {DNNL_ARG_TO, w}}});
    }
    memory dx(src.get_desc(), eng_);
    backward_.push_back({convolution_backward_data(pdd),
                         {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx}}});
    return dx;
  }

  memory dense(const memory &src, int64_t outputs, DenseLayer &layer) {
    memory::dims in = src.get_desc().dims();
    memory::dims wdims = in;
    wdims[0] = outputs;
    int64_t fanIn = 1;
    for (size_t i = 1; i < in.size(); ++i)
      fanIn *= in[i];
    memory::desc weights(wdims, dt::f32, tag::any);
    memory::desc bias({outputs}, dt::f32, tag::x);
    memory::desc dst({n_, outputs}, dt::f32, tag::nc);
    inner_product_forward::desc d(prop_kind::forward_training, src.get_desc(), weights, bias, dst);
    layer.pd = inner_product_forward::primitive_desc(d, eng_);
    layer.param = addParam(layer.pd.weights_desc(), wdims, in.size() == 4 ? tag::oihw : tag::oi, fanIn, outputs);
    addParam(bias, {outputs}, tag::x, 0, 0);
    memory y(layer.pd.dst_desc(), eng_);
    forward_.push_back({inner_product_forward(layer.pd), {{DNNL_ARG_SRC, src},
                                                          {DNNL_ARG_WEIGHTS, params_[layer.param].value},
                                                          {DNNL_ARG_BIAS, params_[layer.param + 1].value},
                                                          {DNNL_ARG_DST, y}}});
    return y;
  }

  memory denseBackward(const memory &src, const memory &dy, DenseLayer &layer, bool inputGradient) {
    Param &weights = params_[layer.param], &bias = params_[layer.param + 1];
    memory::desc anyWeights(weights.value.get_desc().dims(), dt::f32, tag::any);
    inner_product_backward_weights::desc dw(src.get_desc(), anyWeights, bias.value.get_desc(), dy.get_desc());
    inner_product_backward_weights::primitive_desc pdw(dw, eng_, layer.pd);
    gradientMemory(weights, pdw.diff_weights_desc());
    gradientMemory(bias, pdw.diff_bias_desc());
    backward_.push_back({inner_product_backward_weights(pdw), {{DNNL_ARG_SRC, src},
                                                               {DNNL_ARG_DIFF_DST, dy},
                                                               {DNNL_ARG_DIFF_WEIGHTS, weights.gradAsChosen},
                                                               {DNNL_ARG_DIFF_BIAS, bias.gradAsChosen}}});
    if (!inputGradient)
      return memory();
    inner_product_backward_data::desc dd(src.get_desc(), weights.value.get_desc(), dy.get_desc());
    inner_product_backward_data::primitive_desc pdd(dd, eng_, layer.pd);
    memory dx(src.get_desc(), eng_);
    backward_.push_back({inner_product_backward_data(pdd),
                         {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, weights.value}, {DNNL_ARG_DIFF_SRC, dx}}});
    return dx;
  }

  void sigmoid(const memory &y, eltwise_forward::primitive_desc &pd) {
    eltwise_forward::desc d(prop_kind::forward_training, algorithm::eltwise_logistic_use_dst_for_bwd, y.get_desc());
    pd = eltwise_forward::primitive_desc(d, eng_);
    forward_.push_back({eltwise_forward(pd), {{DNNL_ARG_SRC, y}, {DNNL_ARG_DST, y}}});
  }

  void sigmoidBackward(const memory &y, const memory &dy, eltwise_forward::primitive_desc &hint) {
    eltwise_backward::desc d(algorithm::eltwise_logistic_use_dst_for_bwd, dy.get_desc(), y.get_desc());
    eltwise_backward::primitive_desc pd(d, eng_, hint);
    backward_.push_back({eltwise_backward(pd), {{DNNL_ARG_DST, y}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_SRC, dy}}});
  }

  memory pool(const memory &src, pooling_forward::primitive_desc &pd) {
    memory::dims in = src.get_desc().dims();
    memory::desc dst({in[0], in[1], in[2] / 2, in[3] / 2}, dt::f32, tag::any);
    pooling_forward::desc d(prop_kind::forward_training, algorithm::pooling_avg_exclude_padding, src.get_desc(), dst,
                            {2, 2}, {2, 2}, {0, 0}, {0, 0});
    pd = pooling_forward::primitive_desc(d, eng_);
    memory y(pd.dst_desc(), eng_);
    forward_.push_back({pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, y}}});
    return y;
  }

  memory poolBackward(const memory &src, const memory &dy, pooling_forward::primitive_desc &hint) {
    pooling_backward::desc d(algorithm::pooling_avg_exclude_padding, src.get_desc(), dy.get_desc(), {2, 2}, {2, 2},
                             {0, 0}, {0, 0});
    pooling_backward::primitive_desc pd(d, eng_, hint);
    memory dx(src.get_desc(), eng_);
    backward_.push_back({pooling_backward(pd), {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_SRC, dx}}});
    return dx;
  }

  // A parameter in the layout `chosen`, initialised in the plain layout `plain` (Xavier
  // uniform for weights, zeros for biases: fanIn 0) and reordered.
  size_t addParam(const memory::desc &chosen, const memory::dims &dims, tag plain, int64_t fanIn, int64_t fanOut) {
    Param p;
    p.value = memory(chosen, eng_);
    memory init({dims, dt::f32, plain}, eng_);
    float *v = static_cast<float *>(init.get_data_handle());
    size_t count = init.get_desc().get_size() / sizeof(float);
    float limit = fanIn > 0 ? std::sqrt(6.0f / float(fanIn + fanOut)) : 0.0f;
    std::uniform_real_distribution<float> u(-limit, limit);
    for (size_t i = 0; i < count; ++i)
      v[i] = fanIn > 0 ? u(rng_) : 0.0f;
    stream s(eng_);
    reorder(init, p.value).execute(s, init, p.value);
    s.wait();
    params_.push_back(p);
    return params_.size() - 1;
  }

  // The gradient as the backward primitive writes it, reordered to the value's layout
  // before the update when the two differ.
  void gradientMemory(Param &p, const memory::desc &chosen) {
    p.grad = memory(p.value.get_desc(), eng_);
    p.reorderGrad = chosen != p.value.get_desc();
    p.gradAsChosen = p.reorderGrad ? memory(chosen, eng_) : p.grad;
    if (p.reorderGrad)
      p.toValueLayout = reorder(p.gradAsChosen, p.grad);
  }

  // Mean softmax cross-entropy of the logits; its gradient into dlogits_.
  float softmaxCrossEntropy(const int32_t *labels) {
    const float *z = static_cast<const float *>(logits_.get_data_handle());
    float *dz = static_cast<float *>(dlogits_.get_data_handle());
    double loss = 0;
    for (int64_t n = 0; n < n_; ++n) {
      const float *zn = z + n * 10;
      float top = *std::max_element(zn, zn + 10), sum = 0;
      for (int k = 0; k < 10; ++k)
        sum += std::exp(zn[k] - top);
      for (int k = 0; k < 10; ++k)
        dz[n * 10 + k] = (std::exp(zn[k] - top) / sum - (k == labels[n] ? 1.0f : 0.0f)) / float(n_);
      loss += std::log(sum) + top - zn[labels[n]];
    }
    return float(loss / double(n_));
  }

  engine &eng_;
  std::mt19937 rng_;
  int64_t n_;
  memory x_, logits_, dlogits_;
  ConvLayer c1_, c3_;
  DenseLayer f5_, f6_, f7_;
  pooling_forward::primitive_desc p2_, p4_;
  eltwise_forward::primitive_desc s1_, s3_, s5_, s6_;
  std::vector<Param> params_;
  std::vector<Step> forward_, backward_;
};

} // namespace

int main(int argc, char **argv) {
  const bench::PeerArgs args = bench::peerArgs(argc, argv);
  const int threads = args.threads;
  const int64_t batch = args.batch;
  // Threads: OpenMP's, oneDNN's runtime here (bench/peers.sh sets OMP_NUM_THREADS and the CPUs).
  lenetc::DataSplits data = lenetc::loadData("fashion-mnist", 10);
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  Lenet5 net(eng, batch, 0);
  const int64_t batches = std::min<int64_t>(data.train.count / batch, 512);
  auto at = [&](int64_t b) { return data.train.images.data() + b * batch * 784; };
  auto labelsAt = [&](int64_t b) { return data.train.labels.data() + b * batch; };
  if (args.check) {
    for (int epoch = 1; epoch <= 3; ++epoch) {
      double sum = 0;
      int64_t steps = data.train.count / batch;
      for (int64_t b = 0; b < steps; ++b)
        sum += net.step(s, at(b), labelsAt(b), 0.9f);
      fmt::print("epoch {} train loss {:.4f}\n", epoch, sum / double(steps));
    }
    return 0;
  }
  auto step = [&](int i) { net.step(s, at(i % batches), labelsAt(i % batches), 1e-6f); };
  bench::report("oneDNN", "lenet5", "train", batch, threads, bench::measure(step, batch, 1.5, 7));
  return 0;
}
