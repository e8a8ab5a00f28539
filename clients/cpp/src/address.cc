#include "pprocd/client/address.h"

#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pprocd::client {
namespace {

absl::Status BadAddress(absl::string_view address, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid address '", address, "': ", why,
                   " (use unix:PATH, a socket path, tcp:HOST:PORT or HOST:PORT)"));
}

// Checks that `host_port` is HOST:PORT with a non-empty host and a port in
// 1..65535. IPv6 hosts are bracketed, so the port follows the last ':'.
absl::Status CheckHostPort(absl::string_view original, absl::string_view host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == absl::string_view::npos) {
    return BadAddress(original, "expected HOST:PORT");
  }
  absl::string_view host = host_port.substr(0, colon);
  absl::string_view port = host_port.substr(colon + 1);
  uint32_t port_number = 0;
  if (host.empty()) return BadAddress(original, "the host is empty");
  if (!absl::SimpleAtoi(port, &port_number) || port_number == 0 || port_number > 65535) {
    return BadAddress(original, absl::StrCat("'", port, "' is not a port"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeAddress(absl::string_view address) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(address);
  if (stripped.empty()) return BadAddress(address, "it is empty");
  absl::string_view text = stripped;

  if (absl::ConsumePrefix(&text, "unix:")) {
    if (text.empty()) return BadAddress(address, "the socket path is empty");
    // gRPC reads unix://X as an authority, so only unix:/// is meaningful.
    if (absl::StartsWith(text, "//") && !absl::StartsWith(text, "///")) {
      return BadAddress(address, "unix:// needs an absolute path: unix:///P");
    }
    return std::string(stripped);
  }
  for (absl::string_view scheme : {"unix-abstract:", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::StartsWith(text, scheme)) {
      if (text.size() == scheme.size()) {
        return BadAddress(address, "nothing follows the scheme");
      }
      return std::string(text);
    }
  }
  if (absl::ConsumePrefix(&text, "tcp:")) {
    absl::Status status = CheckHostPort(address, text);
    if (!status.ok()) return status;
    return std::string(text);
  }
  if (absl::StrContains(text, '/') || absl::EndsWith(text, ".sock")) {
    return absl::StrCat("unix:", text);
  }
  absl::Status status = CheckHostPort(address, text);
  if (!status.ok()) return status;
  return std::string(text);
}

absl::StatusOr<std::string> ResolveAddress(absl::string_view flag) {
  if (!flag.empty()) return NormalizeAddress(flag);
  const char* env = std::getenv(kAddressEnvVar);
  if (env != nullptr && *env != '\0') {
    absl::StatusOr<std::string> target = NormalizeAddress(env);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("$", kAddressEnvVar, ": ", target.status().message()));
    }
    return target;
  }
  return NormalizeAddress(kDefaultAddress);
}

}  // namespace pprocd::client
