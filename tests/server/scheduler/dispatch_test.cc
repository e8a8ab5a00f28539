// Fair dispatch (NextCallToServe), table by table: which call an idle
// worker serves next, with no scheduler and no process.
#include "server/scheduler/dispatch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace pprocd {
namespace {

struct Case {
  std::string name;
  std::vector<uint64_t> open;    // Open calls, by id.
  std::set<uint64_t> can_serve;  // Those that can take a worker now.
  uint64_t last_served;          // The call served last (may have ended).
  uint64_t expected;             // 0 = none.
};

TEST(DispatchTest, TheNextCallAfterTheOneServedLastThatCanServeIsChosen) {
  const std::vector<Case> cases = {
      {"no call", {}, {}, 0, 0},
      {"none can serve", {1, 2, 3}, {}, 1, 0},
      {"first turn starts at the lowest id", {1, 2, 3}, {1, 2, 3}, 0, 1},
      {"the one after the last served", {1, 2, 3}, {1, 2, 3}, 1, 2},
      {"wraps around after the highest id", {1, 2, 3}, {1, 2, 3}, 3, 1},
      {"skips those that cannot serve", {1, 2, 3, 4}, {1, 4}, 1, 4},
      {"the last served comes again only when alone", {1, 2, 3}, {2}, 2, 2},
      {"the last served has ended", {1, 3, 5}, {1, 3, 5}, 4, 5},
      {"the last served ended and was the highest", {1, 3}, {1, 3}, 9, 1},
      {"ids need not be dense", {10, 200, 3000}, {10, 3000}, 10, 3000},
  };
  for (const Case& c : cases) {
    std::map<uint64_t, uint64_t> calls;
    for (const uint64_t id : c.open) calls[id] = id;
    int asked = 0;
    auto chosen = NextCallToServe(calls, c.last_served, [&](uint64_t id) {
      ++asked;
      return c.can_serve.count(id) > 0;
    });
    const uint64_t got = chosen == calls.end() ? 0 : chosen->first;
    EXPECT_EQ(got, c.expected) << c.name;
    EXPECT_LE(asked, static_cast<int>(c.open.size())) << c.name << ": each call asked once";
  }
}

TEST(DispatchTest, ServingInTurnGivesEveryCallAnEqualShare) {
  std::map<uint64_t, uint64_t> calls = {{1, 0}, {2, 0}, {3, 0}};
  uint64_t last_served = 0;
  for (int turn = 0; turn < 30; ++turn) {
    auto chosen = NextCallToServe(calls, last_served, [](uint64_t) { return true; });
    ASSERT_NE(chosen, calls.end());
    ++chosen->second;
    last_served = chosen->first;
  }
  for (const auto& [id, served] : calls) EXPECT_EQ(served, 10u) << "call " << id;
}

}  // namespace
}  // namespace pprocd
