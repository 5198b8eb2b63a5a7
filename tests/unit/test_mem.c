/*
 * test_mem.c - memfd window memory (src/mem.c): the two views, lookup, free,
 * no named objects, mapping a peer's memfd, and failures.
 *
 * The binary is linked with -Wl,--wrap=open -Wl,--wrap=syscall: the wrappers
 * below count how prma__mem_map_peer() reaches a peer's descriptor
 * (pidfd_open + pidfd_getfd, or the /proc/<pid>/fd/<fd> fallback) and can
 * make the pidfd calls fail as an old kernel would.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "context.h"
#include "mem.h"
#include "portrma.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* ---- link-time wrappers ---- */

static int proc_fd_opens;  /* opens of /proc/<pid>/fd/<n> */
static int pidfd_calls;    /* pidfd_open / pidfd_getfd calls */
static int pidfd_fail;     /* make them fail with ENOSYS */

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
long __real_syscall(long number, ...);
long __wrap_syscall(long number, ...);

int __wrap_open(const char *path, int flags, ...)
{
    int mode = 0;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;

        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    if (strncmp(path, "/proc/", 6) == 0 && strstr(path, "/fd/") != NULL)
        proc_fd_opens++;
    return __real_open(path, flags, mode);
}

long __wrap_syscall(long number, ...)
{
    long a[6];
    va_list ap;

    /* syscall(2) takes up to six arguments and reads all six registers
     * whatever the call: forwarding six is what it does itself. */
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_pidfd_open || number == SYS_pidfd_getfd) {
        pidfd_calls++;
        if (pidfd_fail) {
            errno = ENOSYS;
            return -1;
        }
    }
    return __real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- fixtures and helpers ---- */

static int ctx_setup(void **state)
{
    prma_bootstrap_t boot = { .rank = 0, .size = 1, .node_id = 1 };
    prma_context_h ctx;

    if (prma_init(&boot, &ctx) != PRMA_OK)
        return -1;
    *state = ctx;
    proc_fd_opens = pidfd_calls = pidfd_fail = 0;
    return 0;
}

static int ctx_teardown(void **state)
{
    prma_finalize(*state);
    return 0;
}

static int count_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    if (dir == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

/* Can this kernel (or valgrind) do pidfd_getfd on ourselves? */
static int pidfd_getfd_works(int fd)
{
    int pidfd = (int)syscall(SYS_pidfd_open, (int)getpid(), 0);
    int ours;

    if (pidfd < 0)
        return 0;
    ours = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    close(pidfd);
    if (ours < 0)
        return 0;
    close(ours);
    return 1;
}

static void fill_pattern(unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)((i * 131u + seed * 7u + 1u) % 251u);
}

/* ---- the two views ---- */

static void test_mem_alloc_two_views_of_same_memory(void **state)
{
    prma_context_h ctx = *state;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = 2 * page + 100;
    unsigned char *user, *agent, *expect;
    struct prma_mem *mem;
    void *p = NULL;

    assert_int_equal(prma_mem_alloc(ctx, size, &p), PRMA_OK);
    assert_non_null(p);
    mem = prma__mem_lookup(ctx, p, size);
    assert_non_null(mem);
    assert_ptr_equal(mem->user, p);
    assert_non_null(mem->agent);
    assert_ptr_not_equal(mem->agent, mem->user);
    assert_int_equal(mem->size, size);
    assert_true(mem->maplen >= size);
    assert_int_equal(mem->maplen % page, 0);
    assert_true(mem->fd >= 0);
    assert_int_equal(prma_mem_owns(ctx, p), 1);

    user   = p;
    agent  = mem->agent;
    expect = malloc(size);
    assert_non_null(expect);

    /* Fresh memory reads zero through both views. */
    for (size_t i = 0; i < size; i++)
        if (user[i] != 0 || agent[i] != 0)
            fail_msg("byte %zu of fresh memory is not zero", i);
    /* User writes, agent reads ... */
    fill_pattern(expect, size, 1);
    memcpy(user, expect, size);
    assert_memory_equal(agent, expect, size);
    /* ... and the other way round, across page boundaries. */
    fill_pattern(expect, size, 2);
    memcpy(agent, expect, size);
    assert_memory_equal(user, expect, size);
    agent[page - 1] = 0x42;
    agent[page]     = 0x43;
    assert_int_equal(user[page - 1], 0x42);
    assert_int_equal(user[page], 0x43);

    free(expect);
    assert_int_equal(prma_mem_free(ctx, p), PRMA_OK);
    assert_null(prma__mem_lookup(ctx, p, 1));
    assert_int_equal(prma_mem_owns(ctx, p), 0);
}

