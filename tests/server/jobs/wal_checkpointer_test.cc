#include "server/jobs/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"
#include "tests/util/wait_for.h"

namespace pprocd {
namespace {

class DbFile {
 public:
  DbFile() : dir_("pprocd-wal-test"), path_(dir_.Path("test.db")) {}
  std::unique_ptr<SqliteDb> Connect() const {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db =
        SqliteDb::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    EXPECT_OK(db);
    return db.ok() ? *std::move(db) : nullptr;
  }
  // Bytes of the database file itself (what checkpoints copy into).
  int64_t DatabaseBytes() const {
    struct stat info;
    return stat(path_.c_str(), &info) == 0 ? static_cast<int64_t>(info.st_size) : -1;
  }

 private:
  ::pprocd::testing::TempDir dir_;
  std::string path_;
};

// Writes 100 rows of 8 KiB, one commit each: about 300 WAL pages.
void WriteRows(SqliteDb& db) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(db.Exec("INSERT INTO rows (data) VALUES (randomblob(8192))"));
  }
}

std::unique_ptr<SqliteDb> WalWriter(const DbFile& file) {
  std::unique_ptr<SqliteDb> writer = file.Connect();
  if (writer == nullptr) return nullptr;
  EXPECT_OK(writer->Exec("PRAGMA journal_mode = WAL"));
  EXPECT_OK(writer->Exec("CREATE TABLE rows (data BLOB)"));
  return writer;
}

TEST(WalCheckpointerTest, CommitsPastTheThresholdAreCheckpointedByItsOwnThread) {
  DbFile file;
  std::unique_ptr<SqliteDb> writer = WalWriter(file);
  ASSERT_NE(writer, nullptr);
  const int64_t before = file.DatabaseBytes();
  WalCheckpointer checkpointer(writer.get(), file.Connect(), /*start_pages=*/64,
                               /*inline_pages=*/1 << 30);
  WriteRows(*writer);
  testing::WaitFor([&] { return checkpointer.completed() > 0; }, absl::Seconds(20),
                   absl::Milliseconds(5));
  EXPECT_GT(checkpointer.completed(), 0);
  EXPECT_GT(file.DatabaseBytes(), before + (256 << 10)) << "pages were copied into the database";
}

TEST(WalCheckpointerTest, BelowTheThresholdNothingIsCheckpointed) {
  DbFile file;
  std::unique_ptr<SqliteDb> writer = WalWriter(file);
  ASSERT_NE(writer, nullptr);
  const int64_t before = file.DatabaseBytes();
  {
    WalCheckpointer checkpointer(writer.get(), file.Connect(), /*start_pages=*/1 << 20,
                                 /*inline_pages=*/1 << 30);
    WriteRows(*writer);
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_EQ(checkpointer.completed(), 0);
  }
  EXPECT_EQ(file.DatabaseBytes(), before) << "no SQLite automatic checkpoint either";
}

TEST(WalCheckpointerTest, PastTheInlineLimitTheWriterCheckpointsItself) {
  DbFile file;
  std::unique_ptr<SqliteDb> writer = WalWriter(file);
  ASSERT_NE(writer, nullptr);
  const int64_t before = file.DatabaseBytes();
  WalCheckpointer checkpointer(writer.get(), file.Connect(), /*start_pages=*/1 << 20,
                               /*inline_pages=*/64);
  WriteRows(*writer);
  EXPECT_EQ(checkpointer.completed(), 0);
  EXPECT_GT(file.DatabaseBytes(), before + (256 << 10));
}

}  // namespace
}  // namespace pprocd
