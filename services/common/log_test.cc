#include "services/common/log.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace portunus {
namespace {

TEST(LogTest, JsonStringEscapingAlwaysYieldsValidJson) {
  const std::string inputs[] = {"plain", "quote\" back\\slash", std::string("nul\0byte", 8),
                                "\xff\xfe invalid", "ünïcødé ✓", "\xe2\x82", "ctl\x01\x1f",
                                "\xed\xa0\x80 surrogate"};
  for (const std::string& in : inputs) {
    std::string out;
    AppendJsonString(in, &out);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(out)) << out;
    ASSERT_TRUE(parsed.is_string());
  }
  std::string out;
  AppendJsonString("a\xff", &out);
  EXPECT_EQ(out, "\"a\\ufffd\"");
  out.clear();
  AppendJsonString("ünï", &out);
  EXPECT_EQ(out, "\"ünï\"");
}

TEST(LogTest, ParseLevels) {
  LogLevel l;
  EXPECT_TRUE(ParseLogLevel("WARN", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("verbose", &l));
}

}  // namespace
}  // namespace portunus
