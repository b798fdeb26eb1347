#include "cfgstring.h"

#include <gtest/gtest.h>

namespace tcmu_switch {
namespace {

TEST(CfgstringTest, NamesTheConfigFileWithoutTheRunnersOptions) {
  EXPECT_EQ(config_path_from_cfgstring("switch//etc/ts/a.conf").value(), "/etc/ts/a.conf");
  EXPECT_EQ(config_path_from_cfgstring("switch/etc/ts/a.conf").value(), "/etc/ts/a.conf");
  EXPECT_EQ(config_path_from_cfgstring("switch//etc/a.conf;tcmur_cmd_time_out=5").value(), "/etc/a.conf");
}

// tcmu-runner's README writes its options first: ";tcmur_cmd_time_out=20;/etc/x.conf".
TEST(CfgstringTest, RunnerOptionsMayStandBeforeThePath) {
  EXPECT_EQ(config_path_from_cfgstring("switch/;tcmur_cmd_time_out=20;/etc/x.conf").value(), "/etc/x.conf");
  EXPECT_EQ(config_path_from_cfgstring("switch/tcmur_cmd_time_out=20;/etc/x.conf").value(), "/etc/x.conf");
  EXPECT_EQ(config_path_from_cfgstring("switch/;tcmur_cmd_time_out=1;/etc/x.conf;tcmur_cmd_time_out=2").value(),
            "/etc/x.conf");
}

TEST(CfgstringTest, MalformedCfgstringsAreRefusedNamingTheProblem) {
  const struct {
    const char* cfgstring;
    const char* substring;
  } cases[] = {
      {"file//x", "cfgstring \"file//x\" does not start with \"switch/\""},
      {"switch/", "names no config file"},
      {"switch//;tcmur_cmd_time_out=5", "names no config file"},
      {"switch/;tcmur_cmd_time_out=5", "names no config file"},
      {"switch//etc/a.conf;/etc/b.conf", "names two config files, \"/etc/a.conf\" and \"/etc/b.conf\""},
      {"switch/;tcmur_timeout=5;/etc/a.conf", "unknown tcmu-runner option \"tcmur_timeout=5\""},
  };
  for (const auto& c : cases) {
    auto path = config_path_from_cfgstring(c.cfgstring);
    ASSERT_FALSE(path.ok()) << c.cfgstring;
    EXPECT_NE(path.status().message().find(c.substring), std::string::npos) << path.status().message();
  }
}

}  // namespace
}  // namespace tcmu_switch
