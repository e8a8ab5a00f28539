#include "server/fs_identity/fs_identity.h"

#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

// The system calls themselves: glibc's setgroups() would change every
// thread of the process. 32-bit ABIs have separate calls for 32-bit ids.
#ifdef SYS_setgroups32
constexpr long kSetGroups = SYS_setgroups32;
constexpr long kGetGroups = SYS_getgroups32;
constexpr long kSetFsUid = SYS_setfsuid32;
constexpr long kSetFsGid = SYS_setfsgid32;
#else
constexpr long kSetGroups = SYS_setgroups;
constexpr long kGetGroups = SYS_getgroups;
constexpr long kSetFsUid = SYS_setfsuid;
constexpr long kSetFsGid = SYS_setfsgid;
#endif

// Reads the calling thread's capabilities into `data`.
bool ThreadCapabilities(__user_cap_data_struct (&data)[_LINUX_CAPABILITY_U32S_3]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &header, data) == 0;
}

// The calling thread's supplementary groups, sorted; false on error.
bool ThreadGroups(std::vector<gid_t>* groups) {
  const long count = syscall(kGetGroups, 0, nullptr);
  if (count < 0) return false;
  groups->resize(static_cast<size_t>(count));
  if (syscall(kGetGroups, count, groups->data()) != count) return false;
  std::sort(groups->begin(), groups->end());
  return true;
}

// Gives the calling thread `identity` and drops its effective capabilities,
// then checks that each change took.
absl::Status TakeIdentity(const FsIdentity& identity) {
  std::vector<gid_t> groups = identity.groups();
  if (syscall(kSetGroups, groups.size(), groups.data()) != 0) {
    return ErrnoStatus(errno, "setgroups");
  }
  // These two report no error: each returns the previous id. Asked again
  // with an invalid id (-1), each answers the current one.
  syscall(kSetFsGid, identity.gid());
  syscall(kSetFsUid, identity.uid());
  __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
  if (!ThreadCapabilities(caps)) return ErrnoStatus(errno, "capget");
  for (__user_cap_data_struct& set : caps) set.effective = 0;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capset, &header, caps) != 0) return ErrnoStatus(errno, "capset");

  std::vector<gid_t> now;
  std::sort(groups.begin(), groups.end());
  const bool took =
      static_cast<gid_t>(syscall(kSetFsGid, static_cast<gid_t>(-1))) == identity.gid() &&
      static_cast<uid_t>(syscall(kSetFsUid, static_cast<uid_t>(-1))) == identity.uid() &&
      ThreadGroups(&now) && now == groups && ThreadCapabilities(caps) && caps[0].effective == 0 &&
      caps[1].effective == 0;
  if (!took) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot take the file-system identity of uid ", identity.uid()));
  }
  return absl::OkStatus();
}

struct Task {
  const FsIdentity* identity;
  mode_t umask;
  absl::FunctionRef<absl::Status()> action;
  absl::Status result;
};

void* RunTask(void* argument) {
  Task& task = *static_cast<Task*>(argument);
  // A file-system context of this thread's own: its umask is then its own.
  if (unshare(CLONE_FS) != 0) {
    task.result = ErrnoStatus(errno, "unshare(CLONE_FS)");
    return nullptr;
  }
  umask(task.umask);
  if (!task.identity->own()) task.result = TakeIdentity(*task.identity);
  if (task.result.ok()) task.result = task.action();
  return nullptr;
}

}  // namespace

FsIdentity::FsIdentity(uid_t uid, gid_t gid, std::vector<gid_t> groups)
    : own_(false), uid_(uid), gid_(gid), groups_(std::move(groups)) {}

absl::StatusOr<FsIdentity> FsIdentity::OfUser(uid_t uid) {
  if (uid == geteuid()) return Own();
  if (geteuid() != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("this server runs as uid ", geteuid(),
                     ", not as root: it can act on files only as itself, not as uid ", uid));
  }
  const long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(suggested > 0 ? static_cast<size_t>(suggested) : 16384, '\0');
  passwd entry{};
  passwd* found = nullptr;
  int error;
  while ((error = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1 << 20)) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) {
    return absl::PermissionDeniedError(
        error != 0 ? absl::StrCat("cannot look up uid ", uid, ": ", std::strerror(error))
                   : absl::StrCat("uid ", uid, " is not in the user database: the server ",
                                  "cannot act as that user"));
  }
  std::vector<gid_t> groups(16);
  int count = static_cast<int>(groups.size());
  while (getgrouplist(entry.pw_name, entry.pw_gid, groups.data(), &count) < 0) {
    if (count <= static_cast<int>(groups.size())) count = static_cast<int>(groups.size()) * 2;
    groups.resize(static_cast<size_t>(count));
  }
  groups.resize(static_cast<size_t>(count));
  return FsIdentity(uid, entry.pw_gid, std::move(groups));
}

absl::Status RunAs(const FsIdentity& identity, mode_t umask,
                   absl::FunctionRef<absl::Status()> action) {
  Task task{&identity, umask, action, absl::OkStatus()};
  pthread_t thread;
  if (const int error = pthread_create(&thread, nullptr, RunTask, &task); error != 0) {
    return ErrnoStatus(error, "start a thread for file-system work");
  }
  pthread_join(thread, nullptr);
  return task.result;
}

}  // namespace pprocd
