/*
 * dynamic.c - dynamic windows (MPI_Win_create_dynamic, MPI_Win_attach,
 * MPI_Win_detach): each member attaches and detaches any number of regions
 * of its own memory, at any time.
 *
 * Addressing. A target displacement is an absolute address in the target
 * (displacement unit 1: what MPI_Get_address gives), and the window's ports
 * see a base of 0, so a message's ms_offset is the target's virtual
 * address. The self port copies at that address, the shm-cma port hands it
 * to process_vm_writev/readv, and the ucx port to ucp_put_nbx/ucp_get_nbx
 * with the key of the region that holds it (ms_rkey). None of them needs
 * anything from the target.
 *
 * The region table. Each member publishes what it has attached in memory
 * that its peers read without its help, in two parts:
 *   head  one page, made with the window and never moved: a generation
 *         counter, the number of regions, and where the body is (its memfd,
 *         address, size and packed UCX key);
 *   body  one record per region, of a fixed stride: {base, len, serial,
 *         key_len} and the region's packed UCX key. A full body is replaced
 *         by one twice as large; old bodies stay until the window is freed,
 *         because a reader may still be reading one.
 * Both are unnamed memfds (mem.c). Same-host peers behind a shm port map
 * them (the descriptors duplicated by pid, as for the control block); the
 * others read them with UCX gets through their ucx port (the head's key is
 * exchanged at creation, the body's is in the head). The generation is a
 * sequence lock: odd while the owner changes the table, two more after
 * every change, so a reader that sees the same even value before and after
 * its reads holds a consistent copy.
 *
 * Attach registers the region with UCX when the process has UCX (and packs
 * its key into the record) and bumps the generation; detach moves the last
 * record into the hole, bumps the generation, and unregisters. Regions may
 * not overlap (MPI calls that erroneous): such an attach is refused with
 * PRMA_ERR_RMA_ATTACH, so a detach by base never has two candidates.
 *
 * The cache, and when it is refreshed. An origin keeps a copy of each
 * target's table, made on its first access to that target: the regions
 * sorted by base, their keys unpacked. The region lookup
 * (prma__dyn_region) reads it again only when the generation has moved,
 * and reads the generation
 *   - for this process and same-host peers: on every access (one load);
 *   - for targets behind a ucx port (one UCX round trip): on the first
 *     access after every synchronization that opens an access epoch
 *     (fence, start, lock, lock_all) or orders memory (win_sync), and
 *     after a miss.
 * MPI requires an attach to be ordered before a peer's access by some
 * synchronization, so a copy checked since the last one knows every region
 * the access may use; a miss on a copy that is older than that is checked
 * again at once. An access that no region of the (checked) table holds
 * whole - an address never attached, a range running past a region's end,
 * even into a neighbouring region - is PRMA_ERR_RMA_RANGE and writes
 * nothing. In a PSCW epoch an access waits for its target's post before
 * the lookup (MPI lets start wait for the posts), so that it checks what
 * the target attached before it posted.
 *
 * A key that leaves a copy (its region was detached) is destroyed at the
 * next synchronization of the window with nothing in flight, not at once:
 * an operation of another thread may still hold it.
 *
 * NOTE: threading. dyn->lock guards the owner's regions and table writes,
 * every copy's entries and generation, and the retired keys; nothing under
 * it waits for another process. A copy's refresh mutex serializes its
 * refreshes, which read a remote table with UCX gets: its holder drives the
 * UCX worker itself and waits for no other thread of this process.
 */
#include "dynamic.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "context.h"
#include "log.h"
#include "mem.h"
#include "port.h"
#include "settings.h"
#include "transport/ucx.h"
#include "wait.h"
#include "win.h"

#define DYN_HEAD_SIZE 4096u       /* the head memfd */
#define DYN_FIRST_CAP 16u         /* records in a member's first body */
#define DYN_NEVER     UINT64_MAX  /* a copy's generation before its first read */

/* The head of a member's table. Written by its owner only, inside the
 * sequence lock; read by everyone. */
struct dyn_head {
    uint64_t gen;           /* the sequence lock: odd while the owner changes
                               the table, two more after each change */
    uint64_t count;         /* regions: records in the body */
    uint64_t stride;        /* bytes per record */
    uint64_t body_serial;   /* which body is current; 0: none yet */
    uint64_t body_addr;     /* the body in its owner (for UCX) */
    uint64_t body_size;     /* its bytes (its memfd's size) */
    int32_t  body_fd;       /* its memfd in the owner (for same-host peers) */
    uint32_t body_key_len;  /* its packed UCX key, right after this struct */
    uint64_t pad;
};

#define DYN_KEY_MAX (DYN_HEAD_SIZE - sizeof(struct dyn_head))
#define DYN_GEN_OFF ((uint64_t)offsetof(struct dyn_head, gen))

/* A record of the body: one attached region; its packed UCX key follows. */
struct dyn_rec {
    uint64_t base;
    uint64_t len;
    uint64_t serial;   /* unique per attach in this window: an origin keeps a
                          region's unpacked key while the serial stays */
    uint32_t key_len;
    int32_t  memfd;    /* the memfd that holds the region in its owner (same-host
                          peers map it), or -1 */
    uint64_t mem_off;  /* where the region starts in it */
};

/* A body of the owner's table, and the ones it replaced. */
struct dyn_body {
    struct prma_mem *mem;
    void            *memh;     /* its UCX registration, or NULL */
    void            *key;      /* its packed key */
    size_t           key_len;
    uint64_t         serial;
    size_t           cap;      /* records it holds */
    size_t           stride;
    struct dyn_body *older;
};

/* A region this process attached, in the order of its records. */
struct dyn_region {
    uint64_t         base;
    uint64_t         len;
    uint64_t         serial;
    void            *memh;     /* its UCX registration, or NULL */
    void            *key;      /* its packed key */
    size_t           key_len;
    int              memfd;    /* the memfd that holds it, or -1 */
    uint64_t         mem_off;
    struct prma_mem *moved;    /* the program's pages moved for it (remap.c), or NULL */
};

/* What each member tells the others about its table at creation. */
struct dyn_hello {
    uint64_t head_addr;  /* the head, for UCX */
    int32_t  head_fd;    /* its memfd, for same-host peers */
    uint32_t key_len;    /* its packed UCX key; 0 without UCX */
};

enum dyn_kind {
    DYN_SELF,    /* this process: its own regions */
    DYN_MAPPED,  /* a same-host peer behind a shm port: its table mapped here */
    DYN_PORT,    /* any other peer: its table read by gets through its port */
};

