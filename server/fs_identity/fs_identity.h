// FsIdentity and RunAs: file-system work done with a local user's rights,
// not the server's.
//
// A server running as root that creates, inspects or removes a file at a
// path a caller chose must not lend the caller its own rights: the caller can
// swap a directory on that path for a symlink between any two system calls,
// so no check made beforehand holds. Done with the caller's file-system
// identity, every call is judged by the kernel as the caller's own would be,
// whatever the path leads to by then; a file it creates belongs to them.
//
// Linux keeps the file-system uid and gid, the supplementary groups and the
// capabilities per thread, but glibc's setgroups() and set*id() change every
// thread of the process. RunAs therefore makes the raw system calls, on a new
// thread that ends with its action: no other thread ever has the identity,
// and none has to switch back. That thread also has a file-system context of
// its own (unshare(CLONE_FS)), so its umask is its own: umask is otherwise
// shared by every thread of the process and cannot be changed safely on one.
//
// Thread rules: FsIdentity is a value, safe to copy and share. RunAs may be
// called from any thread, concurrently; it blocks its caller until the
// action has ended. The action runs on the new thread: it should make only
// file-system system calls (no user-database lookups, no threads), and must
// not wait for anything its caller holds. While an action runs no thread of
// the process may call glibc's set*id() or setgroups() (they would reset the
// action thread's identity): the server makes no such call.
#ifndef PPROCD_SERVER_FS_IDENTITY_FS_IDENTITY_H_
#define PPROCD_SERVER_FS_IDENTITY_FS_IDENTITY_H_

#include <sys/types.h>

#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pprocd {

class FsIdentity {
 public:
  // The process's own identity: RunAs switches nothing (only the umask).
  static FsIdentity Own() { return FsIdentity(); }
  // The identity of local user `uid`: uid, primary group and supplementary
  // groups from the user database (getpwuid_r, getgrouplist). Own() when
  // `uid` is the process's effective uid. A process that is not root cannot
  // take another user's identity: PERMISSION_DENIED, as for a uid the user
  // database does not know.
  static absl::StatusOr<FsIdentity> OfUser(uid_t uid);

  bool own() const { return own_; }
  // Meaningful only when !own().
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  const std::vector<gid_t>& groups() const { return groups_; }

 private:
  FsIdentity() = default;
  FsIdentity(uid_t uid, gid_t gid, std::vector<gid_t> groups);

  bool own_ = true;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::vector<gid_t> groups_;
};

// Runs `action` on a new thread with file-system identity `identity` and
// umask `umask`, and waits for it to end. Unless `identity` is own(), that
// thread has the user's supplementary groups, file-system uid and gid, and
// no effective capability, all checked before `action` runs. Returns what
// `action` returns, or why the thread or identity could not be had (then
// `action` did not run).
absl::Status RunAs(const FsIdentity& identity, mode_t umask,
                   absl::FunctionRef<absl::Status()> action);

}  // namespace pprocd

#endif  // PPROCD_SERVER_FS_IDENTITY_FS_IDENTITY_H_
