#ifndef PPROCD_TESTS_UTIL_TEMP_DIR_H_
#define PPROCD_TESTS_UTIL_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace pprocd::testing {

// A fresh directory under gtest's temporary directory for one test, removed
// with everything in it when this object ends. `ok()` is false (and path()
// empty) when it could not be made; the constructor also fails the test.
class TempDir {
 public:
  // `prefix` names the directory (prefix-XXXXXX), so that one left by a
  // killed test says which test made it.
  explicit TempDir(absl::string_view prefix = "pprocd-test") {
    std::string pattern = absl::StrCat(::testing::TempDir(), prefix, "-XXXXXX");
    if (::mkdtemp(pattern.data()) != nullptr) {
      dir_ = std::move(pattern);
    } else {
      ADD_FAILURE() << "cannot make a temporary directory from " << pattern;
    }
  }
  ~TempDir() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !dir_.empty(); }
  const std::string& path() const { return dir_; }
  // The path of `name` in this directory.
  std::string Path(absl::string_view name) const { return absl::StrCat(dir_, "/", name); }

 private:
  std::string dir_;
};

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_TEMP_DIR_H_