static void test_mem_alloc_size_zero_gives_unique_pointer(void **state)
{
    prma_context_h ctx = *state;
    void *a = NULL, *b = NULL;

    assert_int_equal(prma_mem_alloc(ctx, 0, &a), PRMA_OK);
    assert_int_equal(prma_mem_alloc(ctx, 0, &b), PRMA_OK);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_int_equal(prma_mem_owns(ctx, a), 1);
    assert_int_equal(prma_mem_owns(ctx, b), 1);
    /* Zero bytes: no range of one byte is inside. */
    assert_null(prma__mem_lookup(ctx, a, 1));
    assert_int_equal(prma_mem_free(ctx, a), PRMA_OK);
    assert_int_equal(prma_mem_free(ctx, a), PRMA_ERR_NOTFOUND);
    assert_int_equal(prma_mem_owns(ctx, b), 1);
    assert_int_equal(prma_mem_free(ctx, b), PRMA_OK);
}

/* ---- lookup ---- */

static void test_mem_lookup_interior_not_past_end(void **state)
{
    prma_context_h ctx = *state;
    struct prma_mem *ma, *mb;
    char *a = NULL, *b = NULL;

    assert_int_equal(prma_mem_alloc(ctx, 100, (void **)&a), PRMA_OK);
    assert_int_equal(prma_mem_alloc(ctx, 300, (void **)&b), PRMA_OK);
    ma = prma__mem_lookup(ctx, a, 100);
    mb = prma__mem_lookup(ctx, b, 300);
    assert_non_null(ma);
    assert_non_null(mb);
    assert_ptr_not_equal(ma, mb);

    /* Interior ranges, up to and including the last byte. */
    assert_ptr_equal(prma__mem_lookup(ctx, a + 10, 90), ma);
    assert_ptr_equal(prma__mem_lookup(ctx, a + 99, 1), ma);
    assert_ptr_equal(prma__mem_lookup(ctx, a + 50, 0), ma);
    assert_ptr_equal(prma__mem_lookup(ctx, b + 299, 1), mb);
    assert_ptr_equal(prma__mem_lookup(ctx, b + 100, 200), mb);

    /* Ranges that cross the end (of what was asked for, not of the page),
     * start before, or would wrap around. */
    assert_null(prma__mem_lookup(ctx, a, 101));
    assert_null(prma__mem_lookup(ctx, a + 10, 91));
    assert_null(prma__mem_lookup(ctx, a + 100, 1));
    assert_null(prma__mem_lookup(ctx, a - 1, 2));
    assert_null(prma__mem_lookup(ctx, a + 50, SIZE_MAX));
    assert_null(prma__mem_lookup(ctx, b + 1, 300));

    /* Memory that is not portrma's. */
    assert_null(prma__mem_lookup(ctx, &ctx, 1));
    assert_int_equal(prma_mem_owns(ctx, &ctx), 0);
    assert_int_equal(prma_mem_owns(ctx, a + 99), 1);

    assert_int_equal(prma_mem_free(ctx, a), PRMA_OK);
    assert_int_equal(prma_mem_free(ctx, b), PRMA_OK);
}

static void test_mem_owns_excludes_one_past_end(void **state)
{
    prma_context_h ctx = *state;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *a = NULL;

    /* A page-sized allocation: the byte after it may well be the first byte
     * of an unrelated mapping, which prma_mem_owns must not claim. */
    assert_int_equal(prma_mem_alloc(ctx, page, (void **)&a), PRMA_OK);
    assert_int_equal(prma_mem_owns(ctx, a), 1);
    assert_int_equal(prma_mem_owns(ctx, a + page - 1), 1);
    assert_int_equal(prma_mem_owns(ctx, a - 1), 0);
    assert_int_equal(prma_mem_owns(ctx, a + page), 0);
    assert_int_equal(prma_mem_free(ctx, a), PRMA_OK);
}

