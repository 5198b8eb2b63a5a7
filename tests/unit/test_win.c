/*
 * test_win.c - windows, fence epochs and the self / shm / none ports
 * (src/win.c, src/epoch.c, src/transport/{self,shm,none}.c).
 *
 * Each test is a threaded job (job.h): N threads of this process, each one
 * rank with a portrma context of its own, all claiming the same node unless
 * a test says otherwise, so peers get the shm port for real.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "port.h"
#include "portrma.h"
#include "settings.h"
#include "job.h"
#include "unit.h"
#include "win.h"

#define MAXRANKS  JOB_MAXRANKS
#define SENTINEL  0xA5  /* window bytes nobody may write */
#define SENTINEL2 0xC3  /* origin bytes nobody may write */


/* ---- data helpers ---- */

static unsigned char pattern(int rank, size_t i)
{
    /* Never SENTINEL or SENTINEL2. */
    unsigned char b = (unsigned char)(0x10 + rank * 37 + i * 3);

    return b == SENTINEL || b == SENTINEL2 ? (unsigned char)(b + 1) : b;
}

static void fill_pattern(unsigned char *p, size_t len, int rank)
{
    for (size_t i = 0; i < len; i++)
        p[i] = pattern(rank, i);
}

/* Check [from, to) of p against the pattern of rank, or a constant when
 * rank < 0 (the constant is -rank). */
static void check_bytes(struct rank *r, int line, const unsigned char *p, size_t from,
                        size_t to, int rank)
{
    for (size_t i = from; i < to; i++) {
        unsigned char want = rank >= 0 ? pattern(rank, i - from) : (unsigned char)-rank;

        if (p[i] != want) {
            rank_fail(r, line, "byte %zu is 0x%02x, expected 0x%02x", i, p[i], want);
            return;
        }
    }
}

#define CHECK_PATTERN(r, p, from, to, rank) \
    check_bytes((r), __LINE__, (p), (from), (to), (rank))
#define CHECK_CONST(r, p, from, to, c) \
    check_bytes((r), __LINE__, (p), (from), (to), -(int)(c))

/* ---- window memory of the three kinds ---- */

enum mem_kind {
    MEM_ALLOCATE,  /* prma_win_allocate: portrma memory, mapped by peers */
    MEM_MALLOC,    /* prma_win_create on malloc'd memory: cross-memory attach */
    MEM_MEMALLOC,  /* prma_win_create inside prma_mem_alloc memory: mapped */
};

struct wmem {
    enum mem_kind  kind;
    void          *alloc;  /* what to free */
    unsigned char *base;
};

static void win_mem_release(struct rank *r, struct wmem *m);

/* Create a window of size bytes of the given kind; base filled with
 * SENTINEL before anyone can reach it. */
static int win_make(struct rank *r, enum mem_kind kind, size_t size, size_t disp_unit,
                    struct wmem *m, prma_win_h *win_p)
{
    void *vbase = NULL;
    int status;

    memset(m, 0, sizeof(*m));
    m->kind = kind;
    switch (kind) {
    case MEM_ALLOCATE:
        status = prma_win_allocate(r->ctx, &r->coll, size, disp_unit, &vbase, win_p);
        if (status == PRMA_OK) {
            m->base = vbase;
            if (size > 0)
                memset(m->base, SENTINEL, size);
        }
        return status;
    case MEM_MALLOC:
        m->alloc = size > 0 ? malloc(size) : NULL;
        m->base  = m->alloc;
        if (size > 0 && m->base == NULL)
            return PRMA_ERR_NOMEM;
        break;
    case MEM_MEMALLOC:
        /* An interior range: the window starts 96 bytes into the memfd. */
        status = prma_mem_alloc(r->ctx, size + 160, &m->alloc);
        if (status != PRMA_OK)
            return status;
        m->base = (unsigned char *)m->alloc + 96;
        memset(m->alloc, 0x77, size + 160);
        break;
    }
    if (size > 0)
        memset(m->base, SENTINEL, size);
    status = prma_win_create(r->ctx, &r->coll, m->base, size, disp_unit, win_p);
    if (status != PRMA_OK)
        win_mem_release(r, m);
    return status;
}

static void win_mem_release(struct rank *r, struct wmem *m)
{
    if (m->kind == MEM_MALLOC)
        free(m->alloc);
    else if (m->kind == MEM_MEMALLOC && m->alloc != NULL)
        RCHECK_STATUS(r, prma_mem_free(r->ctx, m->alloc), PRMA_OK);
    m->alloc = NULL;
}

/* ---- fence, put, get on every kind of memory ---- */

#define WSIZE 256
#define UNIT  4

struct put_get_param {
    enum mem_kind kind;
    const char   *peer_kind;  /* expected kind of the port to a peer */
};

static struct put_get_param put_get_param;

