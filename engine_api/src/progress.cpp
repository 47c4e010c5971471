#include "progress.hpp"

#include <cmath>
#include <cstdio>

namespace wfa::host::detail {

std::string render_progress(std::size_t done, std::size_t total, std::size_t failures, double elapsed_s,
                            std::size_t width) {
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const auto filled = static_cast<std::size_t>(std::floor(frac * static_cast<double>(width)));
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '-') + "] ";
  bar += std::to_string(done) + "/" + std::to_string(total) + " " +
         std::to_string(static_cast<int>(std::floor(frac * 100))) + "%";
  if (done > 0 && elapsed_s > 0) {
    const double rate = static_cast<double>(done) / elapsed_s;
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.1f rows/s", rate);
    bar += buf;
    bar += " " + std::to_string(failures) + " failed";
    const auto eta = static_cast<long long>(std::ceil(static_cast<double>(total - done) / rate));
    std::snprintf(buf, sizeof buf, " ETA %lld:%02lld", eta / 60, eta % 60);
    bar += buf;
  } else {
    bar += " " + std::to_string(failures) + " failed";
  }
  return bar;
}

}  // namespace wfa::host::detail
