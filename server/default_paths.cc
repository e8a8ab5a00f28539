#include "server/default_paths.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"

namespace pprocd {
namespace {

// $NAME when it is an absolute path (the XDG rule: a relative one is
// ignored), else "".
std::string AbsoluteEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || value[0] != '/') return "";
  std::string path = value;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

absl::StatusOr<std::string> HomeDir() {
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') return home;
  passwd entry;
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_dir != nullptr && found->pw_dir[0] == '/') {
    return std::string(found->pw_dir);
  }
  return absl::FailedPreconditionError(
      "no home directory for the default --state-dir (set HOME or XDG_STATE_HOME, or pass "
      "--state-dir)");
}

}  // namespace

std::string UserSocketDir() {
  const std::string runtime = AbsoluteEnv("XDG_RUNTIME_DIR");
  if (!runtime.empty()) return absl::StrCat(runtime, "/pprocd");
  return absl::StrCat("/tmp/pprocd-", geteuid());
}

std::string UserSocketPath() { return absl::StrCat(UserSocketDir(), "/pprocd.sock"); }

absl::StatusOr<std::string> DefaultListenAddress() {
  const char* env = std::getenv(kAddressEnvVar);
  if (env == nullptr || env[0] == '\0') return absl::StrCat("unix:", UserSocketPath());
  absl::string_view text = absl::StripAsciiWhitespace(env);
  if (absl::StartsWith(text, "unix:") || absl::StartsWith(text, "tcp:")) return std::string(text);
  // gRPC's own schemes name what a client resolves, not a place to listen.
  const bool grpc_scheme = absl::StartsWith(text, "dns:") || absl::StartsWith(text, "ipv4:") ||
                           absl::StartsWith(text, "ipv6:") ||
                           absl::StartsWith(text, "unix-abstract:");
  if (!grpc_scheme && (absl::StrContains(text, '/') || absl::EndsWith(text, ".sock"))) {
    return absl::StrCat("unix:", text);
  }
  if (!grpc_scheme && absl::StrContains(text, ':')) return absl::StrCat("tcp:", text);
  return absl::InvalidArgumentError(
      absl::StrCat("$", kAddressEnvVar, "='", env,
                   "' is not an address pprocd can serve (unix:PATH, a socket path, "
                   "tcp:HOST:PORT or HOST:PORT); unset it or pass --listen"));
}

absl::StatusOr<std::string> DefaultStateDir() {
  const std::string state = AbsoluteEnv("XDG_STATE_HOME");
  if (!state.empty()) return absl::StrCat(state, "/pprocd");
  absl::StatusOr<std::string> home = HomeDir();
  if (!home.ok()) return home.status();
  return absl::StrCat(*home, "/.local/state/pprocd");
}

absl::Status MakeDirectories(const std::string& dir) {
  struct stat info;
  if (dir.empty() || stat(dir.c_str(), &info) == 0) return absl::OkStatus();
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    PPROCD_RETURN_IF_ERROR(MakeDirectories(dir.substr(0, slash)));
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("create directory ", dir));
  }
  return absl::OkStatus();
}

absl::Status PreparePrivateDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("create directory ", dir));
  }
  // Checked through a descriptor of the directory itself, never through a
  // symbolic link, so what is checked is what the socket goes in.
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ELOOP || error == ENOTDIR) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing the socket directory ", dir,
          ": it is not a directory (or is a symbolic link); remove it, or pass --listen"));
    }
    return ErrnoStatus(error, absl::StrCat("open directory ", dir));
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus(errno, absl::StrCat("stat ", dir));
  if (info.st_uid != geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing the socket directory ", dir, ": it is owned by uid ", info.st_uid,
                     ", not by this user (uid ", geteuid(),
                     "); another user may have made it: remove it, or pass --listen"));
  }
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("refusing the socket directory %s: group or others may write it "
                        "(mode %04o); make it private with `chmod 700 %s`, or pass --listen",
                        dir, info.st_mode & 07777, dir));
  }
  return absl::OkStatus();
}

}  // namespace pprocd
