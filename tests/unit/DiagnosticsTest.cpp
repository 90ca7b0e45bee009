#include "frontend/Diagnostics.h"

#include <gtest/gtest.h>

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