static void put_get_body(struct rank *r)
{
    const struct put_get_param *prm = &put_get_param;
    int n = r->job->n, me = r->rank, right = (me + 1) % n, left = (me + n - 1) % n;
    unsigned char src[16], self_src[8], got[16];
    prma_win_attr_t attr;
    struct wmem m;
    prma_win_h win;
    int status;

    status = win_make(r, prm->kind, WSIZE, UNIT, &m, &win);
    if (status != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation: %s", prma_status_string(status));
        return;  /* every rank fails together: no collective is left waiting */
    }
    RCHECK_STATUS(r, prma_win_query(win, &attr), PRMA_OK);
    RCHECK(r, attr.base == m.base);
    RCHECK_INT(r, attr.size, WSIZE);
    RCHECK_INT(r, attr.disp_unit, UNIT);
    RCHECK_INT(r, attr.flavor,
               prm->kind == MEM_ALLOCATE ? PRMA_WIN_FLAVOR_ALLOCATE : PRMA_WIN_FLAVOR_CREATE);
    RCHECK_INT(r, attr.rank, me);
    RCHECK_INT(r, attr.group_size, n);
    for (int t = 0; t < n; t++)
        RCHECK_STR(r, prma_win_port_kind(win, t), t == me ? "self" : prm->peer_kind);

    fill_pattern(src, sizeof(src), me);
    fill_pattern(self_src, sizeof(self_src), me + 100);
    memset(got, SENTINEL2, sizeof(got));

    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    /* 16 bytes at 2 units + 1 byte: bytes 9..24 of the right neighbour;
     * 8 bytes into our own window through the self port at byte 40. */
    RCHECK_STATUS(r, prma_win_put(win, src, sizeof(src), right, 2, 1), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win, self_src, sizeof(self_src), me, 10, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);

    CHECK_CONST(r, m.base, 0, 9, SENTINEL);
    CHECK_PATTERN(r, m.base, 9, 25, left);
    CHECK_CONST(r, m.base, 25, 40, SENTINEL);
    CHECK_PATTERN(r, m.base, 40, 48, me + 100);
    CHECK_CONST(r, m.base, 48, WSIZE, SENTINEL);
    if (prm->kind == MEM_MEMALLOC) {
        /* Around an interior window, the memfd is untouched. */
        CHECK_CONST(r, (unsigned char *)m.alloc, 0, 96, 0x77);
        CHECK_CONST(r, (unsigned char *)m.alloc, 96 + WSIZE, 96 + WSIZE + 64, 0x77);
    }

    /* Read back what we wrote to the right neighbour, and our self bytes. */
    RCHECK_STATUS(r, prma_win_get(win, got, sizeof(got), right, 2, 1), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    CHECK_PATTERN(r, got, 0, sizeof(got), me);
    memset(got, SENTINEL2, sizeof(got));
    RCHECK_STATUS(r, prma_win_get(win, got, 8, me, 10, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    CHECK_PATTERN(r, got, 0, 8, me + 100);
    CHECK_CONST(r, got, 8, sizeof(got), SENTINEL2);

    RCHECK_STATUS(r, prma_win_check_free(win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    win_mem_release(r, &m);
}

static void run_put_get_moved(const char *name, int n, enum mem_kind kind,
                              const char *kind_name, int remap)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    put_get_param.kind      = kind;
    put_get_param.peer_kind = kind_name;
    job_init(&job, n, put_get_body);
    job.remap = remap;
    job_run(name, &job, ranks);
}

static void run_put_get(const char *name, int n, enum mem_kind kind, const char *kind_name)
{
    run_put_get_moved(name, n, kind, kind_name, PRMA_REMAP_OFF);
}

static void test_win_allocate_put_get_1rank(void **state)
{
    run_put_get(__func__, 1, MEM_ALLOCATE, "shm");
}

static void test_win_allocate_put_get_2ranks(void **state)
{
    run_put_get(__func__, 2, MEM_ALLOCATE, "shm");
}

static void test_win_allocate_put_get_4ranks(void **state)
{
    run_put_get(__func__, 4, MEM_ALLOCATE, "shm");
}

static void test_win_create_malloc_uses_shm_cma(void **state)
{
    run_put_get(__func__, 2, MEM_MALLOC, "shm-cma");
    run_put_get(__func__, 4, MEM_MALLOC, "shm-cma");
}

/* With its pages moved into a memfd (remap.c), malloc'd memory is mapped
 * by peers as portrma's own is. */
static void test_win_create_malloc_moved_uses_shm(void **state)
{
    run_put_get_moved(__func__, 2, MEM_MALLOC, "shm", PRMA_REMAP_ON);
    run_put_get_moved(__func__, 4, MEM_MALLOC, "shm", PRMA_REMAP_ON);
    run_put_get_moved(__func__, 2, MEM_MALLOC, "shm", PRMA_REMAP_DEFAULT);
}

static void test_win_create_mem_alloc_uses_shm(void **state)
{
    run_put_get(__func__, 2, MEM_MEMALLOC, "shm");
    run_put_get(__func__, 4, MEM_MEMALLOC, "shm");
}

static void test_win_setting_shm_cma_forces_cma(void **state)
{
    /* PORTRMA_SHM=cma: even portrma memory is reached with process_vm_*. */
    assert_int_equal(setenv("PORTRMA_SHM", "cma", 1), 0);
    prma__config_load();  /* whether or not each prma_init reloads it */
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_CMA);
    run_put_get(__func__, 2, MEM_ALLOCATE, "shm-cma");
    run_put_get(__func__, 2, MEM_MEMALLOC, "shm-cma");
}

/* Back to the default even when the test failed half-way. */
static int shm_env_teardown(void **state)
{
    unsetenv("PORTRMA_SHM");
    prma__config_load();
    unit_watchdog_disarm();
    return prma__config.shm_mode == PRMA_SHM_MAP ? 0 : -1;
}

/* ---- another node: the none port ---- */

static void other_node_body(struct rank *r)
{
    int n = r->job->n, me = r->rank, far = n - 1;
    unsigned char src[16], got[MAXRANKS][16];
    struct wmem m;
    prma_win_h win;

    if (win_make(r, MEM_ALLOCATE, WSIZE, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    memset(got, SENTINEL2, sizeof(got));
    for (int t = 0; t < n; t++) {
        const char *want = t == me ? "self" : (me == far || t == far) ? "none" : "shm";

        RCHECK_STR(r, prma_win_port_kind(win, t), want);
    }
    fill_pattern(src, sizeof(src), me);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    for (int t = 0; t < n; t++) {
        int reachable = t == me || (me != far && t != far);

        if (t == me)
            continue;
        RCHECK_STATUS(r, prma_win_put(win, src, sizeof(src), t, (uint64_t)me * 16, 0),
                      reachable ? PRMA_OK : PRMA_ERR_UNREACHABLE);
        /* Bytes 128.. are written by nobody. */
        RCHECK_STATUS(r, prma_win_get(win, got[t], sizeof(got[t]), t, 128, 0),
                      reachable ? PRMA_OK : PRMA_ERR_UNREACHABLE);
    }
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    for (int t = 0; t < n; t++) {
        int reachable = t == me || (me != far && t != far);

        if (t != me)
            CHECK_CONST(r, got[t], 0, sizeof(got[t]), reachable ? SENTINEL : SENTINEL2);
    }
    /* Only same-node peers wrote here; the far rank's window is untouched. */
    for (int o = 0; o < n; o++) {
        int wrote = o != me && o != far && me != far;

        if (wrote)
            CHECK_PATTERN(r, m.base, (size_t)o * 16, (size_t)o * 16 + 16, o);
        else
            CHECK_CONST(r, m.base, (size_t)o * 16, (size_t)o * 16 + 16, SENTINEL);
    }
    CHECK_CONST(r, m.base, (size_t)n * 16, WSIZE, SENTINEL);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_win_other_node_is_unreachable(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 3, other_node_body);
    job.node_of[2] = 2;
    JOB_RUN(&job, ranks);
    /* And a job split 2 + 2. */
    job_init(&job, 4, other_node_body);
    job.node_of[3] = 7;
    JOB_RUN(&job, ranks);
}

static void test_win_none_port_refuses_everything(void **state)
{
    struct prma_port *a = NULL, *b = NULL;
    unsigned char buf[8];
    struct prma_msg msg;

    assert_int_equal(prma__port_init_none(NULL, 3, &a), PRMA_OK);
    assert_int_equal(prma__port_init_none(NULL, 5, &b), PRMA_OK);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->mp_ops->name, "none");
    for (uint32_t cmd = PRMA_CMD_NOP; cmd <= PRMA_CMD_GET; cmd++) {
        memset(buf, SENTINEL2, sizeof(buf));
        prma_msg_init(&msg, cmd, 0);
        msg.ms_buf = buf;
        msg.ms_len = sizeof(buf);
        assert_int_equal(prma_sendmsg(a, &msg), PRMA_ERR_UNREACHABLE);
        assert_true(prma_msg_done(&msg));
        for (size_t i = 0; i < sizeof(buf); i++)
            assert_int_equal(buf[i], SENTINEL2);
    }
    /* Every slot is usable: its queue head is a valid (empty) queue. */
    assert_ptr_equal(a->mp_msgq.tqh_last, &a->mp_msgq.tqh_first);
    prma__port_destroy(a);
    prma__port_destroy(b);
}

/* ---- epochs ---- */

static void epoch_body(struct rank *r)
{
    int other = (r->rank + 1) % r->job->n;
    unsigned char src[8], got[8];
    struct wmem m;
    prma_win_h win;

    if (win_make(r, MEM_ALLOCATE, 64, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    fill_pattern(src, sizeof(src), r->rank);
    memset(got, SENTINEL2, sizeof(got));

    /* No epoch before the first fence. */
    RCHECK_STATUS(r, prma_win_check_epoch(win), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, other, 0, 0), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_get(win, got, 8, other, 0, 0), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, r->rank, 0, 0), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_check_access(win, other, 0, 0, 8), PRMA_ERR_RMA_SYNC);
    /* Outside an epoch the epoch error comes first, even for a bad rank. */
    RCHECK_STATUS(r, prma_win_put(win, src, 8, 99, 0, 0), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_check_free(win), PRMA_OK);

    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_epoch(win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, other, 16, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);

    /* NOSUCCEED closed the epoch. */
    RCHECK_STATUS(r, prma_win_check_epoch(win), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, other, 32, 0), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_get(win, got, 8, other, 16, 0), PRMA_ERR_RMA_SYNC);
    CHECK_CONST(r, got, 0, 8, SENTINEL2);

    /* A fence reopens one; the data of the closed epoch is there. */
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOPRECEDE), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_epoch(win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED | PRMA_MODE_NOSTORE |
                                             PRMA_MODE_NOPUT),
                  PRMA_OK);
    CHECK_CONST(r, m.base, 0, 16, SENTINEL);
    CHECK_PATTERN(r, m.base, 16, 24, other);
    CHECK_CONST(r, m.base, 24, 64, SENTINEL);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_win_put_outside_epoch_is_rma_sync(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 2, epoch_body);
    JOB_RUN(&job, ranks);
}

static void fence_mode_body(struct rank *r)
{
    unsigned char src[4] = { 1, 2, 3, 4 };
    struct wmem m;
    prma_win_h win;
    int b;

    if (win_make(r, MEM_MALLOC, 16, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    b = r->barriers;
    RCHECK_STATUS(r, prma_win_fence(win, 1u << 5), PRMA_ERR_ASSERT);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOCHECK), PRMA_ERR_ASSERT);
    RCHECK_STATUS(r, prma_win_fence(win, ~0u), PRMA_ERR_ASSERT);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOPUT | (1u << 31)), PRMA_ERR_ASSERT);
    /* A refused fence is no fence: no barrier, no epoch. */
    RCHECK_INT(r, r->barriers, b);
    RCHECK_STATUS(r, prma_win_check_epoch(win), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_put(win, src, 4, r->rank, 0, 0), PRMA_ERR_RMA_SYNC);

    /* A fence with every valid bit is fine; it is one barrier ... */
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSTORE | PRMA_MODE_NOPUT |
                                             PRMA_MODE_NOPRECEDE),
                  PRMA_OK);
    RCHECK_INT(r, r->barriers, b + 1);
    RCHECK_STATUS(r, prma_win_put(win, src, 4, r->rank, 0, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    RCHECK_INT(r, r->barriers, b + 2);
    /* ... and NOPRECEDE | NOSUCCEED together need none. */
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOPRECEDE | PRMA_MODE_NOSUCCEED), PRMA_OK);
    RCHECK_INT(r, r->barriers, b + 3);
    RCHECK(r, memcmp(m.base, src, 4) == 0);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    win_mem_release(r, &m);
}

