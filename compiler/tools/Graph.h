// `lenetc graph`: the model's layers as a Graphviz drawing (what Keras' plot_model gives).
#pragma once

#include "tools/Layers.h"

#include <string>

namespace lenetc {

// The graph in the DOT language.
std::string toDot(const ModelSummary &summary);
// Writes the drawing to `path`; its extension picks the format: .dot (the DOT text itself),
// or .svg, .png, .pdf (rendered by Graphviz' `dot`). On failure sets `error`.
bool writeGraph(const ModelSummary &summary, const std::string &path, std::string &error);

} // namespace lenetc
