// What both ends of a template's control socket (template_process.h) share:
// its largest datagram, the descriptors that come with a WorkerSpawned, and
// how a datagram is sent with descriptors. Internal to worker/.
#ifndef PPROCD_WORKER_TEMPLATE_SOCKET_H_
#define PPROCD_WORKER_TEMPLATE_SOCKET_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"

namespace pprocd::template_socket {

// The largest datagram either end sends.
inline constexpr size_t kMaxControlMessage = 4096;
// Descriptors sent with WorkerSpawned: task socket, stdout file, stderr file.
inline constexpr int kSpawnedFds = 3;

// Sends `bytes` as one datagram on `fd`, with `fd_count` (0 to kSpawnedFds)
// descriptors of `fds` attached; retried on EINTR, never raises SIGPIPE.
absl::Status SendWithFds(int fd, const std::string& bytes, const int* fds, int fd_count);

}  // namespace pprocd::template_socket

#endif  // PPROCD_WORKER_TEMPLATE_SOCKET_H_
