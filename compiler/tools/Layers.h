// The model as a user thinks of it: one row per layer, an activation that follows an op
// folded into that op's row (`conv 5x5 pad 2 |> sigmoid`), as Keras' summary shows a layer
// with its activation. `lenetc summary` prints the rows; `lenetc graph` draws them.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

struct Layer {
  std::string name;           // "c1"
  std::string op;             // "conv 5x5 pad 2 |> sigmoid"
  std::vector<int64_t> shape; // per-example output shape; empty for the scalar loss
  int64_t params = 0;         // trainable parameters
  std::vector<size_t> inputs; // indices of the layers it reads
  std::string note;           // e.g. "class[10]" for the label
};

struct ModelSummary {
  std::string name;
  std::vector<Layer> layers;
  int64_t totalParams = 0;
  int64_t nonTrainableParams = 0; // of totalParams: state (batchnorm's running statistics)
  std::string trainDefaults; // "data=fashion_mnist optimizer=sgd(lr=0.9) ..."
};

// Needs a module after shape inference.
ModelSummary summarize(mlir::ModuleOp module);
void printSummary(const ModelSummary &summary, std::ostream &os);
// "61,706"
std::string withThousands(int64_t n);

} // namespace lenetc