static void test_win_fence_bad_mode_is_err_assert(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    /* On two nodes: the group's barrier is then the bootstrap's, whose
     * calls are counted. */
    job_init(&job, 2, fence_mode_body);
    job.node_of[1] = 2;
    JOB_RUN(&job, ranks);
}

/* ---- ranks and ranges ---- */

static void bad_rank_body(struct rank *r)
{
    int n = r->job->n;
    unsigned char src[4] = { 1, 2, 3, 4 }, got[4];
    struct wmem m;
    prma_win_h win;

    if (win_make(r, MEM_ALLOCATE, 32, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    memset(got, SENTINEL2, sizeof(got));
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    static const int bad[] = { -1, -1000, MAXRANKS + 1, 0x7fffffff };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        RCHECK_STATUS(r, prma_win_put(win, src, 4, bad[i], 0, 0), PRMA_ERR_RANK);
        RCHECK_STATUS(r, prma_win_get(win, got, 4, bad[i], 0, 0), PRMA_ERR_RANK);
        RCHECK_STATUS(r, prma_win_check_access(win, bad[i], 0, 0, 4), PRMA_ERR_RANK);
        RCHECK(r, prma_win_port_kind(win, bad[i]) == NULL);
    }
    RCHECK_STATUS(r, prma_win_put(win, src, 4, n, 0, 0), PRMA_ERR_RANK);
    RCHECK(r, prma_win_port_kind(win, n) == NULL);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    CHECK_CONST(r, got, 0, 4, SENTINEL2);
    CHECK_CONST(r, m.base, 0, 32, SENTINEL);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_win_bad_rank_is_err_rank(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 2, bad_rank_body);
    JOB_RUN(&job, ranks);
}

#define RSIZE 64

/* Rank 0 exposes 64 bytes in units of 8, rank 1 in units of 4: addressing
 * uses the TARGET's unit. */
static size_t range_unit(int rank)
{
    return rank == 0 ? 8 : 4;
}

static void range_body(struct rank *r)
{
    int me = r->rank, t = 1 - me;
    size_t ut = range_unit(t), um = range_unit(me);
    uint64_t last = (RSIZE - 8) / ut;  /* 8 bytes that end exactly at the end */
    unsigned char src[16], got[16];
    struct wmem m;
    prma_win_h win;

    if (win_make(r, me == 0 ? MEM_ALLOCATE : MEM_MALLOC, RSIZE, um, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    fill_pattern(src, sizeof(src), me);
    memset(got, SENTINEL2, sizeof(got));
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);

    /* Each member's own unit, as the target gave it. */
    size_t unit = 0;
    RCHECK_STATUS(r, prma_win_disp_unit(win, t, &unit), PRMA_OK);
    RCHECK_INT(r, unit, ut);
    RCHECK_STATUS(r, prma_win_disp_unit(win, me, &unit), PRMA_OK);
    RCHECK_INT(r, unit, um);
    RCHECK_STATUS(r, prma_win_disp_unit(win, 2, &unit), PRMA_ERR_RANK);
    RCHECK_STATUS(r, prma_win_disp_unit(win, -1, &unit), PRMA_ERR_RANK);
    RCHECK_INT(r, unit, um);

    /* In range: 3 units in (the target's units), and exactly at the end. */
    RCHECK_STATUS(r, prma_win_put(win, src, 4, t, 3, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win, src + 8, 8, t, last, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_access(win, t, last, 0, 8), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_access(win, t, 0, 0, RSIZE), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_access(win, t, 0, RSIZE, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_access(win, t, 0, RSIZE - 1, 1), PRMA_OK);

    /* One byte over, in each way of saying it. */
    RCHECK_STATUS(r, prma_win_put(win, src, 9, t, last, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, t, last, 1), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, 1, t, 0, RSIZE), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, 1, t, RSIZE / ut, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, RSIZE + 1, t, 0, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_get(win, got, 9, t, last, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_check_access(win, t, last, 0, 9), PRMA_ERR_RMA_RANGE);

    /* Overflows: disp * unit, offset + len, len alone. */
    RCHECK_STATUS(r, prma_win_put(win, src, 8, t, UINT64_MAX / 2, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_get(win, got, 8, t, UINT64_MAX / 2, 0), PRMA_ERR_RMA_RANGE);
    /* 2^64 / unit: disp * unit wraps to 0, which would look in range. */
    RCHECK_STATUS(r, prma_win_put(win, src, 8, t, (UINT64_MAX / ut) + 1, 0),
                  PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, t, UINT64_MAX, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, 8, t, 0, UINT64_MAX - 3), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, 1, t, 1, UINT64_MAX), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, SIZE_MAX, t, 0, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, src, SIZE_MAX, t, 0, 1), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_check_access(win, t, UINT64_MAX / 2, 0, 1), PRMA_ERR_RMA_RANGE);

    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    CHECK_CONST(r, got, 0, sizeof(got), SENTINEL2);
    /* What landed here came in our own units; nothing refused landed. */
    CHECK_CONST(r, m.base, 0, 3 * um, SENTINEL);
    CHECK_PATTERN(r, m.base, 3 * um, 3 * um + 4, t);
    CHECK_CONST(r, m.base, 3 * um + 4, RSIZE - 8, SENTINEL);
    /* The last 8 bytes: bytes 8..15 of the other's pattern. */
    for (size_t i = 0; i < 8; i++)
        if (m.base[RSIZE - 8 + i] != pattern(t, 8 + i)) {
            rank_fail(r, __LINE__, "byte %zu of the last 8 is 0x%02x", i,
                      m.base[RSIZE - 8 + i]);
            break;
        }
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    win_mem_release(r, &m);
}

static void test_win_range_checks(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 2, range_body);
    JOB_RUN(&job, ranks);
}

/* ---- arguments ---- */

static void args_body(struct rank *r)
{
    prma_win_h win = (prma_win_h)(uintptr_t)0x1234;
    void *base = (void *)(uintptr_t)0x5678;
    unsigned char mem[64];
    prma_coll_t bad;

    RCHECK_STATUS(r, prma_win_create(r->ctx, &r->coll, mem, sizeof(mem), 0, &win),
                  PRMA_ERR_DISP);
    RCHECK_STATUS(r, prma_win_allocate(r->ctx, &r->coll, 64, 0, &base, &win), PRMA_ERR_DISP);
    RCHECK_STATUS(r, prma_win_create(r->ctx, &r->coll, NULL, 64, 1, &win), PRMA_ERR_ARG);
    RCHECK_STATUS(r, prma_win_create(r->ctx, NULL, mem, 64, 1, &win), PRMA_ERR_ARG);
    RCHECK_STATUS(r, prma_win_create(NULL, &r->coll, mem, 64, 1, &win), PRMA_ERR_ARG);
    RCHECK_STATUS(r, prma_win_allocate(NULL, &r->coll, 64, 1, &base, &win), PRMA_ERR_ARG);
    bad = r->coll;
    bad.allgather = NULL;
    RCHECK_STATUS(r, prma_win_create(r->ctx, &bad, mem, 64, 1, &win), PRMA_ERR_ARG);
    bad = r->coll;
    bad.barrier = NULL;
    RCHECK_STATUS(r, prma_win_allocate(r->ctx, &bad, 64, 1, &base, &win), PRMA_ERR_ARG);
    bad = r->coll;
    bad.rank = bad.size;
    RCHECK_STATUS(r, prma_win_create(r->ctx, &bad, mem, 64, 1, &win), PRMA_ERR_ARG);
    bad = r->coll;
    bad.rank = -1;
    RCHECK_STATUS(r, prma_win_allocate(r->ctx, &bad, 64, 1, &base, &win), PRMA_ERR_ARG);
    bad = r->coll;
    bad.size = 0;
    RCHECK_STATUS(r, prma_win_create(r->ctx, &bad, mem, 64, 1, &win), PRMA_ERR_ARG);
    /* Outputs untouched; no collective was entered. */
    RCHECK(r, win == (prma_win_h)(uintptr_t)0x1234);
    RCHECK(r, base == (void *)(uintptr_t)0x5678);
    RCHECK_INT(r, r->allgathers, 0);
    RCHECK_INT(r, r->barriers, 0);
}

static void test_win_disp_unit_zero_is_err_disp(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 2, args_body);
    JOB_RUN(&job, ranks);
}

