#include "Metrics.h"

#include "Error.h"

#include <fmt/format.h>

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

// One panel: axes, grid, ticks, a line (and a dot per epoch) per series, a legend.
// The legend sits where the curves are not: top right for a falling loss, bottom right for
// a rising accuracy.
void panel(std::string &out, double x0, double y0, double w, double h, const std::string &title,
           const std::vector<Series> &series, int64_t epochs, bool unitRange) {
  auto os = std::back_inserter(out);
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
  if (!unitRange && hi - lo <= 1e-9 * std::max(1.0, std::fabs(hi))) // a flat curve (a constant rate)
    lo = hi * 0.9, hi = hi * 1.1 + 1e-9;
  else if (!unitRange) {
    double pad = (hi - lo) * 0.08 + 1e-9;
    lo = std::max(0.0, lo - pad);
    hi += pad;
  }
  auto X = [&](double e) { return x0 + (epochs > 1 ? (e - 1) / double(epochs - 1) : 0.5) * w; };
  auto Y = [&](double v) { return y0 + h - (v - lo) / (hi - lo) * h; };
  fmt::format_to(os, "<text x='{}' y='{}' text-anchor='middle' font-size='15'>{}</text>\n", x0 + w / 2, y0 - 12,
                 xmlEscaped(title));
  fmt::format_to(os, "<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#888'/>\n", x0, y0, w, h);
  for (int i = 0; i <= 5; ++i) {
    double v = lo + (hi - lo) * i / 5;
    fmt::format_to(os,
                   "<line x1='{}' x2='{}' y1='{:.2f}' y2='{:.2f}' stroke='#eee'/><text x='{}' y='{:.2f}' "
                   "text-anchor='end' font-size='11'>{}</text>\n",
                   x0, x0 + w, Y(v), Y(v), x0 - 6, Y(v) + 4,
                   std::fabs(v) >= 1000 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v));
  }
  int64_t step = std::max<int64_t>(1, epochs / 10);
  for (int64_t e = 1; e <= epochs; e += step)
    fmt::format_to(os, "<text x='{:.2f}' y='{}' text-anchor='middle' font-size='11'>{}</text>\n", X(double(e)),
                   y0 + h + 16, e);
  fmt::format_to(os, "<text x='{}' y='{}' text-anchor='middle' font-size='12'>epoch</text>\n", x0 + w / 2,
                 y0 + h + 34);
  int legend = 0;
  for (const auto &s : series) {
    std::string points, dots;
    for (size_t i = 0; i < s.values.size(); ++i)
      if (s.values[i] >= 0 && std::isfinite(s.values[i])) {
        fmt::format_to(std::back_inserter(points), "{:.2f},{:.2f} ", X(double(i + 1)), Y(s.values[i]));
        fmt::format_to(std::back_inserter(dots), "<circle cx='{:.2f}' cy='{:.2f}' r='2.5' fill='{}'/>",
                       X(double(i + 1)), Y(s.values[i]), s.color);
      }
    if (points.empty())
      continue;
    fmt::format_to(os, "<polyline fill='none' stroke='{}' stroke-width='2' points='{}'/>\n{}\n", s.color, points,
                   dots);
    fmt::format_to(os,
                   "<line x1='{}' x2='{}' y1='{}' y2='{}' stroke='{}' stroke-width='2'/><text x='{}' y='{}' "
                   "font-size='12'>{}</text>\n",
                   lx + 10, lx + 30, ly + 14 + 16 * legend, ly + 14 + 16 * legend, s.color, lx + 36,
                   ly + 18 + 16 * legend, xmlEscaped(s.label));
    ++legend;
  }
}

} // namespace

std::string formatCount(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string xmlEscaped(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '\'')
      out += "&#39;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::vector<Series> lossSeries(const std::vector<EpochMetrics> &history) {
  std::vector<Series> s = {{"train", "#1f77b4", {}}, {"validation", "#2ca02c", {}}, {"test", "#d62728", {}}};
  for (const auto &m : history) {
    s[0].values.push_back(m.trainLoss);
    s[1].values.push_back(m.valLoss);
    s[2].values.push_back(m.testLoss);
  }
  return s;
}

std::vector<Series> accuracySeries(const std::vector<EpochMetrics> &history) {
  std::vector<Series> s = lossSeries({});
  for (const auto &m : history) {
    s[0].values.push_back(m.trainAcc);
    s[1].values.push_back(m.valAcc);
    s[2].values.push_back(m.testAcc);
  }
  return s;
}

std::string chartSvg(const std::string &title, const std::vector<Series> &series, int64_t epochs, bool unitRange) {
  std::string out = "<svg xmlns='http://www.w3.org/2000/svg' width='440' height='340' class='chart' "
                    "font-family='Helvetica, Arial, sans-serif'>\n<rect width='440' height='340' fill='white'/>\n";
  panel(out, 70, 40, 340, 250, title, series, epochs, unitRange);
  return out + "</svg>\n";
}

void writePlotSvg(const std::string &path, const std::string &title,
                  const std::vector<EpochMetrics> &history) {
  std::string out = "<svg xmlns='http://www.w3.org/2000/svg' width='900' height='380' font-family='Helvetica, "
                    "Arial, sans-serif'>\n<rect width='900' height='380' fill='white'/>\n";
  fmt::format_to(std::back_inserter(out),
                 "<text x='450' y='22' text-anchor='middle' font-size='16' font-weight='bold'>{}</text>\n",
                 xmlEscaped(title));
  int64_t epochs = static_cast<int64_t>(history.size());
  panel(out, 70, 60, 340, 250, "loss", lossSeries(history), epochs, false);
  panel(out, 520, 60, 340, 250, "accuracy", accuracySeries(history), epochs, true);
  out += "</svg>\n";
  writeFileAtomically(path, out);
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
