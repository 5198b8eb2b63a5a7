/*
 * atomic.h - an atomic message carried out with CPU atomics, for ports that
 * reach the target's memory directly (self, shm).
 */
#ifndef PRMA_ATOMIC_H
#define PRMA_ATOMIC_H

#include <stdint.h>
#include "msg.h"
#include "portrma.h"

#define PRMA_CPU_AOP_(T, addr, msg, old)                                              \
    do {                                                                              \
        T *p_ = (T *)(addr), v_ = (T)(msg)->ms_operand, e_;                           \
        switch ((msg)->ms_aop) {                                                      \
        case PRMA_AOP_ADD:   old = (uint64_t)__atomic_fetch_add(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_SWAP:  old = (uint64_t)__atomic_exchange_n(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_AND:   old = (uint64_t)__atomic_fetch_and(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_OR:    old = (uint64_t)__atomic_fetch_or(p_, v_, __ATOMIC_SEQ_CST); break;  \
        case PRMA_AOP_XOR:   old = (uint64_t)__atomic_fetch_xor(p_, v_, __ATOMIC_SEQ_CST); break; \
        case PRMA_AOP_CSWAP:                                                          \
            e_ = (T)(msg)->ms_compare;                                                \
            __atomic_compare_exchange_n(p_, &e_, v_, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
            old = (uint64_t)e_;                                                       \
            break;                                                                    \
        default: return PRMA_ERR_ARG;                                                 \
        }                                                                             \
    } while (0)

/* Apply msg's atomic (1, 2, 4 or 8 bytes, naturally aligned) at addr and
 * store the old value in ms_fetched. */
static inline int prma__cpu_atomic(void *addr, struct prma_msg *msg)
{
    uint64_t old = 0;

    if (((uintptr_t)addr & (msg->ms_len - 1)) != 0)
        return PRMA_ERR_ARG;
    switch (msg->ms_len) {
    case 1: PRMA_CPU_AOP_(uint8_t, addr, msg, old); break;
    case 2: PRMA_CPU_AOP_(uint16_t, addr, msg, old); break;
    case 4: PRMA_CPU_AOP_(uint32_t, addr, msg, old); break;
    case 8: PRMA_CPU_AOP_(uint64_t, addr, msg, old); break;
    default: return PRMA_ERR_ARG;
    }
    msg->ms_fetched = old;
    return PRMA_OK;
}

#endif /* PRMA_ATOMIC_H */