/* ---- zero-size windows on some ranks ---- */

static void zero_size_body(struct rank *r)
{
    int n = r->job->n, me = r->rank, empty = me % 2;
    unsigned char src[4];
    prma_win_attr_t attr;
    struct wmem m, m2;
    prma_win_h win, win2;

    if (win_make(r, MEM_ALLOCATE, empty ? 0 : 32, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    RCHECK_STATUS(r, prma_win_query(win, &attr), PRMA_OK);
    RCHECK_INT(r, attr.size, empty ? 0 : 32);
    if (empty)
        RCHECK(r, m.base == NULL);  /* allocate of 0 bytes gives NULL */
    else
        RCHECK(r, m.base != NULL);
    for (int t = 0; t < n; t++)
        RCHECK(r, prma_win_port_kind(win, t) != NULL);

    fill_pattern(src, sizeof(src), me);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    for (int t = 0; t < n; t++) {
        if (t % 2) {
            RCHECK_STATUS(r, prma_win_put(win, src, 1, t, 0, 0), PRMA_ERR_RMA_RANGE);
            RCHECK_STATUS(r, prma_win_put(win, src, 0, t, 0, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_check_access(win, t, 0, 0, 0), PRMA_OK);
        } else {
            RCHECK_STATUS(r, prma_win_put(win, src, 4, t, (uint64_t)me * 4, 0), PRMA_OK);
        }
    }
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    if (!empty) {
        for (int o = 0; o < n; o++)
            CHECK_PATTERN(r, m.base, (size_t)o * 4, (size_t)o * 4 + 4, o);
        CHECK_CONST(r, m.base, (size_t)n * 4, 32, SENTINEL);
    }
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);

    /* The same with user memory: NULL base and size 0 on the empty ranks. */
    if (win_make(r, MEM_MALLOC, empty ? 0 : 32, 4, &m2, &win2) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    RCHECK_STATUS(r, prma_win_fence(win2, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win2, src, 4, 0, (uint64_t)me, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win2, src, 4, 1, 0, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_fence(win2, PRMA_MODE_NOSUCCEED), PRMA_OK);
    if (me == 0) {
        for (int o = 0; o < n; o++)
            CHECK_PATTERN(r, m2.base, (size_t)o * 4, (size_t)o * 4 + 4, o);
        CHECK_CONST(r, m2.base, (size_t)n * 4, 32, SENTINEL);
    }
    RCHECK_STATUS(r, prma_win_free(win2), PRMA_OK);
    win_mem_release(r, &m2);
}

static void test_win_zero_size_on_some_ranks(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 4, zero_size_body);
    JOB_RUN(&job, ranks);
}

/* ---- refused operations write nothing ---- */

static void refused_body(struct rank *r)
{
    static const enum mem_kind kinds[] = { MEM_ALLOCATE, MEM_MALLOC, MEM_MEMALLOC };
    int me = r->rank, t = 1 - me;
    unsigned char src[64], got[64];

    fill_pattern(src, sizeof(src), me);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct wmem m;
        prma_win_h win;

        if (win_make(r, kinds[k], 32, 1, &m, &win) != PRMA_OK) {
            rank_fail(r, __LINE__, "window creation failed");
            return;
        }
        memset(got, SENTINEL2, sizeof(got));
        /* Outside an epoch. */
        RCHECK_STATUS(r, prma_win_put(win, src, 8, t, 0, 0), PRMA_ERR_RMA_SYNC);
        RCHECK_STATUS(r, prma_win_put(win, src, 8, me, 0, 0), PRMA_ERR_RMA_SYNC);
        RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
        /* Straddling the end: the part that would fit must not be written
         * either. */
        RCHECK_STATUS(r, prma_win_put(win, src, 16, t, 24, 0), PRMA_ERR_RMA_RANGE);
        RCHECK_STATUS(r, prma_win_put(win, src, 33, t, 0, 0), PRMA_ERR_RMA_RANGE);
        RCHECK_STATUS(r, prma_win_put(win, src, 16, me, 20, 0), PRMA_ERR_RMA_RANGE);
        RCHECK_STATUS(r, prma_win_get(win, got, 16, t, 24, 0), PRMA_ERR_RMA_RANGE);
        RCHECK_STATUS(r, prma_win_get(win, got, 40, me, 0, 0), PRMA_ERR_RMA_RANGE);
        RCHECK_STATUS(r, prma_win_put(win, src, 8, 2, 0, 0), PRMA_ERR_RANK);
        RCHECK_STATUS(r, prma_win_get(win, got, 8, -1, 0, 0), PRMA_ERR_RANK);
        RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
        RCHECK_STATUS(r, prma_win_put(win, src, 8, t, 0, 0), PRMA_ERR_RMA_SYNC);
        RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOPRECEDE), PRMA_OK);
        CHECK_CONST(r, m.base, 0, 32, SENTINEL);
        CHECK_CONST(r, got, 0, sizeof(got), SENTINEL2);
        RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
        RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
        win_mem_release(r, &m);
    }
}