/* ---- free ---- */

static void test_mem_free_foreign_pointer_is_notfound(void **state)
{
    prma_context_h ctx = *state;
    char *mine = NULL, *heap;
    int local;

    assert_int_equal(prma_mem_alloc(ctx, 64, (void **)&mine), PRMA_OK);
    heap = malloc(64);
    assert_non_null(heap);

    assert_int_equal(prma_mem_free(ctx, heap), PRMA_ERR_NOTFOUND);
    assert_int_equal(prma_mem_free(ctx, &local), PRMA_ERR_NOTFOUND);
    assert_int_equal(prma_mem_free(ctx, NULL), PRMA_ERR_NOTFOUND);
    /* Only the pointer prma_mem_alloc returned frees, not one inside. */
    assert_int_equal(prma_mem_free(ctx, mine + 1), PRMA_ERR_NOTFOUND);
    /* None of that disturbed our allocation. */
    mine[63] = 7;
    assert_non_null(prma__mem_lookup(ctx, mine, 64));
    assert_int_equal(prma_mem_free(ctx, mine), PRMA_OK);
    free(heap);
}

/* ---- no names ---- */

/*
 * What in /dev/shm could be our memory: entries whose name mentions portrma,
 * and entries that are the very file behind fd. Other programs (an MPI
 * library running in a parallel test) may add and remove entries of their
 * own meanwhile, so the directory is not compared as a whole.
 * Returns -1 when there is no /dev/shm.
 */
static int dev_shm_suspects(int fd)
{
    struct stat ours, st;
    struct dirent *de;
    DIR *dir;
    int n = 0;

    if (fstat(fd, &ours) != 0)
        return -2;
    dir = opendir("/dev/shm");
    if (dir == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (strstr(de->d_name, "portrma") != NULL)
            n++;
        else if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 st.st_dev == ours.st_dev && st.st_ino == ours.st_ino)
            n++;
    }
    closedir(dir);
    return n;
}

static void test_mem_alloc_creates_no_named_object(void **state)
{
    prma_context_h ctx = *state;
    char path[64], link[256];
    struct prma_mem *mem;
    struct stat st;
    void *p = NULL;
    ssize_t n;
    int fdflags, suspects;

    assert_int_equal(prma_mem_alloc(ctx, 10000, &p), PRMA_OK);
    mem = prma__mem_lookup(ctx, p, 10000);
    assert_non_null(mem);

    snprintf(path, sizeof(path), "/proc/self/fd/%d", mem->fd);
    n = readlink(path, link, sizeof(link) - 1);
    assert_true(n > 0);
    link[n] = '\0';
    assert_string_equal(link, "/memfd:portrma (deleted)");
    /* No link to the file exists in any directory of any filesystem. */
    assert_int_equal(fstat(mem->fd, &st), 0);
    assert_int_equal(st.st_nlink, 0);
    /* Not inherited across exec. */
    fdflags = fcntl(mem->fd, F_GETFD);
    assert_true(fdflags >= 0 && (fdflags & FD_CLOEXEC));
    /* And nothing of ours in /dev/shm, where POSIX shm would put it. */
    suspects = dev_shm_suspects(mem->fd);
    assert_true(suspects == 0 || suspects == -1);

    assert_int_equal(prma_mem_free(ctx, p), PRMA_OK);
}

/* ---- mapping a peer's memfd ---- */

