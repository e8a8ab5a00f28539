#include "worker/python_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pprocd {
namespace {

bool IsIdentifier(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    // Non-ASCII letters are valid in Python identifiers; Python checks them.
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  });
}

bool IsDottedName(absl::string_view name) {
  if (name.empty()) return false;
  for (absl::string_view part : absl::StrSplit(name, '.')) {
    if (!IsIdentifier(part)) return false;
  }
  return true;
}

bool IsAbsolutePath(absl::string_view path) {
  return !path.empty() && path[0] == '/' && path.find('\0') == absl::string_view::npos;
}

// A caller's text in a message: quoted, and cut when long.
std::string Quoted(absl::string_view text) {
  constexpr size_t kKeep = 200;
  if (text.size() <= kKeep) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kKeep), "...'");
}

// What identifies a file's content cheaply: device, inode, size and
// modification time; an error naming the file when it cannot be read.
absl::StatusOr<std::string> FileStamp(const std::string& path) {
  struct stat file;
  if (::stat(path.c_str(), &file) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", Quoted(path), ": ", std::strerror(errno)));
  }
  if (!S_ISREG(file.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(Quoted(path), " is not a file"));
  }
  return absl::StrCat(file.st_dev, ":", file.st_ino, ":", file.st_size, ":", file.st_mtim.tv_sec,
                      ".", file.st_mtim.tv_nsec);
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("function.", field, ": ", why));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PythonTarget>> PythonTargetFrom(
    const v1::PythonFunction& function) {
  if (!IsAbsolutePath(function.interpreter())) {
    return Invalid("interpreter", "must be an absolute path (the client's sys.executable)");
  }
  if (::access(function.interpreter().c_str(), X_OK) != 0) {
    return Invalid("interpreter",
                   absl::StrCat(Quoted(function.interpreter()),
                                " is not an executable file: ", std::strerror(errno)));
  }
  if (!IsDottedName(function.module())) {
    return Invalid("module", absl::StrCat(Quoted(function.module()), " is not a module name"));
  }
  if (!IsDottedName(function.qualname())) {
    return Invalid("qualname",
                   absl::StrCat(Quoted(function.qualname()),
                                " cannot be reached from its module (a lambda, closure or nested "
                                "function?): pass a function defined at module level"));
  }
  if (!IsAbsolutePath(function.module_file())) {
    return Invalid("module_file", "must be an absolute path (the module's __file__)");
  }
  absl::StatusOr<std::string> stamp = FileStamp(function.module_file());
  if (!stamp.ok()) return Invalid("module_file", stamp.status().message());
  for (int i = 0; i < function.sys_path_size(); ++i) {
    if (!IsAbsolutePath(function.sys_path(i))) {
      return Invalid(absl::StrCat("sys_path[", i, "]"),
                     absl::StrCat(Quoted(function.sys_path(i)), " is not an absolute path"));
    }
  }
  auto target = std::make_shared<PythonTarget>();
  target->interpreter = function.interpreter();
  target->module = function.module();
  target->module_file = function.module_file();
  target->sys_path.assign(function.sys_path().begin(), function.sys_path().end());
  target->qualname = function.qualname();
  target->channel = function.channel();
  target->file_stamp = *std::move(stamp);
  return target;
}

absl::StatusOr<std::shared_ptr<const PythonTarget>> StampedNow(const PythonTarget& target) {
  absl::StatusOr<std::string> stamp = FileStamp(target.module_file);
  if (!stamp.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the module of ", target.DisplayName(), ": ", stamp.status().message()));
  }
  auto stamped = std::make_shared<PythonTarget>(target);
  stamped->file_stamp = *std::move(stamp);
  return stamped;
}

std::string PythonTarget::PoolKey() const {
  // NUL never occurs in a path or a module name: the fields cannot run into
  // each other.
  std::string key =
      absl::StrCat(interpreter, std::string(1, '\0'), module, std::string(1, '\0'), module_file);
  for (const std::string& entry : sys_path) absl::StrAppend(&key, std::string(1, '\0'), entry);
  return key;
}

std::string PythonTarget::TaskCallable() const {
  return channel ? absl::StrCat("channel:", qualname) : qualname;
}

std::string PythonTarget::DisplayName() const { return absl::StrCat(module, ":", qualname); }

std::string PythonTarget::SpareKey() const {
  std::string key = interpreter;
  for (const std::string& entry : sys_path) absl::StrAppend(&key, std::string(1, '\0'), entry);
  return key;
}

std::vector<std::string> PythonTarget::TemplateArgv(pid_t server) const {
  std::vector<std::string> argv = {interpreter, "-I", "-c", kPythonTemplateBootstrap,
                                   absl::StrCat(server)};
  argv.insert(argv.end(), sys_path.begin(), sys_path.end());
  return argv;
}

std::string PythonTarget::ModuleDatagram() const {
  return absl::StrCat(module, std::string(1, '\0'), module_file);
}

}  // namespace pprocd