static void test_win_refused_operation_writes_nothing(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    job_init(&job, 2, refused_body);
    JOB_RUN(&job, ranks);
}

/* ---- failure agreement ---- */

static void create_fails_body(struct rank *r)
{
    struct job *job = r->job;
    prma_win_h win = (prma_win_h)(uintptr_t)0x1234;
    struct wmem m;
    int status;

    /* The first window: one rank's first allgather fails. */
    status = win_make(r, MEM_MALLOC, 64, 1, &m, &win);
    RCHECK_STATUS(r, status, r->rank == job->fail_rank ? PRMA_ERR_BOOTSTRAP
                                                      : PRMA_ERR_PEER_FAILED);
    RCHECK(r, win == (prma_win_h)(uintptr_t)0x1234);
    if (status == PRMA_OK)
        return;  /* mismatch recorded; do not wander into more collectives */
    /* Every rank got through both exchanges: nobody is left behind, and the
     * next creation works. */
    RCHECK_INT(r, r->allgathers, 2);
    if (win_make(r, MEM_ALLOCATE, 64, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "second window creation failed");
        return;
    }
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void allocate_fails_body(struct rank *r)
{
    struct job *job = r->job;
    int failing = r->rank == job->param;
    prma_win_h win = (prma_win_h)(uintptr_t)0x1234;
    void *base = (void *)(uintptr_t)0x5678;
    int status;

    /* One rank cannot get its memory: all ranks fail, together. */
    status = prma_win_allocate(r->ctx, &r->coll, failing ? SIZE_MAX : 64, 1, &base, &win);
    RCHECK_STATUS(r, status, failing ? PRMA_ERR_NOMEM : PRMA_ERR_PEER_FAILED);
    RCHECK(r, win == (prma_win_h)(uintptr_t)0x1234);
    RCHECK(r, base == (void *)(uintptr_t)0x5678);
    if (status == PRMA_OK)
        return;
    status = prma_win_allocate(r->ctx, &r->coll, 64, 1, &base, &win);
    RCHECK_STATUS(r, status, PRMA_OK);
    if (status == PRMA_OK)
        RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_win_create_failure_is_agreed(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    for (int fail_rank = 0; fail_rank < 4; fail_rank += 3) {
        job_init(&job, 4, create_fails_body);
        job.fail_rank = fail_rank;
        job.fail_call = 0;
        JOB_RUN(&job, ranks);
    }
    job_init(&job, 4, allocate_fails_body);
    job.param = 2;  /* the rank that cannot get its memory */
    JOB_RUN(&job, ranks);
}

static void barrier_fails_body(struct rank *r)
{
    struct wmem m;
    prma_win_h win;

    if (win_make(r, MEM_ALLOCATE, 64, 1, &m, &win) != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation failed");
        return;
    }
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_ERR_BOOTSTRAP);
    /* The window is freed anyway; the failed barrier is reported. */
    RCHECK_STATUS(r, prma_win_free(win), PRMA_ERR_BOOTSTRAP);
}

static void test_win_barrier_failure_is_err_bootstrap(void **state)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    /* On two nodes, so that the group's barrier is the bootstrap's. */
    job_init(&job, 2, barrier_fails_body);
    job.node_of[1] = 2;
    job.barrier_fails = 1;  /* creation needs only allgathers */
    JOB_RUN(&job, ranks);
}

