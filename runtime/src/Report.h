// The run report: one self-contained HTML page that shows a training run -- its settings,
// the model (summary table and graph), the curves per epoch, the confusion matrix on the
// test set, the test images the model gets most wrong and some it gets right, and the first
// layer's filters. Inline CSS, SVG and PNG images (data: URLs); no script, nothing fetched.
// The trainer rewrites it after every epoch (--report); `report` makes it from a checkpoint.
#pragma once

#include "Checkpoint.h"
#include "Data.h"
#include "lenetc/ModelInfo.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

// The model's answers on the test set at the end of an epoch.
struct TestPredictions {
  const Dataset *images = nullptr; // its first `count` examples are the ones evaluated
  int64_t count = 0;
  std::vector<float> probs; // count x classes
};

enum class RunStatus { Running, Finished, Diverged, FromCheckpoint };

struct ReportContent {
  const ModelInfo *model = nullptr;
  const TrainState *state = nullptr; // settings and history
  std::string dataDescription;
  std::vector<std::string> classNames;
  int64_t epochsPlanned = 0;
  RunStatus status = RunStatus::Running;
  std::string statusNote; // the divergence message, or the checkpoint's name
  // The parameters and test answers of the last epoch that finished well (a diverged run's
  // are no longer finite); null before the first epoch has.
  const std::vector<std::vector<float>> *params = nullptr;
  const TestPredictions *test = nullptr;
};

std::string reportHtml(const ReportContent &content);

// Writes the page after each epoch, atomically. A page that cannot be written never stops
// training: the failure is one warning line on stderr (each distinct failure once).
class ReportWriter {
public:
  // Warnings start with `program`'s name, as the trainer's other messages.
  ReportWriter(std::string path, std::string program) : path_(std::move(path)), program_(std::move(program)) {}
  const std::string &path() const { return path_; }
  void write(const ReportContent &content);

private:
  std::string path_, program_, lastWarning_;
};

} // namespace lenetc
