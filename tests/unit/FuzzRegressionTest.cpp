// Inputs that once broke, or could break, the front end (tests/fuzz/regressions/: fuzzer
// finds and pathological cases): each must end in a model or in at least one located
// error, never in a crash, a hang or a failure without a message.
#include "TestUtil.h"

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace lenetc;

TEST(FuzzRegressions, EveryInputEndsInAModelOrAnError) {
  int replayed = 0;
  for (const auto &entry : std::filesystem::directory_iterator(LENETC_FUZZ_REGRESSIONS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    Compilation c(nullptr);
    if (!c.compileText(entry.path().filename().string(), text.str(), Stage::MLIRGrad))
      EXPECT_TRUE(c.diag().hadError()) << "failed without saying why";
    ++replayed;
  }
  EXPECT_GE(replayed, 10);
}
