/*
 * acc.c - MPI_Accumulate, MPI_Get_accumulate and MPI_Fetch_and_op: the
 * reduction of origin elements into a target's window, atomic per element.
 *
 * Which rule a window follows is decided once, at creation, from the
 * descriptions every member published (prma__acc_setup), so that all
 * members agree on it:
 *
 *  - A locked domain: every member is on this node as the ports see it
 *    (PORTRMA_NODE_SIZE splits no node, PORTRMA_TRANSPORT=ucx forces no
 *    one), so no origin reaches any target's memory with UCX atomics. Every
 *    accumulate-family operation (accumulate, get-accumulate, fetch-and-op,
 *    compare-and-swap) to a mapped target (self, mapped shm) is applied by
 *    the origin, here, without a message: for each 4 KiB page it touches,
 *    it takes that page's stripe lock (a second one, in increasing order,
 *    only for an element that straddles into the next page), runs the
 *    vectorized kernel of reduce.c on the page's piece and lets go with a
 *    release store. A single element takes its stripe the same way (lock,
 *    op, release store), so that it is atomic with the large ones. A target
 *    reached by copies (shm-cma) is updated under its stripe locks by get,
 *    reduce, put, as below. One stripe at a time, or two in order, never
 *    more: holders never wait for anything else.
 *
 *  - Otherwise (some member on another node, or UCX forced), per target by
 *    its port, the fastest path that is correct:
 *     - an integer op that is one atomic instruction (sum, the bitwise ops,
 *       replace, no-op) on a single 4- or 8-byte element: one atomic
 *       message, i.e. a CPU atomic through a mapping or a UCX atomic;
 *     - memory this process reaches directly (self, mapped shm): the ACC
 *       message is applied on the spot, each element by its atomic (or a
 *       compare-and-swap loop around the reduction kernel), elements wider
 *       than 8 bytes or misaligned under their page's stripe lock; so a
 *       large accumulate stays atomic per element with other origins'
 *       single-element UCX atomics, which no lock of ours can order;
 *     - a target on another node (ucx): the message goes to the target's
 *       agent as one active message and is applied there the same way, in
 *       one round trip (not lock + get + compute + put);
 *     - memory reached only by copies (shm-cma: a same-host window portrma
 *       did not allocate): the stripe locks of the range, get, reduce, put.
 *       Every update of such a target, whoever makes it, then takes the
 *       stripe locks (prma__acc_locked()), page by page where it is applied
 *       directly, since copies are not atomic with the CPU's atomics;
 *       origins on other nodes leave that to the target's agent (their
 *       compare-and-swaps too), so that a stripe is only ever held by a
 *       process that waits for nobody while holding it — the agent, which
 *       spins for a stripe inside the target's worker, can then never wait
 *       for itself.
 *
 * Ordering: by default an accumulate to a ucx target is waited for before
 * the next one goes, which keeps MPI's default ordering (rar, raw, war,
 * waw). With accumulate_ordering=none a non-fetching accumulate goes
 * without waiting and completes at the next flush or synchronization.
 * accumulate_ops=same_op(_no_op) lets a ucx target's replace (no-op) of
 * naturally aligned elements of up to 8 bytes travel as a plain put (get).
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "acc.h"
#include "atomic.h"
#include "context.h"
#include "copy.h"
#include "ctl.h"
#include "dynamic.h"
#include "guard.h"
#include "log.h"
#include "reduce.h"
#include "settings.h"
#include "wait.h"
#include "win.h"

#define ACC_CHUNK (64 * 1024)  /* bytes per message at most */

static int type_is_int(prma_type_t t)
{
    return t <= PRMA_TYPE_UINT64 || t == PRMA_TYPE_BYTE || t == PRMA_TYPE_CHAR ||
           t == PRMA_TYPE_BOOL;
}

/* The atomic message for an integer op a port applies in one step, or -1. */
static int native_aop(prma_op_t op)
{
    switch (op) {
    case PRMA_OP_SUM:     return PRMA_AOP_ADD;
    case PRMA_OP_NO_OP:   return PRMA_AOP_ADD;  /* adds 0 */
    case PRMA_OP_REPLACE: return PRMA_AOP_SWAP;
    case PRMA_OP_BAND:    return PRMA_AOP_AND;
    case PRMA_OP_BOR:     return PRMA_AOP_OR;
    case PRMA_OP_BXOR:    return PRMA_AOP_XOR;
    default:              return -1;
    }
}

static int acc_locked_of(const struct prma_win *win, int target);

/* ---- stripe locks on memory reached directly ------------------------- */

static _Atomic uint64_t *stripe_word(char *ctl, unsigned i)
{
    return (_Atomic uint64_t *)(ctl + PRMA_CTL_STRIPE_OFF(i));
}

/* The stripes of [offset, offset + len) in increasing order; returns how many. */
static unsigned stripes_of(uint64_t offset, uint64_t len, unsigned *out)
{
    uint64_t first = offset >> PRMA_ACC_STRIPE_SHIFT;
    uint64_t last  = (offset + (len > 0 ? len - 1 : 0)) >> PRMA_ACC_STRIPE_SHIFT;
    unsigned char seen[PRMA_ACC_STRIPES] = { 0 };
    unsigned n = 0;

    if (last - first + 1 >= PRMA_ACC_STRIPES)
        last = first + PRMA_ACC_STRIPES - 1;
    for (uint64_t p = first; p <= last; p++)
        seen[p % PRMA_ACC_STRIPES] = 1;
    for (unsigned i = 0; i < PRMA_ACC_STRIPES; i++)
        if (seen[i])
            out[n++] = i;
    return n;
}

