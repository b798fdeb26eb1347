#include "cfgstring.h"

#include <gtest/gtest.h>

namespace tcmu_switch {
namespace {

TEST(CfgstringTest, NamesTheConfigFileWithoutTheRunnersOptions) {
  EXPECT_EQ(config_path_from_cfgstring("switch//etc/ts/a.conf").value(), "/etc/ts/a.conf");
  EXPECT_EQ(config_path_from_cfgstring("switch/etc/ts/a.conf").value(), "/etc/ts/a.conf");
  EXPECT_EQ(config_path_from_cfgstring("switch//etc/a.conf;tcmur_cmd_time_out=5").value(), "/etc/a.conf");
}

TEST(CfgstringTest, MalformedCfgstringsAreRefusedNamingTheProblem) {
  const struct {
    const char* cfgstring;
    const char* substring;
  } cases[] = {
      {"file//x", "cfgstring \"file//x\" does not start with \"switch/\""},
      {"switch/", "names no config file"},
      {"switch//;tcmur_cmd_time_out=5", "names no config file"},
  };
  for (const auto& c : cases) {
    auto path = config_path_from_cfgstring(c.cfgstring);
    ASSERT_FALSE(path.ok()) << c.cfgstring;
    EXPECT_NE(path.status().message().find(c.substring), std::string::npos) << path.status().message();
  }
}

}  // namespace
}  // namespace tcmu_switch
