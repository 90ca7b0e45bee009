#include "frontend/Diagnostics.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

namespace lenetc {

SourceFile::SourceFile(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n')
      lineStarts_.push_back(i + 1);
}

bool SourceFile::read(const std::string &path, SourceFile &out, std::string &error) {
  // A directory or a device (/dev/zero would be read until memory ran out) is no model.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "'" + path + "' is a directory, not a file";
    return false;
  }
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    error = "'" + path + "' is not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = "cannot read '" + path + "'";
    return false;
  }
  std::string text = ss.str();
  // An editor's UTF-8 byte-order mark is not part of the model.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
    text.erase(0, 3);
  out = SourceFile(path, std::move(text));
  return true;
}

std::string_view SourceFile::line(int line) const {
  if (line < 1 || static_cast<size_t>(line) > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos)
    end = text_.size();
  if (end > begin && text_[end - 1] == '\r')
    --end;
  return std::string_view(text_).substr(begin, end - begin);
}

DiagnosticEngine::DiagnosticEngine(const SourceFile &file, std::ostream *out) : file_(file), out_(out) {}

void DiagnosticEngine::report(Severity severity, Loc loc, const std::string &message) {
  if (severity == Severity::Error)
    ++errors_;
  // Past kMaxErrors, errors are counted but neither kept nor printed: a binary file fed in
  // as a model would otherwise print one error per byte, each with its line.
  if (errors_ > kMaxErrors) {
    if (errors_ == kMaxErrors + 1 && out_)
      *out_ << file_.path() << ": error: too many errors (" << kMaxErrors << "); stopped reporting\n"
            << std::flush;
    return;
  }
  diags_.push_back({severity, loc, message});
  if (out_)
    *out_ << format(diags_.back()) << std::flush;
}

std::string DiagnosticEngine::format(const Diagnostic &d) const {
  static const char *names[] = {"error", "warning", "note"};
  std::ostringstream os;
  os << file_.path();
  if (d.loc.valid())
    os << ':' << d.loc.line << ':' << d.loc.col;
  os << ": " << names[static_cast<int>(d.severity)] << ": " << d.message << '\n';
  if (d.loc.valid()) {
    std::string_view text = file_.line(d.loc.line);
    // A long line shows a window around the column.
    size_t col = static_cast<size_t>(d.loc.col - 1), first = 0;
    const size_t kWidth = 120;
    if (text.size() > kWidth) {
      first = col > kWidth / 2 ? col - kWidth / 2 : 0;
      text = text.substr(first, kWidth);
      col -= first;
    }
    os << "  " << (first > 0 ? "..." : "") << text << (first + text.size() < file_.line(d.loc.line).size() ? "..." : "")
       << '\n' << "  " << (first > 0 ? "   " : "");
    // Keep tabs so that the caret lines up with the source line; a UTF-8 character's
    // continuation bytes take no column on the screen.
    for (size_t i = 0; i < col && i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
        os << (text[i] == '\t' ? '\t' : ' ');
    os << "^\n";
  }
  return os.str();
}

static size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closestMatch(std::string_view word, const std::vector<std::string> &candidates) {
  std::string best;
  size_t bestDistance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto &c : candidates) {
    size_t d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

} // namespace lenetc