/* Holders keep a stripe for a copy's time and never wait while holding
 * one, so a short spin that yields is enough. */
static void stripe_lock_direct(char *ctl, unsigned i)
{
    _Atomic uint64_t *w = stripe_word(ctl, i);
    uint64_t expect;

    for (unsigned spins = 0;; spins++) {
        expect = 0;
        if (atomic_compare_exchange_weak(w, &expect, 1))
            return;
        if (spins > 64)
            sched_yield();
    }
}

/* The stripes of a piece of at most one page and one element, [offset,
 * offset + len): one, or two in increasing order (the piece's last element
 * may reach into the next page). Taken so, two at most and always in the
 * order of their indices, they cannot deadlock with a holder of many
 * (prma__acc_by_copy), which takes its own in the same order. */
static inline void piece_stripes(uint64_t offset, size_t len, unsigned s[2])
{
    unsigned a = PRMA_ACC_STRIPE(offset), b = PRMA_ACC_STRIPE(offset + len - 1);

    if (a > b) {
        unsigned t = a;
        a = b;
        b = t;
    }
    s[0] = a;
    s[1] = b;
}

static inline int stripe_try(char *ctl, unsigned i)
{
    uint64_t expect = 0;

    return atomic_compare_exchange_strong_explicit(stripe_word(ctl, i), &expect, 1,
                                                   memory_order_acquire, memory_order_relaxed);
}

static inline void piece_lock(char *ctl, uint64_t offset, size_t len, unsigned s[2])
{
    unsigned a, b;

    piece_stripes(offset, len, s);
    a = s[0];
    b = s[1];
    /* Mostly free: one compare-and-swap, no call. */
    if (!stripe_try(ctl, a))
        stripe_lock_direct(ctl, a);
    if (b != a)
        stripe_lock_direct(ctl, b);
}

/* Let go of piece_lock()'s stripes: release stores, which publish what was
 * written under them to the next holder. */
static inline void piece_unlock(char *ctl, const unsigned s[2])
{
    if (s[1] != s[0])
        atomic_store_explicit(stripe_word(ctl, s[1]), 0, memory_order_release);
    atomic_store_explicit(stripe_word(ctl, s[0]), 0, memory_order_release);
}

/* piece_lock's stripes if both are free now: nonzero, held; else zero,
 * none held (never waits). */
static inline int piece_trylock(char *ctl, uint64_t offset, size_t len, unsigned s[2])
{
    piece_stripes(offset, len, s);
    if (!stripe_try(ctl, s[0]))
        return 0;
    if (s[1] != s[0] && !stripe_try(ctl, s[1])) {
        atomic_store_explicit(stripe_word(ctl, s[0]), 0, memory_order_release);
        return 0;
    }
    return 1;
}

/* The bytes of the piece at offset: to its page's end, in whole elements
 * of ext bytes (the last may straddle), at most left; no division when
 * the rest ends in this page. */
static inline size_t piece_len(uint64_t offset, size_t left, size_t ext)
{
    const uint64_t page = UINT64_C(1) << PRMA_ACC_STRIPE_SHIFT;
    size_t n = (size_t)(page - (offset & (page - 1)));

    if (n >= left)
        return left;
    n = (n + ext - 1) / ext * ext;
    return n > left ? left : n;
}

/* Do [a, a + len) and [b, b + len) not overlap (or is a NULL)? */
static inline int acc_apart(const char *a, const char *b, size_t len)
{
    return a == NULL || a + len <= b || b + len <= a;
}

/* Should a get-accumulate of len bytes in all take the one-pass kernel for
 * its pieces? Yes, but where its three operands overrun the first-level
 * cache and two do not: there the copy's two and the kernel's two stay in
 * it, one pass's three do not. Measured on one core, int64 sums in pieces
 * of 4 KiB, 32 KiB cache, one pass against two: 16 KiB 0.48 against
 * 0.47 us (in one piece 0.45 against 0.39), 8 KiB 0.14 against 0.17,
 * 32 KiB 0.87 against 0.96. */
static inline int fetch_one_pass(size_t len)
{
    size_t l1 = prma__l1d_bytes();

    return !(2 * len <= l1 && 3 * len > l1);
}

/* The old values of the len bytes of elements at dst to res (NULL: not
 * wanted; may overlap dst), then dst op= src (NULL for no-op): in one pass
 * where one_pass says so, a kernel does both and res is apart from dst and
 * src. */
static inline void fetch_reduce(prma_type_t type, prma_op_t op, size_t ext, char *dst,
                                const char *src, char *res, size_t len, int one_pass)
{
    prma_fetch_reduce_fn *both;

    if (one_pass && res != NULL && op != PRMA_OP_NO_OP && src != dst &&
        acc_apart(res, dst, len) && acc_apart(res, src, len) &&
        (both = prma__fetch_reduce_kernel(type, op)) != NULL) {
        both((unsigned char *)dst, (const unsigned char *)src, (unsigned char *)res, len / ext);
        return;
    }
    if (res != NULL)
        prma__copy(res, dst, len);
    if (op != PRMA_OP_NO_OP)
        prma__reduce(type, op, dst, src, len / ext);
}

