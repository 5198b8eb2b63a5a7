/*
 * remap.c - memory the program allocated itself (MPI_Win_create on
 * malloc'd, stack-less anonymous memory), made mappable by same-node peers.
 *
 * Such memory is private to its process: peers could reach it only by
 * process_vm_readv/writev (a system call per access) or by handing the
 * operation to the owner. Instead, the pages that hold the window are moved
 * into a memfd in place, once, when the window is created: the pages'
 * bytes are written into the memfd (pwrite: the kernel allocates its pages
 * as it copies, no fault a page), and the memfd then replaces the pages at
 * their own addresses (mmap MAP_FIXED, an atomic replacement); it is also
 * mapped a second time for portrma (the agent view). The program sees the
 * same bytes at the same addresses; peers map the memfd as they map memory
 * portrma allocated. When the last window over those pages is freed the
 * reverse happens: fresh private pages get the bytes (pread) and replace
 * the memfd's (mremap MREMAP_FIXED), so that the memory is again what the
 * program had (an allocator may give it back with MADV_DONTNEED and count
 * on reading zeros after, which a shared mapping would not give).
 *
 * What is moved: whole pages, bytes around the window in its first and last
 * page included (they keep their contents and addresses, only their
 * mapping changes), and only pages of private, writable, anonymous
 * mappings (heap, malloc's mmap'd chunks, other anonymous memory; not the
 * main stack, not files, not memory already shared). Pages already moved
 * for another window are used again when the new window lies within them
 * (a count of windows); a window whose pages partly overlap another's
 * moved pages stays where it is (process_vm_* as before).
 *
 * Copies skip pages that read as all zeros on the way in and the memfd's
 * holes on the way back (SEEK_DATA): holes read as zeros and cost no
 * memory, so a large window mostly untouched stays so. The work goes in pieces (REMAP_CHUNK), each piece's old pages freed
 * as it is replaced, so that the memory needed never doubles.
 *
 * Other threads of the program may store into those pages meanwhile: the
 * pages are made read-only for the move, and a store that faults there
 * waits in portrma's SIGSEGV handler (guard.c's, which asks
 * prma__remap_fault()) until the move is over, then is retried on the new
 * mapping. Any other fault goes to the handler installed before. Thread
 * stacks are never moved (a thread whose frames lie in pages being moved
 * could not even take the signal): the main stack is known by name, a
 * mapping right above an inaccessible one (a thread stack's guard page) is
 * left alone unless it starts where malloc's arenas do, and the calling
 * thread's own frame must not lie in the pages.
 */
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <ucm/api/ucm.h>
#include "context.h"
#include "guard.h"
#include "log.h"
#include "portrma.h"

#define REMAP_CHUNK ((size_t)32 << 20)

/* glibc's malloc arenas other than the main one: heaps aligned to their
 * largest size (64 MiB on 64-bit machines), each followed by inaccessible
 * reserve, so that one may start right above the last one's reserve as a
 * thread stack starts right above its guard page. */
#define ARENA_ALIGN ((uintptr_t)64 << 20)

/* One move at a time in the process (and the lists of moved pages with it):
 * the range being moved, read by the fault handler (0, 0: none), and the
 * last few ranges moved, for a store that faulted during a move but whose
 * handler runs only after it. */
#define MOVED_RECENT 8
static pthread_mutex_t move_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prma_mem_list moved_all = LIST_HEAD_INITIALIZER(moved_all);  /* the process's */
static _Atomic uintptr_t moving_lo, moving_hi;
static struct {
    _Atomic uintptr_t lo, hi;
} recent[MOVED_RECENT];
static unsigned recent_next;
static __thread uintptr_t retried __attribute__((tls_model("initial-exec")));

