/* Unit tests of output.c: stdout through a bounded queue, over a pipe. */
#include "output.h"
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 20000

typedef struct {
  int fds[2];
  char *log_text;
  size_t log_len;
  FILE *log;
  tg_output *output;
} rig;

static void rig_up(rig *r) {
  signal(SIGPIPE, SIG_IGN);
  ck_assert_int_eq(pipe(r->fds), 0);
  r->log = open_memstream(&r->log_text, &r->log_len);
  ck_assert_ptr_nonnull(r->log);
  r->output = tg_output_new(r->fds[1], r->log);
  ck_assert_ptr_nonnull(r->output);
}

static void rig_down(rig *r) {
  tg_output_free(r->output);
  if (r->fds[0] >= 0)
    close(r->fds[0]);
  close(r->fds[1]);
  fclose(r->log);
  free(r->log_text);
}

/* A write of whole lines, all saying n. */
static void write_chunk(rig *r, unsigned n) {
  static char chunk[CHUNK + 1]; /* + snprintf's last NUL */
  snprintf(chunk, 11, "%09u\n", n);
  for (size_t at = 10; at + 10 <= CHUNK; at += 10)
    memcpy(chunk + at, chunk, 10);
  ck_assert_uint_eq(fwrite(chunk, 1, CHUNK, tg_output_stream(r->output)),
                    CHUNK);
}

/* The reader's side: what it read of a line and of a chunk so far. */
typedef struct {
  char line[10];
  size_t have;      /* bytes of line */
  size_t in_chunk;  /* lines of the current chunk */
  unsigned current; /* its number */
  unsigned last;    /* the last whole chunk's */
} reader;

/* Reads what the pipe holds now (non-blocking), checking that it is whole
 * chunks in increasing order; returns the chunks completed. Each line is
 * checked without a ck_assert of its own: under CK_FORK every one is a
 * message to the parent, and they were most of the test's time. */
static size_t read_chunks(rig *r, reader *rd) {
  fcntl(r->fds[0], F_SETFL, O_NONBLOCK);
  size_t chunks = 0;
  static char block[65536];
  ssize_t got = 0;
  for (ssize_t at = 0;; at++) {
    if (at == got) {
      got = read(r->fds[0], block, sizeof(block));
      if (got <= 0)
        break;
      at = 0;
    }
    rd->line[rd->have++] = block[at];
    if (rd->have < sizeof(rd->line))
      continue;
    rd->have = 0;
    if (rd->line[9] != '\n')
      ck_abort_msg("a line of 10 bytes without its line feed");
    unsigned n = (unsigned)strtoul(rd->line, NULL, 10);
    if (rd->in_chunk == 0) {
      if (n <= rd->last) /* in order, none twice */
        ck_abort_msg("chunk %u after chunk %u", n, rd->last);
      rd->current = n;
    } else if (n != rd->current) { /* never part of a write */
      ck_abort_msg("a line of chunk %u inside chunk %u", n, rd->current);
    }
    if (++rd->in_chunk == CHUNK / 10) {
      rd->in_chunk = 0;
      rd->last = rd->current;
      chunks++;
    }
  }
  return chunks;
}

START_TEST(writes_reach_the_reader_whole) {
  rig r;
  rig_up(&r);
  reader rd = {0};
  size_t read = 0;
  for (unsigned n = 1; n <= 50; n++) {
    write_chunk(&r, n);
    read += read_chunks(&r, &rd);
    ck_assert_int_eq(tg_output_flush(r.output), 0);
  }
  while (tg_output_pending(r.output) > 0) {
    read += read_chunks(&r, &rd);
    ck_assert_int_eq(tg_output_flush(r.output), 0);
  }
  read += read_chunks(&r, &rd);
  ck_assert_uint_eq(read, 50);
  ck_assert_uint_eq(tg_output_dropped_get(r.output).writes, 0);
  ck_assert(!tg_output_stalled(r.output));
  rig_down(&r);
}
END_TEST

/* Nobody reads: at most the bound waits, the rest is dropped whole,
 * said once; once read, writes flow again, said once. */
