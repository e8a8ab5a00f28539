#include "pproc/progress.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace pprocd::pproc {
namespace {

constexpr int kBarWidth = 30;
constexpr absl::Duration kRedrawInterval = absl::Milliseconds(100);
// Carriage return, then erase to the end of the line.
constexpr char kEraseLine[] = "\r\033[K";

}  // namespace

ProgressBar::ProgressBar(FILE* out, uint64_t total, bool enabled)
    : out_(out), total_(total), enabled_(enabled), start_(absl::Now()) {}

void ProgressBar::Advance(uint64_t items) {
  done_ += items;
  if (!enabled_) return;
  absl::Time now = absl::Now();
  if (!visible_ || now - last_draw_ >= kRedrawInterval) Draw(now);
}

void ProgressBar::Set(uint64_t done) {
  done_ = done;
  Advance(0);
}

void ProgressBar::Hide() {
  if (!visible_) return;
  std::fputs(kEraseLine, out_);
  std::fflush(out_);
  visible_ = false;
}

void ProgressBar::Finish() {
  Hide();
  enabled_ = false;
}

void ProgressBar::Draw(absl::Time now) {
  double seconds = absl::ToDoubleSeconds(now - start_);
  double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  std::string line = absl::StrCat(kEraseLine, Render(done_, total_, rate));
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
  visible_ = true;
  last_draw_ = now;
}

std::string ProgressBar::Render(uint64_t done, uint64_t total, double items_per_second) {
  uint64_t shown = std::min(done, total);
  int filled = total == 0 ? kBarWidth : static_cast<int>(shown * kBarWidth / total);
  std::string line =
      absl::StrCat("[", std::string(filled, '#'), std::string(kBarWidth - filled, '.'), "] ", done,
                   "/", total, " items ", FormatRate(items_per_second));
  if (items_per_second > 0 && done < total) {
    const double left = std::ceil(static_cast<double>(total - done) / items_per_second);
    absl::StrAppend(&line, " ", FormatTimeLeft(left), " left");
  }
  return line;
}

std::string ProgressBar::FormatTimeLeft(double seconds) {
  if (seconds < 60) return absl::StrFormat("%.0fs", seconds);
  if (seconds < 3600) {
    return absl::StrFormat("%.0fm%02.0fs", std::floor(seconds / 60), std::fmod(seconds, 60));
  }
  return absl::StrFormat("%.0fh%02.0fm", std::floor(seconds / 3600),
                         std::floor(std::fmod(seconds, 3600) / 60));
}

std::string ProgressBar::FormatRate(double items_per_second) {
  if (items_per_second < 10) {
    return absl::StrFormat("%.1f/s", items_per_second);
  }
  if (items_per_second < 1000) {
    return absl::StrFormat("%.0f/s", items_per_second);
  }
  if (items_per_second < 1e6) {
    return absl::StrFormat("%.1fk/s", items_per_second / 1e3);
  }
  return absl::StrFormat("%.1fM/s", items_per_second / 1e6);
}

}  // namespace pprocd::pproc
