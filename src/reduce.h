/*
 * reduce.h - the reduction kernels of the accumulate family: what
 * MPI_Accumulate and MPI_Get_accumulate do to the target's elements once
 * they hold both operands in local memory.
 *
 * Whether an op is defined on a type is prma_op_check() (portrma.h); the
 * size of an element is prma_type_extent(). The kernel itself trusts its
 * caller: it checks nothing per element, nor per call in a build with
 * NDEBUG.
 */
#ifndef PRMA_REDUCE_H
#define PRMA_REDUCE_H

#include <stddef.h>
#include "portrma.h"

/**
 * Reduce n elements of type in place: inout[k] = inout[k] op in[k] for
 * k < n, the target's value being the left operand (MPI_Accumulate). REPLACE
 * stores in[k]; NO_OP leaves inout as it is. Elements lie
 * prma_type_extent(type) bytes apart and neither buffer need be aligned.
 * Integers wrap; MAXLOC and MINLOC keep the better value and, between equal
 * values, the smaller index. The padding of a pair type's element in inout
 * is never written, whatever the op.
 *
 * NOTE: preconditions. prma_op_check(type, op) returned PRMA_OK; inout and
 * in are either the same buffer or do not overlap at all. With n == 0 the
 * buffers are not touched and may be NULL.
 */
void prma__reduce(prma_type_t type, prma_op_t op, void *inout, const void *in, size_t n);

/**
 * The kernel prma__reduce() calls for type and op, for a caller that has
 * checked its preconditions itself and wants no more checks: NULL where it
 * calls none (REPLACE, a memmove; NO_OP, nothing). Its operands must not
 * overlap; n may not be 0.
 */
typedef void prma_reduce_fn(unsigned char *restrict inout, const unsigned char *restrict in,
                            size_t n);
prma_reduce_fn *prma__reduce_kernel(prma_type_t type, prma_op_t op);

/**
 * MPI_Get_accumulate's step in one pass: old[k] = inout[k], then inout[k]
 * op= in[k], as prma__reduce_kernel's kernel does, for k < n. NULL where
 * there is none (REPLACE, NO_OP, the pair types), in which case the caller
 * copies, then reduces. The three buffers must not overlap; n may not be 0.
 */
typedef void prma_fetch_reduce_fn(unsigned char *restrict inout, const unsigned char *restrict in,
                                  unsigned char *restrict old, size_t n);
prma_fetch_reduce_fn *prma__fetch_reduce_kernel(prma_type_t type, prma_op_t op);

#endif /* PRMA_REDUCE_H */
