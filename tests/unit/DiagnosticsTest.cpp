#include "frontend/Diagnostics.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace lenetc;

TEST(Diagnostics, FormatHasPositionSourceLineAndCaret) {
  SourceFile file("models/x.nn", "model m {\n  c1 = conv(q)\n}\n");
  std::ostringstream out;
  DiagnosticEngine diag(file, &out);
  diag.error({2, 13}, "undefined name 'q'");
  EXPECT_EQ(out.str(), "models/x.nn:2:13: error: undefined name 'q'\n"
                       "    c1 = conv(q)\n"
                       "              ^\n");
  EXPECT_EQ(diag.errorCount(), 1);
}

TEST(Diagnostics, TabsKeepTheCaretAligned) {
  SourceFile file("t.nn", "\tc1 = x\n");
  DiagnosticEngine diag(file, nullptr);
  diag.error({1, 7}, "m");
  EXPECT_EQ(diag.format(diag.diagnostics()[0]), "t.nn:1:7: error: m\n  \tc1 = x\n  \t     ^\n");
}

TEST(Diagnostics, NoPositionMeansNoSourceLine) {
  SourceFile file("t.nn", "");
  DiagnosticEngine diag(file, nullptr);
  diag.warning({}, "w");
  EXPECT_EQ(diag.format(diag.diagnostics()[0]), "t.nn: warning: w\n");
  EXPECT_EQ(diag.errorCount(), 0);
}

TEST(Diagnostics, WindowsLineEndings) {
  SourceFile file("t.nn", "a\r\nbb\r\n");
  EXPECT_EQ(file.line(2), "bb");
  EXPECT_EQ(file.line(9), "");
}

TEST(Diagnostics, ClosestMatch) {
  EXPECT_EQ(closestMatch("filter", {"filters", "kernel", "stride"}), "filters");
  EXPECT_EQ(closestMatch("sigmod", {"sigmoid", "tanh"}), "sigmoid");
  EXPECT_EQ(closestMatch("zzzzzz", {"sigmoid", "tanh"}), "");
}

TEST(Diagnostics, TooManyErrorsStopAfterALineSayingSo) {
  SourceFile file("t.nn", "$$$\n");
  std::ostringstream out;
  DiagnosticEngine diag(file, &out);
  for (int i = 0; i < 1000; ++i)
    diag.error({1, 1}, "e");
  EXPECT_EQ(diag.errorCount(), 1000);
  EXPECT_EQ(diag.diagnostics().size(), size_t(DiagnosticEngine::kMaxErrors));
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3 * DiagnosticEngine::kMaxErrors + 1);
  EXPECT_NE(text.find("t.nn: error: too many errors (20); stopped reporting\n"), std::string::npos);
}

TEST(Diagnostics, ALongLineShowsAWindowAroundTheColumn) {
  std::string line(5000, 'a');
  line[3000] = '$';
  SourceFile file("t.nn", line + "\n");
  DiagnosticEngine diag(file, nullptr);
  diag.error({1, 3001}, "m");
  std::string text = diag.format(diag.diagnostics()[0]);
  EXPECT_LT(text.size(), 300u);
  EXPECT_EQ(text, "t.nn:1:3001: error: m\n  ..." + std::string(60, 'a') + "$" + std::string(59, 'a') + "...\n     " +
                      std::string(60, ' ') + "^\n");
}

TEST(Diagnostics, TheCaretCountsCharactersNotBytes) {
  SourceFile file("t.nn", "s = \"d\xC3\xA9j\xC3\xA0\" q\n"); // "déjà" q
  DiagnosticEngine diag(file, nullptr);
  diag.error({1, 14}, "m");
  EXPECT_EQ(diag.format(diag.diagnostics()[0]),
            "t.nn:1:14: error: m\n  s = \"d\xC3\xA9j\xC3\xA0\" q\n             ^\n");
}

TEST(Diagnostics, ReadingSkipsAByteOrderMarkAndRefusesDirectories) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "lenetc-diag-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bom.nn") << "\xEF\xBB\xBFmodel m {}\n";
  SourceFile file("", "");
  std::string error;
  ASSERT_TRUE(SourceFile::read((dir / "bom.nn").string(), file, error)) << error;
  EXPECT_EQ(file.line(1), "model m {}");
  EXPECT_FALSE(SourceFile::read(dir.string(), file, error));
  EXPECT_EQ(error, "'" + dir.string() + "' is a directory, not a file");
  EXPECT_FALSE(SourceFile::read("/dev/zero", file, error));
  EXPECT_EQ(error, "'/dev/zero' is not a regular file");
  std::filesystem::remove_all(dir);
}