static void map_own_memfd_and_check(prma_context_h ctx)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = 3 * page, offset = page + 904, len = page + 1000;
    unsigned char *user, *base = NULL;
    struct prma_mem *mem;
    void *p = NULL, *vbase = NULL, *map = NULL;
    size_t maplen = 0;
    int fds_before, fds_after;

    assert_int_equal(prma_mem_alloc(ctx, size, &p), PRMA_OK);
    mem = prma__mem_lookup(ctx, p, size);
    assert_non_null(mem);
    user = p;
    fill_pattern(user, size, 3);

    fds_before = count_open_fds();
    assert_int_equal(prma__mem_map_peer(NULL, (int)getpid(), mem->fd, 0, offset, len, &vbase,
                                        &map, &maplen),
                     PRMA_OK);
    fds_after = count_open_fds();
    /* The duplicated descriptor is closed again; the mapping stays. */
    assert_int_equal(fds_after, fds_before);

    base = vbase;
    assert_non_null(map);
    assert_int_equal((uintptr_t)map % page, 0);
    assert_ptr_equal(base, (char *)map + (offset % page));
    assert_int_equal(maplen % page, 0);
    assert_true(maplen >= (offset % page) + len);
    assert_ptr_not_equal(base, user + offset);  /* a third view ... */
    assert_memory_equal(base, user + offset, len);  /* ... of the same memory */
    base[0]       = 0xE1;
    base[len - 1] = 0xE2;
    assert_int_equal(user[offset], 0xE1);
    assert_int_equal(user[offset + len - 1], 0xE2);
    user[offset + 17] = 0xE3;
    assert_int_equal(base[17], 0xE3);

    assert_int_equal(munmap(map, maplen), 0);
    assert_int_equal(prma_mem_free(ctx, p), PRMA_OK);
}

static void test_mem_map_peer_own_pid_maps_same_memory(void **state)
{
    prma_context_h ctx = *state;
    void *p = NULL;
    int has_getfd;

    /* Probe with a descriptor of our own whether pidfd_getfd is there. */
    assert_int_equal(prma_mem_alloc(ctx, 1, &p), PRMA_OK);
    has_getfd = pidfd_getfd_works(prma__mem_lookup(ctx, p, 1)->fd);
    assert_int_equal(prma_mem_free(ctx, p), PRMA_OK);

    proc_fd_opens = pidfd_calls = 0;
    map_own_memfd_and_check(ctx);
    assert_true(pidfd_calls >= 1);  /* it tries pidfd_open first */
    if (has_getfd)
        assert_int_equal(proc_fd_opens, 0);  /* and needs no fallback */
    else
        print_message("note: pidfd_getfd unavailable here; the /proc fallback was used\n");
}

static void test_mem_map_peer_falls_back_to_proc_fd(void **state)
{
    prma_context_h ctx = *state;

    pidfd_fail    = 1;
    proc_fd_opens = pidfd_calls = 0;
    map_own_memfd_and_check(ctx);
    pidfd_fail = 0;
    assert_true(pidfd_calls >= 1);
    assert_int_equal(proc_fd_opens, 1);
}

static void test_mem_map_peer_bad_descriptor_is_err_peer(void **state)
{
    void *base = (void *)0x1, *map = (void *)0x2;
    size_t maplen = 3;
    int fds_before = count_open_fds();
    int closed = 1000;

    /* A descriptor number that is not open (and high: a low free number
     * would be taken by the pidfd that prma__mem_map_peer opens itself). */
    while (fcntl(closed, F_GETFD) != -1)
        closed++;
    assert_int_equal(prma__mem_map_peer(NULL, (int)getpid(), closed, 0, 0, 4096, &base, &map,
                                        &maplen),
                     PRMA_ERR_PEER);
    /* A process that does not exist (pid_max is at most 2^22). */
    assert_int_equal(prma__mem_map_peer(NULL, 1 << 23, 3, 0, 0, 4096, &base, &map, &maplen),
                     PRMA_ERR_PEER);
    /* Outputs untouched, nothing left open. */
    assert_ptr_equal(base, (void *)0x1);
    assert_ptr_equal(map, (void *)0x2);
    assert_int_equal(maplen, 3);
    assert_int_equal(count_open_fds(), fds_before);
}

