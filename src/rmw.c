/*
 * rmw.c - atomic read-modify-write on window memory: fetch-and-op and
 * compare-and-swap on integers of 1, 2, 4 and 8 bytes.
 *
 * The operations every port can apply itself (add, swap, and, or, xor,
 * compare-and-swap) are one atomic message to the target's port: CPU
 * atomics through a mapping, UCX atomics elsewhere. The others (prod, max,
 * min, the logical ops) are a compare-and-swap loop over those messages.
 *
 * A target whose window is memory portrma did not allocate cannot be
 * mapped by its same-host peers, so nobody may use CPU atomics on it: every
 * origin (itself included) then serializes on the accumulate lock in the
 * target's control block and does get, compute, put. So do all targets of
 * a dynamic window (their regions are any memory), the get and put at the
 * target's address with the region's key. All origins decide
 * this from the same published facts, so they agree, and a location is
 * never updated through two paths that are not atomic with each other.
 */
#include <string.h>
#include "ctl.h"
#include "dynamic.h"
#include "log.h"
#include "wait.h"
#include "win.h"

/* Does target's window need the accumulate lock for atomics? */
static int rmw_by_lock(const struct prma_win *win, int target)
{
    const struct prma_peer *peer = &win->peers[target];

    return peer->memfd < 0 && (peer->size > 0 || win->flavor == PRMA_WIN_FLAVOR_DYNAMIC);
}

static uint64_t load_int(const void *p, size_t size)
{
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64 = 0;

    switch (size) {
    case 1: memcpy(&u8, p, 1); return u8;
    case 2: memcpy(&u16, p, 2); return u16;
    case 4: memcpy(&u32, p, 4); return u32;
    default: memcpy(&u64, p, 8); return u64;
    }
}

