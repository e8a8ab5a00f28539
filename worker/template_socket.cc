#include "worker/template_socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "base/status_macros.h"

namespace pprocd::template_socket {

absl::Status SendWithFds(int fd, const std::string& bytes, const int* fds, int fd_count) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(kSpawnedFds * sizeof(int))];
  if (fd_count > 0 && fd_count <= kSpawnedFds) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(fd_count * sizeof(int));
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fd_count * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), fds, fd_count * sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(errno, "send to template socket");
  return absl::OkStatus();
}

}  // namespace pprocd::template_socket
