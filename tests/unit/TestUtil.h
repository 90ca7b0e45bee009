// Helpers shared by the unit tests: compile model text in memory and look at what was said.
#pragma once

#include "tools/Compile.h"

#include <gtest/gtest.h>

#include <string>

namespace lenetc::test {

// A model with one input, one label and a loss around `body` (statements only).
inline std::string wrapModel(const std::string &body, const std::string &input = "f32[1, 28, 28]") {
  return "model m {\n  input x: " + input + "\n  label y: class[10]\n" + body + "}\n";
}

// The first error of compiling `text` up to MLIR (shape-inferred), as "line:col: message".
inline std::string firstError(const std::string &text, Stage stage = Stage::MLIR) {
  Compilation c(nullptr);
  if (c.compileText("t.nn", text, stage))
    return "no error";
  for (const auto &d : c.diag().diagnostics())
    if (d.severity == Severity::Error)
      return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message;
  return "failed without an error";
}

} // namespace lenetc::test
