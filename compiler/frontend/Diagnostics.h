// Diagnostics in the compiler's one format:
//   file:line:col: error: message
//     <the source line>
//     <caret under the column>
// Every stage (lexer, parser, MLIR generation, verifiers, shape inference) reports through
// one DiagnosticEngine, so tests can inspect what was said and the CLI prints it the same way.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace lenetc {

// 1-based line and column in the model file; {0, 0} means "no position".
struct Loc {
  int line = 0;
  int col = 0;
  bool valid() const { return line > 0; }
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  Loc loc;
  std::string message;
};

// The model file being compiled: its path (as shown in messages) and text.
class SourceFile {
public:
  SourceFile(std::string path, std::string text);
  // Reads `path`; on failure returns false and sets `error`.
  static bool read(const std::string &path, SourceFile &out, std::string &error);

  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  // The text of 1-based line `line`, without its newline ("" when out of range).
  std::string_view line(int line) const;

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

class DiagnosticEngine {
public:
  // `out` may be null: diagnostics are then only recorded (tests use this).
  DiagnosticEngine(const SourceFile &file, std::ostream *out);

  void error(Loc loc, const std::string &message) { report(Severity::Error, loc, message); }
  void warning(Loc loc, const std::string &message) { report(Severity::Warning, loc, message); }
  void note(Loc loc, const std::string &message) { report(Severity::Note, loc, message); }
  void report(Severity severity, Loc loc, const std::string &message);

  // Errors past this many are counted, not kept or printed (after one line saying so).
  static constexpr int kMaxErrors = 20;

  int errorCount() const { return errors_; }
  bool hadError() const { return errors_ > 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }
  const SourceFile &file() const { return file_; }

  // The formatted text of one diagnostic (header line, source line, caret).
  std::string format(const Diagnostic &d) const;

private:
  const SourceFile &file_;
  std::ostream *out_;
  std::vector<Diagnostic> diags_;
  int errors_ = 0;
};

// Closest candidate within a small edit distance, for "did you mean ...?" hints ("" if none).
std::string closestMatch(std::string_view word, const std::vector<std::string> &candidates);

} // namespace lenetc