/* One region as an origin knows it. */
struct dyn_entry {
    uint64_t base;
    uint64_t len;
    uint64_t serial;
    void    *rkey;     /* DYN_PORT: the region's unpacked key (ucp_rkey_h) */
    int      memfd;    /* DYN_MAPPED: the owner's memfd that holds it, or -1 */
    uint64_t mem_off;
    char    *at;       /* DYN_MAPPED: the region mapped here (its first byte), made
                          on first use; NULL: not yet */
    void    *map;      /* what to unmap */
    size_t   maplen;
};

/* A mapping made to read a peer's table, undone with the window. */
struct dyn_map {
    void           *map;
    size_t          len;
    struct dyn_map *next;
};

/* An origin's copy of one target's table. */
struct dyn_cache {
    enum dyn_kind          kind;
    int                    target;
    pthread_mutex_t        refresh;   /* serializes refreshes (NOTE above) */
    _Atomic unsigned long  checked;   /* DYN_PORT: dyn->syncs when last checked */
    /* under dyn->lock */
    uint64_t               gen;       /* generation the entries were read at */
    struct dyn_entry      *ents;      /* [n], by base */
    size_t                 n;
    /* how the table is read: set at creation, or under refresh */
    const struct dyn_head *head;      /* SELF, MAPPED: the head here */
    void                  *head_rkey; /* PORT: the head's key (ucp_rkey_h) */
    const char            *body;      /* MAPPED: the current body here */
    void                  *body_rkey; /* PORT: its key */
    uint64_t               body_serial;
    uint64_t               body_addr;
    uint64_t               body_size;
    struct dyn_map        *maps;      /* MAPPED */
    char                  *buf;       /* the records as last read */
    size_t                 buflen;
};

struct prma_dyn {
    pthread_mutex_t        lock;      /* NOTE above */
    _Atomic unsigned long  syncs;     /* synchronizations so far (prma__dyn_synced) */
    /* the owner's side */
    struct prma_mem       *head_mem;
    struct dyn_head       *head;      /* its agent view */
    void                  *head_memh;
    void                  *head_key;
    size_t                 head_key_len;
    struct dyn_body       *body;      /* current; older ones chained to it */
    uint64_t               nbodies;
    struct dyn_region     *regions;   /* [nregions], the order of the records */
    size_t                 nregions;
    size_t                 capregions;
    uint64_t               serials;
    /* what every member published */
    int                    size;
    struct dyn_hello      *hellos;    /* [size] */
    char                  *keys;      /* [size * key_slot]: packed head keys */
    size_t                 key_slot;
    /* the origin's side */
    struct dyn_cache     **caches;    /* [size], made on first access */
    void                 **retired;   /* unpacked keys to destroy at a quiet time */
    size_t                 nretired;
    size_t                 capretired;
};

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static _Atomic uint64_t *gen_word(const struct dyn_head *head)
{
    return (_Atomic uint64_t *)&head->gen;
}

/* ---- the owner's table ----------------------------------------------- */

/* Open and close a change of the table (the sequence lock's writer side).
 * NOTE: caller holds dyn->lock. */
