/* ef_inline.h: EF_HOT marks the few small functions that every value of
 * every reading passes through (naming it, checking it, writing it):
 * inlined whatever the compiler's size budget says, since a call there
 * costs about as much as the work it does (callgrind, live shape: 20 K
 * instructions a device saved by those marked, of 1.33 M). */
#ifndef EF_INLINE_H
#define EF_INLINE_H

#define EF_HOT static inline __attribute__((always_inline))

#endif