static void test_mem_map_peer_unmappable_descriptor_is_err_map(void **state)
{
    void *base = (void *)0x1, *map = (void *)0x2;
    size_t maplen = 3;
    int fds_before, pipefd[2];

    /* A descriptor that exists but is no memory: a pipe. */
    assert_int_equal(pipe(pipefd), 0);
    fds_before = count_open_fds();
    assert_int_equal(prma__mem_map_peer(NULL, (int)getpid(), pipefd[0], 0, 0, 4096, &base, &map,
                                        &maplen),
                     PRMA_ERR_MAP);
    close(pipefd[0]);
    close(pipefd[1]);
    fds_before -= 2;
    /* Outputs untouched, the duplicate closed. */
    assert_ptr_equal(base, (void *)0x1);
    assert_ptr_equal(map, (void *)0x2);
    assert_int_equal(maplen, 3);
    assert_int_equal(count_open_fds(), fds_before);
}


/* ---- what is kept for the next window ---- */

static void test_mem_pool_reuses_a_freed_segment_zeroed(void **state)
{
    prma_context_h ctx = *state;
    struct prma_mem *a, *b, *c;
    void *agent;
    uint64_t seg;
    int fd;

    assert_int_equal(prma__mem_create(ctx, 5000, &a), PRMA_OK);
    assert_int_not_equal(a->seg, 0);
    memset(a->user, 0xA5, a->maplen);
    agent = a->agent;
    seg   = a->seg;
    fd    = a->fd;
    prma__mem_destroy(a);
    /* The same length comes back: the same memory, as a fresh one would be. */
    assert_int_equal(prma__mem_create(ctx, 5001, &b), PRMA_OK);
    assert_ptr_equal(b->agent, agent);
    assert_int_equal(b->seg, seg);
    assert_int_equal(b->fd, fd);
    assert_int_equal(b->size, 5001);
    for (size_t i = 0; i < b->maplen; i++)
        if (((unsigned char *)b->user)[i] != 0)
            fail_msg("byte %zu of a reused segment is %#x", i, ((unsigned char *)b->user)[i]);
    /* Another length is another segment, with its own id. */
    assert_int_equal(prma__mem_create(ctx, 3 * b->maplen, &c), PRMA_OK);
    assert_ptr_not_equal(c->agent, b->agent);
    assert_int_not_equal(c->seg, b->seg);
    prma__mem_destroy(c);
    prma__mem_destroy(b);
}

static void test_mem_pool_gives_large_segments_back(void **state)
{
    prma_context_h ctx = *state;
    int fds_before = count_open_fds();
    struct prma_mem *big;

    assert_int_equal(prma__mem_create(ctx, (size_t)4 << 20, &big), PRMA_OK);
    prma__mem_destroy(big);
    assert_true(LIST_EMPTY(&ctx->pool));
    assert_int_equal(count_open_fds(), fds_before);
}

static void test_mem_pool_is_bounded_and_emptied_at_fini(void **state)
{
    prma_context_h ctx = *state;
    struct prma_mem *m[40];
    int fds_before = count_open_fds();

    for (int i = 0; i < 40; i++)
        assert_int_equal(prma__mem_create(ctx, (size_t)(i + 1) * 4096, &m[i]), PRMA_OK);
    for (int i = 0; i < 40; i++)
        prma__mem_destroy(m[i]);
    assert_true(ctx->npool > 0 && ctx->npool <= 16);
    assert_int_equal(count_open_fds(), fds_before + ctx->npool);
    prma__mem_fini(ctx);
    assert_int_equal(ctx->npool, 0);
    assert_int_equal(count_open_fds(), fds_before);
}

