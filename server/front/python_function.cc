#include "server/front/python_function.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/front/status_convert.h"

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

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("function.", field, ": ", why));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PythonTarget>> ResolvePythonFunction(
    const v1::PythonFunction& function, const CallerIdentity& caller,
    const std::vector<std::string>& allowed_for_anyone) {
  const std::string name = absl::StrCat(function.module(), ":", function.qualname());
  const bool same_user = caller.known && caller.uid == ::geteuid();
  if (!same_user && std::find(allowed_for_anyone.begin(), allowed_for_anyone.end(), name) ==
                        allowed_for_anyone.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "function: a Python function reference runs code as the server's user, so only a caller "
        "on the server's UNIX socket with its uid (",
        ::geteuid(), ") may pass one; this caller is ",
        caller.known ? absl::StrCat("uid ", caller.uid) : std::string("not identified (TCP)"),
        ". Register the function as a callable in the server's config instead"));
  }
  if (!IsAbsolutePath(function.interpreter())) {
    return Invalid("interpreter", "must be an absolute path (the client's sys.executable)");
  }
  if (::access(function.interpreter().c_str(), X_OK) != 0) {
    return Invalid("interpreter",
                   absl::StrCat(QuoteForStatus(function.interpreter()),
                                " is not an executable file: ", std::strerror(errno)));
  }
  if (!IsDottedName(function.module())) {
    return Invalid("module",
                   absl::StrCat(QuoteForStatus(function.module()), " is not a module name"));
  }
  if (!IsDottedName(function.qualname())) {
    return Invalid("qualname",
                   absl::StrCat(QuoteForStatus(function.qualname()),
                                " cannot be reached from its module (a lambda, closure or nested "
                                "function?): pass a function defined at module level"));
  }
  if (!IsAbsolutePath(function.module_file())) {
    return Invalid("module_file", "must be an absolute path (the module's __file__)");
  }
  struct stat file;
  if (::stat(function.module_file().c_str(), &file) != 0) {
    return Invalid("module_file",
                   absl::StrCat("cannot read ", QuoteForStatus(function.module_file()), ": ",
                                std::strerror(errno)));
  }
  if (!S_ISREG(file.st_mode)) {
    return Invalid("module_file",
                   absl::StrCat(QuoteForStatus(function.module_file()), " is not a file"));
  }
  for (int i = 0; i < function.sys_path_size(); ++i) {
    if (!IsAbsolutePath(function.sys_path(i))) {
      return Invalid(
          absl::StrCat("sys_path[", i, "]"),
          absl::StrCat(QuoteForStatus(function.sys_path(i)), " is not an absolute path"));
    }
  }
  auto target = std::make_shared<PythonTarget>();
  target->interpreter = function.interpreter();
  target->module = function.module();
  target->module_file = function.module_file();
  target->sys_path.assign(function.sys_path().begin(), function.sys_path().end());
  target->qualname = function.qualname();
  target->channel = function.channel();
  target->file_stamp = absl::StrCat(file.st_dev, ":", file.st_ino, ":", file.st_size, ":",
                                    file.st_mtim.tv_sec, ".", file.st_mtim.tv_nsec);
  return target;
}

CallableDef PythonFunctionDef(const PythonTarget& target) {
  CallableDef def;
  def.name = target.DisplayName();
  def.kind = target.channel ? v1::CALLABLE_KIND_CHANNEL : v1::CALLABLE_KIND_FUNCTION;
  def.origin = absl::StrCat("python:", target.module_file);
  ParamSpec any;
  any.name = "arguments";
  any.type = v1::PARAMETER_TYPE_ANY;
  def.params.push_back(std::move(any));
  return def;
}

}  // namespace pprocd
