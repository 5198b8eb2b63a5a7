/*
 * copy.h - copies of window data too large for the caches to keep.
 */
#ifndef PRMA_COPY_H
#define PRMA_COPY_H

#include <stddef.h>

/* Copies from this size up count towards a synchronization's volume and may
 * stream past the caches; smaller ones are always ordinary copies. */
#define PRMA_STREAM_MIN ((size_t)64 << 10)

/*
 * An ordinary copy (memmove semantics). From PRMA_COPY_OWN bytes up, between
 * ranges that do not overlap, on a CPU with AVX2, it is portrma's own loop:
 * there glibc (2.36, on the AMD Zen 4 this was measured on) switches to
 * `rep movsb`, which ran 20-25 times slower than a vector loop whenever
 * source and destination were not at the same offset in a 64-byte line (a
 * put of doubles to an odd displacement), and about 10 % slower at 4-16 KiB
 * when they were. Below it, memmove's own vector code is as fast.
 */
#define PRMA_COPY_OWN ((size_t)2048)
void prma__copy(void *to, const void *from, size_t len);

/* Decide, once per process, whether and after how much to stream: the size
 * of the last-level cache, unless PORTRMA_STREAM is off. */
void prma__copy_setup(void);

/* The first-level data cache's size in bytes (32 KiB if nothing says),
 * read once. */
size_t prma__l1d_bytes(void);

/*
 * A copy of len >= PRMA_STREAM_MIN bytes made between two synchronizations of
 * a window; *volume counts what such copies moved since the last one (the
 * caller zeroes it at each synchronization). memmove semantics: overlapping
 * ranges are copied as memmove does. Once the volume passes what the
 * last-level cache holds, the copy is made with non-temporal stores and
 * ordered before any later store of this thread.
 */
void prma__copy_large(size_t *volume, void *to, const void *from, size_t len);

/* How many copies of this process were streamed (for tests). */
unsigned long prma__copy_streamed(void);

#endif /* PRMA_COPY_H */
