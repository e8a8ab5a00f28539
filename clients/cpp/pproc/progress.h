// ProgressBar: pproc's one-line progress display on a terminal's stderr,
//   [#####.....] 512/1000 items 2.1k/s 1s left
// redrawn at most ~10 times a second and erased when done. A disabled bar
// (stderr not a terminal, or the total unknown) prints nothing at all.
//
// Thread-safety: none; use from one thread (the one printing results).
#ifndef PPROCD_CLIENTS_CPP_PPROC_PROGRESS_H_
#define PPROCD_CLIENTS_CPP_PPROC_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/time.h"

namespace pprocd::pproc {

class ProgressBar {
 public:
  // Draws on `out` (not owned; must outlive the bar) only if `enabled`.
  ProgressBar(FILE* out, uint64_t total, bool enabled);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { Finish(); }

  // Counts `items` more as done; redraws when the last draw is 100 ms old,
  // or at once when Hide() took the bar away.
  void Advance(uint64_t items = 1);
  // Sets the count of items done to `done` (it may go down, as when a job
  // runs again); redraws as Advance() does.
  void Set(uint64_t done);
  // Erases the bar so that a line can be written to the same terminal; the
  // next Advance() draws it again.
  void Hide();
  // Erases the bar for good.
  void Finish();

  // The bar's text for `done` of `total` at `items_per_second`.
  static std::string Render(uint64_t done, uint64_t total, double items_per_second);
  // Whole seconds left: "42s", "3m05s", "2h10m".
  static std::string FormatTimeLeft(double seconds);
  // A compact rate: "950/s", "2.1k/s", "1.3M/s".
  static std::string FormatRate(double items_per_second);

 private:
  void Draw(absl::Time now);

  FILE* const out_;
  const uint64_t total_;
  bool enabled_;
  const absl::Time start_;
  uint64_t done_ = 0;
  bool visible_ = false;
  absl::Time last_draw_ = absl::InfinitePast();
};

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_PROGRESS_H_
