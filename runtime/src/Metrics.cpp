#include "Metrics.h"

#include "Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace lenetc {

void writeFileAtomically(const std::string &path, const std::string &text) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("cannot write '" + path + "': " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error("cannot write '" + path + "': " + why);
  }
}

void writeMetricsCsv(const std::string &path, const std::vector<EpochMetrics> &history) {
  std::ostringstream os;
  os << "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,train_seconds,examples_per_"
        "second\n";
  os.precision(6);
  for (const auto &m : history) {
    os << m.epoch << ',' << m.trainLoss << ',' << m.trainAcc << ',';
    if (m.valLoss >= 0)
      os << m.valLoss << ',' << m.valAcc;
    else
      os << ',';
    os << ',' << m.testLoss << ',' << m.testAcc << ',' << m.lr << ',' << m.seconds << ','
       << std::llround(m.examplesPerSecond) << '\n';
  }
  writeFileAtomically(path, os.str());
}

namespace {

struct Series {
  std::string label, color;
  std::vector<double> values; // per epoch; negative = absent
};

// One panel: axes, grid, ticks, a line per series, a legend.
// The legend sits where the curves are not: top right for a falling loss, bottom right for
// a rising accuracy.
void panel(std::ostringstream &os, double x0, double y0, double w, double h, const std::string &title,
           const std::vector<Series> &series, int64_t epochs, bool unitRange) {
  const double lx = x0 + w - 110, ly = unitRange ? y0 + h - 56 : y0;
  double lo = unitRange ? 0 : 1e300, hi = unitRange ? 1 : -1e300;
  if (!unitRange)
    for (const auto &s : series)
      for (double v : s.values)
        if (v >= 0 && std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
  if (lo > hi)
    lo = 0, hi = 1;
  if (!unitRange) {
    double pad = (hi - lo) * 0.08 + 1e-9;
    lo = std::max(0.0, lo - pad);
    hi += pad;
  }
  auto X = [&](double e) { return x0 + (epochs > 1 ? (e - 1) / double(epochs - 1) : 0.5) * w; };
  auto Y = [&](double v) { return y0 + h - (v - lo) / (hi - lo) * h; };
  os << "<text x='" << x0 + w / 2 << "' y='" << y0 - 12 << "' text-anchor='middle' font-size='15'>" << title
     << "</text>\n";
  os << "<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << h
     << "' fill='none' stroke='#888'/>\n";
  for (int i = 0; i <= 5; ++i) {
    double v = lo + (hi - lo) * i / 5;
    os << "<line x1='" << x0 << "' x2='" << x0 + w << "' y1='" << Y(v) << "' y2='" << Y(v)
       << "' stroke='#eee'/><text x='" << x0 - 6 << "' y='" << Y(v) + 4
       << "' text-anchor='end' font-size='11'>";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    os << buf << "</text>\n";
  }
  int64_t step = std::max<int64_t>(1, epochs / 10);
  for (int64_t e = 1; e <= epochs; e += step)
    os << "<text x='" << X(double(e)) << "' y='" << y0 + h + 16 << "' text-anchor='middle' font-size='11'>"
       << e << "</text>\n";
  os << "<text x='" << x0 + w / 2 << "' y='" << y0 + h + 34
     << "' text-anchor='middle' font-size='12'>epoch</text>\n";
  int legend = 0;
  for (const auto &s : series) {
    std::string points;
    for (size_t i = 0; i < s.values.size(); ++i)
      if (s.values[i] >= 0 && std::isfinite(s.values[i]))
        points += std::to_string(X(double(i + 1))) + "," + std::to_string(Y(s.values[i])) + " ";
    if (points.empty())
      continue;
    os << "<polyline fill='none' stroke='" << s.color << "' stroke-width='2' points='" << points << "'/>\n";
    os << "<line x1='" << lx + 10 << "' x2='" << lx + 30 << "' y1='" << ly + 14 + 16 * legend << "' y2='"
       << ly + 14 + 16 * legend << "' stroke='" << s.color << "' stroke-width='2'/><text x='" << lx + 36
       << "' y='" << ly + 18 + 16 * legend << "' font-size='12'>" << s.label << "</text>\n";
    ++legend;
  }
}

// Text as SVG (XML) character data: a title names the data set, which may be any path.
std::string xmlEscaped(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

} // namespace

void writePlotSvg(const std::string &path, const std::string &title,
                  const std::vector<EpochMetrics> &history) {
  std::vector<Series> loss = {
      {"train", "#1f77b4", {}}, {"validation", "#2ca02c", {}}, {"test", "#d62728", {}}};
  std::vector<Series> acc = loss;
  for (const auto &m : history) {
    loss[0].values.push_back(m.trainLoss);
    loss[1].values.push_back(m.valLoss);
    loss[2].values.push_back(m.testLoss);
    acc[0].values.push_back(m.trainAcc);
    acc[1].values.push_back(m.valAcc);
    acc[2].values.push_back(m.testAcc);
  }
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='900' height='380' font-family='Helvetica, Arial, "
        "sans-serif'>\n<rect width='900' height='380' fill='white'/>\n";
  os << "<text x='450' y='22' text-anchor='middle' font-size='16' font-weight='bold'>" << xmlEscaped(title)
     << "</text>\n";
  int64_t epochs = static_cast<int64_t>(history.size());
  panel(os, 70, 60, 340, 250, "loss", loss, epochs, false);
  panel(os, 520, 60, 340, 250, "accuracy", acc, epochs, true);
  os << "</svg>\n";
  writeFileAtomically(path, os.str());
}

void Progress::update(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss, double acc,
                      double exPerSec) {
  if (!enabled_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100))
    return;
  last_ = now;
  const int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width)
    bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  loss %.4f  acc %.4f  %.0f ex/s",
               (long long)epoch, (long long)epochs, bar.c_str(), (long long)done, (long long)total, loss, acc,
               exPerSec);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

} // namespace lenetc