static void table_begin(struct prma_dyn *dyn)
{
    uint64_t gen = atomic_load_explicit(gen_word(dyn->head), memory_order_relaxed);

    atomic_store_explicit(gen_word(dyn->head), gen + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
}

static void table_end(struct prma_dyn *dyn)
{
    uint64_t gen = atomic_load_explicit(gen_word(dyn->head), memory_order_relaxed);

    atomic_store_explicit(gen_word(dyn->head), gen + 1, memory_order_release);
}

static char *body_rec(const struct dyn_body *body, size_t i)
{
    return (char *)body->mem->agent + i * body->stride;
}

static void rec_write(char *at, const struct dyn_region *r)
{
    struct dyn_rec rec;

    memset(&rec, 0, sizeof(rec));
    rec.base    = r->base;
    rec.len     = r->len;
    rec.serial  = r->serial;
    rec.key_len = (uint32_t)r->key_len;
    rec.memfd   = r->memfd;
    rec.mem_off = r->mem_off;
    memcpy(at, &rec, sizeof(rec));
    if (r->key_len > 0)
        memcpy(at + sizeof(rec), r->key, r->key_len);
}

/* Make room in the body for one more record whose key has key_len bytes: a
 * new body, with twice the records or wider ones, when the current one
 * cannot take it. NOTE: caller holds dyn->lock. */
static int body_room(struct prma_win *win, size_t key_len)
{
    struct prma_dyn *dyn = win->dyn;
    struct prma_ucx *ucx = win->ctx->ucx;
    struct dyn_body *old = dyn->body, *body;
    size_t stride = sizeof(struct dyn_rec) + round8(key_len), cap = DYN_FIRST_CAP;
    int status;

    if (old != NULL) {
        if (dyn->nregions < old->cap && stride <= old->stride)
            return PRMA_OK;
        stride = stride > old->stride ? stride : old->stride;
        cap    = dyn->nregions < old->cap ? old->cap : 2 * old->cap;
    }
    if (cap > SIZE_MAX / stride)
        return PRMA_ERR_NOMEM;
    body = calloc(1, sizeof(*body));
    if (body == NULL)
        return PRMA_ERR_NOMEM;
    status = prma__mem_create(win->ctx, cap * stride, &body->mem);
    if (status != PRMA_OK)
        goto err_free;
    if (ucx != NULL) {
        status = prma__ucx_mem_map(ucx, body->mem->agent, body->mem->maplen,
                                   (ucp_mem_h *)&body->memh, &body->key, &body->key_len);
        if (status != PRMA_OK)
            goto err_mem;
        if (body->key_len > DYN_KEY_MAX) {
            prma_error("the UCX key of a region table (%zu bytes) is too large for its head",
                       body->key_len);
            status = PRMA_ERR_UCX_RESOURCE;
            goto err_unmap;
        }
    }
    body->cap    = cap;
    body->stride = stride;
    body->serial = ++dyn->nbodies;
    for (size_t i = 0; old != NULL && i < dyn->nregions; i++)
        memcpy(body_rec(body, i), body_rec(old, i), old->stride);
    body->older = old;
    dyn->body   = body;

    table_begin(dyn);
    dyn->head->stride       = stride;
    dyn->head->body_serial  = body->serial;
    dyn->head->body_addr    = (uint64_t)(uintptr_t)body->mem->agent;
    dyn->head->body_size    = body->mem->maplen;
    dyn->head->body_fd      = body->mem->fd;
    dyn->head->body_key_len = (uint32_t)body->key_len;
    if (body->key_len > 0)
        memcpy(dyn->head + 1, body->key, body->key_len);
    table_end(dyn);
    return PRMA_OK;

err_unmap:
    prma__ucx_mem_unmap(ucx, body->memh, body->key);
err_mem:
    prma__mem_destroy(body->mem);
err_free:
    free(body);
    return status;
}

/* Does region r overlap [base, base + len), or start at base? A region of
 * no bytes counts as its first byte. */
static int region_overlaps(const struct dyn_region *r, uint64_t base, uint64_t len)
{
    uint64_t r_last = r->base + (r->len > 0 ? r->len - 1 : 0);
    uint64_t last   = base + (len > 0 ? len - 1 : 0);

    return base <= r_last && r->base <= last;
}

/* Where a region lives: in a memfd portrma allocated (MPI_Alloc_mem), or
 * in the program's own pages, moved into one for it when the window may
 * (remap.c); else nowhere a peer can map (memfd -1). */
static void region_memory(struct prma_win *win, struct dyn_region *r)
{
    struct prma_mem *mem;

    r->memfd = -1;
    if (r->len == 0)
        return;
    mem = prma__win_memfd(win, (void *)(uintptr_t)r->base, r->len, 1, &r->moved);
    if (mem != NULL) {
        r->memfd   = mem->fd;
        r->mem_off = r->base - (uint64_t)(uintptr_t)mem->user;
    }
}

int prma_win_attach(prma_win_h win, void *base, size_t len)
{
    struct prma_dyn *dyn = win->dyn;
    struct prma_ucx *ucx = win->ctx->ucx;
    struct dyn_region r, *grown;
    int status = PRMA_OK;

    if (win->flavor != PRMA_WIN_FLAVOR_DYNAMIC || dyn == NULL)
        return PRMA_ERR_RMA_FLAVOR;
    if ((len > 0 && base == NULL) || (uintptr_t)base > UINTPTR_MAX - len)
        return PRMA_ERR_ARG;
    memset(&r, 0, sizeof(r));
    r.base = (uint64_t)(uintptr_t)base;
    r.len  = len;
    pthread_mutex_lock(&dyn->lock);
    for (size_t i = 0; i < dyn->nregions; i++) {
        if (region_overlaps(&dyn->regions[i], r.base, r.len)) {
            prma_debug("attaching %zu bytes at %p: they overlap the region of %" PRIu64
                       " bytes at %#" PRIx64, len, base, dyn->regions[i].len,
                       dyn->regions[i].base);
            status = PRMA_ERR_RMA_ATTACH;
            goto out;
        }
    }
    if (dyn->nregions == dyn->capregions) {
        size_t cap = dyn->capregions > 0 ? 2 * dyn->capregions : DYN_FIRST_CAP;

        grown = realloc(dyn->regions, cap * sizeof(*grown));
        if (grown == NULL) {
            status = PRMA_ERR_NOMEM;
            goto out;
        }
        dyn->regions    = grown;
        dyn->capregions = cap;
    }
    region_memory(win, &r);
    if (ucx != NULL && len > 0) {
        status = prma__ucx_mem_map(ucx, base, len, (ucp_mem_h *)&r.memh, &r.key, &r.key_len);
        if (status != PRMA_OK)
            goto err;
    }
    status = body_room(win, r.key_len);
    if (status != PRMA_OK) {
        if (r.memh != NULL || r.key != NULL)
            prma__ucx_mem_unmap(ucx, r.memh, r.key);
        goto err;
    }
    r.serial = ++dyn->serials;
    table_begin(dyn);
    rec_write(body_rec(dyn->body, dyn->nregions), &r);
    dyn->head->count = dyn->nregions + 1;
    table_end(dyn);
    dyn->regions[dyn->nregions++] = r;
out:
    pthread_mutex_unlock(&dyn->lock);
    return status;

err:
    if (r.moved != NULL)
        prma__mem_unremap(r.moved);
    goto out;
}

int prma_win_detach(prma_win_h win, const void *base)
{
    struct prma_dyn *dyn = win->dyn;
    struct dyn_region r;
    size_t i, last;

    if (win->flavor != PRMA_WIN_FLAVOR_DYNAMIC || dyn == NULL)
        return PRMA_ERR_RMA_FLAVOR;
    pthread_mutex_lock(&dyn->lock);
    for (i = 0; i < dyn->nregions && dyn->regions[i].base != (uint64_t)(uintptr_t)base; i++)
        ;
    if (i == dyn->nregions) {
        pthread_mutex_unlock(&dyn->lock);
        prma_debug("detaching %p: no region is attached there", base);
        return PRMA_ERR_NOTFOUND;
    }
    r    = dyn->regions[i];
    last = dyn->nregions - 1;
    table_begin(dyn);
    if (i != last)
        memcpy(body_rec(dyn->body, i), body_rec(dyn->body, last), dyn->body->stride);
    dyn->head->count = last;
    table_end(dyn);
    dyn->regions[i] = dyn->regions[last];
    dyn->nregions   = last;
    pthread_mutex_unlock(&dyn->lock);
    /* Gone from the table first: no origin that reads it now finds the
     * region (one that still uses an old copy accesses detached memory,
     * which MPI calls erroneous). */
    if (r.memh != NULL || r.key != NULL)
        prma__ucx_mem_unmap(win->ctx->ucx, r.memh, r.key);
    if (r.moved != NULL)
        prma__mem_unremap(r.moved);
    return PRMA_OK;
}

/* ---- creation and teardown --------------------------------------------- */

/* Unmap what an entry mapped. */
static void entry_unmap(struct prma_context *ctx, struct dyn_entry *e)
{
    if (e->map != NULL)
        prma__mem_unmap_peer(ctx, e->map, e->maplen);
    e->map = NULL;
    e->at  = NULL;
}

static void cache_free(struct prma_context *ctx, struct dyn_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->ents[i].rkey != NULL)
            ucp_rkey_destroy(c->ents[i].rkey);
        entry_unmap(ctx, &c->ents[i]);
    }
    if (c->head_rkey != NULL)
        ucp_rkey_destroy(c->head_rkey);
    if (c->body_rkey != NULL)
        ucp_rkey_destroy(c->body_rkey);
    while (c->maps != NULL) {
        struct dyn_map *m = c->maps;

        c->maps = m->next;
        munmap(m->map, m->len);
        free(m);
    }
    pthread_mutex_destroy(&c->refresh);
    free(c->ents);
    free(c->buf);
    free(c);
}

