/*
 * copy.c - copies between mapped window memory and origins' buffers.
 *
 * Whoever reads what a put wrote (or what a get fetched) reads it after the
 * next synchronization. When the copies made before that synchronization add
 * up to more than the last-level cache holds, the later ones push the
 * earlier ones out of it: all that can still be in cache when the reader
 * comes is about one cache's worth. Ordinary stores to lines that are not in
 * cache first read each line from memory, then write it back when it is
 * pushed out; non-temporal stores write whole lines to memory without
 * reading them, half the memory traffic. So past one cache's worth of
 * volume, copies stream: the first cache's worth stays in cache as before,
 * the rest goes to memory at the speed memory takes writes.
 *
 * The ordinary copies of more than PRMA_COPY_OWN bytes are a loop of our own
 * where the CPU has AVX2 (copy.h says why: glibc's `rep movsb` there).
 *
 * x86-64 only (SSE2 stores everywhere, AVX2 where the CPU has it); elsewhere
 * every copy is memmove.
 */
#include "copy.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "settings.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Volume after which copies stream; SIZE_MAX: never. */
static size_t stream_after = SIZE_MAX;
static int    have_avx2;
static _Atomic unsigned long nstreamed;

/* One line of a file of CPU 0's cache description: "%31s" into word, or a
 * number (with K or M) into *bytes. 0 when the file says nothing. */
static int cache_field(int index, const char *name, char word[32], size_t *bytes)
{
    char path[96], unit = 0;
    unsigned long n = 0;
    int ok;
    FILE *f;

    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, name);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    if (word != NULL) {
        ok = fscanf(f, "%31s", word) == 1;
    } else {
        ok = fscanf(f, "%lu%c", &n, &unit) >= 1;
        *bytes = unit == 'M' ? (size_t)n << 20 : unit == 'K' ? (size_t)n << 10 : (size_t)n;
    }
    fclose(f);
    return ok;
}

/* The size in bytes of CPU 0's data (or unified) cache of the given level,
 * or with level 0 of its largest one, as the kernel describes them (the C
 * library's guess where it says nothing); 0 if nothing knows. */
static size_t cache_bytes(int level)
{
    size_t best = 0, bytes, lv;
    char type[32];

    for (int i = 0; i < 8; i++) {
        if (!cache_field(i, "type", type, NULL))
            break;
        if (strcmp(type, "Instruction") == 0 || !cache_field(i, "level", NULL, &lv) ||
            (level != 0 && lv != (size_t)level) || !cache_field(i, "size", NULL, &bytes))
            continue;
        if (bytes > best)
            best = bytes;
    }
    if (best == 0) {
        long guess = level == 1 ? sysconf(_SC_LEVEL1_DCACHE_SIZE) : sysconf(_SC_LEVEL3_CACHE_SIZE);

        best = guess > 0 ? (size_t)guess : 0;
    }
    return best;
}

size_t prma__l1d_bytes(void)
{
    static _Atomic size_t l1d;
    size_t bytes = atomic_load_explicit(&l1d, memory_order_relaxed);

    if (bytes == 0) {
        bytes = cache_bytes(1);
        if (bytes == 0)
            bytes = (size_t)32 << 10;
        atomic_store_explicit(&l1d, bytes, memory_order_relaxed);
    }
    return bytes;
}

void prma__copy_setup(void)
{
#if defined(__x86_64__)
    size_t llc;

    __builtin_cpu_init();
    have_avx2    = __builtin_cpu_supports("avx2");
    stream_after = SIZE_MAX;
    if (!prma__config.stream)
        return;
    llc = cache_bytes(0);
    /* Unknown: assume a large one, so that streaming starts late. */
    stream_after = llc != 0 ? llc : (size_t)64 << 20;
#endif
}