START_TEST(stalled_reader_is_bounded) {
  rig r;
  rig_up(&r);
  unsigned n = 0;
  for (int i = 0; i < 1000; i++)
    write_chunk(&r, ++n);
  ck_assert_uint_le(tg_output_pending(r.output), TG_OUTPUT_MAX_BYTES);
  ck_assert(tg_output_stalled(r.output));
  tg_output_dropped dropped = tg_output_dropped_get(r.output);
  ck_assert_uint_gt(dropped.writes, 0);
  ck_assert_uint_eq(dropped.bytes, (unsigned long long)dropped.writes * CHUNK);
  fflush(r.log);
  ck_assert_ptr_nonnull(strstr(r.log_text, "stdout is not being read"));
  ck_assert_ptr_eq(
      strstr(strstr(r.log_text, "not being read") + 1, "not being read"), NULL);
  reader rd = {0};
  size_t read = 0;
  while (tg_output_pending(r.output) > 0) {
    read += read_chunks(&r, &rd);
    ck_assert_int_eq(tg_output_flush(r.output), 0);
  }
  read += read_chunks(&r, &rd);
  ck_assert_uint_eq(rd.have + rd.in_chunk, 0);
  ck_assert(!tg_output_stalled(r.output));
  fflush(r.log);
  ck_assert_ptr_nonnull(strstr(r.log_text, "stdout is read again"));
  /* The backlog's room is given back once it is written. */
  ck_assert_uint_le(tg_output_capacity(r.output), 64 * 1024);
  write_chunk(&r, ++n);
  ck_assert_uint_eq(tg_output_dropped_get(r.output).writes, dropped.writes);
  ck_assert_uint_eq(read + dropped.writes, 1000);
  ck_assert_uint_le(tg_output_capacity(r.output), 64 * 1024);
  rig_down(&r);
}
END_TEST

START_TEST(closed_reader_is_an_error) {
  rig r;
  rig_up(&r);
  close(r.fds[0]);
  r.fds[0] = -1;
  write_chunk(&r, 1);
  ck_assert_int_eq(tg_output_flush(r.output), -1);
  char byte = 'x';
  ck_assert_uint_eq(fwrite(&byte, 1, 1, tg_output_stream(r.output)), 0);
  ck_assert_int_eq(tg_output_finish(r.output, 100), -1);
  rig_down(&r);
}
END_TEST

/* The end: what nobody reads is given up after the wait, and said. */
START_TEST(finish_gives_up_on_what_is_not_read) {
  rig r;
  rig_up(&r);
  for (unsigned n = 1; n <= 10; n++)
    write_chunk(&r, n);
  ck_assert_uint_gt(tg_output_pending(r.output), 0);
  ck_assert_int_eq(tg_output_finish(r.output, 50), 0);
  fflush(r.log);
  ck_assert_ptr_nonnull(strstr(r.log_text, "still not read at the end"));
  rig_down(&r);
}
END_TEST

/* Once a stop is asked, a write that does not fit is dropped at once
 * instead of waiting for room. (Last: the stop is for good.) */
START_TEST(stop_ends_the_wait_for_room) {
  rig r;
  rig_up(&r);
  tg_output_stop_all();
  unsigned n = 0;
  while (tg_output_dropped_get(r.output).writes == 0)
    write_chunk(&r, ++n);
  ck_assert_uint_le(tg_output_pending(r.output), TG_OUTPUT_MAX_BYTES);
  ck_assert_uint_le(n, TG_OUTPUT_MAX_BYTES / CHUNK + 8);
  rig_down(&r);
}
END_TEST

/* Bytes the pipe holds now. */
static size_t readable(rig *r) {
  char buf[4096];
  size_t total = 0;
  fcntl(r->fds[0], F_SETFL, O_NONBLOCK);
  for (ssize_t got; (got = read(r->fds[0], buf, sizeof(buf))) > 0;)
    total += (size_t)got;
  return total;
}

/* Held, small writes wait for the release and leave together; a hold
 * never keeps more than TG_OUTPUT_HELD_BYTES from the reader. */
START_TEST(held_writes_leave_at_the_release) {
  rig r;
  rig_up(&r);
  FILE *out = tg_output_stream(r.output);
  tg_output_hold(r.output);
  for (int i = 0; i < 3; i++)
    ck_assert_int_ge(fputs("ecoflow_phase,sn=X voltage=230 1\n", out), 0);
  ck_assert_uint_eq(readable(&r), 0);
  ck_assert_uint_gt(tg_output_pending(r.output), 0);
  ck_assert_int_eq(tg_output_release(r.output), 0);
  ck_assert_uint_eq(readable(&r),
                    3 * strlen("ecoflow_phase,sn=X voltage=230 1\n"));
  ck_assert_uint_eq(tg_output_pending(r.output), 0);
  tg_output_hold(r.output);
  size_t written = 0;
  for (unsigned n = 1; n <= 4 * TG_OUTPUT_HELD_BYTES / CHUNK + 1; n++) {
    write_chunk(&r, n);
    written += readable(&r);
  }
  ck_assert_uint_gt(written, 0);
  ck_assert_uint_le(tg_output_pending(r.output), TG_OUTPUT_HELD_BYTES + CHUNK);
  ck_assert_int_eq(tg_output_release(r.output), 0);
  rig_down(&r);
}
END_TEST

UNIT_MAIN("telegraf_output", writes_reach_the_reader_whole,
          stalled_reader_is_bounded, closed_reader_is_an_error,
          finish_gives_up_on_what_is_not_read, stop_ends_the_wait_for_room,
          held_writes_leave_at_the_release)