static void store_int(void *p, size_t size, uint64_t v)
{
    uint8_t u8 = (uint8_t)v; uint16_t u16 = (uint16_t)v; uint32_t u32 = (uint32_t)v;

    switch (size) {
    case 1: memcpy(p, &u8, 1); break;
    case 2: memcpy(p, &u16, 2); break;
    case 4: memcpy(p, &u32, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

/* Sign-extend the low size bytes of v. */
static int64_t as_signed(uint64_t v, size_t size)
{
    unsigned shift = (unsigned)(64 - 8 * size);

    return (int64_t)(v << shift) >> shift;
}

/* op applied to the current value cur with operand v. */
static uint64_t apply(prma_op_t op, uint64_t cur, uint64_t v, size_t size, int is_signed)
{
    uint64_t mask = size == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1;
    int less;

    cur &= mask;
    v &= mask;
    switch (op) {
    case PRMA_OP_SUM:     return (cur + v) & mask;
    case PRMA_OP_PROD:    return (cur * v) & mask;
    case PRMA_OP_BAND:    return cur & v;
    case PRMA_OP_BOR:     return cur | v;
    case PRMA_OP_BXOR:    return cur ^ v;
    case PRMA_OP_LAND:    return (cur != 0) && (v != 0);
    case PRMA_OP_LOR:     return (cur != 0) || (v != 0);
    case PRMA_OP_LXOR:    return (cur != 0) != (v != 0);
    case PRMA_OP_REPLACE: return v;
    case PRMA_OP_NO_OP:   return cur;
    default:              break;  /* MAXLOC, MINLOC: pair types, never here */
    case PRMA_OP_MAX:
    case PRMA_OP_MIN:
        less = is_signed ? as_signed(cur, size) < as_signed(v, size) : cur < v;
        return (op == PRMA_OP_MAX) == less ? v : cur;
    }
    return cur;
}

/* The read-modify-write by lock: the target's accumulate lock, get,
 * compute, put, complete, unlock. cswap: compare with *compare. */
static int rmw_locked(struct prma_win *win, int target, uint64_t offset, size_t size,
                      prma_op_t op, int is_signed, uint64_t v, const uint64_t *compare,
                      uint64_t *old_p)
{
    struct prma_waiter wait;
    struct prma_msg msg;
    uint64_t seen, next, cur = 0;
    void *rkey;
    int status;

    /* What the port needs to reach the integer (a dynamic window's key). */
    status = prma__dyn_region(win, target, offset, size, &rkey);
    if (status != PRMA_OK)
        return status;
    prma__win_waiter(win, &wait);
    for (;;) {
        status = prma__win_atomic(win, target, PRMA_REGION_CTL, PRMA_CTL_OFF(acc_lock), 8,
                                  PRMA_AOP_CSWAP, 1, 0, &seen);
        if (status != PRMA_OK || seen == 0)
            break;
        if ((status = prma__wait_turn(&wait)) != PRMA_OK)
            return status;
    }
    if (status != PRMA_OK)
        return status;
    prma_msg_init(&msg, PRMA_CMD_GET, PRMA_MSGF_SYNC);
    msg.ms_reply = &win->reply;
    msg.ms_buf = &cur;
    msg.ms_len = size;
    msg.ms_offset = offset;
    msg.ms_rkey = rkey;
    status = prma_domsg(win->ports[target], &msg);
    if (status == PRMA_OK) {
        cur  = load_int(&cur, size);
        next = compare != NULL ? (cur == *compare ? v : cur) : apply(op, cur, v, size, is_signed);
        store_int(&next, size, next);
        prma_msg_init(&msg, PRMA_CMD_PUT, PRMA_MSGF_SYNC);
        msg.ms_reply = &win->reply;
        msg.ms_buf = &next;
        msg.ms_len = size;
        msg.ms_offset = offset;
        msg.ms_rkey = rkey;
        status = prma_domsg(win->ports[target], &msg);
    }
    if (status == PRMA_OK)
        status = prma__win_complete_target(win, target);
    if (status == PRMA_OK)
        *old_p = cur;
    /* Released even after a failure, so that others can go on. */
    prma__win_atomic(win, target, PRMA_REGION_CTL, PRMA_CTL_OFF(acc_lock), 8, PRMA_AOP_SWAP, 0,
                     0, &seen);
    return status;
}

/* The atomic message for an op a port applies itself, or -1. */
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

/* Checks common to both calls; the byte offset of the target integer. */
static int rmw_check(struct prma_win *win, size_t size, int target, uint64_t disp,
                     uint64_t *offset_p)
{
    int status;

    if (size != 1 && size != 2 && size != 4 && size != 8)
        return PRMA_ERR_ARG;
    status = prma_win_check_access(win, target, disp, 0, size);
    if (status != PRMA_OK)
        return status;
    if (win->failed != PRMA_OK)
        return win->failed;
    *offset_p = disp * win->peers[target].disp_unit;
    if ((win->peers[target].base + *offset_p) % size != 0) {
        prma_error("atomic on %zu bytes at a misaligned place of rank %d's window", size, target);
        return PRMA_ERR_ARG;
    }
    /* The access rules of the epoch (lock_all's first touch, a PSCW
     * target's post) apply as to any operation. */
    if (win->epoch.access == PRMA_ACCESS_LOCK_ALL)
        status = prma__lock_touch(win, target);
    else if (win->epoch.access == PRMA_ACCESS_PSCW)
        status = prma__pscw_wait_ready(win, target);
    win->epoch.nops++;
    return status;
}

int prma_win_fetch_op(prma_win_h win, prma_op_t op, size_t size, int is_signed,
                      const void *origin, void *result, int target, uint64_t target_disp)
{
    uint64_t offset, v, cur, next, seen;
    int aop, status;

    if ((unsigned)op > PRMA_OP_NO_OP)  /* integers: not the pair ops */
        return PRMA_ERR_ARG;
    status = rmw_check(win, size, target, target_disp, &offset);
    if (status != PRMA_OK)
        return status;
    v = op == PRMA_OP_NO_OP ? 0 : load_int(origin, size);
    if (rmw_by_lock(win, target)) {
        status = rmw_locked(win, target, offset, size, op, is_signed, v, NULL, &cur);
    } else if ((aop = native_aop(op)) >= 0) {
        status = prma__win_atomic(win, target, PRMA_REGION_DATA, offset, (unsigned)size,
                                  (uint32_t)aop, op == PRMA_OP_NO_OP ? 0 : v, 0, &cur);
    } else {
        /* Compare-and-swap until nobody came in between. */
        status = prma__win_atomic(win, target, PRMA_REGION_DATA, offset, (unsigned)size,
                                  PRMA_AOP_ADD, 0, 0, &cur);
        while (status == PRMA_OK) {
            next = apply(op, cur, v, size, is_signed);
            status = prma__win_atomic(win, target, PRMA_REGION_DATA, offset, (unsigned)size,
                                      PRMA_AOP_CSWAP, next, cur, &seen);
            if (status != PRMA_OK || seen == cur)
                break;
            cur = seen;
        }
    }
    if (status == PRMA_OK)
        store_int(result, size, cur);
    return status;
}

int prma_win_compare_swap(prma_win_h win, size_t size, const void *origin, const void *compare,
                          void *result, int target, uint64_t target_disp)
{
    uint64_t offset, v, c, cur;
    int status;

    status = rmw_check(win, size, target, target_disp, &offset);
    if (status != PRMA_OK)
        return status;
    v = load_int(origin, size);
    c = load_int(compare, size);
    if (rmw_by_lock(win, target))
        status = rmw_locked(win, target, offset, size, PRMA_OP_REPLACE, 0, v, &c, &cur);
    else
        status = prma__win_atomic(win, target, PRMA_REGION_DATA, offset, (unsigned)size,
                                  PRMA_AOP_CSWAP, v, c, &cur);
    if (status == PRMA_OK)
        store_int(result, size, cur);
    return status;
}
