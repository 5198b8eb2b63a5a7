/*
 * agent.h - the node agent: a process that polls applies small operations
 * that same-node origins hand it, on a window they would otherwise reach
 * with process_vm_readv/writev (shm-cma ports).
 *
 * A system call per put, get or stripe-locked copy costs a microsecond or
 * more (two for a few KiB); a target that is waiting anyway (in a portrma wait loop or in a
 * blocking MPI call the shim turns into a loop) can do a small operation
 * on its own memory far sooner. It says so in its control block (a lease,
 * ctl.h); an origin that sees the lease writes its request in its slot of
 * the target's control block and waits for the answer. A target that does
 * not poll costs nothing: origins see no lease and use the system calls.
 *
 * NOTE: threading. Origins: one thread of a process uses its slot at a
 * time (the others take the system calls meanwhile). Targets: whichever
 * thread polls serves, one at a time (the registry's lock, tried, never
 * waited for).
 */
#ifndef PRMA_AGENT_H
#define PRMA_AGENT_H

#include <stddef.h>
#include <stdint.h>

struct prma_win;
struct prma_msg;
struct prma_context;
struct prma_agent_area;

/* Bytes the agent area adds to a control block of size bytes so far (its
 * alignment included), 0 when the window has none. Every member computes
 * the same for every other member. */
size_t prma__agent_area_size(const struct prma_win *win, size_t size);

/* Where the agent area lies in a member's control block mapped at ctl,
 * or NULL when the window has none. */
struct prma_agent_area *prma__agent_area(const struct prma_win *win, char *ctl);

/* A window that setup completed: serve it while this process polls, when
 * some same-node peer reaches its memory by copies. Returns a status. */
int prma__agent_setup(struct prma_win *win);

/* Stop serving a window (before its control block goes). Waits for a
 * serving thread to let go of the registry. */
void prma__agent_teardown(struct prma_win *win);

/* Serve every posted request of every window this process serves, and
 * renew the lease. Returns the requests served. Never waits for another
 * process; cheap when this process serves nothing. NOTE: must not be
 * called by a thread that holds a stripe lock. */
int prma__agent_serve(struct prma_context *ctx);

/* A waiter's serve hook (wait.h): arg is the context. */
int prma__agent_serve_hook(void *arg);

/* The process stops polling: drop every lease, so that origins take the
 * system calls at once. */
void prma__agent_idle(struct prma_context *ctx);

/* Origin side: hand msg (a PUT, GET or ACC on target's window) to the
 * target whose agent area is mapped at area. Returns the operation's
 * status when the target did it, or PRMA_ERR_NOTSUP when it did not and
 * never will (it does not poll, the request does not fit, or it was
 * withdrawn): the caller then does it the usual way. */
int prma__agent_call(struct prma_win *win, int target, struct prma_agent_area *area,
                     struct prma_msg *msg);

/* How an origin's port copies a part of a message by other means (the
 * system calls) when the agent does not: arg is the port's. */
typedef int (*prma_agent_copy_cb)(void *arg, struct prma_msg *part);

/* Puts and gets of up to this many bytes go through the bulk chunks;
 * larger ones by system calls, which are as fast then (measured:
 * benchmarks/README.md). */
#define PRMA_AGENT_BOUNCE_MAX (8u << 10)

/* Origin side: a PUT or GET of more than a slot holds, up to
 * PRMA_AGENT_BOUNCE_MAX bytes, through the target's bulk chunks (ctl.h), a
 * piece at a time, pipelined. Returns the operation's status, every byte
 * moved (the pieces the target did not take, and the rest once it stops
 * polling, by copy(arg, part)); or PRMA_ERR_NOTSUP when it started nothing
 * (no lease, the chunks busy with another origin's transfer, a request it
 * does not take): the caller does it all.
 * NOTE: like prma__agent_call(), waits only while the target polls. */
int prma__agent_bulk(struct prma_win *win, struct prma_agent_area *area, struct prma_msg *msg,
                     prma_agent_copy_cb copy, void *arg);

#endif /* PRMA_AGENT_H */