/* Release the owner's table and regions and every copy. */
static void dyn_close(struct prma_context *ctx, struct prma_dyn *dyn)
{
    for (int i = 0; dyn->caches != NULL && i < dyn->size; i++)
        if (dyn->caches[i] != NULL)
            cache_free(ctx, dyn->caches[i]);
    for (size_t i = 0; i < dyn->nretired; i++)
        ucp_rkey_destroy(dyn->retired[i]);
    for (size_t i = 0; i < dyn->nregions; i++) {
        if (dyn->regions[i].memh != NULL || dyn->regions[i].key != NULL)
            prma__ucx_mem_unmap(ctx->ucx, dyn->regions[i].memh, dyn->regions[i].key);
        if (dyn->regions[i].moved != NULL)
            prma__mem_unremap(dyn->regions[i].moved);
    }
    while (dyn->body != NULL) {
        struct dyn_body *body = dyn->body;

        dyn->body = body->older;
        if (body->memh != NULL || body->key != NULL)
            prma__ucx_mem_unmap(ctx->ucx, body->memh, body->key);
        prma__mem_destroy(body->mem);
        free(body);
    }
    if (dyn->head_memh != NULL || dyn->head_key != NULL)
        prma__ucx_mem_unmap(ctx->ucx, dyn->head_memh, dyn->head_key);
    if (dyn->head_mem != NULL)
        prma__mem_destroy(dyn->head_mem);
    pthread_mutex_destroy(&dyn->lock);
    free(dyn->retired);
    free(dyn->regions);
    free(dyn->hellos);
    free(dyn->keys);
    free(dyn->caches);
    free(dyn);
}

/* This process's side of a new dynamic window: an empty table (its head),
 * registered with UCX when the process has UCX. */
static int dyn_open(struct prma_context *ctx, int size, struct prma_dyn **dyn_p)
{
    struct prma_dyn *dyn = calloc(1, sizeof(*dyn));
    int status;

    if (dyn == NULL)
        return PRMA_ERR_NOMEM;
    pthread_mutex_init(&dyn->lock, NULL);
    atomic_init(&dyn->syncs, 0);
    dyn->size   = size;
    dyn->hellos = calloc((size_t)size, sizeof(*dyn->hellos));
    dyn->caches = calloc((size_t)size, sizeof(*dyn->caches));
    if (dyn->hellos == NULL || dyn->caches == NULL) {
        status = PRMA_ERR_NOMEM;
        goto err;
    }
    status = prma__mem_create(ctx, DYN_HEAD_SIZE, &dyn->head_mem);
    if (status != PRMA_OK)
        goto err;
    dyn->head = dyn->head_mem->agent;
    if (ctx->ucx != NULL) {
        status = prma__ucx_mem_map(ctx->ucx, dyn->head, dyn->head_mem->maplen,
                                   (ucp_mem_h *)&dyn->head_memh, &dyn->head_key,
                                   &dyn->head_key_len);
        if (status != PRMA_OK)
            goto err;
    }
    *dyn_p = dyn;
    return PRMA_OK;

err:
    dyn_close(ctx, dyn);
    return status;
}

/* Tell every member where this process's table is, and learn theirs. */
static int dyn_exchange(struct prma_win *win)
{
    struct prma_dyn *dyn = win->dyn;
    struct dyn_hello me;
    char *mine;

    memset(&me, 0, sizeof(me));
    me.head_addr = (uint64_t)(uintptr_t)dyn->head;
    me.head_fd   = dyn->head_mem->fd;
    me.key_len   = (uint32_t)dyn->head_key_len;
    if (win->coll.allgather(win->coll.arg, &me, dyn->hellos, sizeof(me)) != 0) {
        prma_error("exchanging region table descriptions failed");
        return PRMA_ERR_BOOTSTRAP;
    }
    for (int i = 0; i < win->size; i++)
        if (dyn->hellos[i].key_len > dyn->key_slot)
            dyn->key_slot = dyn->hellos[i].key_len;
    if (dyn->key_slot == 0)
        return PRMA_OK;
    /* Every member saw the same lengths: all take this step, or none. */
    mine      = calloc(1, dyn->key_slot);
    dyn->keys = calloc((size_t)win->size, dyn->key_slot);
    if (mine == NULL || dyn->keys == NULL) {
        free(mine);
        return PRMA_ERR_NOMEM;
    }
    if (dyn->head_key_len > 0)
        memcpy(mine, dyn->head_key, dyn->head_key_len);
    if (win->coll.allgather(win->coll.arg, mine, dyn->keys, dyn->key_slot) != 0) {
        free(mine);
        prma_error("exchanging the UCX keys of region tables failed");
        return PRMA_ERR_BOOTSTRAP;
    }
    free(mine);
    return PRMA_OK;
}

int prma_win_create_dynamic(prma_context_h ctx, const prma_coll_t *coll, prma_win_h *win_p)
{
    struct prma_dyn *dyn = NULL;
    struct prma_win *win;
    int status;

    if (ctx == NULL || coll == NULL || coll->allgather == NULL || coll->barrier == NULL ||
        coll->size <= 0 || coll->rank < 0 || coll->rank >= coll->size || win_p == NULL)
        return PRMA_ERR_ARG;
    /* A local failure still joins the collectives: win_setup agrees on it. */
    status = dyn_open(ctx, coll->size, &dyn);
    status = prma__win_setup(ctx, coll, NULL, 0, 1, PRMA_WIN_FLAVOR_DYNAMIC, NULL, status, &win);
    if (status != PRMA_OK) {
        if (dyn != NULL)
            dyn_close(ctx, dyn);
        return status;
    }
    win->dyn = dyn;
    status = dyn_exchange(win);
    if (status != PRMA_OK) {
        /* Every member got this far: undo it together. */
        prma_win_free(win);
        return status;
    }
    *win_p = win;
    return PRMA_OK;
}

void prma__dyn_destroy(struct prma_win *win)
{
    if (win->dyn == NULL)
        return;
    dyn_close(win->ctx, win->dyn);
    win->dyn = NULL;
}

/* ---- an origin's copies ------------------------------------------------ */

/* Put an unpacked key aside until nothing can hold it (prma__dyn_synced).
 * NOTE: caller holds dyn->lock. */
static void retire(struct prma_dyn *dyn, void *rkey)
{
    if (rkey == NULL)
        return;
    if (dyn->nretired == dyn->capretired) {
        size_t cap = dyn->capretired > 0 ? 2 * dyn->capretired : 16;
        void **grown = realloc(dyn->retired, cap * sizeof(*grown));

        if (grown == NULL) {
            /* Nowhere to keep it: destroying it now is the lesser risk. */
            ucp_rkey_destroy(rkey);
            return;
        }
        dyn->retired    = grown;
        dyn->capretired = cap;
    }
    dyn->retired[dyn->nretired++] = rkey;
}

