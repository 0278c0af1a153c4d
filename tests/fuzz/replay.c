/* replay.c: runs a fuzz target over its kept corpus without libFuzzer, so
 * that every input ever found (and every crash, once added to the corpus)
 * is a regression test under `make check` and valgrind. */
#include "fuzz_support.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int replay_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (file == NULL)
    return -1;
  uint8_t *data = NULL;
  size_t size = 0, cap = 0, got;
  do {
    if (size == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *grown = realloc(data, cap);
      if (grown == NULL)
        break;
      data = grown;
    }
    got = fread(data + size, 1, cap - size, file);
    size += got;
  } while (got > 0);
  fclose(file);
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 0;
}

int main(void) {
  const char *top = getenv("top_srcdir");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".",
           FUZZ_TARGET);
  DIR *listing = opendir(dir);
  if (listing == NULL) {
    perror(dir);
    return 1;
  }
  int passed = 0, failed = 0;
  struct dirent *entry;
  while ((entry = readdir(listing)) != NULL) {
    if (entry->d_name[0] == '.')
      continue;
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
    if (replay_file(path) == 0)
      passed++;
    else
      failed++;
  }
  closedir(listing);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
