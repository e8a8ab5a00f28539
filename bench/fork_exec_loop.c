/* fork_exec_loop: the floor of "run a program per item". A small parent
 * forks a child that execs PROGRAM (looked up in PATH, its stdin and stdout
 * on /dev/null), and reaps it; --inflight P keeps P children alive at a time.
 * Reports programs run per second; the peer of pprocd's per-invocation
 * command callables (bench/python/bench_callables.py).
 *
 *   fork_exec_loop [--count N] [--inflight P] [--warmup K] [--] PROGRAM [ARG...]
 *
 * Prints a human line and a machine line:
 *   BENCH bench=fork_exec_loop count=N inflight=P seconds=S per_sec=R ok=1
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs COUNT fork/exec/wait cycles of ARGV with up to INFLIGHT children
 * alive. Returns the number of children that exited with status 0. */
static long run(long count, int inflight, char **argv, int devnull) {
  long started = 0, reaped_ok = 0, alive = 0;
  while (started < count || alive > 0) {
    while (started < count && alive < inflight) {
      pid_t pid = fork();
      if (pid < 0) {
        perror("fork");
        return -1;
      }
      if (pid == 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        execvp(argv[0], argv);
        _exit(127);
      }
      ++started;
      ++alive;
    }
    int status = 0;
    pid_t done = waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      perror("waitpid");
      return -1;
    }
    --alive;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++reaped_ok;
  }
  return reaped_ok;
}

int main(int argc, char **argv) {
  long count = 5000, warmup = 200;
  int inflight = 1;
  int i = 1;
  for (; i < argc; ++i) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = atol(argv[++i]);
    } else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc) {
      inflight = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
      warmup = atol(argv[++i]);
    } else if (strcmp(argv[i], "--") == 0) {
      ++i;
      break;
    } else if (argv[i][0] == '-') {
      fprintf(stderr,
              "usage: %s [--count N] [--inflight P] [--warmup K] [--] PROGRAM [ARG...]\n",
              argv[0]);
      return 2;
    } else {
      break;
    }
  }
  if (i >= argc || count < 1 || inflight < 1 || warmup < 0) {
    fprintf(stderr, "fork_exec_loop: a PROGRAM is required; --count and --inflight >= 1\n");
    return 2;
  }
  char **prog = argv + i;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    perror("/dev/null");
    return 1;
  }
  if (warmup > 0 && run(warmup, inflight, prog, devnull) != warmup) {
    fprintf(stderr, "fork_exec_loop: %s did not exit 0\n", prog[0]);
    return 1;
  }
  double t0 = now_s();
  long ok_children = run(count, inflight, prog, devnull);
  double dt = now_s() - t0;
  int ok = ok_children == count;
  double rate = dt > 0 ? (double)count / dt : 0.0;
  printf("fork+exec(%s)+waitpid x %ld, %d in flight: %.3f s = %.0f programs/s (%.1f us each)%s\n",
         prog[0], count, inflight, dt, rate, dt / (double)count * 1e6, ok ? "" : "  ** FAILED **");
  printf("BENCH bench=fork_exec_loop count=%ld inflight=%d seconds=%.6f per_sec=%.1f ok=%d\n",
         count, inflight, dt, rate, ok);
  return ok ? 0 : 1;
}
