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
// A curve per epoch; a negative value is absent (no validation split).
struct Series {
  std::string label, color;
  std::vector<double> values;
};
// Train, validation and test loss, and accuracy, per epoch.
std::vector<Series> lossSeries(const std::vector<EpochMetrics> &history);
std::vector<Series> accuracySeries(const std::vector<EpochMetrics> &history);
// One chart as an <svg> element of its own (the run report's), in [0, 1] if `unitRange`.
std::string chartSvg(const std::string &title, const std::vector<Series> &series, int64_t epochs, bool unitRange);
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

// A count with thousands separators: "61,706".
std::string formatCount(int64_t n);

// Text as XML (SVG, HTML) character data or attribute value.
std::string xmlEscaped(const std::string &text);

// Writes `text` to `path` through a temporary file and a rename.
void writeFileAtomically(const std::string &path, const std::string &text);

} // namespace lenetc
