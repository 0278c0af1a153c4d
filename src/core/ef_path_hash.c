/* ef_path_hash.c: the path hash's random start in each process. */
#include "ef_path_hash.h"

#include <sys/random.h>

/* A fixed start until the process starts (and where the kernel has no
 * randomness to give yet: the hash still works, only predictably). */
uint64_t ef_path_seeded_basis = UINT64_C(0x9E3779B97F4A7C15);

/* Before main, and before a plugin's first call (when it is loaded):
 * every hash of the process is made from the same start. */
__attribute__((constructor)) static void seed_path_hash(void) {
  uint64_t seed;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
    ef_path_seeded_basis ^= seed;
}