static void test_mem_map_peer_keeps_a_segment_mapped(void **state)
{
    prma_context_h ctx = *state;
    struct prma_mem *mem;
    void *base1, *map1, *base2, *map2, *base3, *map3;
    size_t len1, len2, len3;

    assert_int_equal(prma__mem_create(ctx, 8192, &mem), PRMA_OK);
    assert_int_equal(prma__mem_map_peer(ctx, (int)getpid(), mem->fd, mem->seg, 100, 50, &base1,
                                        &map1, &len1),
                     PRMA_OK);
    ((char *)base1)[0] = 0x5C;
    assert_int_equal(((char *)mem->user)[100], 0x5C);
    prma__mem_unmap_peer(ctx, map1, len1);
    /* Given back, then asked for again: the kept mapping, no system call. */
    pidfd_calls = 0;
    assert_int_equal(prma__mem_map_peer(ctx, (int)getpid(), mem->fd, mem->seg, 100, 50, &base2,
                                        &map2, &len2),
                     PRMA_OK);
    assert_int_equal(pidfd_calls, 0);
    assert_ptr_equal(map2, map1);
    assert_ptr_equal(base2, base1);
    /* Held twice at once: both uses are counted, one give-back keeps it. */
    assert_int_equal(prma__mem_map_peer(ctx, (int)getpid(), mem->fd, mem->seg, 100, 50, &base3,
                                        &map3, &len3),
                     PRMA_OK);
    assert_ptr_equal(map3, map1);
    prma__mem_unmap_peer(ctx, map3, len3);
    assert_int_equal(((char *)base2)[0], 0x5C);
    prma__mem_unmap_peer(ctx, map2, len2);
    /* Another id is another mapping. */
    assert_int_equal(prma__mem_map_peer(ctx, (int)getpid(), mem->fd, mem->seg + 1000, 100, 50,
                                        &base3, &map3, &len3),
                     PRMA_OK);
    assert_ptr_not_equal(map3, map1);
    prma__mem_unmap_peer(ctx, map3, len3);
    prma__mem_destroy(mem);
}

static void test_mem_map_peer_keeps_few_idle_mappings(void **state)
{
    prma_context_h ctx = *state;
    struct prma_mem *mem;
    void *base, *map[48];
    size_t len[48];

    assert_int_equal(prma__mem_create(ctx, 4096, &mem), PRMA_OK);
    for (int i = 0; i < 48; i++)
        assert_int_equal(prma__mem_map_peer(ctx, (int)getpid(), mem->fd, 1000 + (uint64_t)i, 0,
                                            64, &base, &map[i], &len[i]),
                         PRMA_OK);
    for (int i = 0; i < 48; i++)
        prma__mem_unmap_peer(ctx, map[i], len[i]);
    assert_int_equal(ctx->npmaps_idle, 32);
    prma__mem_fini(ctx);
    assert_null(ctx->pmaps);
    prma__mem_destroy(mem);
}

/* ---- failure ---- */

static void test_mem_alloc_huge_size_fails_cleanly(void **state)
{
    prma_context_h ctx = *state;
    static const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 1, (size_t)1 << 62 };
    int fds_before = count_open_fds();

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        void *p = (void *)0x1234;
        int status = prma_mem_alloc(ctx, sizes[i], &p);

        if (status >= 0)
            fail_msg("prma_mem_alloc(%zu) returned %d", sizes[i], status);
        assert_true(status == PRMA_ERR_NOMEM || status == PRMA_ERR_MAP);
        assert_ptr_equal(p, (void *)0x1234);  /* untouched on failure */
        assert_int_equal(count_open_fds(), fds_before);  /* memfd closed */
        assert_true(LIST_EMPTY(&ctx->mems));  /* nothing registered */
    }
    /* And the context still works. */
    {
        void *p = NULL;

        assert_int_equal(prma_mem_alloc(ctx, 8, &p), PRMA_OK);
        assert_int_equal(prma_mem_free(ctx, p), PRMA_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mem_alloc_two_views_of_same_memory, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_alloc_size_zero_gives_unique_pointer,
                                        ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_lookup_interior_not_past_end, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_owns_excludes_one_past_end, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_free_foreign_pointer_is_notfound, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_alloc_creates_no_named_object, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_map_peer_own_pid_maps_same_memory, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_map_peer_falls_back_to_proc_fd, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_map_peer_bad_descriptor_is_err_peer,
                                        ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_map_peer_unmappable_descriptor_is_err_map,
                                        ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_pool_reuses_a_freed_segment_zeroed, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_pool_gives_large_segments_back, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_pool_is_bounded_and_emptied_at_fini,
                                        ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_map_peer_keeps_a_segment_mapped, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_map_peer_keeps_few_idle_mappings, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_mem_alloc_huge_size_fails_cleanly, ctx_setup,
                                        ctx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
