// The texts Route 53 takes: zone and change ids, DNS names, TXT values.
// Names and TXT texts come from settings and from other nodes' records, so
// every hostile one must be refused or encoded, never passed through.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/route53_names.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

TEST(Route53Ids, HostedZoneIdBareOrAsRoute53WritesIt) {
  EXPECT_EQ(hosted_zone_id("Z1D633PJN98FT9"), "Z1D633PJN98FT9");
  EXPECT_EQ(hosted_zone_id("/hostedzone/Z1D633PJN98FT9"), "Z1D633PJN98FT9");
  EXPECT_EQ(change_id("/change/C2682N5HXP0BZ4"), "C2682N5HXP0BZ4");
  EXPECT_EQ(change_id("C2682N5HXP0BZ4"), "C2682N5HXP0BZ4");
}

TEST(Route53Ids, AnythingThatCouldChangeThePathIsRefused) {
  for (const char *bad : {"", "/hostedzone/", "z1d633pjn98ft9", "Z1/../../change/C1", "Z1?x=1", "Z1%2F", "Z1 Z2",
                          "/hostedzone//Z1", "hostedzone/Z1", "Z1234567890123456789012345678901234"}) {
    EXPECT_THROW(hosted_zone_id(bad), ConfigError) << bad;
  }
  EXPECT_THROW(change_id("/change/../hostedzone/Z1"), ConfigError);
  try {
    hosted_zone_id(std::string("Z1\x01\xff", 4));
    FAIL();
  } catch (const ConfigError &e) {
    EXPECT_EQ(std::string(e.what()), "invalid Route 53 hosted zone id \"Z1??\"");  // no control byte in a message
    EXPECT_NE(e.detail().find("/hostedzone/"), std::string::npos);
  }
}

TEST(Route53Names, DnsNamesAreLowerCasedWithTheFinalDot) {
  EXPECT_EQ(dns_name("DB.Example.COM"), "db.example.com.");
  EXPECT_EQ(dns_name("db.example.com."), "db.example.com.");
  EXPECT_EQ(dns_name("_pg_vip.db-1.example.com"), "_pg_vip.db-1.example.com.");
  std::string label63(63, 'a');
  EXPECT_EQ(dns_name(label63 + ".x"), label63 + ".x.");
}

TEST(Route53Names, BadNamesAreConfigErrors) {
  std::string long_name;
  while (long_name.size() < 260) long_name += "abcdefghi.";
  for (const std::string &bad :
       {std::string(""), std::string("."), std::string("a..b"), std::string(".a"), std::string("a b.com"),
        std::string("*.example.com"), std::string("a<b>.com"), std::string("a\"b.com"), std::string(64, 'a') + ".x",
        long_name, std::string("db.example.com\n"), std::string("d\0b.com", 7), std::string("caf\xc3\xa9.com")}) {
    EXPECT_THROW(dns_name(bad), ConfigError) << bad;
  }
}

TEST(Route53Names, AnswerNamesAreCompared) {
  EXPECT_EQ(canonical_answer_name("db.example.com."), "db.example.com.");
  EXPECT_EQ(canonical_answer_name("DB.example.com"), "db.example.com.");
  EXPECT_EQ(canonical_answer_name("\\052.example.com."), "*.example.com.");
  EXPECT_EQ(canonical_answer_name("a\\05"), "a\\05.");  // a cut escape stays as written
  EXPECT_EQ(canonical_answer_name(""), ".");
}

TEST(Route53Txt, ValuesAreQuotedAndEscaped) {
  EXPECT_EQ(txt_value("tl=3;node=a"), "\"tl=3;node=a\"");
  EXPECT_EQ(txt_value(""), "\"\"");
  EXPECT_EQ(txt_value("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
  EXPECT_EQ(txt_value("caf\xc3\xa9"), "\"caf\\303\\251\"");
  EXPECT_EQ(txt_value(std::string("a\0b\n", 4)), "\"a\\000b\\012\"");
  EXPECT_EQ(txt_value("<x>&amp;"), "\"<x>&amp;\"");  // XML escaping is the document's job
}

TEST(Route53Txt, LongTextsAreSplitIntoStringsOf255WithoutCuttingAnEscape) {
  std::string v = txt_value(std::string(600, 'x'));
  EXPECT_EQ(v, "\"" + std::string(255, 'x') + "\" \"" + std::string(255, 'x') + "\" \"" + std::string(90, 'x') + "\"");
  // 254 characters, then an escape of two: it opens the second string.
  std::string text = std::string(254, 'y') + "\"z";
  EXPECT_EQ(txt_value(text), "\"" + std::string(254, 'y') + "\" \"\\\"z\"");
  EXPECT_EQ(txt_text(txt_value(text)), text);
}

TEST(Route53Txt, TooLongForRoute53IsAConfigError) {
  EXPECT_NO_THROW(txt_value(std::string(3900, 'a')));
  EXPECT_THROW(txt_value(std::string(4000, 'a')), ConfigError);
  EXPECT_THROW(txt_value(std::string(1400, '\x01')), ConfigError);  // 4 characters each when escaped
}

TEST(Route53Txt, EveryTextRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (const std::string &t : {std::string("tl=3;node=a;at=1700000000"), all, std::string(""), std::string("\" \\ \""),
                               std::string(700, '"')}) {
    auto back = txt_text(txt_value(t));
    ASSERT_TRUE(back.has_value()) << t;
    EXPECT_EQ(*back, t);
  }
}

TEST(Route53Txt, ValuesAsOthersWroteThemAreRead) {
  EXPECT_EQ(txt_text("\"a\" \"b\""), "ab");
  EXPECT_EQ(txt_text("unquoted"), "unquoted");
  EXPECT_EQ(txt_text("two words"), "twowords");
  EXPECT_EQ(txt_text("\"\\065\""), "5");
  EXPECT_EQ(txt_text("\"\\q\""), "q");
}

TEST(Route53Txt, UnreadableValuesAreNotOurs) {
  for (const char *bad :
       {"\"open", "\"a\\\"", "\"\\9\"", "\"\\07\"", "\"\\777\"", "\"a\"b", "a\"b", "\"a\\", "\"\\0\"", "\"\\08\""}) {
    EXPECT_FALSE(txt_text(bad).has_value()) << bad;
  }
}
