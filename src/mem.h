/*
 * mem.h - window memory that peers on the node can map: a memfd, mapped
 * twice in its owner. The user view is what the program gets; the agent view
 * is where portrma itself reads and writes, so that the user view can later
 * be guarded (mprotect) without fencing portrma out. No name exists anywhere
 * (no /dev/shm file, no /tmp file): the memory dies with its last mapping.
 */
#ifndef PRMA_MEM_H
#define PRMA_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct prma_context;

struct prma_mem {
    LIST_ENTRY(prma_mem) link;    /* on the context's list, if registered */
    void                *user;    /* user view */
    void                *agent;   /* agent view */
    size_t               size;    /* bytes asked for */
    size_t               maplen;  /* bytes mapped in each view (page multiple) */
    int                  fd;      /* the memfd; peers duplicate it by pid */
    struct prma_context *ctx;     /* made by prma__mem_create(): back to its pool */
    uint64_t             seg;     /* never the same twice in a process (0: adopted or
                                     moved) */
    int                  refs;    /* moved pages (remap.c): windows over them */
};

/* Create a memfd of size bytes (at least one page), map it twice and place it
 * on this process's NUMA node. A segment of the same length freed before is
 * taken back from the context's pool instead, zeroed. */
int prma__mem_create(struct prma_context *ctx, size_t size, struct prma_mem **mem_p);

/* Take over memfd fd of size bytes (mapped twice here, as
 * prma__mem_create() does); on failure fd stays the caller's. */
int prma__mem_adopt(struct prma_context *ctx, int fd, size_t size, struct prma_mem **mem_p);

/* Duplicate descriptor fd of process pid into this process, or -1. */
int prma__mem_dup_peer_fd(int pid, int fd);

/* Unmap both views and close the memfd, or keep a small segment in the
 * context's pool for the next prma__mem_create() of its length. */
void prma__mem_destroy(struct prma_mem *mem);

/* Unmap the pool and the kept peer mappings, close the kept descriptors. */
void prma__mem_fini(struct prma_context *ctx);

/* The registered allocation that holds [addr, addr + len), or NULL.
 * NOTE: takes the context lock. */
struct prma_mem *prma__mem_lookup(struct prma_context *ctx, const void *addr, size_t len);

/* Map a peer's memfd: duplicate descriptor fd of process pid, map len bytes
 * at offset. *base_p is the first requested byte; *map_p / *maplen_p are
 * what to give back to prma__mem_unmap_peer(). A segment with an id (seg,
 * not 0) is mapped once: a mapping given back is kept for the next window
 * over the same segment (its owner's pool reuses segments). */
int prma__mem_map_peer(struct prma_context *ctx, int pid, int fd, uint64_t seg, size_t offset,
                       size_t len, void **base_p, void **map_p, size_t *maplen_p);

/* Give back a mapping made by prma__mem_map_peer(). */
void prma__mem_unmap_peer(struct prma_context *ctx, void *map, size_t maplen);

/* remap.c: move the pages that hold [base, base + size) of the program's
 * own private memory into a memfd, in place, so that peers can map them
 * (mem->user: the first page, mem->agent: portrma's view, mem->fd); or
 * take pages already moved (by any context of the process) that hold
 * them. PRMA_EASYNC when they cannot or should not move (the window then
 * lives in them as they are). */
int prma__mem_remap(struct prma_context *ctx, void *base, size_t size, struct prma_mem **mem_p);

/* The window over mem is gone: the last one gives the pages back to
 * private memory, bytes kept. */
void prma__mem_unremap(struct prma_mem *mem);

/* Tests: nonzero makes remap.c read the text of /proc/self/maps, as on
 * kernels without the query ioctl (before 6.11). */
extern int prma__remap_maps_text;

/* For the SIGSEGV handler: a store at a that met pages being moved, or
 * just moved, and is to be retried (after waiting for the move): nonzero. */
int prma__remap_fault(uintptr_t a);

/* Bind [addr, addr + len) to this process's NUMA node, per PORTRMA_NUMA. */
void prma__topo_bind_area(struct prma_context *ctx, void *addr, size_t len);

#endif /* PRMA_MEM_H */
