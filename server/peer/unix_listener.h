// UnixListener: serves one listening UNIX stream socket to a grpc::Server,
// learning the kernel credentials of every caller on the way.
//
// gRPC's own UNIX listener tells a handler nothing about its caller. This one
// accepts the connections itself on its own thread, reads SO_PEERCRED (pid,
// uid, gid), records them in a PeerRegistry under the connection's
// descriptor number, then hands the descriptor to the server
// (grpc::AddInsecureChannelFromFd), whose handlers see the peer "fd:<n>".
//
// An accept error that persists (EMFILE, ENFILE, ENOBUFS, ...) is logged once
// on stderr and retried every 100 ms until it clears; it never stops the
// server or spins the CPU. Connections left in the backlog wait meanwhile.
//
// Lifetime: Bind() or Adopt(), then Start(server) once the server is
// started; Stop() (or the destructor) before the server shuts down and is
// destroyed. Start() and Stop() belong to one thread.
#ifndef PPROCD_SERVER_PEER_UNIX_LISTENER_H_
#define PPROCD_SERVER_PEER_UNIX_LISTENER_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "server/fs_identity/fs_identity.h"
#include "server/peer/peer_registry.h"

namespace pprocd {

struct BindOptions {
  // The socket file's mode (who may connect).
  mode_t mode = 0600;
  // Whose file-system rights make and remove the socket file: the server's
  // own, or (for a path a caller chose) that caller's. The file is created
  // with them, so it belongs to that user.
  FsIdentity as = FsIdentity::Own();
  // Recorded with every connection's credentials (PeerCredentials::job).
  std::string job;
};

class UnixListener {
 public:
  // Binds and listens on `path`, made ready beforehand (PrepareUnixSocketPath).
  // The socket file is created with `options`' identity and mode (through
  // the umask of a thread of its own, never a chmod by name with the
  // server's rights), and removed by Stop() if the file at `path` is still
  // that one. AlreadyExists when the address is in use. `registry` must
  // outlive this.
  static absl::StatusOr<std::unique_ptr<UnixListener>> Bind(const std::string& path,
                                                            PeerRegistry* registry,
                                                            const BindOptions& options = {});
  // Serves `listening`, a socket already bound and listening (systemd socket
  // activation); its file belongs to whoever made it and is left in place.
  static absl::StatusOr<std::unique_ptr<UnixListener>> Adopt(UniqueFd listening,
                                                             PeerRegistry* registry);

  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;
  // Stop().
  ~UnixListener();

  // Starts accepting on a thread of its own, handing each connection to
  // `server`, which must be started and outlive Stop(). Once only.
  absl::Status Start(grpc::Server* server);
  // Stops accepting: wakes and joins the thread, closes the listening socket
  // and removes the socket file if Bind() made it: with the identity it was
  // made with, and only when the file at the path is still the one Bind()
  // made (same device and inode, not followed if a symlink). Connections
  // already handed to the server are the server's. Idempotent.
  void Stop();

  // The socket's path (for an adopted socket, as the kernel reports it).
  const std::string& path() const { return path_; }

 private:
  // The file Bind() made, as lstat() saw it just after.
  struct FileId {
    dev_t dev;
    ino_t ino;
  };

  UnixListener(UniqueFd listening, UniqueFd wake, std::string path, std::optional<FileId> file,
               FsIdentity as, PeerRegistry* registry, std::string job = "");
  void AcceptLoop(grpc::Server* server);
  // Accepts until the backlog is empty; false on an error worth a pause.
  bool AcceptPending(grpc::Server* server);

  UniqueFd listening_;
  UniqueFd wake_;  // eventfd: readable once Stop() asks the thread to end.
  const std::string path_;
  // Set when Bind() made the file at path_, which Stop() removes as as_.
  const std::optional<FileId> file_;
  const FsIdentity as_;
  PeerRegistry* const registry_;
  const std::string job_;
  std::thread thread_;
  bool stopped_ = false;
  // Accept loop thread only: an error was logged and has not cleared yet.
  bool error_logged_ = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_PEER_UNIX_LISTENER_H_