/* Make target's copy: how its table is read, nothing read yet.
 * NOTE: caller holds dyn->lock (nothing here waits for a peer). */
static int cache_new(struct prma_win *win, int target, struct dyn_cache **c_p)
{
    struct prma_dyn *dyn = win->dyn;
    const struct prma_peer *peer = &win->peers[target];
    const struct dyn_hello *hello = &dyn->hellos[target];
    struct prma_ucx *ucx = win->ctx->ucx;
    struct dyn_cache *c;
    struct dyn_map *m;
    ucs_status_t st;
    ucp_ep_h ep;
    void *base;
    int status = PRMA_OK;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return PRMA_ERR_NOMEM;
    pthread_mutex_init(&c->refresh, NULL);
    atomic_init(&c->checked, ~0UL);
    c->target = target;
    c->gen    = DYN_NEVER;
    if (target == win->rank) {
        c->kind = DYN_SELF;
        c->head = dyn->head;
    } else if (prma__port_is_shm(win->ports[target])) {
        c->kind = DYN_MAPPED;
        m = calloc(1, sizeof(*m));
        status = m == NULL ? PRMA_ERR_NOMEM
                           : prma__mem_map_peer(win->ctx, peer->pid, hello->head_fd, 0, 0,
                                                DYN_HEAD_SIZE, &base, &m->map, &m->len);
        if (status == PRMA_OK) {
            c->maps = m;
            c->head = base;
        } else {
            free(m);
        }
    } else {
        c->kind = DYN_PORT;
        if (ucx == NULL || hello->key_len == 0) {
            prma_error("rank %d's region table cannot be reached: no UCX on both sides", target);
            status = PRMA_ERR_UNREACHABLE;
        } else {
            status = prma__ucx_ep(ucx, peer->job_rank, peer->host_id == win->ctx->boot.node_id,
                                  &ep);
        }
        if (status == PRMA_OK) {
            st = ucp_ep_rkey_unpack(ep, dyn->keys + (size_t)target * dyn->key_slot,
                                    (ucp_rkey_h *)&c->head_rkey);
            if (st != UCS_OK) {
                prma_error("unpacking the key of rank %d's region table failed: %s", target,
                           ucs_status_string(st));
                c->head_rkey = NULL;
                status = prma__ucx_status(st);
            }
        }
    }
    if (status != PRMA_OK) {
        cache_free(win->ctx, c);
        return status;
    }
    *c_p = c;
    return PRMA_OK;
}

static int cache_get(struct prma_win *win, int target, struct dyn_cache **c_p)
{
    struct prma_dyn *dyn = win->dyn;
    int status = PRMA_OK;

    pthread_mutex_lock(&dyn->lock);
    if (dyn->caches[target] == NULL)
        status = cache_new(win, target, &dyn->caches[target]);
    *c_p = dyn->caches[target];
    pthread_mutex_unlock(&dyn->lock);
    return status;
}

/* Read len bytes at addr in the target through its port (a get waited
 * for): the ports of a dynamic window take addresses, rkey says whose key. */
static int port_read(struct prma_win *win, struct dyn_cache *c, void *rkey, uint64_t addr,
                     void *buf, size_t len)
{
    struct prma_msg msg;

    prma_msg_init(&msg, PRMA_CMD_GET, 0);
    msg.ms_reply  = &win->reply;
    msg.ms_buf    = buf;
    msg.ms_len    = len;
    msg.ms_offset = addr;
    msg.ms_rkey   = rkey;
    return prma_domsg(win->ports[c->target], &msg);
}

/* The generation of target's table now. */
static int read_gen(struct prma_win *win, struct dyn_cache *c, uint64_t *gen_p)
{
    if (c->kind != DYN_PORT) {
        *gen_p = atomic_load_explicit(gen_word(c->head), memory_order_acquire);
        return PRMA_OK;
    }
    return port_read(win, c, c->head_rkey, win->dyn->hellos[c->target].head_addr + DYN_GEN_OFF,
                     gen_p, sizeof(*gen_p));
}

static int read_head(struct prma_win *win, struct dyn_cache *c, struct dyn_head *h)
{
    if (c->kind != DYN_PORT) {
        memcpy(h, c->head, sizeof(*h));
        return PRMA_OK;
    }
    return port_read(win, c, c->head_rkey, win->dyn->hellos[c->target].head_addr, h, sizeof(*h));
}

/* Reach the body that h, a consistent head read at generation gen, names.
 * PRMA_EASYNC: the table changed meanwhile (read it again).
 * NOTE: caller holds c->refresh. */
static int body_open(struct prma_win *win, struct dyn_cache *c, const struct dyn_head *h,
                     uint64_t gen)
{
    const struct prma_peer *peer = &win->peers[c->target];
    char key[DYN_KEY_MAX];
    struct dyn_map *m;
    ucp_rkey_h rkey;
    ucs_status_t st;
    ucp_ep_h ep;
    uint64_t now;
    void *base;
    int status;

    if (c->kind == DYN_MAPPED) {
        /* Bodies live as long as the window: the descriptor is still the
         * body's. Old mappings stay (a copy may be read from one). */
        m = calloc(1, sizeof(*m));
        if (m == NULL)
            return PRMA_ERR_NOMEM;
        status = prma__mem_map_peer(win->ctx, peer->pid, h->body_fd, 0, 0, h->body_size, &base,
                                    &m->map, &m->len);
        if (status != PRMA_OK) {
            free(m);
            return status;
        }
        m->next = c->maps;
        c->maps = m;
        c->body = base;
    } else {
        if (h->body_key_len == 0 || h->body_key_len > DYN_KEY_MAX) {
            prma_error("rank %d's region table has no UCX key", c->target);
            return PRMA_ERR_UNREACHABLE;
        }
        status = port_read(win, c, c->head_rkey,
                           win->dyn->hellos[c->target].head_addr + sizeof(*h), key,
                           h->body_key_len);
        if (status == PRMA_OK)
            status = read_gen(win, c, &now);
        if (status != PRMA_OK)
            return status;
        if (now != gen)
            return PRMA_EASYNC;
        status = prma__ucx_ep(win->ctx->ucx, peer->job_rank,
                              peer->host_id == win->ctx->boot.node_id, &ep);
        if (status != PRMA_OK)
            return status;
        st = ucp_ep_rkey_unpack(ep, key, &rkey);
        if (st != UCS_OK) {
            prma_error("unpacking the key of rank %d's region table failed: %s", c->target,
                       ucs_status_string(st));
            return prma__ucx_status(st);
        }
        /* Only refreshes, serialized by c->refresh, use the body's key. */
        if (c->body_rkey != NULL)
            ucp_rkey_destroy(c->body_rkey);
        c->body_rkey = rkey;
    }
    c->body_serial = h->body_serial;
    c->body_addr   = h->body_addr;
    c->body_size   = h->body_size;
    return PRMA_OK;
}

