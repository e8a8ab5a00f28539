// systemd socket activation without libsystemd: the listening socket a
// service manager passed as descriptor 3 (LISTEN_PID, LISTEN_FDS; see
// sd_listen_fds(3)), for a UnixListener to Adopt(). Main thread, at start.
#ifndef PPROCD_SERVER_PEER_SOCKET_ACTIVATION_H_
#define PPROCD_SERVER_PEER_SOCKET_ACTIVATION_H_

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace pprocd {

// When LISTEN_PID is this process and LISTEN_FDS >= 1: takes descriptor 3
// (close-on-exec from now on), closes any further passed descriptors and
// removes LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from the environment.
// Otherwise an invalid UniqueFd. InvalidArgument for malformed variables.
absl::StatusOr<UniqueFd> TakeActivatedSocket();

// Makes the child of this process's next fork() close `fd` before anything
// else (the parent keeps it), so a process forked without exec does not
// inherit a listening socket. Later forks are unaffected.
void CloseInNextForkedChild(int fd);

}  // namespace pprocd

#endif  // PPROCD_SERVER_PEER_SOCKET_ACTIVATION_H_
