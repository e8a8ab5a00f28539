// The template ("zygote") process: forked by pprocd's main() before any gRPC
// object or thread exists, it holds the loaded callables and forks every
// worker, so workers never inherit gRPC state (gRPC is not fork-safe).
//
// The server talks to it over a SOCK_SEQPACKET socket: SpawnWorker requests
// go in; WorkerSpawned (with the worker's task socket and output files
// attached) and WorkerExited events come out. The template reaps every
// worker. It dies with the server (PR_SET_PDEATHSIG) and, when the server
// closes the socket, kills every worker and exits.
//
// TemplateProcess is the server-side handle; it belongs to one thread (the
// scheduler's) after Start(). Its library (pprocd::template_handle) is the
// handle alone; Start() and ServeExecutedTemplate(), which run the template
// and its workers, are in pprocd::worker (template_serve.cc).
#ifndef PPROCD_WORKER_TEMPLATE_PROCESS_H_
#define PPROCD_WORKER_TEMPLATE_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"
#include "pprocd/wire/v1/wire.pb.h"

namespace pprocd {

class Registry;

// One event from the template, with the descriptors that came with it.
struct TemplateEventWithFds {
  wire::v1::TemplateEvent event;
  UniqueFd task_fd;    // WorkerSpawned: the worker's task socket.
  UniqueFd stdout_fd;  // WorkerSpawned: its stdout file (output_capture.h).
  UniqueFd stderr_fd;  // WorkerSpawned: its stderr file.
  // WorkerSpawned whose descriptors did not all arrive: the server had no
  // room for them (the kernel then drops the rest and sets MSG_CTRUNC). Any
  // that did arrive are closed and the three above are empty: the worker
  // cannot be reached, and ends when it reads the end of its task socket.
  bool fds_lost = false;
};

// The control socket's descriptor number in a template started by Exec().
inline constexpr int kExecControlFd = 3;
// The environment variable that tells a launched template the format of the
// server's log (base/log/log_format.h): "text" or "json".
inline constexpr char kLogFormatVariable[] = "PPROCD_LOG_FORMAT";

// The exec'd side of TemplateProcess::Exec(): dies with `server` (its
// parent), reports `loaded` (the outcome of loading the callables) to the
// server, and serves as the template with `registry` when it is ok. Never
// returns.
[[noreturn]] void ServeExecutedTemplate(pid_t server, const absl::Status& loaded,
                                        const Registry& registry);

class TemplateProcess {
 public:
  // Forks the template. Call before creating any thread or gRPC object.
  // `registry` must stay alive (the template uses its copy of it).
  static absl::StatusOr<TemplateProcess> Start(const Registry& registry);

  // Starts a template in a new process image, safe once threads exist: runs
  // this program (/proc/self/exe) with `args` (argv[1..]) and its control
  // socket as descriptor kExecControlFd. The program must call
  // ServeExecutedTemplate. Waits up to `timeout` for its TemplateStarted
  // event: FailedPrecondition with the template's own error when it could
  // not load its callables, DeadlineExceeded or Unavailable when it hung or
  // died.
  static absl::StatusOr<TemplateProcess> Exec(const std::vector<std::string>& args,
                                              absl::Duration timeout);

  // Starts `program` with `argv` (argv[0] included) and its control socket
  // as descriptor kExecControlFd, without waiting: its first event is a
  // TemplateStarted. Its environment is the server's with
  // kLogFormatVariable set to the log's format ("text" or "json"), in which
  // it writes its own lines on the server's stderr. Safe once threads exist; call it on
  // the thread that will keep the template (a template started with
  // PR_SET_PDEATHSIG dies with the thread that started it).
  static absl::StatusOr<TemplateProcess> Launch(const std::string& program,
                                                const std::vector<std::string>& argv);

  // A handle over the control socket of a template that this process did
  // not start (no pid: Stop() only closes the socket). Tests play the
  // template's side of `control` with it.
  static TemplateProcess Adopt(UniqueFd control) { return TemplateProcess(-1, std::move(control)); }

  TemplateProcess(TemplateProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), control_(std::move(other.control_)) {}
  TemplateProcess& operator=(TemplateProcess&&) = delete;
  // Stops the template (see Stop()).
  ~TemplateProcess();

  // Descriptor to watch for readability; events are read with ReadEvent().
  int control_fd() const { return control_.get(); }
  pid_t pid() const { return pid_; }

  // Asks for one more worker; the answer is a WorkerSpawned event, or a
  // WorkerExited with pid -1 when the template could not start it.
  // `callable`: the one callable the worker will run (a FRESH worker), or
  // "" (SpawnWorker.callable).
  absl::Status RequestSpawn(uint64_t worker_id, const std::string& callable = "");

  // Sends `data` as one datagram of the control socket, for a template whose
  // protocol begins with a message of its own before any TemplateRequest (a
  // Python template waits for the module to import: python_target.h).
  absl::Status SendDatagram(absl::string_view data);

  // Asks the template to SIGKILL the process group of worker `worker_id`.
  // The template reaps its workers, so it alone knows whether the worker's
  // pid is still the worker's: once reaped, the request does nothing (a
  // kill by pid from the server could hit a process that reused it). The
  // kill lands asynchronously; its WorkerExited event follows as usual.
  absl::Status RequestKill(uint64_t worker_id);

  // Reads one pending event without blocking; `*got` is false when none is
  // pending. Unavailable when the template has gone away; ResourceExhausted
  // when the kernel could not hand the event over now (out of memory or
  // descriptors): the event stays queued, read again later.
  absl::Status ReadEvent(TemplateEventWithFds* out, bool* got);

  // Closes the control socket (the template then kills its workers and
  // exits) and reaps the template, killing it after `grace`. Idempotent.
  void Stop(absl::Duration grace = absl::Seconds(2));

 private:
  TemplateProcess(pid_t pid, UniqueFd control) : pid_(pid), control_(std::move(control)) {}

  pid_t pid_ = -1;
  UniqueFd control_;
};

}  // namespace pprocd

#endif  // PPROCD_WORKER_TEMPLATE_PROCESS_H_
