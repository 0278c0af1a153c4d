/* runstat.c: runs a command and reports what it cost.
 *
 * Promises: `runstat FILE COMMAND [ARG]...` runs COMMAND, waits for it, and
 * writes one line of JSON to FILE: its wall time, its user and system CPU
 * time and its peak resident set size (from wait4), for bench/bench.py.
 * Exit status: COMMAND's, 128 + the signal that ended it, or 127 when it
 * could not run.
 *
 * Why a program of its own: Linux keeps a process's peak RSS across exec,
 * so a command started straight from the benchmark's Python would report
 * at least the interpreter's size. Forked from this small process, it
 * reports its own (plus this program's, about a megabyte). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds_of(struct timeval t) {
  return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s FILE COMMAND [ARG]...\n", argv[0]);
    return 127;
  }
  FILE *report = fopen(argv[1], "w");
  if (report == NULL) {
    fprintf(stderr, "runstat: %s: %s\n", argv[1], strerror(errno));
    return 127;
  }
  double start = now_s();
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "runstat: fork: %s\n", strerror(errno));
    return 127;
  }
  if (child == 0) {
    fclose(report);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "runstat: %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage usage;
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "runstat: wait4: %s\n", strerror(errno));
      return 127;
    }
  }
  double wall = now_s() - start;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(report,
          "{\"wall_s\": %.6f, \"user_s\": %.6f, \"sys_s\": %.6f, "
          "\"maxrss_kb\": %ld, \"status\": %d}\n",
          wall, seconds_of(usage.ru_utime), seconds_of(usage.ru_stime),
          usage.ru_maxrss, code);
  if (fclose(report) != 0)
    return 127;
  return code;
}
