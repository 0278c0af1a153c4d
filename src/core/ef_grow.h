/* ef_grow.h: arrays that double as they fill.
 *
 * Promises: ef_grown returns items itself when it has room for need,
 * else items moved into room for at least need (its room doubled from
 * first, or from what it had, until it holds need), *room updated; NULL
 * when memory runs out or the size would not fit a size_t: items and
 * *room are then as they were, and the caller still owns items. */
#ifndef EF_GROW_H
#define EF_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline void *ef_grown(void *items, size_t *room, size_t need,
                             size_t item_size, size_t first) {
  if (need <= *room)
    return items;
  size_t grown = *room > 0 ? *room : first;
  while (grown < need) {
    if (grown > SIZE_MAX / 2)
      return NULL;
    grown *= 2;
  }
  if (item_size != 0 && grown > SIZE_MAX / item_size)
    return NULL;
  void *moved = realloc(items, grown * item_size);
  if (moved != NULL)
    *room = grown;
  return moved;
}

#endif
