// A tag that names this node but has not been rewritten for longer than a
// third of its lease is, to every other reader, on its way to lapsing: the
// node must rewrite it before it points a route here again, or a rival of
// its timeline that judges the tag lapsed takes the route straight back
// (simulation seed 19933 of 20000: node 3, denied DescribeRouteTables for
// 400 s, pointed three tables at itself under its 400 s old tag; node 2,
// promoted late onto the same timeline, took them 0.4 s later, and node 3
// took them back: three changes in a minute).
#include "controller_rig.hpp"

using namespace pg_vip;
using namespace pg_vip::test;

namespace {

// The index in the log of the first apply that contains `what`, or -1.
int first_apply_with(const FakeCloud &c, const std::string &what) {
  for (std::size_t i = 0; i < c.log.size(); ++i)
    if (c.log[i].rfind("apply", 0) == 0 && c.log[i].find(what) != std::string::npos) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST(StaleOwnTag, APointAfterALongSilenceRewritesTheTagFirst) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.step(Role::Standby, 1);
  r.step(Role::Primary, 2);  // the promotion: both tables here, tagged
  ASSERT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  // Five minutes unable to read: nothing renewed, its tag is 5 minutes old.
  r.cloud->deny = {"DescribeRouteTables"};
  milliseconds start = r.time.now;
  while (r.time.now - start < minutes(5)) r.step(Role::Primary, 2);
  // Meanwhile rtb-1's route lost its target (an instance gone: blackhole).
  r.cloud->tables["rtb-1"].blackhole = true;
  r.cloud->tables["rtb-1"].eni = "eni-0gone";
  r.cloud->deny.clear();
  r.cloud->log.clear();
  for (int i = 0; i < 3 && first_apply_with(*r.cloud, "point:rtb-1") < 0; ++i) r.step(Role::Primary, 2);
  int point = first_apply_with(*r.cloud, "point:rtb-1");
  ASSERT_GE(point, 0) << "rtb-1 was not pointed back: " << join(r.cloud->log, " | ") << "; " << r.ctl->last_error();
  int fence = first_apply_with(*r.cloud, "fence:rtb-1");
  ASSERT_GE(fence, 0) << "rtb-1 pointed here again under a 5-minute-old tag: " << join(r.cloud->log, " | ");
  EXPECT_LE(fence, point) << "the tag is rewritten before (or with) the route: " << join(r.cloud->log, " | ");
}
