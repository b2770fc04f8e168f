// The instance role's credentials cross the HTTP client, libcurl and the
// JSON parser without leaving an unwiped copy in freed memory: every block
// freed (operator delete and, outside sanitizer builds, free() — libcurl's
// buffers and header lists included) is searched while they are fetched.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/credentials.hpp"
#include "core/http_client.hpp"
#include "core/imds.hpp"
#include "fake_aws.hpp"
#include "integration/freed_memory.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;
using namespace std::chrono;

TEST(SecretMemory, RoleCredentialsLeaveNoUnwipedCopyInTheHttpPath) {
  if (!FREED_MEMORY_SEES_FREE) GTEST_SKIP() << "a sanitizer owns free(): libcurl's frees cannot be searched";
  fake::FakeAws aws;
  Clock clock;
  http::global_init();
  bool fetched = false;
  int hits;
  {
    // The fake makes new credentials for every fetch, so the needles are
    // what every copy of them carries: the answer's field name (the body)
    // and the token header as sent (the header line, libcurl's copy of it
    // and its request buffer).
    freed_memory::Watch watch({"\"SecretAccessKey\"", "X-aws-ec2-metadata-token: "});
    {
      http::Client http({});
      ImdsClient imds(http, {aws.imds_url_a(), milliseconds(1000), seconds(21600)}, clock);
      Credentials c = imds.role_credentials();
      fetched = c.access_key_id.rfind("ASIA", 0) == 0 && !c.secret_access_key.empty();
    }
    hits = watch.stop();
  }
  EXPECT_TRUE(fetched);
  EXPECT_EQ(hits, 0) << "freed blocks held the credentials body or the token header";
}