int prma__remap_fault(uintptr_t a)
{
    if (a >= atomic_load(&moving_lo) && a < atomic_load(&moving_hi)) {
        while (atomic_load(&moving_hi) != 0)
            sched_yield();
        retried = a;
        return 1;  /* retried on the new mapping */
    }
    /* Once per address: a second fault there is not the move's. */
    for (int i = 0; i < MOVED_RECENT && retried != a; i++) {
        if (a >= atomic_load(&recent[i].lo) && a < atomic_load(&recent[i].hi)) {
            retried = a;
            return 1;
        }
    }
    return 0;
}

/* Begin moving [lo, lo + len): stores there wait from now on (the pages
 * read-only, the handler in place). Nonzero on failure (nothing changed).
 * NOTE: caller holds move_lock. */
static int move_begin(uintptr_t lo, size_t len)
{
    prma__segv_install();
    atomic_store(&moving_lo, lo);
    atomic_store(&moving_hi, lo + len);
    if (mprotect((void *)lo, len, PROT_READ) != 0) {
        prma_debug("cannot protect %zu bytes to move them: %s", len, strerror(errno));
        atomic_store(&moving_hi, 0);
        atomic_store(&moving_lo, 0);
        return -1;
    }
    return 0;
}

/* End a move: stores waiting go on (to the new mapping). */
static void move_end(void)
{
    unsigned i = recent_next++ % MOVED_RECENT;

    atomic_store(&recent[i].hi, 0);
    atomic_store(&recent[i].lo, atomic_load(&moving_lo));
    atomic_store(&recent[i].hi, atomic_load(&moving_hi));
    atomic_store(&moving_hi, 0);
    atomic_store(&moving_lo, 0);
}

/* mremap fresh's n bytes onto at, replacing what was there. The system
 * call itself: some libraries' hooks on mremap drop its fifth argument
 * (UCX's memory hooks do): the caller tells UCX's registration caches. */
static int move_pages_to(void *fresh, size_t n, uintptr_t at)
{
    return syscall(SYS_mremap, fresh, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)at) ==
                   (long)at
               ? 0
               : -1;
}

/* Reads the whole page, the program's bytes around its window included:
 * not checked in a build with AddressSanitizer, whose redzones and freed
 * chunks it may cross on purpose. */
__attribute__((no_sanitize_address)) static int page_is_zero(const char *p, size_t page)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t any = 0;

    for (size_t i = 0; i < page / sizeof(*w); i += 8) {
        any |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
               w[i + 7];
        if (any != 0)
            return 0;
    }
    return 1;
}

/* All len bytes between buf and fd at off: pwrite (write) or pread, again
 * after a short or interrupted call. Nonzero on failure.
 * The system calls themselves, not libc's functions: whole pages move, the
 * program's bytes around its window and its freed memory included, and a
 * program built with AddressSanitizer intercepts pwrite and pread to check
 * every byte they touch (it stopped at the first redzone or freed chunk of
 * the page; measured with an instrumented MPI_Win_create on malloc'd
 * memory). */
