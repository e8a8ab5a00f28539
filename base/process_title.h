// Process titles: the name a process shows in /proc/PID/comm (top, ps -o
// comm) and in /proc/PID/cmdline (ps -o args, pidof), so that the server,
// its template and its workers, which all run the same executable, can be
// told apart: `pidof pprocd` finds only the server.
//
// The command line a process shows is the memory its argv strings were
// given in at exec. SaveProcessTitleArea() records that span (argv, and the
// environment strings right after it) at start; SetProcessTitle() later
// overwrites it, never past its end, as BSD's setproctitle(3) does.
//
// Thread-safety: SaveProcessTitleArea() once, first thing in main(), before
// any thread starts. SetProcessTitle() only in a single-threaded process
// (a child just forked); it does not allocate, so it is safe after fork().
#ifndef PPROCD_BASE_PROCESS_TITLE_H_
#define PPROCD_BASE_PROCESS_TITLE_H_

namespace pprocd {

// Records the memory of `argv` (and of the environment strings that follow
// it contiguously) as the area SetProcessTitle() may overwrite, and moves
// `environ` to copies on the heap so the environment stays intact when the
// title covers it. Later uses of `argv` by the caller see the title once a
// title is set (the memory is the same): copy the arguments before.
void SaveProcessTitleArea(int argc, char** argv);

// Names this process `title`: its comm (PR_SET_NAME, cut to 15 bytes), and
// its command line when SaveProcessTitleArea() was called in this program
// (cut to the saved area; what is left of the old arguments is zeroed, so
// they no longer show). Without a saved area only the comm changes.
void SetProcessTitle(const char* title);

}  // namespace pprocd

#endif  // PPROCD_BASE_PROCESS_TITLE_H_
