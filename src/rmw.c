/*
 * rmw.c - atomic read-modify-write on integers of 1, 2, 4 and 8 bytes:
 * MPI_Fetch_and_op's integer form and MPI_Compare_and_swap.
 *
 * Fetch-and-op is an accumulate of one element that returns the old value
 * (acc.c chooses its path). Compare-and-swap is one atomic message to the
 * target's port (a CPU atomic through a mapping, a UCX atomic elsewhere),
 * except in a locked domain (a mapped target: done here under the stripe
 * lock of its page) and on a target whose memory is reached by copies,
 * where it is done under that stripe lock like every update of that memory
 * (acc.h), so that it is atomic with the accumulates.
 */
#include <string.h>
#include "acc.h"
#include "guard.h"
#include "log.h"
#include "win.h"

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

int prma_win_fetch_op(prma_win_h win, prma_op_t op, size_t size, int is_signed,
                      const void *origin, void *result, int target, uint64_t target_disp)
{
    static const prma_type_t types[2][4] = {
        { PRMA_TYPE_UINT8, PRMA_TYPE_UINT16, PRMA_TYPE_UINT32, PRMA_TYPE_UINT64 },
        { PRMA_TYPE_INT8, PRMA_TYPE_INT16, PRMA_TYPE_INT32, PRMA_TYPE_INT64 },
    };
    int lg = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;

    if (lg < 0 || (unsigned)op > PRMA_OP_NO_OP)  /* integers: not the pair ops */
        return PRMA_ERR_ARG;
    if (result == NULL)
        return PRMA_ERR_ARG;
    return prma_win_accumulate(win, op, types[is_signed != 0][lg], origin, 1, result, target,
                               target_disp, 0);
}

/* Compare-and-swap by copies: cur becomes the origin value if it equals
 * the compare value (arg). */
static void combine_cswap(void *cur, const void *origin, size_t len, const void *arg)
{
    if (load_int(cur, len) == load_int(arg, len))
        memcpy(cur, origin, len);
}

int prma_win_compare_swap(prma_win_h win, size_t size, const void *origin, const void *compare,
                          void *result, int target, uint64_t target_disp)
{
    uint64_t offset, cur;
    int status;

    if (size != 1 && size != 2 && size != 4 && size != 8)
        return PRMA_ERR_ARG;
    /* The common case: a target mapped here, in a locked domain, in an
     * epoch that already lets us in, an aligned element. */
    if (win->acc_domain) {
        char *spot = prma__win_reach(win, target, target_disp, 0, size, 0);
        uint64_t at = spot != NULL ? (uint64_t)(spot - win->direct[target].base) : 0;

        if (spot != NULL && (win->peers[target].base + at) % size == 0) {
            win->epoch.nops++;
            return prma__acc_cswap_mapped(&win->direct[target], at, size, origin, compare,
                                          result);
        }
    }
    /* A dynamic window's range is checked where its region is looked up,
     * first thing in prma__acc_cswap_dynamic. */
    status = prma__win_check_unranged(win, target, target_disp, 0, size);
    if (status != PRMA_OK)
        return status;
    if (win->failed != PRMA_OK)
        return win->failed;
    offset = target_disp * win->peers[target].disp_unit;
    if ((win->peers[target].base + offset) % size != 0) {
        prma_error("compare-and-swap on %zu bytes at a misaligned place of rank %d's window",
                   size, target);
        return PRMA_ERR_ARG;
    }
    if ((status = prma__acc_admit(win, target)) != PRMA_OK)
        return status;
    if (win->guard != NULL)
        prma__guard_note(win, target, offset, size, PRMA_GUARD_OP_ACC, NULL);
    if (win->acc_domain && win->direct[target].base != NULL)
        return prma__acc_cswap_mapped(&win->direct[target], offset, size, origin, compare,
                                      result);
    if (win->dyn != NULL &&
        (status = prma__acc_cswap_dynamic(win, target, offset, size, origin, compare, result)) !=
            PRMA_EASYNC)
        return status;
    if (prma__acc_locked(win, target)) {
        /* Like every update of memory reached by copies: by the port
         * (this process, or the target's agent) under the stripe lock, or
         * by copies under it. */
        struct prma_msg msg;
        char both[16];

        memcpy(both, origin, size);
        memcpy(both + size, compare, size);
        prma_msg_init(&msg, PRMA_CMD_ACC, PRMA_MSGF_SYNC);
        msg.ms_reply    = &win->reply;
        msg.ms_buf      = both;
        msg.ms_len      = size;
        msg.ms_offset   = offset;
        msg.ms_aop      = PRMA_ACC_CSWAP;
        msg.ms_accflags = PRMA_ACCF_LOCKED;
        msg.ms_result   = result;
        status = prma_domsg(win->ports[target], &msg);
        if (status != PRMA_ERR_NOTSUP)
            return status;
        return prma__acc_by_copy(win, target, offset, size, origin, result, combine_cswap,
                                 compare);
    }
    status = prma__win_atomic(win, target, PRMA_REGION_DATA, offset, (unsigned)size,
                              PRMA_AOP_CSWAP, load_int(origin, size), load_int(compare, size),
                              &cur);
    if (status == PRMA_OK)
        store_int(result, size, cur);
    return status;
}
