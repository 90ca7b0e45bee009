#include "tools/Graph.h"

#include "dialect/Dialect.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace lenetc {

static std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '<' || c == '>')
      out += '\\';
    out += c;
  }
  return out;
}

std::string toDot(const ModelSummary &summary) {
  std::ostringstream os;
  os << "digraph \"" << escape(summary.name) << "\" {\n"
     << "  rankdir=TB;\n"
     << "  node [shape=record, fontname=\"Helvetica\", fontsize=11, style=filled, fillcolor=\"#eef3fb\"];\n"
     << "  edge [color=\"#555555\"];\n";
  for (size_t i = 0; i < summary.layers.size(); ++i) {
    const Layer &l = summary.layers[i];
    std::string shape = !l.note.empty() ? l.note : l.shape.empty() ? "scalar" : lenet::formatShape(l.shape);
    os << "  n" << i << " [label=\"{" << escape(l.name) << " | " << escape(l.op) << " | " << escape(shape);
    if (l.params)
      os << " | " << withThousands(l.params) << " params";
    os << "}\"";
    if (l.op == "input" || l.op == "label")
      os << ", fillcolor=\"#fdf3d8\"";
    os << "];\n";
  }
  for (size_t i = 0; i < summary.layers.size(); ++i)
    for (size_t from : summary.layers[i].inputs)
      os << "  n" << from << " -> n" << i << ";\n";
  os << "}\n";
  return os.str();
}

static bool writeFile(const std::string &path, const std::string &text, std::string &error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

bool writeGraph(const ModelSummary &summary, const std::string &path, std::string &error) {
  std::string dot = toDot(summary);
  size_t dotPos = path.rfind('.');
  std::string ext = dotPos == std::string::npos ? "" : path.substr(dotPos + 1);
  if (ext == "dot" || ext == "gv")
    return writeFile(path, dot, error);
  if (ext != "svg" && ext != "png" && ext != "pdf") {
    error = "cannot tell the format of '" + path + "': use a name ending in .svg, .png, .pdf or .dot";
    return false;
  }

  // Render through Graphviz: DOT on dot's stdin, the drawing written by dot itself.
  int fds[2];
  if (pipe(fds) != 0) {
    error = std::string("cannot start Graphviz: ") + std::strerror(errno);
    return false;
  }
  pid_t pid = fork();
  if (pid < 0) {
    error = std::string("cannot start Graphviz: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    dup2(fds[0], 0);
    close(fds[0]);
    close(fds[1]);
    std::string format = "-T" + ext, output = "-o" + path;
    execlp("dot", "dot", format.c_str(), output.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  size_t written = 0;
  while (written < dot.size()) {
    ssize_t n = write(fds[1], dot.data() + written, dot.size() - written);
    if (n <= 0)
      break;
    written += static_cast<size_t>(n);
  }
  close(fds[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    error = "Graphviz 'dot' was not found: install it (apt-get install graphviz), or write the "
            "graph as DOT text with -o FILE.dot";
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "Graphviz 'dot' failed to write '" + path + "'";
    return false;
  }
  return true;
}

} // namespace lenetc
