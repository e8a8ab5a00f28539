// MustStart: starts a ServerProcess for a test, or fails the test with the
// reason it did not start (and returns null).
#ifndef PPROCD_TESTS_UTIL_MUST_START_H_
#define PPROCD_TESTS_UTIL_MUST_START_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/util/server_process.h"

namespace pprocd::testing {

inline std::unique_ptr<ServerProcess> MustStart(ServerProcess::Options options = {}) {
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_MUST_START_H_