/* Read a consistent copy of target's table (MAPPED, PORT): its head into
 * *h and its records into c->buf. NOTE: caller holds c->refresh. */
static int table_read(struct prma_win *win, struct dyn_cache *c, struct dyn_head *h)
{
    struct prma_waiter wait;
    uint64_t gen, now;
    size_t bytes;
    char *grown;
    int status = PRMA_OK;

    prma__win_waiter(win, &wait);
    for (;; status = prma__wait_turn(&wait)) {
        if (status != PRMA_OK)
            return status;
        if ((status = read_gen(win, c, &gen)) != PRMA_OK)
            return status;
        if (gen & 1)
            continue;  /* the owner is changing it */
        if ((status = read_head(win, c, h)) != PRMA_OK)
            return status;
        if (h->count > 0 && h->body_serial != c->body_serial) {
            /* A body not reached yet: trust its description only once it
             * is known to be consistent. */
            if ((status = read_gen(win, c, &now)) != PRMA_OK)
                return status;
            if (now != gen)
                continue;
            status = body_open(win, c, h, gen);
            if (status == PRMA_EASYNC)
                continue;
            if (status != PRMA_OK)
                return status;
        }
        /* A torn head (read while the owner changed it) may describe more
         * than the body holds: read it again rather than past the end. */
        if (h->count > 0 && (h->body_serial != c->body_serial ||
                             h->stride < sizeof(struct dyn_rec) ||
                             h->count > c->body_size / h->stride))
            continue;
        bytes = (size_t)(h->count * h->stride);
        if (bytes > c->buflen) {
            grown = realloc(c->buf, bytes);
            if (grown == NULL)
                return PRMA_ERR_NOMEM;
            c->buf    = grown;
            c->buflen = bytes;
        }
        if (bytes > 0 && c->kind == DYN_MAPPED)
            memcpy(c->buf, c->body, bytes);
        else if (bytes > 0)
            status = port_read(win, c, c->body_rkey, c->body_addr, c->buf, bytes);
        if (status != PRMA_OK)
            return status;
        atomic_thread_fence(memory_order_acquire);
        if ((status = read_gen(win, c, &now)) != PRMA_OK)
            return status;
        if (now == gen) {
            h->gen = gen;
            return PRMA_OK;
        }
    }
}

static int entry_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct dyn_entry *)a)->base, y = ((const struct dyn_entry *)b)->base;

    return x < y ? -1 : x > y;
}

/* The entry of c whose region holds [addr, addr + len), or NULL.
 * NOTE: caller holds dyn->lock. */
