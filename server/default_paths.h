// Where the server puts things when neither its command line nor its config
// file says: its socket and its state directory, per user (the XDG base
// directories), so that a server started from any directory is found by
// every client without an address (README: Where is the server?).
//
// The clients search, in order: the explicit address, $PPROCD_ADDRESS, the
// per-user socket (UserSocketPath), then the system socket
// (kSystemSocketPath). The server listens on the first of the first three.
//
// The functions read the environment and the password database: call them
// from the main thread before other threads start.
#ifndef PPROCD_SERVER_DEFAULT_PATHS_H_
#define PPROCD_SERVER_DEFAULT_PATHS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pprocd {

// The environment variable that names the server's address.
inline constexpr char kAddressEnvVar[] = "PPROCD_ADDRESS";
// Where a system-wide server listens (deploy/systemd).
inline constexpr char kSystemSocketPath[] = "/run/pprocd/pprocd.sock";

// The per-user socket: $XDG_RUNTIME_DIR/pprocd/pprocd.sock when
// XDG_RUNTIME_DIR is an absolute path, else /tmp/pprocd-UID/pprocd.sock
// (UID: the effective user id).
std::string UserSocketPath();

// The directory of UserSocketPath(), which the server keeps private
// (PreparePrivateDirectory).
std::string UserSocketDir();

// The default --listen address: $PPROCD_ADDRESS when set and non-empty
// (unix:PATH, a socket path, tcp:HOST:PORT or HOST:PORT, written as
// unix:PATH or tcp:HOST:PORT), else unix:UserSocketPath(). InvalidArgument
// names $PPROCD_ADDRESS when it is not an address the server can serve.
absl::StatusOr<std::string> DefaultListenAddress();

// The default --state-dir: $XDG_STATE_HOME/pprocd when XDG_STATE_HOME is an
// absolute path, else ~/.local/state/pprocd ($HOME, or the password
// database's home when HOME is unset). FailedPrecondition when no home
// directory is known.
absl::StatusOr<std::string> DefaultStateDir();

// Creates `dir` and its missing parents, each new one with mode 0700.
absl::Status MakeDirectories(const std::string& dir);

// Makes `dir` ready to hold a private socket, as ssh-agent and tmux do:
// creates it (mode 0700) when missing (its parent must exist), then refuses,
// with FailedPrecondition naming the directory and the fix, one that is a
// symbolic link or not a directory, is owned by another user, or that group
// or others may write.
absl::Status PreparePrivateDirectory(const std::string& dir);

}  // namespace pprocd

#endif  // PPROCD_SERVER_DEFAULT_PATHS_H_
