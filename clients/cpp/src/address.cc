#include "pprocd/client/address.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

std::string UserSocketPath() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    std::string dir = runtime;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return absl::StrCat(dir, "/pprocd/pprocd.sock");
  }
  return absl::StrCat("/tmp/pprocd-", geteuid(), "/pprocd.sock");
}

absl::StatusOr<Located> LocateServer(absl::string_view flag) {
  Located located;
  if (!flag.empty()) {
    absl::StatusOr<std::string> target = NormalizeAddress(flag);
    if (!target.ok()) return target.status();
    located.target = *std::move(target);
    located.tried.push_back(absl::StrCat(located.target, " (the address given)"));
  } else if (const char* env = std::getenv(kAddressEnvVar); env != nullptr && *env != '\0') {
    absl::StatusOr<std::string> target = NormalizeAddress(env);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("$", kAddressEnvVar, ": ", target.status().message()));
    }
    located.target = *std::move(target);
    located.tried.push_back(absl::StrCat(located.target, " (from $", kAddressEnvVar, ")"));
  } else {
    const std::string user = UserSocketPath();
    struct stat info;
    const bool only_system = stat(user.c_str(), &info) != 0 && stat(kSystemSocketPath, &info) == 0;
    located.target = absl::StrCat("unix:", only_system ? kSystemSocketPath : user);
    located.tried = {absl::StrCat("unix:", user, " (the per-user socket)"),
                     absl::StrCat("unix:", kSystemSocketPath, " (the system socket)")};
    located.no_server_hint = absl::StrCat("tried ", absl::StrJoin(located.tried, ", then "),
                                          ", as no address was given and $", kAddressEnvVar,
                                          " is unset; start one with `pprocd` or scripts/run");
    return located;
  }
  // A server started with --listen serves any unix: or tcp: address.
  std::string listen;
  if (absl::StartsWith(located.target, "unix:")) {
    absl::string_view path = absl::string_view(located.target).substr(5);
    if (absl::StartsWith(path, "///")) path.remove_prefix(2);
    listen = absl::StrCat("unix:", path);
  } else if (!absl::StrContains(located.target, "unix-abstract:") &&
             !absl::StartsWith(located.target, "dns:") &&
             !absl::StartsWith(located.target, "ipv4:") &&
             !absl::StartsWith(located.target, "ipv6:")) {
    listen = absl::StrCat("tcp:", located.target);
  }
  located.no_server_hint = absl::StrCat(
      "tried ", located.tried.front(), "; start one with ",
      listen.empty()
          ? "`pprocd` or scripts/run"
          : absl::StrCat("`pprocd --listen ", listen, "` or scripts/run --listen ", listen));
  return located;
}

absl::StatusOr<std::string> ResolveAddress(absl::string_view flag) {
  absl::StatusOr<Located> located = LocateServer(flag);
  if (!located.ok()) return located.status();
  return std::move(located->target);
}

}  // namespace pprocd::client
