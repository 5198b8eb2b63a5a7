/*
 * mem.c - memfd window memory, double mapped; mapping a peer's memfd.
 */
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "context.h"
#include "log.h"
#include "portrma.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int dup_peer_fd(struct prma_context *ctx, int pid, int fd);

/* What is kept for the next window: our own freed segments up to POOL_SEG
 * bytes each (POOL_MAX of them), and unused mappings of peers' segments
 * (PMAP_IDLE_MAX, same size limit). A window created and freed over and
 * over then costs no system call on this path, while a large window's
 * memory still goes back to the system when it is freed. The limit is
 * where clearing a kept segment (it must read as fresh memory does) costs
 * more than a fresh one: about 64 KiB on the development machine, where
 * clearing 1 MiB took 100 us and a new memfd of 1 MiB 30 us. */
#define POOL_MAX      16
#define POOL_SEG      ((size_t)64 << 10)
#define PMAP_IDLE_MAX 32
#define PIDFD_MAX     64

struct prma_pmap {
    struct prma_pmap *next;
    int               pid;
    uint64_t          seg;
    size_t            start, maplen;
    void             *map;
    int               refs;
};

struct prma_pidfd {
    int pid, fd;
};

static size_t page_round(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    if (size == 0)
        return page;
    if (size > SIZE_MAX - page)
        return 0;
    return (size + page - 1) & ~(page - 1);
}

/* A pooled segment of maplen bytes, taken out of the pool, or NULL. */
static struct prma_mem *pool_take(struct prma_context *ctx, size_t maplen)
{
    struct prma_mem *mem;

    pthread_mutex_lock(&ctx->lock);
    LIST_FOREACH(mem, &ctx->pool, link)
        if (mem->maplen == maplen)
            break;
    if (mem != NULL) {
        LIST_REMOVE(mem, link);
        ctx->npool--;
    }
    pthread_mutex_unlock(&ctx->lock);
    return mem;
}

static uint64_t next_seg(struct prma_context *ctx)
{
    uint64_t seg;

    pthread_mutex_lock(&ctx->lock);
    if (ctx->seg_next == 0) {
        /* Ids of a process that reuses a dead one's pid must not meet
         * those a peer still keeps: start at a random place. */
        uint32_t r = 0;

        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            r = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&r;
        ctx->seg_next = ((uint64_t)r << 32) | 1;
    }
    seg = ctx->seg_next++;
    pthread_mutex_unlock(&ctx->lock);
    return seg;
}

