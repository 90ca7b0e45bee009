#include "Report.h"

#include "Error.h"
#include "Metrics.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <png.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace lenetc {

namespace {

// How many test images the page shows: the most wrong, and the right ones per class.
constexpr int kWrongShown = 16, kRightPerClass = 3, kMaxFilters = 64;

std::string base64(const std::vector<unsigned char> &bytes) {
  static const char *digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = uint32_t(bytes[i]) << 16;
    if (i + 1 < bytes.size())
      n |= uint32_t(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size())
      n |= bytes[i + 2];
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? digits[n & 63] : '=';
  }
  return out;
}

// An 8-bit picture (gray, or RGB when `channels` is 3) as a data: URL of a PNG file.
std::string pngDataUrl(const std::vector<unsigned char> &pixels, int width, int height, int channels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr))
    return "";
  std::vector<unsigned char> bytes(size);
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels.data(), 0, nullptr))
    return "";
  bytes.resize(size);
  return "data:image/png;base64," + base64(bytes);
}

// Test image `n` (values in [0, 1]) as a picture.
std::string examplePicture(const Dataset &d, int64_t n) {
  std::vector<unsigned char> pixels(static_cast<size_t>(d.height) * d.width);
  const float *src = d.images.data() + n * d.height * d.width;
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<unsigned char>(std::lround(std::clamp(src[i], 0.0f, 1.0f) * 255));
  return pngDataUrl(pixels, d.width, d.height, 1);
}

// Weights as a picture: red positive, blue negative, white zero, scaled by `scale` (the
// layer's largest magnitude, so that filters compare).
std::string weightPicture(const float *w, int width, int height, float scale) {
  std::vector<unsigned char> rgb(static_cast<size_t>(width) * height * 3);
  for (int i = 0; i < width * height; ++i) {
    float v = scale > 0 ? std::clamp(w[i] / scale, -1.0f, 1.0f) : 0.0f;
    auto fade = static_cast<unsigned char>(std::lround(255 * (1 - std::fabs(v))));
    rgb[3 * i] = v < 0 ? fade : 255;
    rgb[3 * i + 1] = fade;
    rgb[3 * i + 2] = v > 0 ? fade : 255;
  }
  return pngDataUrl(rgb, width, height, 3);
}

