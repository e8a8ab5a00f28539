#include "base/event_loop/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/util/fake_clock.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

using ::pprocd::testing::FakeClock;

constexpr auto kNoDescriptors = [](uint64_t, uint32_t) {};

// A loop served by its own thread until closed, then asked to answer what
// is left, as the scheduler and the job manager do.
class LoopThread {
 public:
  explicit LoopThread(EventLoop& loop) : loop_(loop) {
    thread_ = std::thread([this] {
      while (!loop_.closed()) ASSERT_OK(loop_.RunOnce(-1, kNoDescriptors));
      loop_.RunPosted();
    });
  }
  ~LoopThread() { Join(); }
  void Join() {
    loop_.Close();
    if (thread_.joinable()) thread_.join();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  EventLoop& loop_;
  std::thread thread_;
};

TEST(EventLoopTest, PostedCommandsRunOnTheLoopThreadInOrder) {
  EventLoop loop;
  ASSERT_OK(loop.Init());
  LoopThread runner(loop);
  std::vector<int> ran;
  std::vector<bool> on_loop_thread;
  absl::Notification done;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(loop.Post([&, i] {
      ran.push_back(i);
      on_loop_thread.push_back(loop.OnLoopThread() && std::this_thread::get_id() == runner.id());
    }));
  }
  ASSERT_TRUE(loop.Post([&] { done.Notify(); }));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  runner.Join();
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(ran[i], i);
    EXPECT_TRUE(on_loop_thread[i]) << i;
  }
  EXPECT_FALSE(loop.OnLoopThread());
}

TEST(EventLoopTest, CommandsPostedFromManyThreadsAllRun) {
  EventLoop loop;
  ASSERT_OK(loop.Init());
  std::atomic<int> ran{0};
  {
    LoopThread runner(loop);
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
      posters.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) ASSERT_TRUE(loop.Post([&] { ++ran; }));
      });
    }
    for (std::thread& poster : posters) poster.join();
  }
  // Closed after the posts: whatever RunOnce left, RunPosted ran.
  EXPECT_EQ(ran.load(), 4000);
}

TEST(EventLoopTest, AClosedLoopRefusesPostsAndKeepsEarlierOnesForRunPosted) {
  EventLoop loop;
  ASSERT_OK(loop.Init());
  int ran = 0;
  ASSERT_TRUE(loop.Post([&] { ++ran; }));
  EXPECT_TRUE(loop.Close());
  EXPECT_FALSE(loop.Close()) << "closed once";
  EXPECT_TRUE(loop.closed());
  EXPECT_FALSE(loop.Post([&] { ran += 100; }));
  // Woken by the close; the command posted before it is not run here...
  ASSERT_OK(loop.RunOnce(-1, kNoDescriptors));
  EXPECT_EQ(ran, 0);
  // ...but by RunPosted, once.
  loop.RunPosted();
  loop.RunPosted();
  EXPECT_EQ(ran, 1);
}

TEST(EventLoopTest, AReadyDescriptorIsReportedWithItsTagUntilUnwatched) {
  EventLoop loop;
  ASSERT_OK(loop.Init());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  loop.Watch(read_end.get(), 42, EPOLLIN);
  std::vector<uint64_t> tags;
  const auto record = [&](uint64_t tag, uint32_t events) {
    tags.push_back(tag);
    EXPECT_TRUE(events & EPOLLIN);
  };
  ASSERT_OK(loop.RunOnce(0, record));
  EXPECT_TRUE(tags.empty()) << "nothing written yet";
  ASSERT_EQ(write(write_end.get(), "x", 1), 1);
  ASSERT_OK(loop.RunOnce(-1, record));
  EXPECT_EQ(tags, std::vector<uint64_t>{42});
  // Level-triggered: still ready while unread.
  ASSERT_OK(loop.RunOnce(0, record));
  EXPECT_EQ(tags.size(), 2u);
  loop.Unwatch(read_end.get());
  ASSERT_OK(loop.RunOnce(0, record));
  EXPECT_EQ(tags.size(), 2u);
}

TEST(EventLoopTest, TimersRunWhenTheClockReachesThemEarliestFirst) {
  FakeClock clock;
  EventLoop loop(clock);
  ASSERT_OK(loop.Init());
  std::vector<std::string> ran;
  loop.After(absl::Seconds(20), [&] { ran.push_back("20s"); });
  loop.After(absl::Seconds(10), [&] { ran.push_back("10s-a"); });
  loop.After(absl::Seconds(10), [&] {
    ran.push_back("10s-b");
    // A timer may set another.
    loop.After(absl::Seconds(5), [&] { ran.push_back("15s"); });
  });
  // Hours on the real clock are not waited for: the timers read the fake one.
  ASSERT_OK(loop.RunOnce(0, kNoDescriptors));
  EXPECT_TRUE(ran.empty());
  clock.Advance(absl::Seconds(10));
  ASSERT_OK(loop.RunOnce(0, kNoDescriptors));
  EXPECT_EQ(ran, (std::vector<std::string>{"10s-a", "10s-b"}));
  clock.Advance(absl::Seconds(10));
  ASSERT_OK(loop.RunOnce(0, kNoDescriptors));
  EXPECT_EQ(ran, (std::vector<std::string>{"10s-a", "10s-b", "15s", "20s"}));
}

TEST(EventLoopTest, ADueTimerEndsTheWait) {
  EventLoop loop;
  ASSERT_OK(loop.Init());
  bool ran = false;
  loop.After(absl::Milliseconds(20), [&] { ran = true; });
  // No descriptor, no post: only the timer can end this wait (else the
  // test hangs and its timeout fails it).
  while (!ran) ASSERT_OK(loop.RunOnce(-1, kNoDescriptors));
  EXPECT_TRUE(ran);
}

TEST(EventLoopDeathTest, ACallOffTheLoopThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        if (!loop.Init().ok()) return;
        std::thread([&] { (void)loop.RunOnce(0, kNoDescriptors); }).join();
        loop.After(absl::Seconds(1), [] {});
      },
      "called off the loop thread.*method=After");
}

}  // namespace
}  // namespace pprocd
