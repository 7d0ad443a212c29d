#include "kubelet/process_metrics.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;

// A realistic /proc/<pid>/stat line whose command name holds a space and a parenthesis.
constexpr const char* kStat =
    "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 9 0 "
    "123456 987654321 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0\n";

TEST(ProcStatTest, ParsesFieldsAfterTheCommandName) {
  auto stat = ParseProcStat(kStat);
  ASSERT_TRUE(stat) << stat.error().ToString();
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 75u);
  EXPECT_EQ(stat->start_ticks, 123456u);
  EXPECT_EQ(stat->vsize_bytes, 987654321u);
  EXPECT_EQ(stat->rss_pages, 5000);
}

TEST(ProcStatTest, RejectsTruncatedOrGarbledInput) {
  EXPECT_FALSE(ParseProcStat("4242 (cmd) S 1 2 3"));
  EXPECT_FALSE(ParseProcStat("no parenthesis at all"));
  std::string garbled = kStat;
  garbled.replace(garbled.find("250"), 3, "2x0");
  EXPECT_FALSE(ParseProcStat(garbled));
}

TEST(ProcStatTest, BootTimeAndFileLimit) {
  auto boot = ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  ASSERT_TRUE(boot);
  EXPECT_EQ(*boot, 1700000000);
  EXPECT_FALSE(ParseBootTime("cpu 1\n"));
  auto limit = ParseMaxOpenFiles(
      "Limit                     Soft Limit           Hard Limit           Units\n"
      "Max open files            1024                 1048576              files\n");
  ASSERT_TRUE(limit);
  EXPECT_EQ(*limit, 1024);
  EXPECT_EQ(
      *ParseMaxOpenFiles("Max open files            unlimited            unlimited    files\n"),
      -1);
}

class FakeProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vkubelet-proc-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    std::filesystem::create_directories(root_ + "/self/fd");
    std::ofstream(root_ + "/self/stat") << kStat;
    std::ofstream(root_ + "/stat") << "cpu 1 2\nbtime 1700000000\n";
    std::ofstream(root_ + "/self/limits") << "Max open files            2048     4096     files\n";
    for (const char* fd : {"0", "1", "2"}) std::ofstream(root_ + "/self/fd/" + fd) << "";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(FakeProcTest, ComputesTheStandardFigures) {
  auto stats = ReadProcessStats(root_);
  ASSERT_TRUE(stats) << stats.error().ToString();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 325 / ticks);
  EXPECT_DOUBLE_EQ(stats->resident_memory_bytes,
                   5000.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_DOUBLE_EQ(stats->virtual_memory_bytes, 987654321);
  EXPECT_DOUBLE_EQ(stats->open_fds, 3);
  EXPECT_DOUBLE_EQ(stats->max_fds, 2048);
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1700000000 + 123456 / ticks);
}

TEST_F(FakeProcTest, CollectorExposesPrometheusFamilies) {
  ProcessCollector collector(root_);
  const std::string text = prometheus::TextSerializer().Serialize(collector.Collect());
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_THAT(text, HasSubstr("process_open_fds 3"));
  EXPECT_THAT(text, HasSubstr("process_max_fds 2048"));
  EXPECT_THAT(text, HasSubstr("process_virtual_memory_bytes 987654321"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge"));
  EXPECT_THAT(text, HasSubstr("process_start_time_seconds "));
}

TEST_F(FakeProcTest, UnreadableProcGivesNoFamilies) {
  std::filesystem::remove(root_ + "/self/stat");
  EXPECT_FALSE(ReadProcessStats(root_));
  EXPECT_TRUE(ProcessCollector(root_).Collect().empty());
}

TEST(RealProcTest, FiguresOfThisProcessArePlausible) {
  auto before = ReadProcessStats();
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_GT(before->resident_memory_bytes, 0);
  EXPECT_GE(before->virtual_memory_bytes, before->resident_memory_bytes);
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  EXPECT_LE(before->start_time_seconds, now + 1);
  EXPECT_GT(before->start_time_seconds, now - 24 * 3600);

  int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto after = ReadProcessStats();
  close(fd);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->open_fds, before->open_fds + 1);
}

TEST(BuildInfoTest, IsAConstantOneWithTheVersion) {
  prometheus::Registry registry;
  RegisterBuildInfo(registry);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(text, HasSubstr("vkubelet_build_info{"));
  EXPECT_THAT(text, HasSubstr(std::string("version=\"") + kVersion + "\""));
  EXPECT_THAT(text, HasSubstr("} 1"));
}

}  // namespace
}  // namespace vk::kubelet
