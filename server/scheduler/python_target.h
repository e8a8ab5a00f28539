// PythonTarget: a Python function passed by reference (v1.PythonFunction),
// checked and resolved by the front, as the scheduler runs it: the template
// pool that imports its module, and the name its workers are told to run.
#ifndef PPROCD_SERVER_SCHEDULER_PYTHON_TARGET_H_
#define PPROCD_SERVER_SCHEDULER_PYTHON_TARGET_H_

#include <sys/types.h>

#include <string>
#include <vector>

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
  // The argv (argv[0] first) of the pool's template process: the
  // interpreter runs pprocd._template, which speaks the worker protocol.
  std::vector<std::string> TemplateArgv(pid_t server) const;
};

// The bootstrap the template's interpreter runs (`-c`); pprocd/_template.py
// keeps a copy.
inline constexpr char kPythonTemplateBootstrap[] =
    "import sys,json;s=json.loads(sys.argv[1]);sys.path[:0]=s['sys_path'];"
    "from pprocd._template import main;main(s)";

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_PYTHON_TARGET_H_
