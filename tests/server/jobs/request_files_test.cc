#include "server/jobs/request_files.h"

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

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "pprocd-request-files-test-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(RequestFilesTest, MakesItsDirectoryOwnerOnly) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/jobs.db-requests";
  ASSERT_OK(RequestFiles::Open(dir, /*sync=*/false));
  struct stat info;
  ASSERT_EQ(::stat(dir.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  // Opening it again finds it.
  EXPECT_OK(RequestFiles::Open(dir, /*sync=*/false));
}

TEST(RequestFilesTest, APathThatIsAFileIsRefused) {
  TempDir tmp;
  const std::string path = tmp.path() + "/not-a-dir";
  std::ofstream(path) << "x";
  EXPECT_THAT(RequestFiles::Open(path, false), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(RequestFilesTest, WritesReadsAndRemovesOneFilePerJob) {
  TempDir tmp;
  for (const bool sync : {false, true}) {
    ASSERT_OK_AND_ASSIGN(RequestFiles files,
                         RequestFiles::Open(tmp.path() + (sync ? "/synced" : "/plain"), sync));
    const std::string request(std::string("req\0uest", 8) + std::string(100000, 'x'));
    ASSERT_OK(files.Write(7, request));
    ASSERT_OK(files.Write(12, "small"));
    EXPECT_EQ(Names(files.dir()), (std::set<std::string>{"7", "12"}));
    struct stat info;
    ASSERT_EQ(::stat(files.PathOf(7).c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(*files.Read(7, request.size()), request);
    EXPECT_EQ(*files.Read(12, 5), "small");
    // Written again: replaced whole.
    ASSERT_OK(files.Write(12, "new"));
    EXPECT_EQ(*files.Read(12, 3), "new");
    files.Remove(7);
    EXPECT_THAT(files.Read(7, request.size()), StatusIs(absl::StatusCode::kNotFound));
    files.Remove(7);  // Already gone: nothing happens.
    EXPECT_EQ(Names(files.dir()), (std::set<std::string>{"12"}));
  }
}

TEST(RequestFilesTest, AFileOfAnotherSizeIsDataLoss) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(RequestFiles files, RequestFiles::Open(tmp.path() + "/r", false));
  ASSERT_OK(files.Write(1, "twelve bytes"));
  EXPECT_THAT(files.Read(1, 13), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(files.Read(1, 11), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(*files.Read(1, 12), "twelve bytes");
}

TEST(RequestFilesTest, RemoveOrphansKeepsOnlyTheFilesOfJobsKept) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(RequestFiles files, RequestFiles::Open(tmp.path() + "/r", false));
  for (int64_t num : {1, 2, 3, 40}) ASSERT_OK(files.Write(num, "r"));
  // Not a request file of this class: removed too.
  std::ofstream(files.dir() + "/tmp-write") << "x";
  std::ofstream(files.dir() + "/007") << "x";
  ASSERT_OK_AND_ASSIGN(int removed,
                       files.RemoveOrphans([](int64_t num) { return num == 2 || num == 40; }));
  EXPECT_EQ(removed, 4);
  EXPECT_EQ(Names(files.dir()), (std::set<std::string>{"2", "40"}));
}

}  // namespace
}  // namespace pprocd
