#include "progress.hpp"

#include <cmath>
#include <cstdio>

namespace flowrun {

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

void status_display::line(std::string_view text) {
  std::lock_guard lock(mu_);
  if (bar_) err_ << "\r\033[K";
  err_ << text << '\n';
  err_.flush();
  if (bar_ && !last_bar_.empty()) err_ << last_bar_ << std::flush;
}

void status_display::bar(const std::string& text) {
  if (!bar_) return;
  std::lock_guard lock(mu_);
  last_bar_ = text;
  err_ << "\r\033[K" << text << std::flush;
}

void status_display::finish() {
  if (!bar_) return;
  std::lock_guard lock(mu_);
  err_ << "\r\033[K" << last_bar_ << '\n' << std::flush;
  last_bar_.clear();
}

}  // namespace flowrun
