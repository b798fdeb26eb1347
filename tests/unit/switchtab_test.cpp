// Runs the built switchtab (SWITCHTAB_PATH, set by handler/tools/CMakeLists.txt).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "table_binary.h"
#include "table_text.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::mentions;

class SwitchtabTest : public ::testing::Test {
 protected:
  struct Run {
    int exit_code;
    std::string out;
    std::string err;
  };

  void SetUp() override {
    char tmpl[] = "/tmp/switchtab_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs switchtab with args in dir_, capturing stdout and stderr.
  Run run(const std::string& args) const {
    const std::string cmd = "cd " + dir_ + " && " + SWITCHTAB_PATH + " " + args + " >" +
                            path(".out") + " 2>" + path(".err");
    const int status = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(status)) << cmd;
    return {WEXITSTATUS(status), read(".out"), read(".err")};
  }

  std::string dir_;
};

constexpr const char* kGeometry = "--paths 3 --region-sectors 2048 --regions 100000";

TEST_F(SwitchtabTest, CompileThenDumpGivesBackTheSameTable) {
  write("t.txt", "set_region_mappings 1000:1 :2 R2,10\n# a comment\n5:0\n");
  ASSERT_EQ(run("compile t.txt -o t.bin " + std::string(kGeometry)).exit_code, 0);
  const Run dumped = run("dump t.bin");
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  const TableGeometry g{3, 2048, 100000, DefaultMapping::round_robin()};
  auto original = parse_table_text(read("t.txt"), g).value();
  auto back = parse_table_text(dumped.out, g).value();
  EXPECT_TRUE(back->same_mapping(*original));
  // Dumping the text gives the same text as dumping the binary.
  EXPECT_EQ(run("dump t.txt " + std::string(kGeometry)).out, dumped.out);
}

TEST_F(SwitchtabTest, DumpIsCompactAndExpandIsOneEntryPerRegion) {
  write("t.txt", "");
  ASSERT_EQ(run("compile t.txt -o t.bin --paths 3 --region-sectors 8 --regions 6").exit_code, 0);
  EXPECT_EQ(
      run("dump t.bin").out,
      "# tcmu-switch region table: nr_paths 3, region_sectors 8, nr_regions 6; entries are hex\n"
      "0:0 :1 :2 R3,3\n");
  EXPECT_EQ(
      run("dump t.bin --expand").out,
      "# tcmu-switch region table: nr_paths 3, region_sectors 8, nr_regions 6; entries are hex\n"
      "0:0\n1:1\n2:2\n3:0\n4:1\n5:2\n");
}

