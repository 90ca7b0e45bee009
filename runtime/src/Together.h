// Steps that every rank of a distributed run takes together: each runs its part, then they
// compare outcomes, so that a failure on one rank (a missing file, a bad flag) stops every
// rank with that rank's message instead of leaving the others waiting for it.
#pragma once

#include "Error.h"
#include "lenetc/Communicator.h"

#include <string>
#include <vector>

namespace lenetc {

// Runs `step` on this rank; if it threw lenetc::Error on any rank, throws on every rank a
// SharedError with the first failing rank's message (named "rank R: ..." unless every rank
// failed alike) and status. One process: `step` as it is.
template <class Step> void together(Communicator &comm, Step &&step) {
  if (comm.size() == 1) {
    step();
    return;
  }
  std::string mine;
  try {
    step();
  } catch (const Error &e) {
    mine = std::to_string(e.exitCode) + "\n" + e.what();
  }
  std::vector<std::string> all = comm.allGather(mine);
  size_t failed = 0, first = all.size();
  for (size_t r = 0; r < all.size(); ++r)
    if (!all[r].empty()) {
      ++failed;
      first = std::min(first, r);
    }
  if (!failed)
    return;
  bool alike = failed == all.size();
  for (const std::string &a : all)
    alike = alike && a == all[first];
  size_t newline = all[first].find('\n');
  int code = std::stoi(all[first].substr(0, newline));
  std::string message = all[first].substr(newline + 1);
  throw SharedError(alike ? message : "rank " + std::to_string(first) + ": " + message, code);
}

} // namespace lenetc
