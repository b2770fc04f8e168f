// The worker's wait between looks, and the watch that shortens it when a
// promotion begins.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "glue/wait_policy.hpp"

using namespace pg_vip;
using namespace std::chrono;

TEST(WaitPolicy, AStandbyWithTheWatchSleepsASecondAndPollsFastAfterAChange) {
  WaitInputs in;
  in.until_step = milliseconds(10000);
  in.watching = true;
  EXPECT_EQ(next_wait(in), milliseconds(1000));
  in.fast_polling = true;
  EXPECT_EQ(next_wait(in), milliseconds(1));
}

TEST(WaitPolicy, AStandbyWithoutTheWatchPolls) {
  WaitInputs in;
  in.until_step = milliseconds(10000);
  EXPECT_EQ(next_wait(in), milliseconds(10));
}

TEST(WaitPolicy, APrimarySleepsUntilItsNextStepButLooksAtItsStandbysAndReapsCommands) {
  WaitInputs in;
  in.primary = true;
  in.until_step = milliseconds(700);
  EXPECT_EQ(next_wait(in), milliseconds(700));
  in.until_step = milliseconds(300000);  // a holder at the replicated cadence
  EXPECT_EQ(next_wait(in), milliseconds(1000)) << "a standby that stops streaming is seen within a second";
  in.notifications_running = true;
  EXPECT_EQ(next_wait(in), milliseconds(100));
}

TEST(WaitPolicy, NeverZeroNorNegative) {
  WaitInputs in;
  in.primary = true;
  in.until_step = milliseconds(-50);  // the step is overdue
  EXPECT_EQ(next_wait(in), milliseconds(1));
  in.until_step = milliseconds(0);
  EXPECT_EQ(next_wait(in), milliseconds(1));
}

TEST(PromotionWatch, ACreatedFileStartsFastPolling) {
  char dir[] = "/tmp/pg_vip_watch_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  PromotionWatch watch;
  ASSERT_TRUE(watch.open(dir));
  auto now = steady_clock::now();
  watch.drain(now);
  EXPECT_FALSE(watch.fast_polling(now)) << "nothing happened yet";
  std::string promote = std::string(dir) + "/promote";
  int fd = open(promote.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  watch.drain(now);
  EXPECT_TRUE(watch.fast_polling(now));
  EXPECT_TRUE(watch.fast_polling(now + seconds(4)));
  EXPECT_FALSE(watch.fast_polling(now + seconds(6))) << "the spell of fast polling ends";
  watch.close();
  EXPECT_FALSE(watch.is_open());
  unlink(promote.c_str());
  rmdir(dir);
}

TEST(PromotionWatch, AMissingDirectoryLeavesNoWatch) {
  PromotionWatch watch;
  EXPECT_FALSE(watch.open("/nonexistent/pg_vip/data"));
  EXPECT_FALSE(watch.is_open());
}