static int fd_io(int fd, char *buf, size_t len, off_t off, int write)
{
    for (size_t done = 0; done < len;) {
        ssize_t r = syscall(write ? SYS_pwrite64 : SYS_pread64, fd, buf + done, len - done,
                            off + (off_t)done);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Write the pages of [from, from + len) that are not all zeros into fd at
 * off (whose pages are holes), each run of them in one call: the kernel
 * allocates the memfd's pages as it copies, without a fault a page.
 * Nonzero on failure. */
static int write_nonzero(int fd, const char *from, size_t len, off_t off, size_t page)
{
    for (size_t i = 0, j; i < len; i = j) {
        if (page_is_zero(from + i, page)) {
            j = i + page;
            continue;
        }
        for (j = i + page; j < len && !page_is_zero(from + j, page); j += page)
            ;
        if (fd_io(fd, (char *)from + i, j - i, off + (off_t)i, 1) != 0)
            return -1;
    }
    return 0;
}

/* Linux 6.11's query of one mapping by address (an ioctl on
 * /proc/self/maps; the layout is the kernel's ABI), so that a window need
 * not have the kernel print every mapping of the process: in a process of
 * an MPI library that text runs to tens of KiB and took about 0.4 ms. */
struct maps_query {
    uint64_t size;
    uint64_t query_flags;
    uint64_t query_addr;
    uint64_t vma_start;
    uint64_t vma_end;
    uint64_t vma_flags;
    uint64_t vma_page_size;
    uint64_t vma_offset;
    uint64_t inode;
    uint32_t dev_major;
    uint32_t dev_minor;
    uint32_t vma_name_size;
    uint32_t build_id_size;
    uint64_t vma_name_addr;
    uint64_t build_id_addr;
};

#define MAPS_QUERY     _IOWR('f', 17, struct maps_query)
#define MAPS_READABLE  0x1u
#define MAPS_WRITABLE  0x2u
#define MAPS_EXEC      0x4u
#define MAPS_SHARED    0x8u

/* The names a mapping that may move can have (none, the heap's, or one
 * given to anonymous memory). */
static int movable_name(const char *name)
{
    return name[0] == '\0' || strcmp(name, "[heap]") == 0 || strncmp(name, "[anon:", 6) == 0;
}

/* Does a mapping that starts at start sit right above an inaccessible one
 * (below_none, ending at below_end): a thread stack above its guard page?
 * Not where malloc's arenas start. */
static int above_guard(uintptr_t start, int below_none, uintptr_t below_end)
{
    return below_none && below_end == start && (start & (ARENA_ALIGN - 1)) != 0;
}

/* Is the mapping that holds a as one that may move (rw-p, anonymous,
 * movable_name)? *m gets it. 1 yes, 0 no, -1 when the kernel cannot say
 * (no such ioctl). */
static int query_one(int fd, uintptr_t a, struct maps_query *m)
{
    char name[64];

    memset(m, 0, sizeof(*m));
    m->size          = sizeof(*m);
    m->query_addr    = a;
    m->vma_name_addr = (uint64_t)(uintptr_t)name;
    m->vma_name_size = sizeof(name);
    name[0]          = '\0';
    if (ioctl(fd, MAPS_QUERY, m) != 0)
        return errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP ? -1 : 0;
    if (m->vma_name_size == 0)
        name[0] = '\0';
    return (m->vma_flags & (MAPS_READABLE | MAPS_WRITABLE | MAPS_EXEC | MAPS_SHARED)) ==
               (MAPS_READABLE | MAPS_WRITABLE) &&
           m->inode == 0 && movable_name(name);
}

/* movable() by queries: -1 when the kernel has none. */
static int movable_queried(int fd, uintptr_t lo, uintptr_t hi)
{
    struct maps_query m, below;
    int ok;

    for (uintptr_t at = lo; at < hi; at = (uintptr_t)m.vma_end) {
        if ((ok = query_one(fd, at, &m)) != 1)
            return ok;
        if (m.vma_start > 0 && (m.vma_start & (ARENA_ALIGN - 1)) != 0) {
            memset(&below, 0, sizeof(below));
            below.size       = sizeof(below);
            below.query_addr = m.vma_start - 1;
            if (ioctl(fd, MAPS_QUERY, &below) == 0 &&
                above_guard((uintptr_t)m.vma_start,
                            (below.vma_flags & (MAPS_READABLE | MAPS_WRITABLE | MAPS_EXEC)) == 0,
                            (uintptr_t)below.vma_end))
                return 0;
        }
    }
    return 1;
}

int prma__remap_maps_text;

/* Does every byte of [lo, hi) lie in private, writable, anonymous mappings
 * (per /proc/self/maps) other than the main stack and thread stacks? */
static int movable(uintptr_t lo, uintptr_t hi)
{
    uintptr_t covered = lo, prev_end = 0;
    int prev_none = 0;
    size_t cap = 1 << 16, used = 0;
    char *text, *line, *next;
    ssize_t n;
    int fd, ok = 0;

    fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (!prma__remap_maps_text && (ok = movable_queried(fd, lo, hi)) >= 0) {
        close(fd);
        return ok;
    }
    /* An older kernel: read the whole text. */
    text = malloc(cap + 1);
    while (text != NULL) {
        n = read(fd, text + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == cap) {
            char *more = realloc(text, 2 * cap + 1);

            if (more == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = more;
            cap *= 2;
        }
    }
    close(fd);
    if (text == NULL)
        return 0;
    text[used] = '\0';
    for (line = text; line != NULL && *line != '\0' && covered < hi; line = next) {
        unsigned long start, end, inode;
        char perms[8], name[32];
        int fields;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        name[0] = '\0';
        fields  = sscanf(line, "%lx-%lx %7s %*s %*s %lu %31s", &start, &end, perms, &inode,
                         name);
        if (fields < 4)
            continue;
        if (end > covered) {
            if (start > covered || strcmp(perms, "rw-p") != 0 || inode != 0 ||
                above_guard(start, prev_none, prev_end) || !movable_name(name))
                break;
            covered = end;
        }
        prev_none = strncmp(perms, "---", 3) == 0;
        prev_end  = end;
    }
    ok = covered >= hi;
    free(text);
    return ok;
}

/* Pages already moved that hold [lo, hi), or NULL; *overlap_p set when
 * some moved pages overlap it only in part. NOTE: caller holds move_lock. */
static struct prma_mem *moved_find(uintptr_t lo, uintptr_t hi, int *overlap_p)
{
    struct prma_mem *mem;

    *overlap_p = 0;
    LIST_FOREACH(mem, &moved_all, link) {
        uintptr_t u = (uintptr_t)mem->user;

        if (lo >= u && hi <= u + mem->maplen)
            return mem;
        if (lo < u + mem->maplen && hi > u)
            *overlap_p = 1;
    }
    return NULL;
}

/* Read what fd holds at [off, off + len) into to (fresh zero pages):
 * only the parts that have data (a hole reads as zeros already), each in
 * one call. Nonzero on failure. */
static int read_data(int fd, char *to, size_t len, off_t off)
{
    off_t end = off + (off_t)len, at = off;

    while (at < end) {
        off_t data = lseek(fd, at, SEEK_DATA), hole;

        if (data < 0)
            return errno == ENXIO ? 0 : -1;  /* ENXIO: no data past at */
        if (data >= end)
            return 0;
        hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            return -1;
        if (hole > end)
            hole = end;
        if (fd_io(fd, to + (data - off), (size_t)(hole - data), data, 0) != 0)
            return -1;
        at = hole;
    }
    return 0;
}

/* Give [lo, lo + len), pages moved into fd, back to private pages with
 * their bytes, piece by piece; returns how many bytes went back (len
 * unless a piece failed: the rest stays the memfd's).
 * NOTE: within a move (move_begin). */
static size_t move_back(uintptr_t lo, int fd, size_t len)
{
    size_t done, n;

    for (done = 0; done < len; done += n) {
        void *fresh;

        n     = len - done < REMAP_CHUNK ? len - done : REMAP_CHUNK;
        fresh = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fresh == MAP_FAILED)
            break;
        if (read_data(fd, fresh, n, (off_t)done) != 0 || move_pages_to(fresh, n, lo + done) != 0) {
            munmap(fresh, n);
            break;
        }
    }
    /* Registrations of the memfd's pages there are stale now. */
    ucm_vm_munmap((void *)lo, done);
    return done;
}

/* Move [lo, lo + len) into a new memfd; *mem_p the result. */
static int move_in(struct prma_context *ctx, uintptr_t lo, size_t len, struct prma_mem **mem_p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), done = 0;
    struct prma_mem *mem;
    int fd;

    mem = calloc(1, sizeof(*mem));
    if (mem == NULL)
        return PRMA_ERR_NOMEM;
    fd = memfd_create("portrma", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
        prma_debug("no memfd of %zu bytes to move a window into: %s", len, strerror(errno));
        goto err_fd;
    }
    mem->agent = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem->agent == MAP_FAILED) {
        prma_debug("mapping %zu bytes to move a window into failed: %s", len, strerror(errno));
        goto err_fd;
    }
    prma__topo_bind_area(ctx, mem->agent, len);
    if (move_begin(lo, len) != 0)
        goto err_unmap;
    for (size_t n; done < len; done += n) {
        n = len - done < REMAP_CHUNK ? len - done : REMAP_CHUNK;
        if (write_nonzero(fd, (const char *)(lo + done), n, (off_t)done, page) != 0) {
            prma_warn("copying window memory into a memfd failed: %s", strerror(errno));
            break;
        }
        if (mmap((void *)(lo + done), n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                 (off_t)done) == MAP_FAILED) {
            prma_warn("moving window memory into a memfd failed: %s", strerror(errno));
            break;
        }
    }
    if (done < len) {
        /* Back, what had moved; the rest never did: writable again. */
        size_t moved = done, back = move_back(lo, fd, moved);

        mprotect((void *)(lo + moved), len - moved, PROT_READ | PROT_WRITE);
        if (back < moved) {
            /* Still the memfd's there: shared, but the program's bytes. */
            mprotect((void *)(lo + back), moved - back, PROT_READ | PROT_WRITE);
        }
        move_end();
        goto err_unmap;
    }
    move_end();
    ucm_vm_munmap((void *)lo, len);  /* the program's pages there are gone */
    mem->user   = (void *)lo;
    mem->size   = len;
    mem->maplen = len;
    mem->fd     = fd;
    mem->refs   = 1;
    *mem_p = mem;
    return PRMA_OK;

err_unmap:
    munmap(mem->agent, len);
err_fd:
    if (fd >= 0)
        close(fd);
    free(mem);
    return PRMA_EASYNC;
}