const char *kStyle = R"(
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
.status { padding: 8px 12px; border-radius: 4px; background: #eef3fb; }
.status.finished { background: #e6f4ea; } .status.diverged { background: #fde8e8; color: #8a1c1c; font-weight: bold; }
.headline { display: flex; gap: 32px; margin: 12px 0; } .headline div { font-size: 13px; color: #555; }
.headline b { display: block; font-size: 22px; color: #222; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 8px; }
#settings td:first-child { color: #555; font-family: monospace; }
pre { font-size: 12px; background: #f7f7f7; padding: 8px; overflow-x: auto; }
#graph svg { max-width: 100%; max-height: 640px; width: auto; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
#confusion-matrix td { text-align: right; min-width: 34px; border: 1px solid #eee; }
#confusion-matrix th { font-weight: normal; font-size: 12px; color: #555; }
#confusion-matrix th.pred { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; }
figure.example { margin: 0; width: 96px; text-align: center; font-size: 11px; }
figure.example img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccc; }
figure.wrong figcaption .pred { color: #b00; } figure.right figcaption .pred { color: #070; }
.filters img { width: 60px; height: 60px; image-rendering: pixelated; border: 1px solid #ccc; margin: 2px; }
.none { color: #777; font-style: italic; }
footer { margin-top: 40px; font-size: 11px; color: #888; }
)";

void settingsSection(std::string &out, const ReportContent &c) {
  const TrainState &s = *c.state;
  auto os = std::back_inserter(out);
  fmt::format_to(os, "<section id='settings'><h2>Settings</h2><table>\n");
  auto row = [&](const std::string &k, const std::string &v) {
    fmt::format_to(os, "<tr><td>{}</td><td>{}</td></tr>\n", xmlEscaped(k), xmlEscaped(v));
  };
  row("data", c.dataDescription);
  row("--epochs", fmt::format("{} of {}", s.epochsDone, c.epochsPlanned));
  for (const auto &[flag, value] : s.settings)
    row(flag, value);
  out += "</table></section>\n";
}

void modelSection(std::string &out, const ModelInfo &m) {
  auto os = std::back_inserter(out);
  fmt::format_to(os, "<section id='model'><h2>Model</h2>\n");
  if (m.summary && *m.summary)
    fmt::format_to(os, "<pre id='summary'>{}</pre>\n", xmlEscaped(m.summary));
  else
    fmt::format_to(os, "<p class='none'>No summary in this trainer.</p>\n");
  if (m.graphSvg && *m.graphSvg)
    fmt::format_to(os, "<div id='graph'>{}</div>\n", m.graphSvg);
  else
    fmt::format_to(os, "<p class='none'>No graph: Graphviz was not installed when this trainer was built.</p>\n");
  out += "</section>\n";
}

void curvesSection(std::string &out, const std::vector<EpochMetrics> &history) {
  out += "<section id='curves'><h2>Curves</h2>\n";
  if (history.empty()) {
    out += "<p class='none'>No epoch has finished yet.</p></section>\n";
    return;
  }
  int64_t epochs = static_cast<int64_t>(history.size());
  std::vector<Series> lr = {{"learning rate", "#9467bd", {}}}, speed = {{"training", "#8c564b", {}}};
  for (const auto &e : history) {
    lr[0].values.push_back(e.lr);
    speed[0].values.push_back(e.examplesPerSecond);
  }
  out += "<div class='charts'>\n" + chartSvg("loss", lossSeries(history), epochs, false) +
         chartSvg("accuracy", accuracySeries(history), epochs, true) + chartSvg("learning rate", lr, epochs, false) +
         chartSvg("examples per second", speed, epochs, false) + "</div></section>\n";
}

// The test set's answers, per example: predicted class, the probability of that class and
// the loss (minus the log-probability of the true class).
struct Answer {
  int64_t index;
  int label, predicted;
  double probability, loss;
};

std::vector<Answer> answers(const TestPredictions &t, int classes) {
  std::vector<Answer> out;
  for (int64_t n = 0; n < t.count; ++n) {
    const float *p = t.probs.data() + n * classes;
    int best = static_cast<int>(std::max_element(p, p + classes) - p);
    int label = t.images->labels[static_cast<size_t>(n)];
    out.push_back({n, label, best, p[best], -std::log(std::max(double(p[label]), 1e-30))});
  }
  return out;
}

void confusionSection(std::string &out, const std::vector<Answer> &all, const std::vector<std::string> &names) {
  auto os = std::back_inserter(out);
  const size_t k = names.size();
  std::vector<std::vector<int64_t>> counts(k, std::vector<int64_t>(k, 0));
  for (const Answer &a : all)
    counts[static_cast<size_t>(a.label)][static_cast<size_t>(a.predicted)]++;
  int64_t correct = 0;
  for (size_t i = 0; i < k; ++i)
    correct += counts[i][i];
  fmt::format_to(os,
                 "<section id='confusion'><h2>Confusion matrix</h2>\n<p>On {} test examples: {} right ({:.2f}%). "
                 "Rows are the true classes, columns the predicted ones.</p>\n<table id='confusion-matrix'>\n"
                 "<tr><th>true \\ predicted</th>",
                 formatCount(static_cast<int64_t>(all.size())), formatCount(correct),
                 all.empty() ? 0.0 : 100.0 * double(correct) / double(all.size()));
  for (const auto &n : names)
    fmt::format_to(os, "<th class='pred'>{}</th>", xmlEscaped(n));
  out += "<th>accuracy</th></tr>\n";
  for (size_t i = 0; i < k; ++i) {
    int64_t total = std::accumulate(counts[i].begin(), counts[i].end(), int64_t(0));
    fmt::format_to(os, "<tr><th>{}</th>", xmlEscaped(names[i]));
    for (size_t j = 0; j < k; ++j) {
      double share = total ? double(counts[i][j]) / double(total) : 0.0;
      // Right answers in green, wrong ones in red, as strong as their share of the row.
      fmt::format_to(os, "<td class='count' data-count='{}' style='background: rgba({}, {:.3f})'>{}</td>",
                     counts[i][j], i == j ? "44, 160, 44" : "214, 39, 40", i == j ? share * 0.6 : std::min(1.0, share * 3),
                     counts[i][j]);
    }
    if (total)
      fmt::format_to(os, "<td class='class-accuracy'>{:.1f}%</td></tr>\n", 100.0 * double(counts[i][i]) / double(total));
    else
      out += "<td class='class-accuracy'>-</td></tr>\n";
  }
  out += "</table></section>\n";
}

void exampleFigure(std::string &out, const char *kind, const Answer &a, const Dataset &images,
                   const std::vector<std::string> &names) {
  fmt::format_to(std::back_inserter(out),
                 "<figure class='example {}' data-index='{}'><img alt='test example {}' src='{}'>"
                 "<figcaption>true: {}<br><span class='pred'>predicted: {}</span><br>p = {:.3f}</figcaption></figure>\n",
                 kind, a.index, a.index, examplePicture(images, a.index), xmlEscaped(names[static_cast<size_t>(a.label)]),
                 xmlEscaped(names[static_cast<size_t>(a.predicted)]), a.probability);
}

void examplesSections(std::string &out, std::vector<Answer> all, const Dataset &images,
                      const std::vector<std::string> &names) {
  std::vector<Answer> wrong;
  for (const Answer &a : all)
    if (a.predicted != a.label)
      wrong.push_back(a);
  std::stable_sort(wrong.begin(), wrong.end(), [](const Answer &a, const Answer &b) { return a.loss > b.loss; });
  if (wrong.size() > kWrongShown)
    wrong.resize(kWrongShown);
  out += "<section id='wrong'><h2>Most wrong</h2>\n<p>The test images with the highest loss, with the "
         "probability of the class predicted.</p>\n<div class='gallery'>\n";
  for (const Answer &a : wrong)
    exampleFigure(out, "wrong", a, images, names);
  if (wrong.empty())
    out += "<p class='none'>None: every test image is right.</p>\n";
  out += "</div></section>\n<section id='right'><h2>Right</h2>\n<p>The first test images of each class that the "
         "model gets right.</p>\n<div class='gallery'>\n";
  std::vector<int> shown(names.size(), 0);
  for (const Answer &a : all)
    if (a.predicted == a.label && shown[static_cast<size_t>(a.label)]++ < kRightPerClass)
      exampleFigure(out, "right", a, images, names);
  out += "</div></section>\n";
}

// The first layer's weights as pictures: a conv's filters (one per output and input map), or
// a dense layer's rows when they are as many as the image's pixels.
void filtersSection(std::string &out, const ModelInfo &m, const std::vector<std::vector<float>> &params,
                    const Dataset &images) {
  auto os = std::back_inserter(out);
  out += "<section id='filters'><h2>First layer's filters</h2>\n";
  int first = -1;
  for (int i = 0; i < m.numParams && first < 0; ++i)
    if (std::string(m.params[i].role) == "weight")
      first = i;
  const ParamInfo *p = first >= 0 ? &m.params[first] : nullptr;
  int width = 0, height = 0;
  int64_t pictures = 0;
  if (p && p->rank == 4) {
    pictures = p->shape[0] * p->shape[1];
    height = static_cast<int>(p->shape[2]);
    width = static_cast<int>(p->shape[3]);
  } else if (p && p->rank == 2 && p->shape[1] == int64_t(images.height) * images.width) {
    pictures = p->shape[0];
    height = images.height;
    width = images.width;
  }
  if (!pictures) {
    out += "<p class='none'>The first layer's weights are not pictures.</p></section>\n";
    return;
  }
  const std::vector<float> &w = params[static_cast<size_t>(first)];
  float scale = 0;
  for (float v : w)
    scale = std::max(scale, std::fabs(v));
  int64_t shown = std::min<int64_t>(pictures, kMaxFilters);
  std::string what = fmt::format("{} pictures of {}x{}", pictures, width, height);
  if (shown < pictures)
    what = fmt::format("the first {} of {}", shown, what);
  fmt::format_to(os,
                 "<p>{} ({}): red positive, blue negative, white zero, on one scale (largest |w| = {:.3g}).</p>\n"
                 "<div class='filters'>",
                 xmlEscaped(p->name), what, scale);
  for (int64_t i = 0; i < shown; ++i)
    fmt::format_to(os, "<img class='filter' alt='{} {}' src='{}'>", xmlEscaped(p->name), i,
                   weightPicture(w.data() + i * width * height, width, height, scale));
  out += "</div></section>\n";
}

std::string statusLine(const ReportContent &c) {
  const TrainState &s = *c.state;
  switch (c.status) {
  case RunStatus::Running:
    return fmt::format("Training: epoch {} of {} done; this page is rewritten after each epoch.", s.epochsDone,
                       c.epochsPlanned);
  case RunStatus::Finished:
    return fmt::format("Finished: {} epoch{}.", s.epochsDone, s.epochsDone == 1 ? "" : "s");
  case RunStatus::Diverged:
    return "Diverged: " + c.statusNote + ". The results below are the last good epoch's.";
  case RunStatus::FromCheckpoint:
    return fmt::format("From checkpoint '{}', after epoch {}.", c.statusNote, s.epochsDone);
  }
  return "";
}

void headline(std::string &out, const std::vector<EpochMetrics> &history) {
  if (history.empty())
    return;
  const EpochMetrics &last = history.back();
  auto best = std::max_element(history.begin(), history.end(),
                               [](const EpochMetrics &a, const EpochMetrics &b) { return a.testAcc < b.testAcc; });
  double seconds = 0;
  for (const auto &e : history)
    seconds += e.seconds;
  fmt::format_to(std::back_inserter(out),
                 "<div class='headline'><div><b>{:.4f}</b>test accuracy</div><div><b>{:.4f}</b>best (epoch {})</div>"
                 "<div><b>{:.4f}</b>test loss</div><div><b>{:.1f} s</b>training</div>"
                 "<div><b>{}</b>examples/s (last epoch)</div></div>\n",
                 last.testAcc, best->testAcc, best->epoch, last.testLoss, seconds,
                 formatCount(std::llround(last.examplesPerSecond)));
}

} // namespace

std::string reportHtml(const ReportContent &c) {
  const ModelInfo &m = *c.model;
  const TrainState &s = *c.state;
  std::string out;
  auto os = std::back_inserter(out);
  static const char *kStatusClass[] = {"running", "finished", "diverged", "checkpoint"};
  fmt::format_to(os,
                 "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{0} on {1}</title>\n"
                 "<style>{2}</style></head><body>\n<h1>{0}</h1>\n<p>{1}</p>\n<p id='status' class='status {3}'>{4}</p>\n",
                 xmlEscaped(m.name), xmlEscaped(c.dataDescription), kStyle,
                 kStatusClass[static_cast<int>(c.status)], xmlEscaped(statusLine(c)));
  headline(out, s.history);
  curvesSection(out, s.history);
  if (c.test && c.params) {
    std::vector<Answer> all = answers(*c.test, m.classes);
    confusionSection(out, all, c.classNames);
    examplesSections(out, all, *c.test->images, c.classNames);
    filtersSection(out, m, *c.params, *c.test->images);
  } else {
    out += "<section id='confusion'><h2>Confusion matrix</h2><p class='none'>No epoch has been evaluated "
           "yet.</p></section>\n";
  }
  settingsSection(out, c);
  modelSection(out, m);
  fmt::format_to(os, "<footer>Written by the {} trainer (lenetc) at {:%Y-%m-%d %H:%M:%S} UTC.</footer>\n</body></html>\n",
                 xmlEscaped(m.name), fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  return out;
}

void ReportWriter::write(const ReportContent &content) {
  try {
    writeFileAtomically(path_, reportHtml(content));
    lastWarning_.clear();
  } catch (const Error &e) {
    std::string warning = std::string("the run report: ") + e.what();
    if (warning != lastWarning_)
      fmt::print(stderr, "{}: warning: {}; training goes on without it\n", program_, warning);
    lastWarning_ = warning;
  }
}

} // namespace lenetc
