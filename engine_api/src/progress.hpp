// Internal: the text of the progress bar (drawn on stderr when it is a terminal).
#pragma once

#include <cstddef>
#include <string>

namespace wfa::host::detail {

/// "[#####-----] 512/1000 51% 123.4 rows/s 2 failed ETA 0:04" (no newline).
/// The rate and ETA are left out until something is done.
std::string render_progress(std::size_t done, std::size_t total, std::size_t failures, double elapsed_s,
                            std::size_t width = 24);

}  // namespace wfa::host::detail
