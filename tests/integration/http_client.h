// A tiny HTTP client for the tests of the server's HTTP listener.
#ifndef PPROCD_TESTS_INTEGRATION_HTTP_CLIENT_H_
#define PPROCD_TESTS_INTEGRATION_HTTP_CLIENT_H_

#include <string>

#include "tests/util/server_process.h"

namespace pprocd::testing {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string content_type;
  std::string body;
};

// GET of an http://HOST:PORT/PATH URL.
HttpAnswer HttpGet(const std::string& url);

// "http://127.0.0.1:PORT/" from the line the server printed on stderr;
// "" when it printed none.
std::string DashboardUrl(const ServerProcess& server);

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_INTEGRATION_HTTP_CLIENT_H_