int prma__mem_create(struct prma_context *ctx, size_t size, struct prma_mem **mem_p)
{
    struct prma_mem *mem;
    int status;

    mem = pool_take(ctx, page_round(size));
    if (mem != NULL) {
        /* As fresh memory would be. */
        memset(mem->agent, 0, mem->maplen);
        mem->size = size;
        *mem_p = mem;
        return PRMA_OK;
    }
    mem = calloc(1, sizeof(*mem));
    if (mem == NULL)
        return PRMA_ERR_NOMEM;
    mem->size   = size;
    mem->maplen = page_round(size);
    if (mem->maplen == 0) {
        prma_error("window memory of %zu bytes is too large to map", size);
        status = PRMA_ERR_NOMEM;
        goto err_free;
    }
    mem->fd = memfd_create("portrma", MFD_CLOEXEC);
    if (mem->fd < 0) {
        prma_error("memfd_create failed: %s", strerror(errno));
        status = PRMA_ERR_MAP;
        goto err_free;
    }
    if (ftruncate(mem->fd, (off_t)mem->maplen) != 0) {
        prma_error("sizing window memory to %zu bytes failed: %s", mem->maplen,
                   strerror(errno));
        status = errno == ENOMEM || errno == EFBIG ? PRMA_ERR_NOMEM : PRMA_ERR_MAP;
        goto err_close;
    }
    mem->agent = mmap(NULL, mem->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
    if (mem->agent == MAP_FAILED) {
        prma_error("mapping the agent view of %zu bytes failed: %s", mem->maplen,
                   strerror(errno));
        status = PRMA_ERR_MAP;
        goto err_close;
    }
    /* Bind before any page exists: the policy then applies to every page,
     * whoever touches it first (a peer's put included). */
    prma__topo_bind_area(ctx, mem->agent, mem->maplen);
    mem->user = mmap(NULL, mem->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
    if (mem->user == MAP_FAILED) {
        prma_error("mapping the user view of %zu bytes failed: %s", mem->maplen,
                   strerror(errno));
        status = PRMA_ERR_MAP;
        goto err_unmap_agent;
    }
    mem->ctx = ctx;
    mem->seg = next_seg(ctx);
    *mem_p = mem;
    return PRMA_OK;

err_unmap_agent:
    munmap(mem->agent, mem->maplen);
err_close:
    close(mem->fd);
err_free:
    free(mem);
    return status;
}

int prma__mem_adopt(struct prma_context *ctx, int fd, size_t size, struct prma_mem **mem_p)
{
    struct prma_mem *mem = calloc(1, sizeof(*mem));

    if (mem == NULL)
        return PRMA_ERR_NOMEM;
    mem->fd     = fd;
    mem->size   = size;
    mem->maplen = page_round(size);
    mem->agent  = mmap(NULL, mem->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    mem->user   = mem->agent == MAP_FAILED
                      ? MAP_FAILED
                      : mmap(NULL, mem->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem->agent == MAP_FAILED || mem->user == MAP_FAILED) {
        prma_error("mapping %zu bytes of shared window memory failed: %s", mem->maplen,
                   strerror(errno));
        if (mem->agent != MAP_FAILED)
            munmap(mem->agent, mem->maplen);
        free(mem);
        return PRMA_ERR_MAP;
    }
    *mem_p = mem;
    return PRMA_OK;
}

int prma__mem_dup_peer_fd(int pid, int fd)
{
    return dup_peer_fd(NULL, pid, fd);
}

void prma__mem_destroy(struct prma_mem *mem)
{
    struct prma_context *ctx = mem->ctx;

    if (ctx != NULL && mem->maplen <= POOL_SEG) {
        pthread_mutex_lock(&ctx->lock);
        if (ctx->npool < POOL_MAX) {
            LIST_INSERT_HEAD(&ctx->pool, mem, link);
            ctx->npool++;
            mem = NULL;
        }
        pthread_mutex_unlock(&ctx->lock);
        if (mem == NULL)
            return;
    }
    munmap(mem->user, mem->maplen);
    munmap(mem->agent, mem->maplen);
    close(mem->fd);
    free(mem);
}

struct prma_mem *prma__mem_lookup(struct prma_context *ctx, const void *addr, size_t len)
{
    struct prma_mem *mem;
    uintptr_t a = (uintptr_t)addr;

    pthread_mutex_lock(&ctx->lock);
    LIST_FOREACH(mem, &ctx->mems, link) {
        uintptr_t u = (uintptr_t)mem->user;

        /* [a, a + len) inside [u, u + size); an empty range is inside when
         * a is a byte of it, or the start of an empty allocation. */
        if (a >= u && a - u <= mem->size && len <= mem->size - (a - u) &&
            (len > 0 || a - u < mem->size || a == u))
            break;
    }
    pthread_mutex_unlock(&ctx->lock);
    return mem;
}

int prma_mem_alloc(prma_context_h ctx, size_t size, void **ptr_p)
{
    struct prma_mem *mem;
    int status;

    status = prma__mem_create(ctx, size, &mem);
    if (status != PRMA_OK)
        return status;
    pthread_mutex_lock(&ctx->lock);
    LIST_INSERT_HEAD(&ctx->mems, mem, link);
    pthread_mutex_unlock(&ctx->lock);
    *ptr_p = mem->user;
    return PRMA_OK;
}

int prma_mem_free(prma_context_h ctx, void *ptr)
{
    struct prma_mem *mem;

    pthread_mutex_lock(&ctx->lock);
    LIST_FOREACH(mem, &ctx->mems, link)
        if (mem->user == ptr)
            break;
    if (mem != NULL)
        LIST_REMOVE(mem, link);
    pthread_mutex_unlock(&ctx->lock);
    if (mem == NULL)
        return PRMA_ERR_NOTFOUND;
    prma__mem_destroy(mem);
    return PRMA_OK;
}

int prma_mem_owns(prma_context_h ctx, const void *ptr)
{
    return prma__mem_lookup(ctx, ptr, 0) != NULL;
}

/* A pidfd of process pid, kept in ctx (NULL: a fresh one, the caller's
 * to close); -1 if it has none. */
static int pidfd_of(struct prma_context *ctx, int pid, int fresh)
{
    int fd = -1;

    if (ctx == NULL)
        return (int)syscall(SYS_pidfd_open, pid, 0);
    pthread_mutex_lock(&ctx->lock);
    for (int i = 0; i < ctx->npidfds; i++) {
        if (ctx->pidfds[i].pid != pid)
            continue;
        if (!fresh) {
            fd = ctx->pidfds[i].fd;
            goto out;
        }
        close(ctx->pidfds[i].fd);
        ctx->pidfds[i] = ctx->pidfds[--ctx->npidfds];
        break;
    }
    fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0 && ctx->npidfds < PIDFD_MAX) {
        if (ctx->pidfds == NULL)
            ctx->pidfds = calloc(PIDFD_MAX, sizeof(*ctx->pidfds));
        if (ctx->pidfds != NULL)
            ctx->pidfds[ctx->npidfds++] = (struct prma_pidfd){ pid, fd };
    }
out:
    pthread_mutex_unlock(&ctx->lock);
    return fd;
}

/* Duplicate descriptor fd of process pid into this process. A kept pidfd
 * may name a process gone since (its pid reused): one fresh try then. */
static int dup_peer_fd(struct prma_context *ctx, int pid, int fd)
{
    char path[64];
    int pidfd, ours = -1;

    for (int fresh = 0; fresh < 2 && ours < 0; fresh++) {
        pidfd = pidfd_of(ctx, pid, fresh);
        if (pidfd < 0)
            break;
        ours = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        if (ctx == NULL) {
            close(pidfd);
            break;
        }
    }
    if (ours >= 0)
        return ours;
    /* Kernels before 5.6: the same permission check, through procfs. */
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
    return open(path, O_RDWR | O_CLOEXEC);
}

/* A kept mapping of [start, start + maplen) of segment seg of pid, now in
 * use once more, or NULL. NOTE: caller holds ctx->lock. */
static struct prma_pmap *pmap_find(struct prma_context *ctx, int pid, uint64_t seg,
                                   size_t start, size_t maplen)
{
    for (struct prma_pmap *m = ctx->pmaps; m != NULL; m = m->next)
        if (m->pid == pid && m->seg == seg && m->start == start && m->maplen == maplen)
            return m;
    return NULL;
}

int prma__mem_map_peer(struct prma_context *ctx, int pid, int fd, uint64_t seg, size_t offset,
                       size_t len, void **base_p, void **map_p, size_t *maplen_p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t start = offset & ~(page - 1);
    size_t maplen = page_round(offset - start + len);
    struct prma_pmap *m = NULL;
    void *map;
    int ours;

    if (seg != 0 && maplen <= POOL_SEG) {
        pthread_mutex_lock(&ctx->lock);
        m = pmap_find(ctx, pid, seg, start, maplen);
        if (m != NULL && m->refs++ == 0)
            ctx->npmaps_idle--;
        pthread_mutex_unlock(&ctx->lock);
        if (m != NULL) {
            map = m->map;
            goto done;
        }
    }
    ours = dup_peer_fd(ctx, pid, fd);
    if (ours < 0) {
        prma_error("cannot reach window memory of process %d (descriptor %d): %s", pid, fd,
                   strerror(errno));
        return PRMA_ERR_PEER;
    }
    map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, ours, (off_t)start);
    if (map == MAP_FAILED) {
        prma_error("mapping %zu bytes of process %d's window memory failed: %s", maplen, pid,
                   strerror(errno));
        close(ours);
        return PRMA_ERR_MAP;
    }
    close(ours);
    if (seg != 0 && maplen <= POOL_SEG && (m = calloc(1, sizeof(*m))) != NULL) {
        *m = (struct prma_pmap){ .pid = pid, .seg = seg, .start = start, .maplen = maplen,
                                 .map = map, .refs = 1 };
        pthread_mutex_lock(&ctx->lock);
        m->next    = ctx->pmaps;
        ctx->pmaps = m;
        pthread_mutex_unlock(&ctx->lock);
    }
done:
    *base_p   = (char *)map + (offset - start);
    *map_p    = map;
    *maplen_p = maplen;
    return PRMA_OK;
}

void prma__mem_unmap_peer(struct prma_context *ctx, void *map, size_t maplen)
{
    struct prma_pmap **pp, *m, *oldest = NULL, **oldest_pp = NULL;

    pthread_mutex_lock(&ctx->lock);
    for (pp = &ctx->pmaps; (m = *pp) != NULL; pp = &m->next)
        if (m->map == map)
            break;
    if (m != NULL && --m->refs == 0 && ++ctx->npmaps_idle > PMAP_IDLE_MAX) {
        /* Too many kept: the idle one last on the list (the least recently
         * made) goes. */
        for (pp = &ctx->pmaps; *pp != NULL; pp = &(*pp)->next) {
            if ((*pp)->refs == 0) {
                oldest    = *pp;
                oldest_pp = pp;
            }
        }
        *oldest_pp = oldest->next;
        ctx->npmaps_idle--;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (m == NULL)
        munmap(map, maplen);
    else if (oldest != NULL) {
        munmap(oldest->map, oldest->maplen);
        free(oldest);
    }
}

void prma__mem_fini(struct prma_context *ctx)
{
    struct prma_mem *mem;
    struct prma_pmap *m;

    while ((mem = LIST_FIRST(&ctx->pool)) != NULL) {
        LIST_REMOVE(mem, link);
        mem->ctx = NULL;
        prma__mem_destroy(mem);
    }
    ctx->npool = 0;
    /* A mapping still in use belongs to a window never freed: left. */
    for (struct prma_pmap **pp = &ctx->pmaps; (m = *pp) != NULL;) {
        if (m->refs > 0) {
            pp = &m->next;
            continue;
        }
        *pp = m->next;
        munmap(m->map, m->maplen);
        free(m);
    }
    ctx->npmaps_idle = 0;
    for (int i = 0; i < ctx->npidfds; i++)
        close(ctx->pidfds[i].fd);
    free(ctx->pidfds);
    ctx->pidfds  = NULL;
    ctx->npidfds = 0;
}
