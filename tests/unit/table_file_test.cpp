#include "table_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "table_binary.h"
#include "table_text.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::mentions;

class TableFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/table_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    files_.push_back(path);
    return path;
  }

  const TableGeometry device_{3, 2048, 100000, DefaultMapping::round_robin()};
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(TableFileTest, LoadsTextWithTheDevicesDefault) {
  auto t = load_table_file(write("t.txt", "# moved\n10:2 :2\n"), device_);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t.value()->path_nr(0x10), 2u);
  EXPECT_EQ(t.value()->path_nr(0x12), 0x12u % 3);
  EXPECT_EQ(t.value()->geometry(), device_);
}

// save_table_file keeps the file's format and leaves no temporary behind.
TEST_F(TableFileTest, SaveReplacesTheFileInItsOwnFormat) {
  auto table = parse_table_text("7:1 R1,9", device_).value();
  const std::string text = write("t.txt", "# the admin's\n0:2\n");
  ASSERT_TRUE(save_table_file(text, *table).ok());
  const std::string bin = write("t.bin", encode_table_binary(*parse_table_text("", device_).value()));
  ASSERT_TRUE(save_table_file(bin, *table).ok());
  for (const std::string& path : {text, bin}) {
    auto back = load_table_file(path, device_);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(back.value()->same_mapping(*table)) << path;
  }
  EXPECT_FALSE(is_binary_table(read_file_bytes(text).value()));
  EXPECT_TRUE(is_binary_table(read_file_bytes(bin).value()));
  const Status s = save_table_file(dir_ + "/no/such/dir/t.txt", *table);
  EXPECT_TRUE(mentions(s.message(), dir_ + "/no/such/dir/t.txt.tmp.")) << s.message();
  EXPECT_EQ(std::remove((dir_ + "/t.txt.tmp." + std::to_string(getpid())).c_str()), -1) << "a temporary was left";
}

TEST_F(TableFileTest, LoadsBinaryByItsMagic) {
  auto source = parse_table_text("0:2 R1,ff", device_).value();
  auto t = load_table_file(write("t.bin", encode_table_binary(*source)), device_);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t.value()->same_mapping(*source));
}

TEST_F(TableFileTest, BinaryKeepsItsOwnDefaultMapping) {
  TableGeometry fixed = device_;
  fixed.default_mapping = DefaultMapping::fixed(1);
  auto source = RegionTable::create(fixed).value();
  auto t = load_table_file(write("t.bin", encode_table_binary(*source)), device_);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t.value()->path_nr(0), 1u);
}

TEST_F(TableFileTest, RejectsBinaryForAnotherDeviceNamingTheField) {
  struct Case {
    TableGeometry table;
    const char* message;
  } cases[] = {
      {{4, 2048, 100000, {}}, "nr_paths 4 in the table != 3 of the device"},
      {{3, 4096, 100000, {}}, "region_sectors 4096 in the table != 2048 of the device"},
      {{3, 2048, 99999, {}}, "nr_regions 99999 in the table != 100000 of the device"},
  };
  for (const Case& c : cases) {
    const std::string path =
        write("other.bin", encode_table_binary(*RegionTable::create(c.table).value()));
    auto t = load_table_file(path, device_);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().message().rfind(path + ": ", 0), 0u) << t.status().message();
    EXPECT_TRUE(mentions(t.status().message(), c.message));
  }
}

TEST_F(TableFileTest, TextErrorsStartWithThePath) {
  const std::string path = write("bad.txt", "0:0\n\n   5:3\n");
  auto t = load_table_file(path, device_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind(path + ": ", 0), 0u) << t.status().message();
  EXPECT_TRUE(mentions(t.status().message(), "line 3, column 4: entry \"5:3\": path 3 >= nr_paths 3"));
}

TEST_F(TableFileTest, BinaryErrorsStartWithThePath) {
  std::string bytes = encode_table_binary(*RegionTable::create(device_).value());
  bytes.pop_back();
  const std::string path = write("short.bin", bytes);
  auto t = load_table_file(path, device_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind(path + ": byte ", 0), 0u) << t.status().message();
  EXPECT_NE(t.status().message().find("truncated"), std::string::npos) << t.status().message();
}

TEST_F(TableFileTest, MissingFileNamesThePathAndTheReason) {
  auto t = load_table_file(dir_ + "/absent", device_);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(mentions(t.status().message(), dir_ + "/absent: cannot open"));
  EXPECT_TRUE(mentions(t.status().message(), std::strerror(ENOENT)));
}

TEST_F(TableFileTest, BytesInEitherFormatLoadTheSameTable) {
  auto source = parse_table_text("100:1 :2 :0 R3,30", device_).value();
  auto from_text = load_table_bytes(format_table_text(*source), device_);
  auto from_binary = load_table_bytes(encode_table_binary(*source), device_);
  ASSERT_TRUE(from_text.ok() && from_binary.ok());
  EXPECT_TRUE(from_text.value()->same_mapping(*from_binary.value()));
  EXPECT_TRUE(from_text.value()->same_mapping(*source));
}

}  // namespace
}  // namespace tcmu_switch
