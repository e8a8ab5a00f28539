// Command callables: programs in any language, declared in the config, that
// run as callables.
//
// Two modes:
// - kPerInvocation: a new process per item, started from the worker with a
//   vfork-style clone (it shares the worker's memory until it execs, so
//   its cost does not grow with the worker's size). The
//   arguments go in as JSON on stdin (an object naming the declared
//   parameters), or substituted into argv where an element is "{name}";
//   the result is stdout parsed as JSON (kJson) or its bytes (kBytes, a
//   string value). A non-zero exit or a signal is the item's error, with
//   the stderr tail.
// - kPersistent: one long-lived process per worker, started on first use
//   and restarted if it dies, speaking newline-delimited JSON: a request
//   line {"id": N, "args": {...}} in, a response line {"id": N, "result":
//   V} or {"id": N, "error": "message"} out. What it writes to stderr is
//   the item's stderr; stdout is reserved for responses.
//
// Batches (persistent mode). The process starts with PPROCD_BATCH=1 in its
// environment (unless the config sets PPROCD_BATCH itself; "0" declines).
// A program that understands batches answers the offer by writing the
// line {"batch": true} before anything else on stdout; the Python runtime
// (python -m pprocd.worker) does. Programs that do not are unaffected:
// they get one request per line. To a program that took the offer, the
// worker may send several requests in one line,
//   {"batch": [{"id": N, "args": A}, {"id": N+1, "args": B}, ...]},
// answered by one line with the answers to the first k >= 1 of them, in
// order, each as a one-request answer:
//   {"batch": [{"id": N, "result": V}, {"id": N+1, "error": "message"}]}.
// The requests not answered are sent again, so a program may end a batch
// early; one that ends it after the first request that wrote to stderr
// keeps each item's stderr its own (the worker gives what a batch wrote to
// the last item answered). A process that dies during a batch loses it:
// its items run again, one request at a time on a new process, so that
// only the one that kills it fails (items before it in the batch run
// twice). Items with a timeout are never batched (the server must know
// which one is running), nor is the first request to a new process.
//
// Timeouts, crashes, cancel and limits behave as for C++ callables: the
// child is in the worker's process group, so killing the worker kills it,
// and it is killed when the worker dies (PR_SET_PDEATHSIG).
#ifndef PPROCD_WORKER_COMMAND_CALLABLE_H_
#define PPROCD_WORKER_COMMAND_CALLABLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "worker/python_target.h"
#include "worker/registry.h"

namespace pprocd {

struct CommandSpec {
  enum class Mode { kPerInvocation, kPersistent };
  enum class Output { kJson, kBytes };

  std::string name;
  std::string description;
  // Program and arguments; argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  // Working directory ("" = the server's).
  std::string working_dir;
  // Extra environment variables, on top of the server's environment.
  std::map<std::string, std::string> env;
  Mode mode = Mode::kPerInvocation;
  Output output = Output::kJson;
  // Declared parameters: arguments are checked against them before the
  // program runs.
  std::vector<ParamSpec> params;
  // Set instead of argv: a Python function (`python = "module:function"`)
  // run in a forked Python pool, not a program.
  std::shared_ptr<const PythonTarget> python = nullptr;
};

// The callable that runs `spec`; a persistent command's also has a
// batch_body (see "Batches" above). InvalidArgument naming the field for
// an empty name or argv, or an argv placeholder naming no parameter.
absl::StatusOr<CallableDef> MakeCommandCallable(CommandSpec spec);

}  // namespace pprocd

#endif  // PPROCD_WORKER_COMMAND_CALLABLE_H_
