// Saving a file so that a failure never leaves half of it: the runtime's checkpoints and
// outputs, and lenetc's imported models, all save this way.
#pragma once

#include <string>

namespace lenetc {

// Writes `data` to `path` atomically (a temporary file beside it, fsync, rename, fsync of
// the directory); on failure throws std::runtime_error ("cannot save <what> '<path>': <why>")
// and the previous file at `path` is kept. LENETC_FAULT=pause-in-save stops the process
// halfway through writing (for the tests that kill a save).
void saveFileAtomically(const std::string &path, const std::string &data, const std::string &what);

} // namespace lenetc
