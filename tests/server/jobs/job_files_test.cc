#include "server/jobs/job_files.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;
using ::pprocd::testing::TempDir;

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(JobFilesTest, MakesItsDirectoryOwnerOnly) {
  TempDir tmp("pprocd-job-files-test");
  const std::string dir = tmp.path() + "/jobs.db-files";
  ASSERT_OK(JobFiles::Open(dir, /*sync=*/false));
  struct stat info;
  ASSERT_EQ(::stat(dir.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  // Opening it again finds it.
  EXPECT_OK(JobFiles::Open(dir, /*sync=*/false));
}

TEST(JobFilesTest, APathThatIsAFileIsRefused) {
  TempDir tmp("pprocd-job-files-test");
  const std::string path = tmp.path() + "/not-a-dir";
  std::ofstream(path) << "x";
  EXPECT_THAT(JobFiles::Open(path, false), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(JobFilesTest, WritesReadsAndRemovesARequestPerJob) {
  TempDir tmp("pprocd-job-files-test");
  for (const bool sync : {false, true}) {
    ASSERT_OK_AND_ASSIGN(JobFiles files,
                         JobFiles::Open(tmp.path() + (sync ? "/synced" : "/plain"), sync));
    const std::string request(std::string("req\0uest", 8) + std::string(100000, 'x'));
    ASSERT_OK(files.WriteRequest(7, request));
    ASSERT_OK(files.WriteRequest(12, "small"));
    EXPECT_EQ(Names(files.dir()), (std::set<std::string>{"7.request", "12.request"}));
    struct stat info;
    ASSERT_EQ(::stat(files.PathOf(7, JobFiles::Kind::kRequest).c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(*files.ReadRequest(7, request.size()), request);
    EXPECT_EQ(*files.ReadRequest(12, 5), "small");
    // Written again: replaced whole.
    ASSERT_OK(files.WriteRequest(12, "new"));
    EXPECT_EQ(*files.ReadRequest(12, 3), "new");
    EXPECT_EQ(files.Remove(7), request.size());
    EXPECT_THAT(files.ReadRequest(7, request.size()), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ(files.Remove(7), 0u);  // Already gone: nothing happens.
    EXPECT_EQ(Names(files.dir()), (std::set<std::string>{"12.request"}));
  }
}

TEST(JobFilesTest, ARequestFileOfAnotherSizeIsDataLoss) {
  TempDir tmp("pprocd-job-files-test");
  ASSERT_OK_AND_ASSIGN(JobFiles files, JobFiles::Open(tmp.path() + "/r", false));
  ASSERT_OK(files.WriteRequest(1, "twelve bytes"));
  EXPECT_THAT(files.ReadRequest(1, 13), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(files.ReadRequest(1, 11), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(*files.ReadRequest(1, 12), "twelve bytes");
}

TEST(JobFilesTest, OutputsAreAppendedAndReadByRange) {
  TempDir tmp("pprocd-job-files-test");
  for (const bool sync : {false, true}) {
    ASSERT_OK_AND_ASSIGN(JobFiles files,
                         JobFiles::Open(tmp.path() + (sync ? "/synced" : "/plain"), sync));
    EXPECT_THAT(files.ReadOutputs(3), StatusIs(absl::StatusCode::kNotFound));
    ASSERT_OK_AND_ASSIGN(uint64_t first, files.AppendOutputs(3, {"abc", "", "defg"}));
    EXPECT_EQ(first, 0u);
    // More pieces than one system call takes.
    std::vector<std::string> many;
    std::vector<absl::string_view> views;
    for (int i = 0; i < 3000; ++i) many.push_back(std::to_string(i % 10));
    for (const std::string& piece : many) views.push_back(piece);
    ASSERT_OK_AND_ASSIGN(uint64_t second, files.AppendOutputs(3, views));
    EXPECT_EQ(second, 7u);
    ASSERT_OK_AND_ASSIGN(JobFiles::OutputsReader reader, files.ReadOutputs(3));
    EXPECT_EQ(*reader.Read(0, 3), "abc");
    EXPECT_EQ(*reader.Read(3, 4), "defg");
    EXPECT_EQ(*reader.Read(7, 12), "012345678901");
    EXPECT_EQ(*reader.Read(7 + 2990, 10), "0123456789");
    EXPECT_THAT(reader.Read(7 + 2995, 10), StatusIs(absl::StatusCode::kDataLoss));
    // A damaged row may name any range: nothing is allocated for it.
    EXPECT_THAT(reader.Read(0, uint64_t{1} << 61), StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(reader.Read(~uint64_t{0}, 2), StatusIs(absl::StatusCode::kDataLoss));
    // An append whose transaction did not commit is cut off again.
    ASSERT_OK_AND_ASSIGN(uint64_t third, files.AppendOutputs(3, {"lost"}));
    EXPECT_EQ(third, 3007u);
    files.TruncateOutputs(3, third);
    ASSERT_OK_AND_ASSIGN(uint64_t fourth, files.AppendOutputs(3, {"kept"}));
    EXPECT_EQ(fourth, 3007u);
    EXPECT_EQ(*reader.Read(3007, 4), "kept");
    ASSERT_OK(files.WriteRequest(3, "request"));
    EXPECT_EQ(files.Remove(3), 3011u + 7u);
    EXPECT_TRUE(Names(files.dir()).empty());
  }
}

TEST(JobFilesTest, RemoveOrphansKeepsOnlyTheFilesOfJobsKept) {
  TempDir tmp("pprocd-job-files-test");
  ASSERT_OK_AND_ASSIGN(JobFiles files, JobFiles::Open(tmp.path() + "/r", false));
  for (int64_t num : {1, 2, 3, 40}) ASSERT_OK(files.WriteRequest(num, "r"));
  ASSERT_OK(files.AppendOutputs(2, {"outputs"}));
  ASSERT_OK(files.AppendOutputs(3, {"outputs"}));
  // Not a file of this class: removed too.
  std::ofstream(files.dir() + "/tmp-write") << "x";
  std::ofstream(files.dir() + "/007.request") << "x";
  std::ofstream(files.dir() + "/8") << "x";
  ASSERT_OK_AND_ASSIGN(JobFiles::Stock stock,
                       files.RemoveOrphans([](int64_t num) { return num == 2 || num == 40; }));
  EXPECT_EQ(stock.removed, 6);
  EXPECT_EQ(stock.kept_bytes, 1u + 7u + 1u);
  EXPECT_EQ(Names(files.dir()), (std::set<std::string>{"2.request", "2.outputs", "40.request"}));
}

}  // namespace
}  // namespace pprocd
