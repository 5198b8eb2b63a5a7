/*
 * atomic.h - messages carried out on memory the port reaches directly
 * (self, mapped shm): copies, CPU atomics, fences.
 */
#ifndef PRMA_ATOMIC_H
#define PRMA_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "acc.h"
#include "copy.h"
#include "msg.h"
#include "portrma.h"

#define PRMA_CPU_AOP_(T, addr, aop, operand, compare, old)                            \
    do {                                                                              \
        T *p_ = (T *)(addr), v_ = (T)(operand), e_;                                   \
        switch (aop) {                                                                \
        case PRMA_AOP_ADD:   old = (uint64_t)__atomic_fetch_add(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_SWAP:  old = (uint64_t)__atomic_exchange_n(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_AND:   old = (uint64_t)__atomic_fetch_and(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_OR:    old = (uint64_t)__atomic_fetch_or(p_, v_, __ATOMIC_SEQ_CST); break;  \
        case PRMA_AOP_XOR:   old = (uint64_t)__atomic_fetch_xor(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_CSWAP:                                                          \
            e_ = (T)(compare);                                                        \
            __atomic_compare_exchange_n(p_, &e_, v_, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
            old = (uint64_t)e_;                                                       \
            break;                                                                    \
        default: return PRMA_ERR_ARG;                                                 \
        }                                                                             \
    } while (0)

/* Apply atomic operation aop (1, 2, 4 or 8 bytes, naturally aligned) at
 * addr; *old_p gets the value it found. */
static inline int prma__cpu_aop(void *addr, size_t len, uint32_t aop, uint64_t operand,
                                uint64_t compare, uint64_t *old_p)
{
    uint64_t old = 0;

    if (((uintptr_t)addr & (len - 1)) != 0)
        return PRMA_ERR_ARG;
    switch (len) {
    case 1: PRMA_CPU_AOP_(uint8_t, addr, aop, operand, compare, old); break;
    case 2: PRMA_CPU_AOP_(uint16_t, addr, aop, operand, compare, old); break;
    case 4: PRMA_CPU_AOP_(uint32_t, addr, aop, operand, compare, old); break;
    case 8: PRMA_CPU_AOP_(uint64_t, addr, aop, operand, compare, old); break;
    default: return PRMA_ERR_ARG;
    }
    *old_p = old;
    return PRMA_OK;
}

/* Apply msg's atomic at addr and store the old value in ms_fetched. */
static inline int prma__cpu_atomic(void *addr, struct prma_msg *msg)
{
    return prma__cpu_aop(addr, msg->ms_len, msg->ms_aop, msg->ms_operand, msg->ms_compare,
                         &msg->ms_fetched);
}

/* A message to memory reached directly (this process, or a mapping of a
 * same-node peer's): window at memory, control block at ctl. Returns the
 * status, or PRMA_ERR_NOTSUP for a command it does not know (the port's
 * stub then reports it). */
static inline int prma__direct_msg(char *memory, char *ctl, struct prma_msg *msg)
{
    switch (msg->ms_cmd) {
    case PRMA_CMD_NOP:
        return PRMA_OK;
    case PRMA_CMD_PUT:
        /* memmove's semantics: MPI lets a put read from the window it writes. */
        prma__copy(memory + msg->ms_offset, msg->ms_buf, msg->ms_len);
        return PRMA_OK;
    case PRMA_CMD_GET:
        prma__copy(msg->ms_buf, memory + msg->ms_offset, msg->ms_len);
        return PRMA_OK;
    case PRMA_CMD_ATOMIC:
        return prma__cpu_atomic((msg->ms_region == PRMA_REGION_CTL ? ctl : memory) +
                                    msg->ms_offset,
                                msg);
    case PRMA_CMD_FLUSH:
        /* Done on the spot; order it with what follows. */
        atomic_thread_fence(memory_order_seq_cst);
        return PRMA_OK;
    case PRMA_CMD_ACC:
        return prma__acc_direct(memory, ctl, msg);
    }
    return PRMA_ERR_NOTSUP;
}

#endif /* PRMA_ATOMIC_H */