/* ---- accumulates: atomic per element, from every rank at once ---- */

#define ACC_WSIZE 8192
#define ACC_ITERS 300
#define ACC_EDGE  (4096 - 64)  /* 4 wide elements across a page (two stripes) */

struct acc_pair { double v; int i; };

static enum mem_kind acc_kind;

static void acc_body(struct rank *r)
{
    int n = r->job->n, me = r->rank;
    int64_t one = 1, old = 0, cnt = 0, pattern_old[ACC_ITERS];
    int32_t three[3] = { 1, 2, 3 };
    double half = 0.5, dbl = 0;
    long double _Complex z[4] = { 1.0L + 2.0iL, 3.0L, -1.0iL, 0.25L }, zs[4];
    struct acc_pair mine = { (double)(me % 2), me }, best;
    struct wmem m;
    prma_win_h win;
    int status;

    status = win_make(r, acc_kind, ACC_WSIZE, 1, &m, &win);
    if (status != PRMA_OK) {
        rank_fail(r, __LINE__, "window creation: %s", prma_status_string(status));
        return;
    }
    memset(m.base, 0, ACC_WSIZE);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    for (int i = 0; i < ACC_ITERS; i++) {
        /* One counter: an accumulate and a fetch-and-op, mixed. */
        RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_SUM, PRMA_TYPE_INT64, &one, 1, NULL,
                                             0, 0, 0), PRMA_OK);
        RCHECK_STATUS(r, prma_win_fetch_op(win, PRMA_OP_SUM, 8, 1, &one, &old, 0, 0), PRMA_OK);
        /* A compare-and-swap loop (double), stripe locks (long double
         * complex, across a page), runs of ints at a place of our own. */
        RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_SUM, PRMA_TYPE_DOUBLE, &half, 1, NULL,
                                             0, 16, 0), PRMA_OK);
        RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_SUM, PRMA_TYPE_LONG_DOUBLE_COMPLEX, z,
                                             4, NULL, 0, ACC_EDGE, 0), PRMA_OK);
        RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_SUM, PRMA_TYPE_INT32, three, 3, NULL,
                                             0, 128, (uint64_t)(12 * me)), PRMA_OK);
        /* Our own slot: every old value comes back in order. */
        cnt = i + 1;
        RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_REPLACE, PRMA_TYPE_INT64, &cnt, 1,
                                             &pattern_old[i], 0, 256, (uint64_t)(8 * me)),
                      PRMA_OK);
    }
    RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_MAXLOC, PRMA_TYPE_DOUBLE_INT, &mine, 1,
                                         NULL, 0, 64, 0), PRMA_OK);
    /* Refused: nothing written. */
    RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_BAND, PRMA_TYPE_DOUBLE, &half, 1, NULL, 0,
                                         16, 0), PRMA_ERR_OP);
    RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_SUM, PRMA_TYPE_INT64, &one, 1, NULL, 0,
                                         ACC_WSIZE - 4, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    for (int i = 0; i < ACC_ITERS; i++)
        RCHECK_INT(r, pattern_old[i], i);
    if (me == 0) {
        memcpy(&cnt, m.base, 8);
        RCHECK_INT(r, cnt, 2 * ACC_ITERS * n);
        memcpy(&dbl, m.base + 16, 8);
        RCHECK(r, dbl == 0.5 * ACC_ITERS * n);
        memcpy(zs, m.base + ACC_EDGE, sizeof(zs));
        for (int k = 0; k < 4; k++)
            RCHECK(r, zs[k] == z[k] * (long double)(ACC_ITERS * n));
        for (int k = 0; k < n; k++) {
            int32_t got[3];

            memcpy(got, m.base + 128 + 12 * k, sizeof(got));
            for (int j = 0; j < 3; j++)
                RCHECK_INT(r, got[j], three[j] * ACC_ITERS);
        }
        memcpy(&best, m.base + 64, sizeof(best));
        RCHECK(r, best.v == (n > 1 ? 1.0 : 0.0));
        RCHECK_INT(r, best.i, n > 1 ? 1 : 0);
    }
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    win_mem_release(r, &m);
}

