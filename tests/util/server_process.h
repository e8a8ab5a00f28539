// ServerProcess: a real pprocd started for a test, serving on a UNIX socket
// in its own temporary directory, stopped (SIGKILL) and cleaned up when
// destroyed. Plus small helpers to call it. Test-only; one thread.
//
// Nothing a test starts outlives it: the server runs in a process group of
// its own, which the destructor kills whole, and it gets SIGKILL when the
// thread that started it exits (PR_SET_PDEATHSIG), so also when the test
// process is killed. The kernel sends that signal when the starting THREAD
// ends, not the process: start servers from the test's own thread (or one
// that outlives the server), never from a short-lived helper thread.
#ifndef PPROCD_TESTS_UTIL_SERVER_PROCESS_H_
#define PPROCD_TESTS_UTIL_SERVER_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/v1/service.grpc.pb.h"
#include "tests/util/values.h"  // IWYU pragma: export

namespace pprocd::testing {

class ServerProcess {
 public:
  struct Options {
    int workers = 2;
    std::vector<std::string> extra_args;
    // Socket path; empty = <temp dir>/run/pprocd.sock.
    std::string socket_path;
    // Do not pass --listen at all (for tests that pass their own).
    bool no_default_listen = false;
    // --state-dir; empty = <temp dir>/var.
    std::string state_dir;
    // Do not pass --state-dir at all (the server's default is tested).
    bool no_state_dir = false;
    // The server's environment changes, as env(1) takes them: NAME=VALUE
    // sets, "-u" then NAME unsets. Empty: the test's environment.
    std::vector<std::string> env;
    // The server's working directory; empty: the test's.
    std::string working_dir;
    // Socket activation: this listening socket becomes the server's
    // descriptor 3, announced with LISTEN_FDS=1 and LISTEN_PID (its pid).
    int activation_socket = -1;
  };

  // Starts pprocd and waits for its "pprocd ready on" line. On failure the
  // returned pointer is null and `error` says why (with its stderr).
  static std::unique_ptr<ServerProcess> Start(const Options& options, std::string* error);
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  // --state-dir of the server.
  const std::string& state_dir() const { return state_dir_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& dir() const { return dir_; }
  // Lines printed on stdout up to and including the ready line.
  const std::vector<std::string>& ready_lines() const { return ready_lines_; }
  std::string Stderr() const;

  std::shared_ptr<grpc::Channel> NewChannel() const;
  std::unique_ptr<v1::ProcessFarmService::Stub> NewStub() const;

  // Sends `signal_number` to the server.
  void Signal(int signal_number) const;
  // Waits for the server to exit; returns its wait status, or -1 on timeout.
  // The server stays a zombie until destruction, so its process group id
  // cannot be reused before the destructor kills the group.
  int WaitExit(absl::Duration timeout);
  // Every live process descended from the server (template and workers).
  std::vector<pid_t> Descendants() const;
  // The live processes whose parent is the server (the template).
  std::vector<pid_t> Children() const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  // The wait status once WaitExit saw the server exit (still unreaped).
  std::optional<int> exit_status_;
  std::string dir_;
  std::string state_dir_;
  std::string socket_path_;
  std::vector<std::string> ready_lines_;
};

// For a child a test has just forked, before it execs anything: puts it in
// a process group of its own (which the test then kills whole) and makes
// the kernel SIGKILL it when the forking thread of `test_pid` ends. Exits
// the child when the test is already gone. Only async-signal-safe calls.
void DieWithTheTest(pid_t test_pid);

// A temporary directory removed (recursively) on destruction.
std::string MakeTempDir();
void RemoveTree(const std::string& path);

// True while process `pid` exists and is not a zombie.
bool ProcessAlive(pid_t pid);
// Waits until none of `pids` is alive; false after `timeout`.
bool WaitAllGone(const std::vector<pid_t>& pids, absl::Duration timeout);
// Number of open descriptors of `pid`.
int CountFds(pid_t pid);

// A shell command's exit status and what it printed (stdout and stderr).
struct CommandRun {
  int exit_code = -1;
  std::string output;
};
// Runs `command` with /bin/sh in a process group of its own (DieWithTheTest)
// and waits for it; whatever it left running in that group is killed.
CommandRun RunCommand(const std::string& command);

// The pproc executable built with the tests.
std::string PprocBinary();

// Outcome of one Map or Queue call.
struct ItemsOutcome {
  grpc::Status status;
  // Every item's result; a packed call's blocks are expanded into one
  // ItemResult per item (index, value, last, and item_stats as stats).
  std::vector<v1::ItemResult> results;
  int responses = 0;
  // Packed form: the blocks received, as they came.
  std::vector<v1::ResultBlock> blocks;
};

// Runs a whole Map (`ordered`) or Queue call: the inputs go in requests of
// `batch` from a writer thread while results are read. With
// options.packed() the inputs go as JSON arrays in packed_inputs.
ItemsOutcome RunItems(v1::ProcessFarmService::Stub* stub, bool ordered, const std::string& callable,
                      const std::vector<google::protobuf::Value>& inputs,
                      const v1::CallOptions& options = {}, size_t batch = 1000);

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_SERVER_PROCESS_H_
