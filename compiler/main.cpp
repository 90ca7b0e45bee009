// lenetc: compiles LeNet-family model descriptions (models/*.nn). The commands are in
// commands/, one file each; this file dispatches to them.
//
// Exit status: 0 success, 1 the model has errors (or an output could not be written),
// 2 the command line is wrong.
#include "commands/Command.h"
#include "frontend/Diagnostics.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using namespace lenetc;

namespace {
const char *kVersion = "lenetc 0.1.0 (MLIR 14, Halide 14)";
} // namespace

int main(int argc, char **argv) {
  // Graphviz may exit before reading all of its input; that is reported, not fatal.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printMainHelp(std::cerr);
    return 2;
  }
  const std::string &first = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (isHelp(first)) {
    printMainHelp(std::cout);
    return 0;
  }
  if (first == "--version") {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (first == "help") {
    if (rest.empty()) {
      printMainHelp(std::cout);
      return 0;
    }
    std::string names;
    for (const Command &c : commands()) {
      if (rest[0] == c.name) {
        c.help(std::cout);
        return 0;
      }
      names += (names.empty() ? "" : ", ") + std::string(c.name);
    }
    return usageError("no help for '" + rest[0] + "' (commands: " + names + ")", "");
  }
  // Anything thrown past a command (file system, Halide) is one line and status 1.
  // A word that is no file but nearly a command is a typo of the command.
  std::vector<std::string> names;
  for (const Command &c : commands())
    names.push_back(c.name);
  std::error_code ec;
  if (first[0] != '-' && !std::filesystem::exists(first, ec) &&
      std::find(names.begin(), names.end(), first) == names.end())
    if (std::string near = lenetc::closestMatch(first, names); !near.empty())
      return usageError("unknown command '" + first + "'; did you mean '" + near + "'?", "");
  try {
    int rc = -1;
    for (const Command &c : commands())
      if (first == c.name)
        rc = c.run(rest);
    if (rc < 0)
      rc = runEmit(args);
    // What went to stdout (an IR dump, a schedule file) must have arrived: a full disk is
    // an error, not a silently cut file.
    std::cout.flush();
    if (rc == 0 && !std::cout) {
      std::cerr << "lenetc: error: cannot write the output: " << std::strerror(errno ? errno : EIO) << "\n";
      return 1;
    }
    return rc;
  } catch (const std::exception &e) {
    std::cerr << "lenetc: error: " << e.what() << "\n";
    return 1;
  }
}