#if defined(__x86_64__)
/* len a multiple of 128, to 64-byte aligned. */
__attribute__((target("avx2"))) static void stream_avx2(char *to, const char *from, size_t len)
{
    for (size_t i = 0; i < len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(from + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(from + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(from + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(from + i + 96));

        _mm256_stream_si256((__m256i *)(to + i), a);
        _mm256_stream_si256((__m256i *)(to + i + 32), b);
        _mm256_stream_si256((__m256i *)(to + i + 64), c);
        _mm256_stream_si256((__m256i *)(to + i + 96), d);
    }
}

/* len a multiple of 128, to 64-byte aligned. */
static void stream_sse2(char *to, const char *from, size_t len)
{
    for (size_t i = 0; i < len; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(from + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(from + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(from + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(from + i + 48));

        _mm_stream_si128((__m128i *)(to + i), a);
        _mm_stream_si128((__m128i *)(to + i + 16), b);
        _mm_stream_si128((__m128i *)(to + i + 32), c);
        _mm_stream_si128((__m128i *)(to + i + 48), d);
    }
}

static void stream(char *to, const char *from, size_t len)
{
    size_t head = (size_t)(-(uintptr_t)to & 63), body;

    memcpy(to, from, head);
    to += head;
    from += head;
    len -= head;
    body = len & ~(size_t)127;
    if (have_avx2)
        stream_avx2(to, from, body);
    else
        stream_sse2(to, from, body);
    memcpy(to + body, from + body, len - body);
    /* Non-temporal stores are not ordered with later ordinary ones (a
     * lock word, a flag the target polls): order them here. */
    _mm_sfence();
}
#endif

/* Do [from, from + len) and [to, to + len) share a byte? */
static inline int overlap(const void *to, const void *from, size_t len)
{
    return (const char *)from < (const char *)to + len && (const char *)to < (const char *)from + len;
}

#if defined(__x86_64__)
/* An ordinary copy of len > 128 bytes between ranges that do not overlap:
 * stores 32-byte aligned, loads as they come, the first and the last bytes
 * by overlapping pieces. */
__attribute__((target("avx2"))) static void copy_avx2(char *to, const char *from, size_t len)
{
    __m256i h0, t0, t1, t2, t3;
    size_t skip;

    h0 = _mm256_loadu_si256((const __m256i *)from);
    t0 = _mm256_loadu_si256((const __m256i *)(from + len - 128));
    t1 = _mm256_loadu_si256((const __m256i *)(from + len - 96));
    t2 = _mm256_loadu_si256((const __m256i *)(from + len - 64));
    t3 = _mm256_loadu_si256((const __m256i *)(from + len - 32));
    _mm256_storeu_si256((__m256i *)to, h0);
    /* From the first 32-byte boundary past `to` on, whole aligned pieces of
     * 128 bytes while more than 128 remain; the last 128 bytes last. */
    skip = 32 - ((uintptr_t)to & 31);
    for (size_t i = skip; i + 128 < len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(from + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(from + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(from + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(from + i + 96));

        _mm256_store_si256((__m256i *)(to + i), a);
        _mm256_store_si256((__m256i *)(to + i + 32), b);
        _mm256_store_si256((__m256i *)(to + i + 64), c);
        _mm256_store_si256((__m256i *)(to + i + 96), d);
    }
    _mm256_storeu_si256((__m256i *)(to + len - 128), t0);
    _mm256_storeu_si256((__m256i *)(to + len - 96), t1);
    _mm256_storeu_si256((__m256i *)(to + len - 64), t2);
    _mm256_storeu_si256((__m256i *)(to + len - 32), t3);
}

#endif

void prma__copy(void *to, const void *from, size_t len)
{
#if defined(__x86_64__)
    if (have_avx2 && len > PRMA_COPY_OWN && !overlap(to, from, len)) {
        copy_avx2(to, from, len);
        return;
    }
#endif
    memmove(to, from, len);
}

void prma__copy_large(size_t *volume, void *to, const void *from, size_t len)
{
    *volume += len;
#if defined(__x86_64__)
    if (*volume > stream_after && !overlap(to, from, len)) {
        stream(to, from, len);
        atomic_fetch_add_explicit(&nstreamed, 1, memory_order_relaxed);
        return;
    }
#endif
    prma__copy(to, from, len);
}

unsigned long prma__copy_streamed(void)
{
    return atomic_load_explicit(&nstreamed, memory_order_relaxed);
}
