/*
 * test_copy.c - copies of window data (src/copy.c): ordinary copies of every
 * length around the sizes where the way of copying changes, and large ones
 * below the volume that streams and past it; the bytes that arrive are the
 * source's, at every alignment of source and destination and with lengths
 * that leave head and tail pieces; nothing around the destination is
 * written; overlapping ranges are copied as memmove copies them;
 * PORTRMA_STREAM=off never streams.
 *
 * The expected bytes come from the test's own pattern, not from memcpy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "copy.h"
#include "settings.h"

#define GUARD 256

static unsigned char pattern(size_t i, unsigned seed)
{
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull + seed;

    x ^= x >> 29;
    return (unsigned char)(x * 0xbf58476d1ce4e5b9ull >> 56);
}

/* Checks buf[0, cap): the bytes [at, at + len) must hold pattern(from + k,
 * seed) for k = 0, 1, ...; every other byte its old value, 0xa5 (keep < 0)
 * or pattern(i, keep). what names the case in a failure. */
static void check_copied(const unsigned char *buf, size_t cap, size_t at, size_t len,
                         size_t from, unsigned seed, int keep, const char *what)
{
    for (size_t i = 0; i < cap; i++) {
        unsigned char want = i >= at && i < at + len ? pattern(i - at + from, seed)
                             : keep < 0             ? 0xa5
                                                    : pattern(i, (unsigned)keep);

        if (buf[i] != want)
            fail_msg("%s: byte %zu is %#x, not %#x", what, i, buf[i], want);
    }
}

/* Copies len bytes `shift` bytes forward within one buffer, then backward,
 * by prma__copy_large with a volume far past streaming (large) or by
 * prma__copy: the result must be memmove's, and nothing streamed. */
static void overlap_both_ways(size_t len, size_t shift, unsigned seed, int large)
{
    size_t cap = len + shift + GUARD;  /* bytes past the copy must stay too */
    unsigned char *buf = malloc(cap);
    char what[64];

    assert_non_null(buf);
    for (int dir = 0; dir < 2; dir++) {
        size_t from = dir ? shift : 0, to = dir ? 0 : shift, vol = SIZE_MAX / 2;
        unsigned long before = prma__copy_streamed();

        for (size_t i = 0; i < cap; i++)
            buf[i] = pattern(i, seed);
        if (large)
            prma__copy_large(&vol, buf + to, buf + from, len);
        else
            prma__copy(buf + to, buf + from, len);
        assert_true(prma__copy_streamed() == before);
        snprintf(what, sizeof what, "overlapping copy of %zu, %s", len,
                 dir ? "backward" : "forward");
        check_copied(buf, cap, to, len, from, seed, (int)seed, what);
    }
    free(buf);
}

/* Copies len bytes from src_off to dst_off of two fresh buffers with the
 * given starting volume; checks the copy and the guard bytes around it.
 * Returns whether the copy was streamed. */
static int copy_once(size_t len, size_t src_off, size_t dst_off, size_t volume)
{
    size_t cap = len + 2 * GUARD + 128;
    unsigned char *src = malloc(cap), *dst = malloc(cap);
    unsigned long before = prma__copy_streamed();
    size_t vol = volume;
    char what[64];

    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < cap; i++) {
        src[i] = pattern(i, 1);
        dst[i] = 0xa5;
    }
    prma__copy_large(&vol, dst + GUARD + dst_off, src + GUARD + src_off, len);
    assert_true(vol == volume + len);
    snprintf(what, sizeof what, "len %zu src+%zu dst+%zu", len, src_off, dst_off);
    check_copied(dst, cap, GUARD + dst_off, len, GUARD + src_off, 1, -1, what);
    free(src);
    free(dst);
    return prma__copy_streamed() != before;
}

static const size_t lens[] = { PRMA_STREAM_MIN, PRMA_STREAM_MIN + 1, PRMA_STREAM_MIN + 63,
                               PRMA_STREAM_MIN + 127, 100003, (size_t)1 << 20 };
