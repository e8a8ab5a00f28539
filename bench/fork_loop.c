/* fork_loop: the floor of "a new process per item". A small parent forks a
 * child that exits at once, and reaps it; --inflight P keeps P children
 * alive at a time (P = 1: fork, exit, wait, strictly one after another).
 * Reports processes per second; the peer of pprocd's FRESH isolation rows.
 *
 *   fork_loop [--count N] [--inflight P] [--warmup K]
 *
 * Prints a human line and a machine line:
 *   BENCH bench=fork_loop count=N inflight=P seconds=S per_sec=R ok=1
 */
#define _GNU_SOURCE
#include <errno.h>
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

/* Runs COUNT fork/_exit/wait cycles with up to INFLIGHT children alive.
 * Returns the number of children that exited with status 0. */
static long run(long count, int inflight) {
  long started = 0, reaped_ok = 0, alive = 0;
  while (started < count || alive > 0) {
    while (started < count && alive < inflight) {
      pid_t pid = fork();
      if (pid < 0) {
        perror("fork");
        return -1;
      }
      if (pid == 0) _exit(0);
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
  long count = 20000, warmup = 500;
  int inflight = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = atol(argv[++i]);
    } else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc) {
      inflight = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
      warmup = atol(argv[++i]);
    } else {
      fprintf(stderr, "usage: %s [--count N] [--inflight P] [--warmup K]\n", argv[0]);
      return 2;
    }
  }
  if (count < 1 || inflight < 1 || warmup < 0) {
    fprintf(stderr, "fork_loop: --count and --inflight must be >= 1\n");
    return 2;
  }
  if (warmup > 0 && run(warmup, inflight) != warmup) return 1;
  double t0 = now_s();
  long ok_children = run(count, inflight);
  double dt = now_s() - t0;
  int ok = ok_children == count;
  double rate = dt > 0 ? (double)count / dt : 0.0;
  printf("fork+_exit+waitpid x %ld, %d in flight: %.3f s = %.0f processes/s (%.1f us each)%s\n",
         count, inflight, dt, rate, dt / (double)count * 1e6, ok ? "" : "  ** FAILED **");
  printf("BENCH bench=fork_loop count=%ld inflight=%d seconds=%.6f per_sec=%.1f ok=%d\n", count,
         inflight, dt, rate, ok);
  return ok ? 0 : 1;
}