/* Give the pages of mem back to private memory with their bytes. */
static void move_out(struct prma_mem *mem)
{
    size_t len = mem->maplen, done;
    uintptr_t lo = (uintptr_t)mem->user;

    if (move_begin(lo, len) == 0) {
        done = move_back(lo, mem->fd, len);
        if (done < len) {
            prma_warn("%zu bytes of window memory stay in a shared mapping after the "
                      "window: %s", len - done, strerror(errno));
            mprotect((void *)(lo + done), len - done, PROT_READ | PROT_WRITE);
        }
        move_end();
    } else {
        prma_warn("%zu bytes of window memory stay in a shared mapping after the window",
                  len);
    }
    munmap(mem->agent, len);
    close(mem->fd);
    free(mem);
}

int prma__mem_remap(struct prma_context *ctx, void *base, size_t size, struct prma_mem **mem_p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo, hi, here = (uintptr_t)__builtin_frame_address(0);
    struct prma_mem *mem;
    int overlap, status = PRMA_OK;

    if (size == 0 || (uintptr_t)base > UINTPTR_MAX - size - page)
        return PRMA_EASYNC;
    lo = (uintptr_t)base & ~(uintptr_t)(page - 1);
    hi = ((uintptr_t)base + size + page - 1) & ~(uintptr_t)(page - 1);
    pthread_mutex_lock(&move_lock);
    mem = moved_find(lo, hi, &overlap);
    if (mem != NULL)
        mem->refs++;
    else if (overlap || (here >= lo && here < hi) || !movable(lo, hi))
        status = PRMA_EASYNC;
    else if ((status = move_in(ctx, lo, hi - lo, &mem)) == PRMA_OK)
        LIST_INSERT_HEAD(&moved_all, mem, link);
    pthread_mutex_unlock(&move_lock);
    if (status == PRMA_OK)
        *mem_p = mem;
    return status;
}

void prma__mem_unremap(struct prma_mem *mem)
{
    pthread_mutex_lock(&move_lock);
    if (--mem->refs == 0) {
        LIST_REMOVE(mem, link);
        move_out(mem);
    }
    pthread_mutex_unlock(&move_lock);
}
