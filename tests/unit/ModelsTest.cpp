// Every model in models/ compiles, and its summary has the shapes and parameter counts of
// the network it describes (the numbers in the issue and the papers). A model file without
// an entry here fails the test, so a new model comes with its numbers.
#include "TestUtil.h"

#include "tools/Layers.h"

#include <filesystem>
#include <map>

using namespace lenetc;

namespace {

struct Row {
  std::string name;
  std::vector<int64_t> shape;
  int64_t params;
};

struct Expected {
  std::vector<Row> rows; // layers after the input and label rows, in order
  int64_t total;
  int64_t nonTrainable = 0; // of total: batchnorm's running statistics
};

// The D2L LeNet-5: 6x28x28, 6x14x14, 16x10x10, 16x5x5, 400, 120, 84, 10; 61,706 parameters.
Expected lenet5() {
  return {{{"c1", {6, 28, 28}, 156},
           {"s2", {6, 14, 14}, 0},
           {"c3", {16, 10, 10}, 2416},
           {"s4", {16, 5, 5}, 0},
           {"f5.flatten", {400}, 0},
           {"f5", {120}, 48120},
           {"f6", {84}, 10164},
           {"logits", {10}, 850},
           {"loss", {}, 0}},
          61706};
}

const std::map<std::string, Expected> &expectations() {
  static const std::map<std::string, Expected> e = {
      {"lenet5", lenet5()},
      // ReLU and max pooling change no shape.
      {"lenet5_modern", lenet5()},
      {"lenet1",
       {{{"c1", {4, 24, 24}, 104},
         {"s2", {4, 12, 12}, 0},
         {"c3", {12, 8, 8}, 1212},
         {"s4", {12, 4, 4}, 0},
         {"logits.flatten", {192}, 0},
         {"logits", {10}, 1930},
         {"loss", {}, 0}},
        3246}},
      // LeCun 1998: C1 156, S2 12, C3 1,516 (60 connections), S4 32, C5 48,120, F6 10,164.
      {"lenet5_classic",
       {{{"c1", {6, 28, 28}, 156},
         {"s2", {6, 14, 14}, 12},
         {"c3", {16, 10, 10}, 1516},
         {"s4", {16, 5, 5}, 32},
         {"c5", {120, 1, 1}, 48120},
         {"f6.flatten", {120}, 0},
         {"f6", {84}, 10164},
         {"logits", {10}, 850},
         {"loss", {}, 0}},
        60850}},
      // D2L's LeNet with batch normalization: 44,878 trainable parameters and 452 running
      // statistics (a mean and a variance per channel of 6 + 16 + 120 + 84).
      {"lenet5_bn",
       {{{"c1", {6, 24, 24}, 156},
         {"c1.batchnorm", {6, 24, 24}, 24},
         {"s2", {6, 12, 12}, 0},
         {"c3", {16, 8, 8}, 2416},
         {"c3.batchnorm", {16, 8, 8}, 64},
         {"s4", {16, 4, 4}, 0},
         {"f5.flatten", {256}, 0},
         {"f5", {120}, 30840},
         {"f5.batchnorm", {120}, 480},
         {"f6", {84}, 10164},
         {"f6.batchnorm", {84}, 336},
         {"logits", {10}, 850},
         {"loss", {}, 0}},
        45330,
        452}},
      // Under 100,000 trainable parameters (the bound).
      {"lenet5_best",
       {{{"c1", {16, 28, 28}, 416},
         {"c1.batchnorm", {16, 28, 28}, 64},
         {"s2", {16, 14, 14}, 0},
         {"c3", {32, 10, 10}, 12832},
         {"c3.batchnorm", {32, 10, 10}, 128},
         {"s4", {32, 5, 5}, 0},
         {"f5.flatten", {800}, 0},
         {"f5", {96}, 76896},
         {"f5.batchnorm", {96}, 384},
         {"f5.dropout", {96}, 0},
         {"logits", {10}, 970},
         {"loss", {}, 0}},
        91690,
        288}},
  };
  return e;
}

TEST(Models, EveryModelFileHasTheExpectedSummary) {
  int checked = 0;
  for (const auto &entry : std::filesystem::directory_iterator(LENETC_MODELS_DIR)) {
    if (entry.path().extension() != ".nn")
      continue;
    std::string stem = entry.path().stem().string();
    SCOPED_TRACE(entry.path().string());
    auto it = expectations().find(stem);
    ASSERT_NE(it, expectations().end()) << "no expected summary for models/" << stem << ".nn";
    Compilation c(nullptr);
    ASSERT_TRUE(c.compileFile(entry.path().string(), Stage::MLIR));
    EXPECT_TRUE(c.diag().diagnostics().empty()) << "a shipped model compiles without warnings";
    ModelSummary s = summarize(c.module());
    EXPECT_EQ(s.name, stem);
    const Expected &want = it->second;
    ASSERT_EQ(s.layers.size(), want.rows.size() + 2);
    EXPECT_EQ(s.layers[0].op, "input");
    EXPECT_EQ(s.layers[1].op, "label");
    EXPECT_EQ(s.layers[1].note, "class[10]");
    for (size_t i = 0; i < want.rows.size(); ++i) {
      const Layer &got = s.layers[i + 2];
      EXPECT_EQ(got.name, want.rows[i].name);
      EXPECT_EQ(got.shape, want.rows[i].shape) << got.name;
      EXPECT_EQ(got.params, want.rows[i].params) << got.name;
    }
    EXPECT_EQ(s.totalParams, want.total);
    EXPECT_EQ(s.nonTrainableParams, want.nonTrainable);
    EXPECT_LT(s.totalParams - s.nonTrainableParams, 100000) << "a LeNet-size model";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(expectations().size())) << "every expectation has its model file";
}

TEST(Models, ThousandsSeparator) {
  EXPECT_EQ(withThousands(61706), "61,706");
  EXPECT_EQ(withThousands(850), "850");
  EXPECT_EQ(withThousands(1000000), "1,000,000");
}

} // namespace
