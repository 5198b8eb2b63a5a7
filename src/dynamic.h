/*
 * dynamic.h - dynamic windows: memory each member attaches and detaches at
 * any time, addressed by absolute addresses (dynamic.c has the design).
 *
 * What the rest of the core calls: the region lookup, which every data
 * operation on a window goes through (a no-op for other flavors), the
 * synchronization hook, and the teardown.
 */
#ifndef PRMA_DYNAMIC_H
#define PRMA_DYNAMIC_H

#include <stddef.h>
#include <stdint.h>

struct prma_win;

/*
 * The region lookup: is [addr, addr + len) inside one region that target
 * has attached to win? On PRMA_OK, *rkey_p (when rkey_p is not NULL) is
 * what target's port needs beyond the message itself: the unpacked UCX key
 * of the region (ucp_rkey_h, for ms_rkey) when a ucx port serves target,
 * NULL for the other ports, which reach the address itself. Returns
 * PRMA_ERR_RMA_RANGE when no region holds the whole range (nothing may be
 * written then), or why target's region table could not be read. For a
 * window that is not dynamic: PRMA_OK and NULL, at once.
 * NOTE: in a PSCW access epoch it first waits for target's post.
 */
int prma__dyn_region(struct prma_win *win, int target, uint64_t addr, size_t len,
                     void **rkey_p);

/* The owner's own check, for its agent (any thread, nothing waited for):
 * is [addr, addr + len) inside one region this process has attached to
 * win now? PRMA_OK or PRMA_ERR_RMA_RANGE. */
int prma__dyn_holds(struct prma_win *win, uint64_t addr, size_t len);

/* The owner's agent's copy: len bytes between buf and [addr, addr + len)
 * (put: into the region), when that range is inside one region this
 * process has attached to win now; else PRMA_ERR_RMA_RANGE and nothing is
 * copied. A detach by another thread waits for the copy (NOTE above). */
int prma__dyn_copy(struct prma_win *win, uint64_t addr, void *buf, size_t len, int put);

/* A put (put nonzero: buf into the target) or get of len bytes at addr,
 * that prma__dyn_region has found in a region of target, copied right here
 * when that region is mapped (a same-host target whose region lies in a
 * memfd): PRMA_OK; PRMA_EASYNC when it is not (nothing done: the message
 * path then). The caller has the epoch's leave (lock, post). */
int prma__dyn_direct(struct prma_win *win, int target, uint64_t addr, void *buf, size_t len,
                     int put);

/* prma__dyn_region and prma__dyn_direct in one: the region looked up
 * once, and a put or get copied at once when it is mapped here (PRMA_OK);
 * PRMA_EASYNC with *rkey_p (as prma__dyn_region gives) for the message
 * path; or prma__dyn_region's errors. len > 0; the caller has checked the
 * epoch and taken what it needs first (lock); not in a PSCW epoch. */
int prma__dyn_access(struct prma_win *win, int target, uint64_t addr, void *buf, size_t len,
                     int put, void **rkey_p);

/* Where [addr, addr + len) of target's region lies in this process, its
 * region mapped here (a same-host target whose region lies in a memfd;
 * mapped on first use): PRMA_OK, *at_p, and the table locked (so no
 * refresh unmaps it) until prma__dyn_release; PRMA_EASYNC when it is not
 * mapped here (nothing held); or prma__dyn_region's errors. again == 0:
 * the region looked up as prma__dyn_region does (table checked, a PSCW
 * post awaited); again != 0: only in the table as cached, for a range the
 * caller has reached so before in this operation (nothing waited for). */
int prma__dyn_reach(struct prma_win *win, int target, uint64_t addr, size_t len, int again,
                    char **at_p);
void prma__dyn_release(struct prma_win *win);

/* A synchronization that opens an access epoch (fence, start, lock,
 * lock_all) or orders memory (win_sync) happened on win, a dynamic window:
 * cached tables of targets behind a ucx port are re-validated on their next
 * access. Called through prma__dyn_synced (win.h), which skips other
 * windows. */
void prma__dyn_synced_dynamic(struct prma_win *win);

/* Release what a dynamic window holds: its own table and registrations,
 * every cached table and key. Called with the window's teardown, once no
 * peer reads the table any more. */
void prma__dyn_destroy(struct prma_win *win);

#endif /* PRMA_DYNAMIC_H */
