// Which call an idle worker serves next. Pure; any thread.
#ifndef PPROCD_SERVER_SCHEDULER_DISPATCH_H_
#define PPROCD_SERVER_SCHEDULER_DISPATCH_H_

#include <cstddef>
#include <cstdint>

namespace pprocd {

// Fair dispatch: round robin over the open calls in id order, starting after
// the call served last (`last_served`, which may have ended since). Returns
// the first call for which `can_serve(call)` is true, or `calls.end()` when
// none can. `calls` is an ordered map from call id to call; each call is
// asked at most once.
template <typename CallsById, typename CanServe>
typename CallsById::iterator NextCallToServe(CallsById& calls, uint64_t last_served,
                                             CanServe&& can_serve) {
  auto it = calls.upper_bound(last_served);
  for (size_t scanned = 0; scanned < calls.size(); ++scanned, ++it) {
    if (it == calls.end()) it = calls.begin();
    if (can_serve(it->second)) return it;
  }
  return calls.end();
}

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_DISPATCH_H_
