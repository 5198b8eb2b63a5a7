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

static int dup_peer_fd(int pid, int fd);

static size_t page_round(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    if (size == 0)
        return page;
    if (size > SIZE_MAX - page)
        return 0;
    return (size + page - 1) & ~(page - 1);
}

int prma__mem_create(struct prma_context *ctx, size_t size, struct prma_mem **mem_p)
{
    struct prma_mem *mem;
    int status;

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
    return dup_peer_fd(pid, fd);
}

void prma__mem_destroy(struct prma_mem *mem)
{
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

/* Duplicate descriptor fd of process pid into this process. */
static int dup_peer_fd(int pid, int fd)
{
    char path[64];
    int pidfd, ours;

    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        ours = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        close(pidfd);
        if (ours >= 0)
            return ours;
    }
    /* Kernels before 5.6: the same permission check, through procfs. */
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
    return open(path, O_RDWR | O_CLOEXEC);
}

int prma__mem_map_peer(int pid, int fd, size_t offset, size_t len, void **base_p,
                       void **map_p, size_t *maplen_p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t start = offset & ~(page - 1);
    size_t maplen = page_round(offset - start + len);
    void *map;
    int ours;

    ours = dup_peer_fd(pid, fd);
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
    *base_p   = (char *)map + (offset - start);
    *map_p    = map;
    *maplen_p = maplen;
    return PRMA_OK;
}
