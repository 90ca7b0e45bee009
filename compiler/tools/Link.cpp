#include "tools/Link.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace lenetc {

namespace {

// Where this lenetc's runtime is: set by the build (CMake), overridable for an installed
// lenetc with $LENETC_RUNTIME_LIBRARY and $LENETC_RUNTIME_INCLUDE.
std::string setting(const char *env, const char *builtIn) {
  const char *v = std::getenv(env);
  return v && *v ? v : builtIn;
}

// Words of a space-separated list (flags, libraries), in order.
std::vector<std::string> words(const std::string &list) {
  std::vector<std::string> out;
  for (size_t at = 0; at < list.size();) {
    size_t end = list.find(' ', at);
    if (end == std::string::npos)
      end = list.size();
    if (end > at)
      out.push_back(list.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

} // namespace

bool mpiAvailable() { return *LENETC_RUNTIME_MPI_LIBRARY != '\0'; }

bool linkTrainer(const std::string &dir, const std::string &model, const std::string &output, bool mpi,
                 std::string &error) {
  std::string cxx = setting("CXX", "c++"), runtime = setting("LENETC_RUNTIME_LIBRARY", LENETC_RUNTIME_LIBRARY);
  std::vector<std::string> args = {
      cxx,
      "-O2",
      "-std=c++17",
      "-I" + setting("LENETC_RUNTIME_INCLUDE", LENETC_RUNTIME_INCLUDE),
      "-I" + std::string(LENETC_HALIDE_INCLUDE),
      "-I" + dir,
      dir + "/" + model + "_main.cpp",
      dir + "/" + model + "_model.cpp",
      runtime,
      dir + "/" + model + "_train_step.a",
      dir + "/" + model + "_infer.a",
      dir + "/" + model + "_infer_one.a",
  };
  // A GPU build's GPU variants.
  for (const char *gpu : {"_train_step_gpu.a", "_infer_gpu.a"})
    if (access((dir + "/" + model + gpu).c_str(), R_OK) == 0)
      args.push_back(dir + "/" + model + gpu);
  // Flags the runtime library was built with that linking needs (a sanitizer build's).
  for (const std::string &flag : words(LENETC_TRAINER_FLAGS))
    args.push_back(flag);
  // The communicator before the runtime it calls into, MPI after it.
  if (mpi)
    args.insert(std::find(args.begin(), args.end(), runtime),
                setting("LENETC_RUNTIME_MPI_LIBRARY", LENETC_RUNTIME_MPI_LIBRARY));
  for (const char *lib : {"_runtime.a"})
    args.push_back(dir + "/" + model + lib);
  if (mpi)
    for (const std::string &lib : words(LENETC_MPI_LIBRARIES))
      args.push_back(lib);
  for (const char *flag : {"-lpng", "-lz", "-lpthread", "-ldl", "-o"})
    args.push_back(flag);
  args.push_back(output);
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    error = "cannot run the C++ compiler '" + cxx + "': " + std::strerror(rc) + " (install g++, or set CXX)";
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "linking the trainer failed ('" + cxx + "' exited with status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
    return false;
  }
  return true;
}

} // namespace lenetc