TEST_F(SwitchtabTest, InfoSummarisesGeometryChunksAndRegionsPerPath) {
  write("t.txt", "0:2 R1,9");
  ASSERT_EQ(
      run("compile t.txt -o t.bin --paths 3 --region-sectors 2048 --size 100G --default path:1")
          .exit_code,
      0);
  const Run info = run("info t.bin");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("nr_paths:        3\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("region_sectors:  2048 (1048576 bytes)\n"), std::string::npos);
  EXPECT_NE(info.out.find("nr_regions:      102400\n"), std::string::npos);
  EXPECT_NE(info.out.find("default:         path:1\n"), std::string::npos);
  EXPECT_NE(info.out.find("chunks:          1 of 2 present"), std::string::npos);
  EXPECT_NE(info.out.find("  path 1: 102390 (99.99%)\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("  path 2: 10 (0.01%)\n"), std::string::npos);
}

TEST_F(SwitchtabTest, SizeRoundsUpToWholeRegions) {
  write("t.txt", "");
  ASSERT_EQ(run("compile t.txt -o t.bin --paths 2 --region-sectors 1 --size 1000").exit_code, 0);
  EXPECT_NE(run("info t.bin").out.find("nr_regions:      2\n"), std::string::npos);
}

TEST_F(SwitchtabTest, GenerateRoundRobinIsOneRepeat) {
  const Run r = run("generate --paths 3 --regions 1572864 --pattern round-robin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0:0 :1 :2 R3,17fffd\n");
}

TEST_F(SwitchtabTest, GenerateRandomIsReproducibleFromItsSeed) {
  const std::string a = run("generate --paths 5 --regions 5000 --pattern random:7").out;
  EXPECT_EQ(run("generate --paths 5 --regions 5000 --pattern random:7").out, a);
  EXPECT_NE(run("generate --paths 5 --regions 5000 --pattern random:8").out, a);
  auto t = parse_table_text(a, {5, 1, 5000, DefaultMapping::fixed(0)});
  ASSERT_TRUE(t.ok()) << t.status().message();
  for (uint64_t n : t.value()->regions_per_path()) EXPECT_GT(n, 800u);
}

TEST_F(SwitchtabTest, GenerateRunsKeepsEveryRunWithinItsBounds) {
  const Run r =
      run("generate --paths 4 --regions 20000 --pattern runs:5-20:3 --binary --region-sectors 64 "
          "-o r.bin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = decode_table_binary(read("r.bin"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  const std::vector<uint32_t> paths = t.value()->read_range(0, 20000);
  size_t start = 0;
  for (size_t i = 1; i <= paths.size(); i++) {
    if (i < paths.size() && paths[i] == paths[start]) continue;
    if (i < paths.size()) {  // the last run may be cut short by the end
      EXPECT_GE(i - start, 5u) << "run at " << start;
    }
    EXPECT_LE(i - start, 20u) << "run at " << start;
    start = i;
  }
}

TEST_F(SwitchtabTest, DiffOfTheSameTableInTwoFormatsPrintsNothingAndExits0) {
  ASSERT_EQ(run("generate --paths 3 --regions 100000 --pattern random:1 -o t.txt").exit_code, 0);
  ASSERT_EQ(run("compile t.txt -o t.bin " + std::string(kGeometry)).exit_code, 0);
  const Run r = run("diff t.txt t.bin");  // the text side borrows the binary's geometry
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(SwitchtabTest, DiffPrintsDifferingRangesAndExits1) {
  write("a.txt", "0:0 R1,f");
  write("b.txt", "0:0 R1,f 3:1 :1 :2 9:2");
  const Run r = run("diff a.txt b.txt --paths 3 --region-sectors 8 --regions 16");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out,
            "regions 3-4 (2): A path 0, B path 1\n"
            "regions 5-5 (1): A path 0, B path 2\n"
            "regions 9-9 (1): A path 0, B path 2\n"
            "4 regions differ\n");
}

TEST_F(SwitchtabTest, DiffReportsGeometryThatDiffers) {
  write("a.txt", "");
  ASSERT_EQ(run("compile a.txt -o a.bin --paths 3 --region-sectors 8 --regions 16").exit_code, 0);
  ASSERT_EQ(run("compile a.txt -o b.bin --paths 3 --region-sectors 8 --regions 17").exit_code, 0);
  const Run r = run("diff a.bin b.bin");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "nr_regions: A 16, B 17\n");
}

TEST_F(SwitchtabTest, TextErrorNamesFileLineColumnAndExits2) {
  write("bad.txt", "0:0\n:1 1000:7\n");
  const Run r = run("compile bad.txt -o x.bin --paths 3 --region-sectors 8 --regions 0x2000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(mentions(r.err, "switchtab: bad.txt: line 2, column 4: entry \"1000:7\": path 7 >= nr_paths 3"));
  EXPECT_EQ(access(path("x.bin").c_str(), F_OK), -1) << "no output on error";
}

TEST_F(SwitchtabTest, CorruptBinaryErrorNamesFileAndByteOffsetAndExits2) {
  write("a.txt", "0:1");
  ASSERT_EQ(run("compile a.txt -o a.bin --paths 3 --region-sectors 8 --regions 16").exit_code, 0);
  std::string bytes = read("a.bin");
  bytes[bytes.size() - 1] ^= 0x10;
  write("a.bin", bytes);
  const Run r = run("info a.bin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("switchtab: a.bin: byte 12 (crc32c): checksum mismatch: stored 0x", 0), 0u)
      << r.err;
}

TEST_F(SwitchtabTest, BinaryForAnotherGeometryIsRejectedNamingTheField) {
  write("a.txt", "");
  ASSERT_EQ(run("compile a.txt -o a.bin --paths 3 --region-sectors 8 --regions 16").exit_code, 0);
  const Run r = run("dump a.bin --paths 4 --region-sectors 8 --regions 16");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(mentions(r.err, "switchtab: a.bin: nr_paths 3 in the table != 4 of the device"));
}

TEST_F(SwitchtabTest, UsageErrorsExit2AndSayWhatIsWrong) {
  write("t.txt", "");
  struct Case {
    const char* args;
    const char* message;
  } cases[] = {
      {"", "no command"},
      {"frob", "unknown command \"frob\""},
      {"compile t.txt --paths 3 --region-sectors 8 --regions 4", "compile needs -o BIN"},
      {"compile t.txt -o x --paths 3 --regions 4", "the geometry needs --region-sectors"},
      {"compile t.txt -o x --paths 3 --region-sectors 8",
       "the geometry needs exactly one of --regions and --size"},
      {"compile t.txt -o x --paths three --region-sectors 8 --regions 4",
       "--paths: \"three\" is not a number"},
      {"compile t.txt -o x --paths 0 --region-sectors 8 --regions 4",
       "nr_paths 0 is not in 1..256"},
      {"compile t.txt -o x --paths 3 --region-sectors 0 --regions 4", "region size is 0 sectors"},
      {"compile t.txt -o x --paths 3 --region-sectors 8 --regions 4 --default path:3",
       "default path 3 >= nr_paths 3"},
      {"compile t.txt -o x --paths 3 --region-sectors 8 --regions 4 --default sideways",
       "--default: \"sideways\""},
      {"dump t.txt", "t.txt is a text table: give its geometry"},
      {"dump t.txt --colour", "unknown option --colour"},
      {"dump", "expected one TABLE file, got 0 arguments"},
      {"diff t.txt", "diff needs two tables, got 1"},
      {"diff t.txt t.txt", "t.txt is a text table: give its geometry"},
      {"generate --paths 3 --regions 9", "generate needs --pattern"},
      {"generate --paths 3 --regions 9 --pattern zigzag", "--pattern: \"zigzag\" is not"},
      {"generate --paths 3 --regions 9 --pattern runs:5-2", "need 1 <= MIN <= MAX"},
      {"generate --paths 3 --regions 9 --pattern random:1 --binary -o x",
       "--binary needs --region-sectors"},
      {"info missing.bin", "missing.bin: cannot open: No such file or directory"},
  };
  for (const Case& c : cases) {
    const Run r = run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args;
    EXPECT_EQ(r.err.rfind("switchtab: ", 0), 0u) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

TEST_F(SwitchtabTest, HelpPrintsUsageAndExits0) {
  const Run r = run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("usage: switchtab COMMAND", 0), 0u);
}

}  // namespace
}  // namespace tcmu_switch