static void run_acc(const char *name, enum mem_kind kind)
{
    struct rank ranks[MAXRANKS];
    struct job job;

    acc_kind = kind;
    for (int n = 1; n <= MAXRANKS; n *= 2) {
        job_init(&job, n, acc_body);
        job_run(name, &job, ranks);
    }
}

static void test_win_accumulate_shm(void **state)
{
    run_acc(__func__, MEM_ALLOCATE);
}

static void test_win_accumulate_shm_cma_takes_stripe_locks(void **state)
{
    run_acc(__func__, MEM_MALLOC);
}

static void test_win_accumulate_interior_memfd(void **state)
{
    run_acc(__func__, MEM_MEMALLOC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_guarded(test_win_allocate_put_get_1rank),
        unit_test_guarded(test_win_allocate_put_get_2ranks),
        unit_test_guarded(test_win_allocate_put_get_4ranks),
        unit_test_guarded(test_win_create_malloc_uses_shm_cma),
        unit_test_guarded(test_win_create_malloc_moved_uses_shm),
        unit_test_guarded(test_win_create_mem_alloc_uses_shm),
        cmocka_unit_test_setup_teardown(test_win_setting_shm_cma_forces_cma,
                                        unit_watchdog_setup, shm_env_teardown),
        unit_test_guarded(test_win_other_node_is_unreachable),
        unit_test_guarded(test_win_none_port_refuses_everything),
        unit_test_guarded(test_win_put_outside_epoch_is_rma_sync),
        unit_test_guarded(test_win_fence_bad_mode_is_err_assert),
        unit_test_guarded(test_win_bad_rank_is_err_rank),
        unit_test_guarded(test_win_range_checks),
        unit_test_guarded(test_win_disp_unit_zero_is_err_disp),
        unit_test_guarded(test_win_zero_size_on_some_ranks),
        unit_test_guarded(test_win_refused_operation_writes_nothing),
        unit_test_guarded(test_win_create_failure_is_agreed),
        unit_test_guarded(test_win_barrier_failure_is_err_bootstrap),
        unit_test_guarded(test_win_accumulate_shm),
        unit_test_guarded(test_win_accumulate_shm_cma_takes_stripe_locks),
        unit_test_guarded(test_win_accumulate_interior_memfd),
    };

    /* The port kinds checked here are those of the defaults. */
    unsetenv("PORTRMA_SHM");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