static const struct dyn_entry *cache_find(const struct dyn_cache *c, uint64_t addr, size_t len)
{
    const struct dyn_entry *e;
    size_t lo = 0, hi = c->n;

    /* The last region that starts at or before addr: regions never
     * overlap, so no other can hold it. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->ents[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    e = &c->ents[lo - 1];
    return addr - e->base < e->len && len <= e->len - (addr - e->base) ? e : NULL;
}

/* The entry of c for the region attached at base as serial, or NULL.
 * NOTE: caller holds dyn->lock. */
static struct dyn_entry *cache_same(struct dyn_cache *c, uint64_t base, uint64_t serial)
{
    size_t lo = 0, hi = c->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->ents[mid].base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->ents[lo].base == base && c->ents[lo].serial == serial ? &c->ents[lo]
                                                                                 : NULL;
}

/* Swap in new entries read at generation gen; the keys of regions that
 * are gone are retired, their mappings undone (direct copies through them
 * are made under dyn->lock: none is under way). NOTE: caller holds
 * c->refresh. */
static void cache_swap(struct prma_win *win, struct dyn_cache *c, struct dyn_entry *ents,
                       size_t n, uint64_t gen, const unsigned char *carried)
{
    struct prma_dyn *dyn = win->dyn;
    struct dyn_entry *old;
    size_t nold;

    pthread_mutex_lock(&dyn->lock);
    old     = c->ents;
    nold    = c->n;
    c->ents = ents;
    c->n    = n;
    c->gen  = gen;
    for (size_t i = 0; i < nold; i++) {
        if (carried == NULL || !carried[i]) {
            retire(dyn, old[i].rkey);
            entry_unmap(win->ctx, &old[i]);
        }
    }
    pthread_mutex_unlock(&dyn->lock);
    free(old);
}

/* Our own regions, straight from the owner's side. */
static int self_refresh(struct prma_win *win, struct dyn_cache *c)
{
    struct prma_dyn *dyn = win->dyn;
    struct dyn_entry *ents;
    size_t n;
    uint64_t gen;

    pthread_mutex_lock(&dyn->lock);
    n    = dyn->nregions;
    ents = calloc(n > 0 ? n : 1, sizeof(*ents));
    if (ents == NULL) {
        pthread_mutex_unlock(&dyn->lock);
        return PRMA_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        ents[i].base   = dyn->regions[i].base;
        ents[i].len    = dyn->regions[i].len;
        ents[i].serial = dyn->regions[i].serial;
        ents[i].memfd  = -1;
    }
    gen = atomic_load_explicit(gen_word(dyn->head), memory_order_relaxed);
    pthread_mutex_unlock(&dyn->lock);
    qsort(ents, n, sizeof(*ents), entry_cmp);
    cache_swap(win, c, ents, n, gen, NULL);
    return PRMA_OK;
}

/* Read target's table again and make it the copy: regions still there
 * keep their unpacked keys, new ones get theirs. NOTE: caller holds
 * c->refresh (c->ents changes only under it). */
static int table_refresh(struct prma_win *win, struct dyn_cache *c)
{
    struct prma_dyn *dyn = win->dyn;
    const struct prma_peer *peer = &win->peers[c->target];
    unsigned char *carried = NULL, *mine = NULL;
    struct dyn_entry *ents = NULL, *same;
    struct dyn_head h;
    struct dyn_rec rec;
    ucs_status_t st;
    ucp_ep_h ep = NULL;
    size_t n;
    int status;

    status = table_read(win, c, &h);
    if (status != PRMA_OK)
        return status;
    n       = (size_t)h.count;
    ents    = calloc(n > 0 ? n : 1, sizeof(*ents));
    mine    = calloc(n > 0 ? n : 1, 1);
    pthread_mutex_lock(&dyn->lock);
    carried = calloc(c->n > 0 ? c->n : 1, 1);
    for (size_t i = 0; ents != NULL && carried != NULL && i < n; i++) {
        memcpy(&rec, c->buf + i * h.stride, sizeof(rec));
        ents[i].base    = rec.base;
        ents[i].len     = rec.len;
        ents[i].serial  = rec.serial;
        ents[i].memfd   = c->kind == DYN_MAPPED && prma__config.shm_mode == PRMA_SHM_MAP
                              ? rec.memfd
                              : -1;
        ents[i].mem_off = rec.mem_off;
        /* A region the copy knows already keeps its key and mapping. */
        if ((same = cache_same(c, rec.base, rec.serial)) != NULL) {
            ents[i].rkey            = same->rkey;
            ents[i].at              = same->at;
            ents[i].map             = same->map;
            ents[i].maplen          = same->maplen;
            ents[i].memfd           = same->memfd;
            carried[same - c->ents] = 1;
        }
    }
    pthread_mutex_unlock(&dyn->lock);
    if (ents == NULL || carried == NULL || mine == NULL) {
        status = PRMA_ERR_NOMEM;
        goto err;
    }
    for (size_t i = 0; c->kind == DYN_PORT && i < n; i++) {
        memcpy(&rec, c->buf + i * h.stride, sizeof(rec));
        if (ents[i].rkey != NULL || rec.len == 0 || rec.key_len == 0)
            continue;
        if (rec.key_len > h.stride - sizeof(rec)) {
            prma_error("rank %d's region table holds a key longer than its records", c->target);
            status = PRMA_ERR_UCX_INVALID;
            goto err;
        }
        if (ep == NULL &&
            (status = prma__ucx_ep(win->ctx->ucx, peer->job_rank,
                                   peer->host_id == win->ctx->boot.node_id, &ep)) != PRMA_OK)
            goto err;
        st = ucp_ep_rkey_unpack(ep, c->buf + i * h.stride + sizeof(rec),
                                (ucp_rkey_h *)&ents[i].rkey);
        if (st != UCS_OK) {
            prma_error("unpacking the key of a region of rank %d failed: %s", c->target,
                       ucs_status_string(st));
            ents[i].rkey = NULL;
            status = prma__ucx_status(st);
            goto err;
        }
        mine[i] = 1;
    }
    qsort(ents, n, sizeof(*ents), entry_cmp);
    cache_swap(win, c, ents, n, h.gen, carried);
    free(carried);
    free(mine);
    return PRMA_OK;

err:
    for (size_t i = 0; ents != NULL && mine != NULL && i < n; i++)
        if (mine[i])
            ucp_rkey_destroy(ents[i].rkey);
    free(ents);
    free(carried);
    free(mine);
    return status;
}

/* Bring c up to date if target's table changed since it was read. */
static int cache_check(struct prma_win *win, struct dyn_cache *c)
{
    struct prma_dyn *dyn = win->dyn;
    uint64_t gen, have;
    int status;

    status = read_gen(win, c, &gen);
    if (status != PRMA_OK)
        return status;
    pthread_mutex_lock(&dyn->lock);
    have = c->gen;
    pthread_mutex_unlock(&dyn->lock);
    if (gen == have)
        return PRMA_OK;
    pthread_mutex_lock(&c->refresh);
    status = c->kind == DYN_SELF ? self_refresh(win, c) : table_refresh(win, c);
    pthread_mutex_unlock(&c->refresh);
    return status;
}

/* The entry of target's region that holds [addr, addr + len), its copy
 * checked as prma__dyn_region says: PRMA_OK with dyn->lock held (the
 * caller lets go), or an error without it. */
static int region_locked(struct prma_win *win, int target, uint64_t addr, size_t len,
                         struct dyn_cache **c_p, struct dyn_entry **e_p)
{
    struct prma_dyn *dyn = win->dyn;
    struct dyn_entry *e;
    struct dyn_cache *c;
    unsigned long syncs;
    int status, checked = 0;

    if (target < 0 || target >= win->size)
        return PRMA_ERR_RANK;
    if (addr > UINT64_MAX - len)
        return PRMA_ERR_RMA_RANGE;
    if ((status = cache_get(win, target, &c)) != PRMA_OK)
        return status;
    if (c->kind != DYN_SELF && win->epoch.access == PRMA_ACCESS_PSCW &&
        (status = prma__pscw_wait_ready(win, target)) != PRMA_OK)
        return status;
    syncs = atomic_load_explicit(&dyn->syncs, memory_order_acquire);
    if (c->kind != DYN_PORT || atomic_load_explicit(&c->checked, memory_order_relaxed) != syncs) {
        if ((status = cache_check(win, c)) != PRMA_OK)
            return status;
        atomic_store_explicit(&c->checked, syncs, memory_order_relaxed);
        checked = 1;
    }
    for (;;) {
        pthread_mutex_lock(&dyn->lock);
        if ((e = (struct dyn_entry *)cache_find(c, addr, len)) != NULL)
            break;
        pthread_mutex_unlock(&dyn->lock);
        if (checked) {
            prma_debug("rank %d has attached no region that holds %zu bytes at %#" PRIx64,
                       target, len, addr);
            return PRMA_ERR_RMA_RANGE;
        }
        /* A miss on a copy not checked since the last synchronization: the
         * target may have attached the region since. */
        if ((status = cache_check(win, c)) != PRMA_OK)
            return status;
        checked = 1;
    }
    if (c->kind == DYN_PORT && e->rkey == NULL) {
        pthread_mutex_unlock(&dyn->lock);
        prma_error("rank %d's region at %#" PRIx64 " has no UCX key", target, addr);
        return PRMA_ERR_UNREACHABLE;
    }
    *c_p = c;
    *e_p = e;
    return PRMA_OK;
}

int prma__dyn_region(struct prma_win *win, int target, uint64_t addr, size_t len,
                     void **rkey_p)
{
    struct dyn_entry *e;
    struct dyn_cache *c;
    int status;

    if (win->dyn == NULL || len == 0) {
        if (rkey_p != NULL)
            *rkey_p = NULL;
        return PRMA_OK;
    }
    if ((status = region_locked(win, target, addr, len, &c, &e)) != PRMA_OK)
        return status;
    if (rkey_p != NULL)
        *rkey_p = e->rkey;
    pthread_mutex_unlock(&win->dyn->lock);
    return PRMA_OK;
}

/* Map e's region of target (its owner's memfd), once. NOTE: caller holds
 * c->refresh and dyn->lock. */
static void entry_map(struct prma_win *win, int target, struct dyn_entry *e)
{
    void *at;

    if (e->at != NULL || e->memfd < 0)
        return;
    if (prma__mem_map_peer(win->ctx, win->peers[target].pid, e->memfd, 0, e->mem_off, e->len,
                           &at, &e->map, &e->maplen) != PRMA_OK) {
        e->memfd = -1;  /* by system calls from now on */
        return;
    }
    e->at = at;
}

/* A put (buf into the region) or get at `at`, a region's mapping here.
 * NOTE: caller holds dyn->lock: a refresh that drops the region waits for
 * the copy. */
static void reached_copy(struct prma_win *win, char *at, void *buf, size_t len, int put)
{
    if (put)
        prma__win_copy(win, at, buf, len);
    else
        prma__win_copy(win, buf, at, len);
}

/* The entry of c (target's, a DYN_MAPPED table) that holds [addr, addr +
 * len), mapped here (on first use, as a refresh would not meanwhile): with
 * the table locked, or NULL and unlocked. */
static struct dyn_entry *entry_mapped(struct prma_win *win, struct dyn_cache *c, int target,
                                      uint64_t addr, size_t len)
{
    struct prma_dyn *dyn = win->dyn;
    struct dyn_entry *e;

    pthread_mutex_lock(&dyn->lock);
    e = (struct dyn_entry *)cache_find(c, addr, len);
    if (e != NULL && e->at == NULL && e->memfd >= 0) {
        pthread_mutex_unlock(&dyn->lock);
        pthread_mutex_lock(&c->refresh);
        pthread_mutex_lock(&dyn->lock);
        e = (struct dyn_entry *)cache_find(c, addr, len);
        if (e != NULL)
            entry_map(win, target, e);
        pthread_mutex_unlock(&c->refresh);
    }
    if (e != NULL && e->at != NULL)
        return e;
    pthread_mutex_unlock(&dyn->lock);
    return NULL;
}

/* prma__dyn_reach, and *rkey_p (may be NULL) set where it returns
 * PRMA_EASYNC after finding the region (for the message path). */
static int reach(struct prma_win *win, int target, uint64_t addr, size_t len, int again,
                 char **at_p, void **rkey_p)
{
    struct dyn_entry *e;
    struct dyn_cache *c;
    void *rkey = NULL;
    int status;

    if (again) {
        c = win->dyn->caches[target];
        if (c == NULL || c->kind != DYN_MAPPED)
            return PRMA_EASYNC;
    } else {
        int map;

        if ((status = region_locked(win, target, addr, len, &c, &e)) != PRMA_OK)
            return status;
        if (e->at != NULL) {
            *at_p = e->at + (addr - e->base);
            return PRMA_OK;
        }
        map  = c->kind == DYN_MAPPED && e->memfd >= 0;
        rkey = e->rkey;
        pthread_mutex_unlock(&win->dyn->lock);
        if (rkey_p != NULL)
            *rkey_p = rkey;
        if (!map)
            return PRMA_EASYNC;
    }
    if ((e = entry_mapped(win, c, target, addr, len)) == NULL)
        return PRMA_EASYNC;
    *at_p = e->at + (addr - e->base);
    return PRMA_OK;
}

int prma__dyn_reach(struct prma_win *win, int target, uint64_t addr, size_t len, int again,
                    char **at_p)
{
    return reach(win, target, addr, len, again, at_p, NULL);
}

void prma__dyn_release(struct prma_win *win)
{
    pthread_mutex_unlock(&win->dyn->lock);
}

/* reach, and where it reached a mapping here, the copy there. */
static int reach_copy(struct prma_win *win, int target, uint64_t addr, void *buf, size_t len,
                      int put, int again, void **rkey_p)
{
    char *at;
    int status = reach(win, target, addr, len, again, &at, rkey_p);

    if (status == PRMA_OK) {
        reached_copy(win, at, buf, len, put);
        prma__dyn_release(win);
    }
    return status;
}

int prma__dyn_direct(struct prma_win *win, int target, uint64_t addr, void *buf, size_t len,
                     int put)
{
    return reach_copy(win, target, addr, buf, len, put, 1, NULL);
}

int prma__dyn_access(struct prma_win *win, int target, uint64_t addr, void *buf, size_t len,
                     int put, void **rkey_p)
{
    return reach_copy(win, target, addr, buf, len, put, 0, rkey_p);
}

int prma__dyn_holds(struct prma_win *win, uint64_t addr, size_t len)
{
    struct prma_dyn *dyn = win->dyn;
    int found = 0;

    if (dyn == NULL)
        return PRMA_ERR_RMA_FLAVOR;
    if (addr > UINT64_MAX - len)
        return PRMA_ERR_RMA_RANGE;
    pthread_mutex_lock(&dyn->lock);
    for (size_t i = 0; i < dyn->nregions && !found; i++)
        found = addr >= dyn->regions[i].base &&
                addr + len <= dyn->regions[i].base + dyn->regions[i].len;
    pthread_mutex_unlock(&dyn->lock);
    return found ? PRMA_OK : PRMA_ERR_RMA_RANGE;
}

int prma__dyn_copy(struct prma_win *win, uint64_t addr, void *buf, size_t len, int put)
{
    struct prma_dyn *dyn = win->dyn;
    int found = 0;

    if (dyn == NULL || addr > UINT64_MAX - len)
        return PRMA_ERR_RMA_RANGE;
    /* Under the lock: another thread's detach waits for the copy. */
    pthread_mutex_lock(&dyn->lock);
    for (size_t i = 0; i < dyn->nregions && !found; i++)
        found = addr >= dyn->regions[i].base &&
                addr + len <= dyn->regions[i].base + dyn->regions[i].len;
    if (found && put)
        memcpy((void *)(uintptr_t)addr, buf, len);
    else if (found)
        memcpy(buf, (const void *)(uintptr_t)addr, len);
    pthread_mutex_unlock(&dyn->lock);
    return found ? PRMA_OK : PRMA_ERR_RMA_RANGE;
}

void prma__dyn_synced_dynamic(struct prma_win *win)
{
    struct prma_dyn *dyn = win->dyn;
    void **keys;
    size_t n;

    atomic_fetch_add_explicit(&dyn->syncs, 1, memory_order_release);
    /* Retired keys go once no operation of this window is in flight. */
    if (atomic_load_explicit(&win->reply.mp_held, memory_order_acquire) != 0)
        return;
    pthread_mutex_lock(&dyn->lock);
    keys = dyn->retired;
    n    = dyn->nretired;
    dyn->retired    = NULL;
    dyn->nretired   = 0;
    dyn->capretired = 0;
    pthread_mutex_unlock(&dyn->lock);
    for (size_t i = 0; i < n; i++)
        ucp_rkey_destroy(keys[i]);
    free(keys);
}
