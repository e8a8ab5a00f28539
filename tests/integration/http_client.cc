#include "tests/integration/http_client.h"

#include <regex>

#include "httplib.h"

namespace pprocd::testing {

HttpAnswer HttpGet(const std::string& url) {
  static const std::regex kUrl(R"(^(http://[^/]+)(/.*)$)");
  std::smatch match;
  HttpAnswer answer;
  if (!std::regex_match(url, match, kUrl)) return answer;
  httplib::Client client(match[1].str());
  client.set_read_timeout(30, 0);
  httplib::Result result = client.Get(match[2].str());
  if (!result) return answer;
  answer.status = result->status;
  answer.content_type = result->get_header_value("Content-Type");
  answer.body = result->body;
  return answer;
}

std::string DashboardUrl(const ServerProcess& server) {
  // The start line of the log: ... msg=started ... http=http://HOST:PORT/ ...
  static const std::regex kLine(R"( http="?(http://[^\s"]+/))");
  std::smatch match;
  const std::string text = server.Stderr();
  return std::regex_search(text, match, kLine) ? match[1].str() : "";
}

}  // namespace pprocd::testing
