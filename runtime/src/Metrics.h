// Per-epoch metrics: the CSV file (--metrics), the SVG figure (--plot) and the progress
// line on a terminal.
#pragma once

#include "Checkpoint.h"

#include <chrono>
#include <string>
#include <vector>

namespace lenetc {

// Writes the whole history (atomically: a rewrite per epoch is cheap and never half-done).
void writeMetricsCsv(const std::string &path, const std::vector<EpochMetrics> &history);
// Loss and accuracy per epoch, train / validation / test, as two side-by-side panels.
void writePlotSvg(const std::string &path, const std::string &title,
                  const std::vector<EpochMetrics> &history);

// A progress bar redrawn in place on a terminal; nothing when stderr is not a terminal.
class Progress {
public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void update(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss, double acc,
              double exPerSec);
  void clear();

private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Writes `text` to `path` through a temporary file and a rename.
void writeFileAtomically(const std::string &path, const std::string &text);

} // namespace lenetc
