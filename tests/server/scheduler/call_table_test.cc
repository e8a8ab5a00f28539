// The call table and the flow control of a call, table by table, without a
// scheduler or a process: each decision is a pure function of a CallState.
#include "server/scheduler/call_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace pprocd {
namespace {

constexpr uint64_t kWindow = 100;

// A call holding `pending` queued items, `running`, `unsent` results
// written to the client's stream and not yet acknowledged, and `ahead`
// results held back for input order (indices past a missing one).
CallState Holding(uint64_t pending, uint64_t running, uint64_t unsent, uint64_t ahead = 0) {
  CallState call;
  call.pending_items = pending;
  call.running = running;
  call.unsent = unsent;
  for (uint64_t i = 0; i < ahead; ++i) {
    auto result = std::make_unique<v1::ItemResult>();
    result->set_index(1 + i);  // index 0 has not arrived: all are held
    result->set_last(true);
    call.ordering.Add(ResultPiece(std::move(result)));
  }
  return call;
}

TEST(CallFlowTest, ACallAsksForInputWhileItHoldsLessThanItsWindow) {
  struct Case {
    const char* name;
    CallState call;
    bool input_ended;
    bool input_requested;
    bool wants;
  };
  Case cases[] = {
      {"empty", Holding(0, 0, 0), false, false, true},
      {"one below the window", Holding(40, 30, 29), false, false, true},
      {"at the window", Holding(40, 30, 30), false, false, false},
      {"held back for order count", Holding(0, 0, 0, kWindow), false, false, false},
      {"already asked", Holding(0, 0, 0), false, true, false},
      {"inputs ended", Holding(0, 0, 0), true, false, false},
  };
  for (Case& c : cases) {
    c.call.input_ended = c.input_ended;
    c.call.input_requested = c.input_requested;
    EXPECT_EQ(WantsInput(c.call, kWindow), c.wants) << c.name;
  }
}

TEST(CallFlowTest, AStartCallAsksForMessagesWhileItsInboxAndWorkerHaveRoom) {
  struct Case {
    const char* name;
    bool channel_input, channel_end, channel_requested;
    size_t inbox;
    size_t outbox_bytes;
    bool wants;
  };
  const Case cases[] = {
      {"open, empty", true, false, false, 0, 0, true},
      {"not a Start call", false, false, false, 0, 0, false},
      {"channel ended", true, true, false, 0, 0, false},
      {"already asked", true, false, true, 0, 0, false},
      {"inbox one below its limit", true, false, false, kMaxChannelInbox - 1, 0, true},
      {"inbox full", true, false, false, kMaxChannelInbox, 0, false},
      {"worker's queue one below", true, false, false, 0, kMaxChannelOutboxBytes - 1, true},
      {"worker's queue full", true, false, false, 0, kMaxChannelOutboxBytes, false},
  };
  for (const Case& c : cases) {
    CallState call;
    call.channel_input = c.channel_input;
    call.channel_end = c.channel_end;
    call.channel_requested = c.channel_requested;
    call.channel_inbox.assign(c.inbox, std::string("m"));
    EXPECT_EQ(WantsChannelMessages(call, c.outbox_bytes), c.wants) << c.name;
  }
}

TEST(CallFlowTest, AChannelWorkerPausesWhenTheResultsItWouldAddExceedTheWindow) {
  struct Case {
    const char* name;
    CallState call;
    bool runs_head;
    bool pauses;
  };
  Case cases[] = {
      {"head, unsent below", Holding(0, 1, kWindow - 1), true, false},
      {"head, unsent at the window", Holding(0, 1, kWindow), true, true},
      // The head waits only for the client: results held for order do not
      // stop it, or the call could never move on.
      {"head, held back for order", Holding(0, 1, 0, kWindow), true, false},
      {"other, unsent + held below", Holding(0, 1, kWindow / 2, kWindow / 2 - 1), false, false},
      {"other, unsent + held at", Holding(0, 1, kWindow / 2, kWindow / 2), false, true},
      {"other, held back at the window", Holding(0, 1, 0, kWindow), false, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PausesWorker(c.call, c.runs_head, kWindow), c.pauses) << c.name;
  }
}

TEST(CallTableTest, OpensFindsAndErasesCallsById) {
  CallTable table;
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.Find(7), nullptr);
  CallState& opened = table.Open(7);
  EXPECT_EQ(opened.id, 7u);
  table.Open(3);
  ASSERT_NE(table.Find(7), nullptr);
  EXPECT_EQ(table.Find(7), &opened);
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : table) ids.push_back(id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{3, 7})) << "in id order";
  table.Erase(7);
  EXPECT_EQ(table.Find(7), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(CallTableTest, DirtyCallsAreTakenOnceEachInIdOrder) {
  CallTable table;
  for (uint64_t id : {5, 2, 5, 9, 2}) table.MarkDirty(id);
  EXPECT_EQ(table.TakeDirty(), (std::vector<uint64_t>{2, 5, 9}));
  EXPECT_TRUE(table.TakeDirty().empty()) << "taken";
  table.MarkDirty(4);
  EXPECT_EQ(table.TakeDirty(), (std::vector<uint64_t>{4}));
}

}  // namespace
}  // namespace pprocd
