// PythonTarget: a Python function run in a forked Python pool, as the
// scheduler runs it: the template pool that imports its module, and the
// name its workers are told to run. It comes from a reference a client
// passed (v1.PythonFunction) or from a registered callable (a config
// file's `python = "module:function"`).
#ifndef PPROCD_WORKER_PYTHON_TARGET_H_
#define PPROCD_WORKER_PYTHON_TARGET_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pprocd/v1/callable.pb.h"

namespace pprocd {

struct PythonTarget {
  std::string interpreter;
  std::string module;
  std::string module_file;
  std::vector<std::string> sys_path;
  std::string qualname;
  // The function takes a channel first (a channel callable).
  bool channel = false;
  // The module file as it was when the call started (modification time,
  // size, inode): a different stamp means a new template generation.
  std::string file_stamp;

  // Calls with the same key share a template pool (one generation at a
  // time): the interpreter, the module and where it is imported from.
  std::string PoolKey() const;
  // What a worker's TaskFrame.callable names: "QUALNAME", or
  // "channel:QUALNAME" for a channel function.
  std::string TaskCallable() const;
  // "module:qualname", for messages and ListJobs.
  std::string DisplayName() const;
  // Templates with the same key differ only in the module they import: a
  // template started ahead with that key (a spare) can serve this target.
  // The interpreter and the import path.
  std::string SpareKey() const;
  // The argv (argv[0] first) of a template process for this target's
  // interpreter and import path: it loads pprocd's worker runtime, then
  // waits for ModuleDatagram() on its control socket before it imports
  // the module and speaks the template protocol (TemplateStarted first).
  std::vector<std::string> TemplateArgv(pid_t server) const;
  // The template's first message: the module's name and file, NUL between.
  std::string ModuleDatagram() const;
};

// Checks a reference's fields (INVALID_ARGUMENT names the one at fault: a
// relative path, a qualname not reachable from its module, a module file
// that cannot be read) and records the module file as it is now
// (file_stamp). Who may pass one is the caller's business.
absl::StatusOr<std::shared_ptr<const PythonTarget>> PythonTargetFrom(
    const v1::PythonFunction& function);

// A copy of `target` whose file_stamp records its module file as it is now
// (a registered Python callable's, at the start of each call);
// FAILED_PRECONDITION naming the file when it cannot be read.
absl::StatusOr<std::shared_ptr<const PythonTarget>> StampedNow(const PythonTarget& target);

// The bootstrap the template's interpreter runs (`-c SERVER_PID PATH...`);
// pprocd/_template.py keeps a copy.
inline constexpr char kPythonTemplateBootstrap[] =
    "import sys;sys.path[:0]=sys.argv[2:];"
    "from pprocd._template import main;main(int(sys.argv[1]))";

}  // namespace pprocd

#endif  // PPROCD_WORKER_PYTHON_TARGET_H_