/* Reduce len bytes of elements of ext bytes from src (NULL for no-op)
 * into memory at offset, the old values first to res (may be NULL): page
 * by page, each piece under its page's stripe lock, by the vectorized
 * kernels. Atomic per element against every update that takes the same
 * stripes. */
static void acc_paged(char *memory, char *ctl, prma_type_t type, prma_op_t op, size_t ext,
                      uint64_t offset, const char *src, char *res, size_t len)
{
    const int one_pass = res != NULL && fetch_one_pass(len);

    for (size_t done = 0, n; done < len; done += n) {
        uint64_t at = offset + done;
        unsigned st[2];

        n = piece_len(at, len - done, ext);
        piece_lock(ctl, at, n, st);
        fetch_reduce(type, op, ext, memory + at, src != NULL ? src + done : NULL,
                     res != NULL ? res + done : NULL, n, one_pass);
        piece_unlock(ctl, st);
    }
}

/* The cases written out here rather than left to the kernels: 8-byte
 * elements replaced, read (no-op) or summed as integers or doubles. */
static inline int acc_written_out(prma_type_t type, prma_op_t op, size_t ext)
{
    return ext == 8 && (op == PRMA_OP_REPLACE || op == PRMA_OP_NO_OP ||
                        (op == PRMA_OP_SUM && (type_is_int(type) || type == PRMA_TYPE_DOUBLE)));
}

/* Apply one of them to count elements at dst (their stripes held), the
 * old values to res (may be NULL); res and src do not overlap dst. */
static PRMA_HOT_INLINE void acc_written_out_apply(prma_type_t type, prma_op_t op, char *dst,
                                                  const char *src, char *res, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t old, v;
        double a, b;

        memcpy(&old, dst + 8 * i, 8);
        if (op != PRMA_OP_NO_OP) {
            memcpy(&v, src + 8 * i, 8);
            if (op == PRMA_OP_SUM && type == PRMA_TYPE_DOUBLE) {
                memcpy(&a, &old, 8);
                memcpy(&b, &v, 8);
                a += b;
                memcpy(&v, &a, 8);
            } else if (op == PRMA_OP_SUM) {
                v += old;
            }
            memcpy(dst + 8 * i, &v, 8);
        }
        if (res != NULL)
            memcpy(res + 8 * i, &old, 8);
    }
}

/* One element in a locked domain: take its stripe, apply, let go. */
static PRMA_HOT_INLINE void acc_one_locked(char *memory, char *ctl, prma_type_t type,
                                           prma_op_t op, size_t ext, uint64_t offset,
                                           const char *src, char *res)
{
    char *dst = memory + offset;
    unsigned st[2];

    piece_lock(ctl, offset, ext, st);
    if (acc_written_out(type, op, ext) && acc_apart(res, dst, ext)) {
        acc_written_out_apply(type, op, dst, src, res, 1);
    } else {
        if (res != NULL)
            memmove(res, dst, ext);
        if (op != PRMA_OP_NO_OP)
            prma__reduce(type, op, dst, src, 1);
    }
    piece_unlock(ctl, st);
}

/* At most this many bytes of a written-out case are done element by
 * element in line, not by the kernel (which, vectorized, is
 * faster from about 8 elements: measured 64 B 0.024 against 0.022 us,
 * 256 B 0.055 against 0.023). */
#define ACC_FEW_BYTES 32

/* Up to this many bytes (two pages at the most, so two stripes) with
 * operands apart go to the kernel in one go. */
#define ACC_ONE_GO_BYTES ((size_t)1 << PRMA_ACC_STRIPE_SHIFT)

/* count elements at offset of a mapped target of a locked domain. */
static inline void acc_mapped(const struct prma_direct *m, prma_type_t type, prma_op_t op,
                              size_t ext, uint64_t offset, const char *src, char *res,
                              size_t count)
{
    size_t len = count * ext;
    char *dst = m->base + offset;
    unsigned st[2];

    if (count == 1) {
        acc_one_locked(m->base, m->ctl, type, op, ext, offset, src, res);
    } else if (len <= ACC_ONE_GO_BYTES && acc_apart(res, dst, len) && acc_apart(src, dst, len)) {
        /* At most two pages: their two stripes at once, no piece loop; a
         * few 8-byte elements written out, more by the kernel called
         * straight. */
        piece_lock(m->ctl, offset, len, st);
        if (len <= ACC_FEW_BYTES && acc_written_out(type, op, ext)) {
            acc_written_out_apply(type, op, dst, src, res, count);
        } else {
            prma_reduce_fn *kernel = op == PRMA_OP_NO_OP ? NULL : prma__reduce_kernel(type, op);
            prma_fetch_reduce_fn *both;

            if (res != NULL && kernel != NULL && acc_apart(res, src, len) &&
                (both = prma__fetch_reduce_kernel(type, op)) != NULL) {
                both((unsigned char *)dst, (const unsigned char *)src, (unsigned char *)res,
                     count);
                kernel = NULL;
            } else if (res != NULL) {
                memcpy(res, dst, len);
            }
            if (kernel != NULL)
                kernel((unsigned char *)dst, (const unsigned char *)src, count);
            else if (op == PRMA_OP_REPLACE)
                memcpy(dst, src, len);
        }
        piece_unlock(m->ctl, st);
    } else {
        acc_paged(m->base, m->ctl, type, op, ext, offset, src, res, len);
    }
}

