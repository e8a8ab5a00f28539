#include "server/listen_address.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"

namespace pprocd {
namespace {

absl::Status MakeParents(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  const std::string parent = path.substr(0, slash);
  struct stat info;
  if (stat(parent.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(parent, " is not a directory"));
    }
    return absl::OkStatus();
  }
  PPROCD_RETURN_IF_ERROR(MakeParents(parent));
  if (mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("create directory ", parent));
  }
  return absl::OkStatus();
}

// True when something accepts connections on the socket at `path`.
bool SomeoneListens(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

}  // namespace

std::string ListenAddress::GrpcUri() const {
  return kind == Kind::kUnix ? absl::StrCat("unix:", target) : target;
}

std::string ListenAddress::Display() const {
  return absl::StrCat(kind == Kind::kUnix ? "unix:" : "tcp:", target);
}

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text) {
  ListenAddress address;
  absl::string_view rest(text);
  if (absl::ConsumePrefix(&rest, "unix:")) {
    if (absl::StartsWith(rest, "//")) rest.remove_prefix(2);
    if (rest.empty()) return absl::InvalidArgumentError("--listen unix: needs a path");
    if (rest.size() >= sizeof(sockaddr_un::sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat("--listen: socket path is longer than ",
                                                     sizeof(sockaddr_un::sun_path) - 1,
                                                     " bytes: ", rest));
    }
    address.kind = ListenAddress::Kind::kUnix;
    address.target = std::string(rest);
    return address;
  }
  if (absl::ConsumePrefix(&rest, "tcp:")) {
    const size_t colon = rest.rfind(':');
    uint32_t port = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen: expected tcp:HOST:PORT (port 0 picks one), got ", text));
    }
    address.kind = ListenAddress::Kind::kTcp;
    address.target = std::string(rest);
    return address;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--listen: expected unix:PATH or tcp:HOST:PORT, got '", text, "'"));
}

absl::Status PrepareUnixSocketPath(const std::string& path) {
  PPROCD_RETURN_IF_ERROR(MakeParents(path));
  struct stat info;
  if (lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, absl::StrCat("stat ", path));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
  }
  if (SomeoneListens(path)) {
    return absl::AlreadyExistsError(
        absl::StrCat("another server is already serving on ", path,
                     "; stop it first or choose another --listen path"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("remove stale socket ", path));
  }
  return absl::OkStatus();
}

}  // namespace pprocd