#define NLENS (sizeof(lens) / sizeof(lens[0]))

static const size_t offs[] = { 0, 1, 7, 16, 33, 63 };
#define NOFFS (sizeof(offs) / sizeof(offs[0]))

static void test_copy_plain(void **state)
{
    (void)state;
    prma__config.stream = 1;
    prma__copy_setup();
    /* A volume of nothing before: the first cache's worth is never streamed. */
    for (size_t l = 0; l < NLENS; l++)
        for (size_t s = 0; s < NOFFS; s++)
            assert_false(copy_once(lens[l], offs[s], offs[(s + l) % NOFFS], 0));
}

static void test_copy_streamed(void **state)
{
    (void)state;
    prma__config.stream = 1;
    prma__copy_setup();
    for (size_t l = 0; l < NLENS; l++)
        for (size_t s = 0; s < NOFFS; s++)
            for (size_t d = 0; d < NOFFS; d++) {
                int streamed = copy_once(lens[l], offs[s], offs[d], SIZE_MAX / 2);
#if defined(__x86_64__)
                assert_true(streamed);
#else
                assert_false(streamed);
#endif
            }
}

/* Overlapping ranges, both ways round, far past the streaming volume: the
 * result is memmove's. */
static void test_copy_overlap(void **state)
{
    (void)state;
    prma__config.stream = 1;
    prma__copy_setup();
    overlap_both_ways(PRMA_STREAM_MIN * 2, 4097, 2, 1);
}

/* prma__copy, at lengths around 64, 128 and PRMA_COPY_OWN and a few beyond,
 * at every pair of alignments mod 64 among a set. */
static void test_copy_ordinary(void **state)
{
    static const size_t olens[] = { 65, 127, 128, 129, 255, 256, 257, 1000,
                                    PRMA_COPY_OWN - 1, PRMA_COPY_OWN, PRMA_COPY_OWN + 1,
                                    PRMA_COPY_OWN + 31, PRMA_COPY_OWN + 129, 4096, 12345,
                                    PRMA_STREAM_MIN - 1 };
    size_t cap = PRMA_STREAM_MIN + 2 * GUARD + 128;
    unsigned char *src = malloc(cap), *dst = malloc(cap);
    char what[64];

    (void)state;
    assert_non_null(src);
    assert_non_null(dst);
    prma__config.stream = 1;
    prma__copy_setup();
    for (size_t i = 0; i < cap; i++)
        src[i] = pattern(i, 3);
    for (size_t l = 0; l < sizeof(olens) / sizeof(olens[0]); l++)
        for (size_t s = 0; s < NOFFS; s++)
            for (size_t d = 0; d < NOFFS; d++) {
                size_t len = olens[l], at = GUARD + offs[d];

                memset(dst, 0xa5, cap);
                prma__copy(dst + at, src + GUARD + offs[s], len);
                snprintf(what, sizeof what, "copy %zu src+%zu dst+%zu", len, offs[s], offs[d]);
                check_copied(dst, cap, at, len, GUARD + offs[s], 3, -1, what);
            }
    overlap_both_ways(3 * PRMA_COPY_OWN, 40, 4, 0);
    free(src);
    free(dst);
}

static void test_copy_off(void **state)
{
    (void)state;
    prma__config.stream = 0;
    prma__copy_setup();
    assert_false(copy_once((size_t)1 << 20, 0, 0, SIZE_MAX / 2));
    assert_false(copy_once(PRMA_STREAM_MIN + 5, 3, 9, SIZE_MAX / 2));
    prma__config.stream = 1;
    prma__copy_setup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_ordinary),
        cmocka_unit_test(test_copy_plain),
        cmocka_unit_test(test_copy_streamed),
        cmocka_unit_test(test_copy_overlap),
        cmocka_unit_test(test_copy_off),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