/* Compare-and-swap of one T at dst (the stripe held). */
#define CSWAP_INT(T)                                                                     \
    do {                                                                                 \
        T cur_, cmp_, v_;                                                                \
        memcpy(&cur_, dst, sizeof(T));                                                   \
        memcpy(&cmp_, compare, sizeof(T));                                               \
        memcpy(&v_, value, sizeof(T));                                                   \
        memcpy(result, &cur_, sizeof(T));                                                \
        if (cur_ == cmp_)                                                                \
            memcpy(dst, &v_, sizeof(T));                                                 \
    } while (0)

/* A compare-and-swap of len <= 8 bytes at dst, its stripe held. */
static void cswap_held(char *dst, size_t len, const void *value, const void *compare,
                       void *result)
{
    switch (len) {
    case 8: CSWAP_INT(uint64_t); break;
    case 4: CSWAP_INT(uint32_t); break;
    default:
        memcpy(result, dst, len);
        if (memcmp(dst, compare, len) == 0)
            memcpy(dst, value, len);
    }
}

/* The same under the stripe lock. */
static void cswap_locked(char *dst, char *ctl, uint64_t offset, size_t len, const void *value,
                         const void *compare, void *result)
{
    unsigned st[2];

    piece_lock(ctl, offset, len, st);
    cswap_held(dst, len, value, compare, result);
    piece_unlock(ctl, st);
}

/* ---- one element through a CPU atomic ------------------------------- */

#define CAS_LOOP(T)                                                                      \
    do {                                                                                 \
        T *p_ = (T *)dst, old_, next_;                                                   \
        old_ = __atomic_load_n(p_, __ATOMIC_SEQ_CST);                                    \
        do {                                                                             \
            next_ = old_;                                                                \
            prma__reduce(type, op, &next_, src, 1);                                      \
        } while (!__atomic_compare_exchange_n(p_, &old_, next_, 1, __ATOMIC_SEQ_CST,     \
                                              __ATOMIC_SEQ_CST));                        \
        if (res != NULL)                                                                 \
            memcpy(res, &old_, sizeof(T));                                               \
    } while (0)

