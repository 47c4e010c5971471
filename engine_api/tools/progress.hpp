// flowrun's progress bar (drawn on stderr when it is a terminal) and the stderr it shares
// with the run's diagnostic lines.
#pragma once

#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace flowrun {

/// "[#####-----] 512/1000 51% 123.4 rows/s 2 failed ETA 0:04" (no newline).
/// The rate and ETA are left out until something is done.
std::string render_progress(std::size_t done, std::size_t total, std::size_t failures, double elapsed_s,
                            std::size_t width = 24);

/// stderr shared by diagnostic lines (any thread) and the progress bar (the run thread):
/// with the bar on, a line clears it, is printed, and the bar is drawn again below it.
class status_display {
 public:
  status_display(std::ostream& err, bool bar) : err_(err), bar_(bar) {}

  void line(std::string_view text);
  void bar(const std::string& text);
  /// Leaves the last bar on its own line (nothing without the bar).
  void finish();

 private:
  std::ostream& err_;
  bool bar_;
  std::mutex mu_;
  std::string last_bar_;
};

}  // namespace flowrun