#define NATIVE(T)                                                                        \
    do {                                                                                 \
        T *p_ = (T *)dst, v_, old_;                                                      \
        memcpy(&v_, src, sizeof(T));                                                     \
        switch (op) {                                                                    \
        case PRMA_OP_SUM:     old_ = __atomic_fetch_add(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_OP_BAND:    old_ = __atomic_fetch_and(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_OP_BOR:     old_ = __atomic_fetch_or(p_, v_, __ATOMIC_SEQ_CST); break;  \
        case PRMA_OP_BXOR:    old_ = __atomic_fetch_xor(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_OP_REPLACE: old_ = __atomic_exchange_n(p_, v_, __ATOMIC_SEQ_CST); break; \
        default:              old_ = __atomic_load_n(p_, __ATOMIC_SEQ_CST); break;       \
        }                                                                                \
        if (res != NULL)                                                                 \
            memcpy(res, &old_, sizeof(T));                                               \
    } while (0)

/* Can an element of ext bytes at p be updated by one CPU atomic? */
static int atomic_fits(const void *p, size_t ext)
{
    return (ext == 1 || ext == 2 || ext == 4 || ext == 8) && ((uintptr_t)p & (ext - 1)) == 0;
}

static void element_atomic(prma_type_t type, prma_op_t op, char *dst, const char *src,
                           char *res, size_t ext)
{
    /* Replace and no-op move bits, whatever the type. */
    int native = op == PRMA_OP_NO_OP || op == PRMA_OP_REPLACE ||
                 (type_is_int(type) && native_aop(op) >= 0);

    if (op == PRMA_OP_NO_OP)
        src = dst;  /* not read by NATIVE's default, but keep it valid */
    switch (ext) {
    case 1: if (native) NATIVE(uint8_t);  else CAS_LOOP(uint8_t);  break;
    case 2: if (native) NATIVE(uint16_t); else CAS_LOOP(uint16_t); break;
    case 4: if (native) NATIVE(uint32_t); else CAS_LOOP(uint32_t); break;
    default: if (native) NATIVE(uint64_t); else CAS_LOOP(uint64_t); break;
    }
}

/* A compare-and-swap message on memory reached directly. */
static int cswap_direct(char *dst, char *ctl, struct prma_msg *msg)
{
    const char *value = msg->ms_buf, *compare = value + msg->ms_len;

    if (!(msg->ms_accflags & PRMA_ACCF_LOCKED)) {
        struct prma_msg am;
        uint64_t v = 0, c = 0;

        prma_msg_init(&am, PRMA_CMD_ATOMIC, 0);
        memcpy(&v, value, msg->ms_len);  /* little-endian lanes */
        memcpy(&c, compare, msg->ms_len);
        am.ms_len     = msg->ms_len;
        am.ms_aop     = PRMA_AOP_CSWAP;
        am.ms_operand = v;
        am.ms_compare = c;
        if (prma__cpu_atomic(dst, &am) != PRMA_OK)
            return PRMA_ERR_ARG;
        memcpy(msg->ms_result, &am.ms_fetched, msg->ms_len);
        return PRMA_OK;
    }
    cswap_locked(dst, ctl, msg->ms_offset, msg->ms_len, value, compare, msg->ms_result);
    return PRMA_OK;
}

int prma__acc_direct(char *memory, char *ctl, struct prma_msg *msg)
{
    prma_type_t type = (prma_type_t)msg->ms_type;
    prma_op_t op = (prma_op_t)msg->ms_aop;
    size_t ext = prma_type_extent(type), n;
    char *dst = (char *)((uintptr_t)memory + msg->ms_offset), *res = msg->ms_result;
    const char *src = msg->ms_buf;

    if (msg->ms_aop == PRMA_ACC_CSWAP)
        return msg->ms_len <= 8 && msg->ms_result != NULL ? cswap_direct(dst, ctl, msg)
                                                          : PRMA_ERR_ARG;
    /* The window layer and the agent checked type, op and length. */
    n = msg->ms_len / ext;
    if (msg->ms_accflags & PRMA_ACCF_LOCKED) {
        acc_paged(memory, ctl, type, op, ext, msg->ms_offset, src, res, msg->ms_len);
        return PRMA_OK;
    }
    for (size_t i = 0; i < n; i++) {
        char *d = dst + i * ext, *r = res != NULL ? res + i * ext : NULL;
        const char *s = src != NULL ? src + i * ext : d;

        if (atomic_fits(d, ext)) {
            element_atomic(type, op, d, s, r, ext);
        } else {
            acc_one_locked(memory, ctl, type, op, ext, msg->ms_offset + i * ext, s, r);
        }
    }
    return PRMA_OK;
}

int prma__acc_locked(const struct prma_win *win, int target)
{
    return win->acc_locked != NULL ? win->acc_locked[target] : acc_locked_of(win, target);
}

/* Is the window a locked domain: can no member reach another's memory
 * with UCX atomics? So when every member is on one node, as the ports see
 * it (no pretend nodes split it, nobody forced UCX). Worked out from the
 * descriptions every member published, so all of them agree. */
static int acc_domain(const struct prma_win *win)
{
    const struct prma_peer *first = &win->peers[0];

    for (int i = 0; i < win->size; i++) {
        const struct prma_peer *p = &win->peers[i];

        if (p->node_id != first->node_id || p->host_id != first->host_id ||
            (p->flags & PRMA_PEER_FORCE_UCX))
            return 0;
    }
    return 1;
}

int prma__acc_setup(struct prma_win *win)
{
    int domain;

    if (win->size <= 0)  /* creation checked it; says so to the compiler */
        return PRMA_ERR_ARG;
    domain = acc_domain(win);
    win->acc_locked = malloc((size_t)win->size);
    if (win->acc_locked == NULL)
        return PRMA_ERR_NOMEM;
    for (int t = 0; t < win->size; t++)
        win->acc_locked[t] = (unsigned char)(domain || acc_locked_of(win, t));
    /* A dynamic window's offsets are addresses in regions: no one mapping
     * (win->direct has none for it). */
    win->acc_domain = domain && win->flavor != PRMA_WIN_FLAVOR_DYNAMIC;
    return PRMA_OK;
}

int prma__acc_cswap_mapped(const struct prma_direct *map, uint64_t offset, size_t size,
                           const void *origin, const void *compare, void *result)
{
    cswap_locked(map->base + offset, map->ctl, offset, size, origin, compare, result);
    return PRMA_OK;
}

static int acc_locked_of(const struct prma_win *win, int target)
{
    const struct prma_peer *t = &win->peers[target];

    /* A dynamic window's regions are any memory, reached by copies on the
     * node: every update takes the stripe locks. */
    if (win->flavor == PRMA_WIN_FLAVOR_DYNAMIC)
        return 1;
    if (t->size == 0 || (win->flavor == PRMA_WIN_FLAVOR_SHARED && win->contiguous))
        return 0;
    if (t->memfd >= 0 && prma__config.shm_mode == PRMA_SHM_MAP)
        return 0;
    /* UCX's memory: every origin but its owner reaches it through UCX (its
     * owner forces UCX), by UCX's atomics or a mapping UCX made, never by
     * copies. */
    if (t->flags & PRMA_PEER_UCX_MEM)
        return 0;
    /* Copies reach it only from another process on its host. */
    for (int i = 0; i < win->size; i++)
        if (i != target && win->peers[i].host_id == t->host_id)
            return 1;
    return 0;
}

/* ---- through the target's port, by copies under the stripe locks ----- */

static int stripe_take(struct prma_win *win, int target, unsigned i, struct prma_waiter *wait)
{
    uint64_t seen;
    int status;

    for (;;) {
        status = prma__win_atomic(win, target, PRMA_REGION_CTL, PRMA_CTL_STRIPE_OFF(i), 8,
                                  PRMA_AOP_CSWAP, 1, 0, &seen);
        if (status != PRMA_OK || seen == 0)
            return status;
        if ((status = prma__wait_turn(wait)) != PRMA_OK)
            return status;
    }
}

static int sync_copy(struct prma_win *win, int target, uint32_t cmd, void *buf, size_t len,
                     uint64_t offset)
{
    struct prma_msg msg;

    prma_msg_init(&msg, cmd, PRMA_MSGF_SYNC);
    msg.ms_reply    = &win->reply;
    msg.ms_accflags = PRMA_ACCF_HELD;  /* straight copies: no agent while we hold stripes */
    msg.ms_buf    = buf;
    msg.ms_len    = len;
    msg.ms_offset = offset;
    return prma_domsg(win->ports[target], &msg);
}

/* Under the stripe locks of the range: get, keep the old bytes in result,
 * combine, put, complete at the target; then let go. */
int prma__acc_by_copy(struct prma_win *win, int target, uint64_t offset, size_t len,
                      const void *origin, void *result, prma_combine_fn combine, const void *arg)
{
    unsigned stripes[PRMA_ACC_STRIPES], ns = stripes_of(offset, len, stripes), taken = 0;
    struct prma_waiter wait;
    uint64_t seen;
    char *cur;
    int status = PRMA_OK;

    cur = malloc(len > 0 ? len : 1);
    if (cur == NULL)
        return PRMA_ERR_NOMEM;
    prma__win_waiter(win, &wait);
    /* Serving the target's requests while holding some of its stripes
     * could spin on one of them. */
    wait.serve = NULL;
    for (; taken < ns && status == PRMA_OK; taken++)
        status = stripe_take(win, target, stripes[taken], &wait);
    if (status == PRMA_OK)
        status = sync_copy(win, target, PRMA_CMD_GET, cur, len, offset);
    if (status == PRMA_OK) {
        if (result != NULL)
            memcpy(result, cur, len);
        combine(cur, origin, len, arg);
        status = sync_copy(win, target, PRMA_CMD_PUT, cur, len, offset);
    }
    /* Complete at the target before letting go; nothing else is waited
     * for while the stripes are held (holders never wait for others). */
    if (status == PRMA_OK) {
        struct prma_msg flush;

        prma_msg_init(&flush, PRMA_CMD_FLUSH, PRMA_MSGF_SYNC);
        flush.ms_reply = &win->reply;
        status = prma_domsg(win->ports[target], &flush);
    }
    /* Released even after a failure, so that others can go on. */
    while (taken-- > 0)
        prma__win_atomic(win, target, PRMA_REGION_CTL, PRMA_CTL_STRIPE_OFF(stripes[taken]), 8,
                         PRMA_AOP_SWAP, 0, 0, &seen);
    free(cur);
    return status;
}

struct reduce_arg {
    prma_type_t type;
    prma_op_t   op;
};

static void combine_reduce(void *cur, const void *origin, size_t len, const void *arg)
{
    const struct reduce_arg *ra = arg;

    if (ra->op != PRMA_OP_NO_OP)
        prma__reduce(ra->type, ra->op, cur, origin, len / prma_type_extent(ra->type));
}

/* ---- the entry point ------------------------------------------------- */

int prma_win_set_acc_hints(prma_win_h win, unsigned hints)
{
    if (win == NULL || win->magic != PRMA_WIN_MAGIC)
        return PRMA_ERR_WIN;
    win->acc_hints = hints;
    return PRMA_OK;
}

/* The access rules of the epoch (a passive epoch's first touch, a PSCW target's
 * post) apply as to any operation; accumulates wait for a PSCW post where
 * puts would queue, as the atomics do. */
int prma__acc_admit(struct prma_win *win, int target)
{
    int status = PRMA_OK;

    if ((win->epoch.access == PRMA_ACCESS_LOCK_ALL || win->epoch.access == PRMA_ACCESS_LOCK) &&
        !prma__lock_held(win->epoch.locks[target]))
        status = prma__lock_touch(win, target);
    else if (win->epoch.access == PRMA_ACCESS_PSCW)
        status = prma__pscw_wait_ready(win, target);
    win->epoch.nops++;
    return status;
}

/* One integer element by one atomic message (any port). */
static int acc_one_atomic(struct prma_win *win, int target, prma_op_t op, size_t ext,
                          const void *origin, void *result, uint64_t offset)
{
    uint64_t v = 0, old;
    uint32_t u32;
    int status;

    if (op != PRMA_OP_NO_OP) {
        if (ext == 4) {
            memcpy(&u32, origin, 4);
            v = u32;
        } else {
            memcpy(&v, origin, 8);
        }
    }
    status = prma__win_atomic(win, target, PRMA_REGION_DATA, offset, (unsigned)ext,
                              (uint32_t)native_aop(op), v, 0, &old);
    if (status == PRMA_OK && result != NULL) {
        if (ext == 4) {
            u32 = (uint32_t)old;
            memcpy(result, &u32, 4);
        } else {
            memcpy(result, &old, 8);
        }
    }
    return status;
}

static __attribute__((noinline)) int acc_full(struct prma_win *win, prma_op_t op,
                                              prma_type_t type, const void *origin, size_t count,
                                              void *result, int target, uint64_t target_disp,
                                              uint64_t offset);

int prma_win_accumulate(prma_win_h win, prma_op_t op, prma_type_t type, const void *origin,
                        size_t count, void *result, int target, uint64_t target_disp,
                        uint64_t offset)
{
    char *spot;

    /* The common case: elements to a target mapped here, in a locked
     * domain, in an epoch that already lets us in: here, under the stripes.
     * Anything else, and any error, the full way. */
    if (count > 0 && win != NULL && win->magic == PRMA_WIN_MAGIC &&
        prma_op_check(type, op) == PRMA_OK && count <= SIZE_MAX / prma_type_extent(type) &&
        (origin != NULL || op == PRMA_OP_NO_OP) &&
        (spot = prma__win_acc_reach(win, type, count, target, target_disp, offset)) != NULL)
        return prma__acc_spot(&win->direct[target], spot, type, op, origin, result, count);
    return acc_full(win, op, type, origin, count, result, target, target_disp, offset);
}

int prma__acc_spot(const struct prma_direct *map, char *spot, prma_type_t type, prma_op_t op,
                   const void *origin, void *result, size_t count)
{
    acc_mapped(map, type, op, prma_type_extent(type), (uint64_t)(spot - map->base), origin,
               result, count);
    return PRMA_OK;
}

/* ---- dynamic windows: a region mapped here ---------------------------- */

/* What one piece of an update does, at `at` (the piece's first byte here),
 * done bytes into the update, n bytes long. */
typedef void dyn_piece_fn(char *at, size_t done, size_t n, const void *arg);

/* Update len bytes at addr of a dynamic window's target whose region is
 * mapped here (dynamic.c), as acc_paged does: page by page (whole elements
 * of ext bytes), under the stripes of the page's addresses, which every
 * update of a dynamic window takes, in place. The region table stays
 * locked (no refresh unmaps the region) while the stripes come free at
 * once; to wait for one, it is let go first and found again after: the
 * copying path locks the table while it holds stripes, so waiting for
 * stripes with the table locked could deadlock two threads. Returns
 * PRMA_EASYNC when the region is not mapped here (nothing done; it is
 * there, the range is checked), PRMA_ERR_RMA_RANGE when no region of the
 * target holds the range, or the region lookup's errors. */
static int dyn_update(struct prma_win *win, int target, uint64_t addr, size_t len, size_t ext,
                      dyn_piece_fn *fn, const void *arg)
{
    char *ctl = win->direct != NULL ? win->direct[target].ctl : NULL, *at;
    int status, held;

    /* The whole range in one region (else PRMA_ERR_RMA_RANGE), a PSCW
     * post awaited; mapped here: the table held. */
    if ((status = prma__dyn_reach(win, target, addr, len, 0, &at)) != PRMA_OK)
        return status;
    if (ctl == NULL) {
        prma__dyn_release(win);
        return PRMA_EASYNC;
    }
    held = 1;
    for (size_t done = 0, n; done < len; done += n) {
        uint64_t a = addr + done;
        unsigned st[2];

        n = piece_len(a, len - done, ext);
        if (!held || !piece_trylock(ctl, a, n, st)) {
            char *here;

            if (held)
                prma__dyn_release(win);
            piece_lock(ctl, a, n, st);
            /* Gone only if detached meanwhile, which MPI forbids. */
            if (prma__dyn_reach(win, target, a, n, 1, &here) != PRMA_OK) {
                piece_unlock(ctl, st);
                return PRMA_ERR_RMA_RANGE;
            }
            at = here - done;
        }
        held = 1;
        fn(at + done, done, n, arg);
        piece_unlock(ctl, st);
    }
    prma__dyn_release(win);
    return PRMA_OK;
}

struct dyn_acc {
    prma_type_t type;
    prma_op_t   op;
    size_t      ext;
    const char *src;
    char       *res;
    int         one_pass;  /* fetch_one_pass of the whole */
};

static void dyn_acc_piece(char *at, size_t done, size_t n, const void *arg)
{
    const struct dyn_acc *d = arg;

    fetch_reduce(d->type, d->op, d->ext, at, d->src != NULL ? d->src + done : NULL,
                 d->res != NULL ? d->res + done : NULL, n, d->one_pass);
}

struct dyn_cswap {
    const void *value, *compare;
    void       *result;
};

static void dyn_cswap_piece(char *at, size_t done, size_t n, const void *arg)
{
    const struct dyn_cswap *d = arg;

    (void)done;
    cswap_held(at, n, d->value, d->compare, d->result);
}

int prma__acc_cswap_dynamic(struct prma_win *win, int target, uint64_t addr, size_t size,
                            const void *origin, const void *compare, void *result)
{
    struct dyn_cswap d = { origin, compare, result };

    return dyn_update(win, target, addr, size, size, dyn_cswap_piece, &d);
}

static int acc_full(struct prma_win *win, prma_op_t op, prma_type_t type, const void *origin,
                    size_t count, void *result, int target, uint64_t target_disp,
                    uint64_t offset)
{
    struct reduce_arg ra = { type, op };
    size_t ext = prma_type_extent(type), len, done, chunk;
    uint64_t at;
    int status, locked, transient, remote;

    if (win == NULL || win->magic != PRMA_WIN_MAGIC)
        return PRMA_ERR_WIN;
    if (ext == 0)
        return PRMA_ERR_TYPE;
    if ((unsigned)op >= PRMA_OP_COUNT_ || prma_op_check(type, op) != PRMA_OK)
        return PRMA_ERR_OP;
    if (count > SIZE_MAX / ext)
        return PRMA_ERR_COUNT;
    len = count * ext;
    /* A dynamic window's range is checked where its region is looked up
     * (dyn_update), once. */
    status = prma__win_check_unranged(win, target, target_disp, offset, len);
    if (status != PRMA_OK || len == 0)
        return status;
    if ((origin == NULL && op != PRMA_OP_NO_OP))
        return PRMA_ERR_ARG;
    if (win->failed != PRMA_OK)
        return win->failed;
    if ((status = prma__acc_admit(win, target)) != PRMA_OK)
        return status;
    at     = target_disp * win->peers[target].disp_unit + offset;
    if (win->guard != NULL)
        prma__guard_note(win, target, at, len,
                         op == PRMA_OP_NO_OP ? PRMA_GUARD_OP_GET : PRMA_GUARD_OP_ACC,
                         (void **)&origin);
    /* A locked domain and a mapped target: here, under the stripes. */
    if (win->acc_domain && win->direct[target].base != NULL) {
        acc_mapped(&win->direct[target], type, op, ext, at, origin, result, count);
        return PRMA_OK;
    }
    if (win->dyn != NULL) {
        struct dyn_acc d = { type, op, ext, origin, result, result != NULL && fetch_one_pass(len) };

        status = dyn_update(win, target, at, len, ext, dyn_acc_piece, &d);
        if (status != PRMA_EASYNC)
            return status;
        status = PRMA_OK;  /* not mapped here: the message path */
    }
    locked = prma__acc_locked(win, target);
    /* A port that does not complete on the spot: the target is remote. */
    remote = !(win->ports[target]->mp_ops->flags & PRMA_PORTF_SPOT);

    /* One integer element an atomic instruction does. */
    if (!locked && count == 1 && type_is_int(type) && native_aop(op) >= 0 &&
        (ext == 4 || ext == 8) && (win->peers[target].base + at) % ext == 0)
        return acc_one_atomic(win, target, op, ext, origin, result, at);
    /* The hints' plain copies, for a target reached through UCX. */
    if (remote && !locked && ext <= 8 && (ext & (ext - 1)) == 0 &&
        (win->peers[target].agent_base + at) % ext == 0) {
        if (op == PRMA_OP_REPLACE && result == NULL &&
            (win->acc_hints & (PRMA_ACC_SAME_OP | PRMA_ACC_SAME_OP_NO_OP)))
            return prma_win_put(win, origin, len, target, target_disp, offset);
        if (op == PRMA_OP_NO_OP && result != NULL && (win->acc_hints & PRMA_ACC_SAME_OP_NO_OP))
            return prma_win_get(win, result, len, target, target_disp, offset);
    }

    transient = result == NULL && (win->acc_hints & PRMA_ACC_ORDER_NONE);
    chunk     = ACC_CHUNK - ACC_CHUNK % ext;  /* whole elements */
    for (done = 0; done < len && status == PRMA_OK; done += chunk) {
        size_t n = len - done < chunk ? len - done : chunk;
        struct prma_msg msg;

        prma_msg_init(&msg, PRMA_CMD_ACC, transient ? PRMA_MSGF_TRANSIENT : PRMA_MSGF_SYNC);
        msg.ms_reply    = &win->reply;
        msg.ms_buf      = origin != NULL ? (char *)origin + done : NULL;
        msg.ms_len      = n;
        msg.ms_offset   = at + done;
        msg.ms_aop      = (uint32_t)op;
        msg.ms_type     = (uint32_t)type;
        msg.ms_accflags = locked ? PRMA_ACCF_LOCKED : 0;
        msg.ms_result   = result != NULL ? (char *)result + done : NULL;
        status = transient ? prma_sendmsg(win->ports[target], &msg)
                           : prma_domsg(win->ports[target], &msg);
        if (status == PRMA_EASYNC)
            status = PRMA_OK;
        if (status == PRMA_ERR_NOTSUP)
            status = prma__acc_by_copy(win, target, at + done, n,
                                       msg.ms_buf, msg.ms_result, combine_reduce, &ra);
    }
    return status;
}

/* ---- the agent ------------------------------------------------------- */

int prma__acc_agent(struct prma_context *ctx, const struct prma_acc_hdr *h, const void *data,
                    size_t len, void *result)
{
    struct prma_win *win = prma__win_lookup(ctx, h->win_id);

    if (win == NULL) {
        prma_error("an accumulate arrived for window %u, which is not here", h->win_id);
        return PRMA_ERR_WIN;
    }
    return prma__acc_apply(win, h, data, len, result);
}

int prma__acc_apply(struct prma_win *win, const struct prma_acc_hdr *h, const void *data,
                    size_t len, void *result)
{
    struct prma_msg msg;

    if (len != (h->op == PRMA_ACC_CSWAP ? 2 * h->len : h->op == PRMA_OP_NO_OP ? 0 : h->len))
        return PRMA_ERR_ARG;
    if (h->op == PRMA_ACC_CSWAP ? h->len > 8
                                : prma_type_extent((prma_type_t)h->type) == 0 ||
                                      prma_op_check((prma_type_t)h->type, (prma_op_t)h->op) !=
                                          PRMA_OK ||
                                      h->len % prma_type_extent((prma_type_t)h->type) != 0)
        return PRMA_ERR_ARG;
    /* The origin checked the range against what it knows of this window;
     * the agent checks it against what is here (a dynamic window's regions
     * as they are now). */
    if (win->flavor == PRMA_WIN_FLAVOR_DYNAMIC) {
        int status = prma__dyn_holds(win, h->offset, h->len);

        if (status != PRMA_OK)
            return status;
    } else if (h->offset > win->len || h->len > win->len - h->offset) {
        return PRMA_ERR_RMA_RANGE;
    }
    prma_msg_init(&msg, PRMA_CMD_ACC, PRMA_MSGF_SYNC);
    msg.ms_buf      = (void *)data;
    msg.ms_len      = h->len;
    msg.ms_offset   = h->offset;
    msg.ms_aop      = h->op;
    msg.ms_type     = h->type;
    msg.ms_accflags = prma__acc_locked(win, win->rank) ? PRMA_ACCF_LOCKED : 0;
    msg.ms_result   = h->fetch ? result : NULL;
    return prma__acc_direct(win->agent_base, (char *)win->ctl, &msg);
}
