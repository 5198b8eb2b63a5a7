/*
 * sync_errors: wrong synchronization transitions must be refused with
 * MPI_ERR_RMA_SYNC (MPI-3.1 11.5, 11.8) when the window's error handler is
 * MPI_ERRORS_RETURN, must have no effect, and must leave the window usable;
 * bad arguments of MPI_Win_lock must give MPI_ERR_LOCKTYPE, MPI_ERR_RANK,
 * MPI_ERR_ASSERT.
 *
 * Every case runs on a fresh MPI_Win_allocate window (so that a wrongly
 * accepted call cannot spoil the next cases) and every rank makes the same
 * calls (so that a refused or wrongly accepted collective call cannot leave
 * ranks waiting for each other).  After each case the window must still
 * work: a fence epoch with a put, a lock_all epoch with put / flush / get,
 * and a PSCW epoch with a put (no passive epoch on a no_locks window),
 * every transfer verified; the check stops at its first failing call.
 * Then the window must be freed.
 *
 * Cases: MPI_Win_unlock / unlock_all without a lock, unlock of another
 * target; MPI_Win_complete without start and twice; MPI_Win_wait /
 * MPI_Win_test without post and wait twice; MPI_Win_fence inside lock_all
 * and inside lock; MPI_Win_flush / flush_all / flush_local /
 * flush_local_all outside any epoch, inside a fence epoch and inside a PSCW
 * access epoch; MPI_Win_start inside lock_all; MPI_Win_lock_all / lock
 * inside a PSCW access epoch and lock_all inside a fence epoch; MPI_Win_lock
 * / lock_all on a window with info no_locks=true; the same target locked
 * twice, lock inside lock_all, lock_all twice, lock_all inside lock;
 * MPI_Win_lock with a bad lock_type, bad rank, bad assert, MPI_Win_lock_all
 * with a bad assert, MPI_Win_unlock of a bad rank; MPI_Win_free with a
 * lock_all, a lock, a PSCW access or a PSCW exposure epoch open (then the
 * epoch is closed and the free must work); MPI_Put / MPI_Get to a target
 * outside the group of MPI_Win_start.
 *
 * Where an implementation wrongly accepts a call, the test closes what the
 * call may have opened so that it can go on.  Every mismatch is recorded
 * and printed; the run fails at the end.
 *
 * Works at any number of ranks.
 */
#include "common.h"

#include <signal.h>
#include <unistd.h>

#define WATCHDOG_S 60
#define WSIZE 256
#define LEN 32
#define DISP_FENCE 32
#define DISP_LOCK 96
#define DISP_PSCW 160
#define STRAY_DISP 0 /* where wrongly accepted transfers would land */
#define TEST_LIMIT_S 5.0

static int rank, nranks, left, right;
static MPI_Group world_group, gself, gleft, gright;
static int case_no, n_checks;
static const char *volatile current_case = "(start)";

static void watchdog(int sig)
{
    (void)sig;
    static const char m1[] = "FAIL sync_errors: watchdog timeout (hang?) in ";
    const char *c = current_case;
    ssize_t rc = write(2, m1, sizeof m1 - 1);
    rc = write(2, c, strlen(c));
    rc = write(2, "\n", 1);
    (void)rc;
    _exit(1);
}

/* Record a failure unless `rc` is of class `want`.  Returns rc. */
#define EXPECT(rc, want, ...)                                                  \
    (n_checks++, prma_expect_class_at(__FILE__, __LINE__, (rc), (want), __VA_ARGS__))

/* ---- windows ------------------------------------------------------------ */

struct win {
    MPI_Win w;
    unsigned char *mem;
    int no_locks;
};

static struct win x;            /* the window of the current case */
static const char *case_name;   /* its name */

static void win_open(struct win *w, int no_locks)
{
    MPI_Info info = MPI_INFO_NULL;
    if (no_locks) {
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, "no_locks", "true"));
    }
    void *base = NULL;
    MPI_CHECK(MPI_Win_allocate(WSIZE, 1, info, MPI_COMM_WORLD, &base, &w->w));
    if (no_locks)
        MPI_CHECK(MPI_Info_free(&info));
    MPI_CHECK(MPI_Win_set_errhandler(w->w, MPI_ERRORS_RETURN));
    w->mem = base;
    w->no_locks = no_locks;
    prma_fill_const(w->mem, WSIZE, PRMA_SENTINEL);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

static void win_close(struct win *w, const char *name)
{
    if (w->w == MPI_WIN_NULL)
        return;
    EXPECT(MPI_Win_free(&w->w), MPI_SUCCESS, "%s: final MPI_Win_free", name);
    if (w->w != MPI_WIN_NULL) {
        prma_soft_fail(__FILE__, __LINE__, "%s: the window could not be "
                       "freed (left allocated)", name);
        w->w = MPI_WIN_NULL;
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

static uint64_t seed_of(int origin, int kind)
{
    return prma_seed((uint64_t)origin, 8000 + (uint64_t)case_no, (uint64_t)kind);
}

/* Soft verification of LEN bytes of buf (window offset off) against
 * origin's pattern. */
static void soft_pattern(const unsigned char *buf, size_t off, int origin,
                         int kind, const char *name, const char *what)
{
    long long bad = prma_find_pattern_mismatch(buf, LEN, seed_of(origin, kind),
                                               off);
    SOFT_CHECKF(bad < 0, "after %s: %s: byte %lld is wrong (0x%02x, expected "
                "0x%02x)", name, what, bad, bad >= 0 ? buf[bad] : 0,
                bad >= 0 ? prma_pattern_byte(seed_of(origin, kind),
                                             off + (uint64_t)bad)
                         : 0);
}

/* One step of check_usable: skipped once a step failed. */
#define STEP(call, ...)                                                        \
    do {                                                                       \
        if (ok && EXPECT((call), MPI_SUCCESS, __VA_ARGS__) != MPI_SUCCESS)     \
            ok = 0;                                                            \
    } while (0)

/* All ranks go on only if every rank is still ok (a rank whose call failed
 * and another going on into a collective or a PSCW epoch would hang). */
static void agree(int *ok)
{
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, ok, 1, MPI_INT, MPI_MIN,
                            MPI_COMM_WORLD));
}

/* The window still works: fence, lock_all, PSCW epochs, each with a
 * verified transfer.  Every rank calls it.  Stops at the first failing
 * call, on every rank (the window is broken then; going on could hang). */
static void check_usable(struct win *w, const char *name)
{
    unsigned char ob[LEN], gb[LEN];
    MPI_Win win = w->w;
    int ok = 1;
    const int checks_before = n_checks; /* count the cases' checks only */
    CHECK(win != MPI_WIN_NULL);

    /* nobody accesses any window now (stray transfers of the case, if any,
     * are complete): reset */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    prma_fill_const(w->mem, WSIZE, PRMA_SENTINEL);

    /* fence */
    prma_fill(ob, LEN, seed_of(rank, 1), DISP_FENCE);
    agree(&ok);
    STEP(MPI_Win_fence(0, win), "after %s: MPI_Win_fence(0)", name);
    STEP(MPI_Put(ob, LEN, MPI_BYTE, right, DISP_FENCE, LEN, MPI_BYTE, win),
         "after %s: MPI_Put in a fence epoch", name);
    STEP(MPI_Win_fence(MPI_MODE_NOSUCCEED, win),
         "after %s: MPI_Win_fence(MPI_MODE_NOSUCCEED)", name);
    if (ok)
        soft_pattern(w->mem + DISP_FENCE, DISP_FENCE, left, 1, name,
                     "the fence put");

    /* lock_all */
    agree(&ok);
    if (!w->no_locks) {
        prma_fill(ob, LEN, seed_of(rank, 2), DISP_LOCK);
        prma_fill_const(gb, LEN, PRMA_SENTINEL2);
        STEP(MPI_Win_lock_all(0, win), "after %s: MPI_Win_lock_all", name);
        STEP(MPI_Put(ob, LEN, MPI_BYTE, right, DISP_LOCK, LEN, MPI_BYTE, win),
             "after %s: MPI_Put under lock_all", name);
        STEP(MPI_Win_flush(right, win), "after %s: MPI_Win_flush", name);
        STEP(MPI_Get(gb, LEN, MPI_BYTE, right, DISP_LOCK, LEN, MPI_BYTE, win),
             "after %s: MPI_Get under lock_all", name);
        STEP(MPI_Win_unlock_all(win), "after %s: MPI_Win_unlock_all", name);
        if (ok)
            soft_pattern(gb, DISP_LOCK, rank, 2, name,
                         "put + flush + get back under lock_all");
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        STEP(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win),
             "after %s: MPI_Win_lock of myself", name);
        STEP(MPI_Win_sync(win), "after %s: MPI_Win_sync", name);
        if (ok)
            soft_pattern(w->mem + DISP_LOCK, DISP_LOCK, left, 2, name,
                         "the put under lock_all, in the target window");
        STEP(MPI_Win_unlock(rank, win), "after %s: MPI_Win_unlock of myself",
             name);
        agree(&ok);
    }

    /* PSCW ring; the end of the exposure epoch is polled under a time
     * limit so that a broken window fails instead of hanging */
    prma_fill(ob, LEN, seed_of(rank, 3), DISP_PSCW);
    STEP(MPI_Win_post(gleft, 0, win), "after %s: MPI_Win_post", name);
    agree(&ok);
    STEP(MPI_Win_start(gright, 0, win), "after %s: MPI_Win_start", name);
    STEP(MPI_Put(ob, LEN, MPI_BYTE, right, DISP_PSCW, LEN, MPI_BYTE, win),
         "after %s: MPI_Put in a PSCW epoch", name);
    STEP(MPI_Win_complete(win), "after %s: MPI_Win_complete", name);
    if (ok) {
        const double t0 = MPI_Wtime();
        int flag = 0;
        while (ok && !flag) {
            STEP(MPI_Win_test(win, &flag), "after %s: MPI_Win_test", name);
            if (!flag && MPI_Wtime() - t0 > TEST_LIMIT_S) {
                prma_soft_fail(__FILE__, __LINE__, "after %s: the PSCW "
                               "exposure epoch did not end within %.0f s",
                               name, TEST_LIMIT_S);
                ok = 0;
            }
        }
    }
    if (ok)
        soft_pattern(w->mem + DISP_PSCW, DISP_PSCW, left, 3, name,
                     "the PSCW put");

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    n_checks = checks_before;
    case_no++;
}

static void begin(const char *name, int no_locks)
{
    case_name = name;
    current_case = name;
    win_open(&x, no_locks);
}

static void end(void)
{
    if (x.w != MPI_WIN_NULL) {
        check_usable(&x, case_name);
        win_close(&x, case_name);
    }
    current_case = "(between cases)";
}

#define SYNC MPI_ERR_RMA_SYNC
#define W x.w

/* ---- the cases ---------------------------------------------------------- */

static void cases_unlock(void)
{
    begin("MPI_Win_unlock(right) without a lock", 0);
    EXPECT(MPI_Win_unlock(right, W), SYNC, "%s", case_name);
    end();

    begin("MPI_Win_unlock(self) without a lock", 0);
    EXPECT(MPI_Win_unlock(rank, W), SYNC, "%s", case_name);
    end();

    begin("MPI_Win_unlock_all without lock_all", 0);
    EXPECT(MPI_Win_unlock_all(W), SYNC, "%s", case_name);
    end();

    if (nranks >= 3) {
        begin("MPI_Win_unlock(left) while only right is locked", 0);
        EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
               "MPI_Win_lock(SHARED, right)");
        EXPECT(MPI_Win_unlock(left, W), SYNC, "%s", case_name);
        EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS,
               "%s: then MPI_Win_unlock(right)", case_name);
        end();
    }

    begin("MPI_Win_unlock_all while one target is locked", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    EXPECT(MPI_Win_unlock_all(W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS,
           "%s: then MPI_Win_unlock(right)", case_name);
    end();

    begin("second MPI_Win_unlock(right)", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(EXCLUSIVE, right)");
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS, "MPI_Win_unlock(right)");
    EXPECT(MPI_Win_unlock(right, W), SYNC, "%s", case_name);
    end();

    begin("second MPI_Win_unlock_all", 0);
    EXPECT(MPI_Win_lock_all(0, W), MPI_SUCCESS, "MPI_Win_lock_all");
    EXPECT(MPI_Win_unlock_all(W), MPI_SUCCESS, "MPI_Win_unlock_all");
    EXPECT(MPI_Win_unlock_all(W), SYNC, "%s", case_name);
    end();
}

static void cases_complete(void)
{
    begin("MPI_Win_complete without MPI_Win_start", 0);
    EXPECT(MPI_Win_complete(W), SYNC, "%s", case_name);
    end();

    begin("second MPI_Win_complete", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS, "MPI_Win_start(self)");
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "MPI_Win_complete");
    EXPECT(MPI_Win_complete(W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "%s: then MPI_Win_wait", case_name);
    end();

    begin("MPI_Win_complete with only an exposure epoch (post) open", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_complete(W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS,
           "%s: then MPI_Win_start(self)", case_name);
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
           case_name);
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "%s: then MPI_Win_wait", case_name);
    end();
}

static void cases_wait(void)
{
    int flag = -1;

    begin("MPI_Win_wait without MPI_Win_post", 0);
    EXPECT(MPI_Win_wait(W), SYNC, "%s", case_name);
    end();

    begin("MPI_Win_test without MPI_Win_post", 0);
    EXPECT(MPI_Win_test(W, &flag), SYNC, "%s", case_name);
    end();

    begin("second MPI_Win_wait", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS, "MPI_Win_start(self)");
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "MPI_Win_complete");
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "MPI_Win_wait");
    EXPECT(MPI_Win_wait(W), SYNC, "%s", case_name);
    end();

    begin("MPI_Win_test after MPI_Win_wait", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS, "MPI_Win_start(self)");
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "MPI_Win_complete");
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "MPI_Win_wait");
    EXPECT(MPI_Win_test(W, &flag), SYNC, "%s", case_name);
    end();

    begin("MPI_Win_wait with only an access epoch (start) open", 0);
    EXPECT(MPI_Win_start(MPI_GROUP_EMPTY, 0, W), MPI_SUCCESS,
           "MPI_Win_start(empty group)");
    EXPECT(MPI_Win_wait(W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
           case_name);
    end();
}

static void cases_fence_in_passive(void)
{
    begin("MPI_Win_fence(0) inside lock_all", 0);
    EXPECT(MPI_Win_lock_all(0, W), MPI_SUCCESS, "MPI_Win_lock_all");
    EXPECT(MPI_Win_fence(0, W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_unlock_all(W), MPI_SUCCESS, "%s: then MPI_Win_unlock_all",
           case_name);
    end();

    begin("MPI_Win_fence(0) inside a lock", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    EXPECT(MPI_Win_fence(0, W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS, "%s: then MPI_Win_unlock",
           case_name);
    end();
}

static void flushes(const char *where)
{
    EXPECT(MPI_Win_flush(right, W), SYNC, "MPI_Win_flush %s", where);
    EXPECT(MPI_Win_flush_all(W), SYNC, "MPI_Win_flush_all %s", where);
    EXPECT(MPI_Win_flush_local(right, W), SYNC, "MPI_Win_flush_local %s",
           where);
    EXPECT(MPI_Win_flush_local_all(W), SYNC, "MPI_Win_flush_local_all %s",
           where);
}

static void cases_flush(void)
{
    unsigned char ob[LEN];
    prma_fill(ob, LEN, 1, 0);

    begin("flushes with no epoch", 0);
    flushes("with no epoch");
    end();

    begin("flushes in a fence epoch", 0);
    EXPECT(MPI_Win_fence(0, W), MPI_SUCCESS, "MPI_Win_fence(0)");
    EXPECT(MPI_Put(ob, LEN, MPI_BYTE, right, STRAY_DISP, LEN, MPI_BYTE, W),
           MPI_SUCCESS, "MPI_Put in the fence epoch");
    flushes("in a fence epoch");
    EXPECT(MPI_Win_fence(MPI_MODE_NOSUCCEED, W), MPI_SUCCESS,
           "%s: then MPI_Win_fence(MPI_MODE_NOSUCCEED)", case_name);
    end();

    begin("flushes in a PSCW access epoch", 0);
    EXPECT(MPI_Win_post(gright, 0, W), MPI_SUCCESS, "MPI_Win_post(right)");
    EXPECT(MPI_Win_start(gleft, 0, W), MPI_SUCCESS, "MPI_Win_start(left)");
    EXPECT(MPI_Put(ob, LEN, MPI_BYTE, left, STRAY_DISP, LEN, MPI_BYTE, W),
           MPI_SUCCESS, "MPI_Put in the PSCW epoch");
    EXPECT(MPI_Win_flush(left, W), SYNC,
           "MPI_Win_flush(left) in a PSCW access epoch to left");
    EXPECT(MPI_Win_flush_all(W), SYNC,
           "MPI_Win_flush_all in a PSCW access epoch");
    EXPECT(MPI_Win_flush_local(left, W), SYNC,
           "MPI_Win_flush_local(left) in a PSCW access epoch to left");
    EXPECT(MPI_Win_flush_local_all(W), SYNC,
           "MPI_Win_flush_local_all in a PSCW access epoch");
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
           case_name);
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "%s: then MPI_Win_wait", case_name);
    end();

    begin("flushes after the unlock", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    EXPECT(MPI_Win_flush(right, W), MPI_SUCCESS,
           "MPI_Win_flush(right) while right is locked");
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS, "MPI_Win_unlock(right)");
    flushes("after the unlock");
    end();
}

static void cases_nested(void)
{
    unsigned char ob[LEN];
    int rc;
    prma_fill(ob, LEN, 2, 0);

    /* An empty start group: if the start is wrongly accepted, it cannot
     * block waiting for posts, and the complete ends it. */
    begin("MPI_Win_start(empty group) inside lock_all", 0);
    EXPECT(MPI_Win_lock_all(0, W), MPI_SUCCESS, "MPI_Win_lock_all");
    rc = EXPECT(MPI_Win_start(MPI_GROUP_EMPTY, 0, W), SYNC, "%s", case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_complete(W);
    EXPECT(MPI_Win_unlock_all(W), MPI_SUCCESS, "%s: then MPI_Win_unlock_all",
           case_name);
    end();

    begin("MPI_Win_start(empty group) inside a lock", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    rc = EXPECT(MPI_Win_start(MPI_GROUP_EMPTY, 0, W), SYNC, "%s", case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_complete(W);
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS, "%s: then MPI_Win_unlock",
           case_name);
    end();

    begin("MPI_Win_lock_all inside a PSCW access epoch", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS, "MPI_Win_start(self)");
    rc = EXPECT(MPI_Win_lock_all(0, W), SYNC, "%s", case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock_all(W);
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
           case_name);
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "%s: then MPI_Win_wait", case_name);
    end();

    begin("MPI_Win_lock(SHARED, self) inside a PSCW access epoch", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS, "MPI_Win_start(self)");
    rc = EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, W), SYNC, "%s",
                case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(rank, W);
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
           case_name);
    EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "%s: then MPI_Win_wait", case_name);
    end();

    begin("MPI_Win_lock_all inside a fence epoch", 0);
    EXPECT(MPI_Win_fence(0, W), MPI_SUCCESS, "MPI_Win_fence(0)");
    EXPECT(MPI_Put(ob, LEN, MPI_BYTE, right, STRAY_DISP, LEN, MPI_BYTE, W),
           MPI_SUCCESS, "MPI_Put in the fence epoch");
    rc = EXPECT(MPI_Win_lock_all(0, W), SYNC, "%s", case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock_all(W);
    EXPECT(MPI_Win_fence(MPI_MODE_NOSUCCEED, W), MPI_SUCCESS,
           "%s: then MPI_Win_fence(MPI_MODE_NOSUCCEED)", case_name);
    end();
}

static void cases_no_locks(void)
{
    int rc;

    begin("MPI_Win_lock(SHARED, right) on a window with no_locks=true", 1);
    rc = EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), SYNC, "%s",
                case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(right, W);
    end();

    begin("MPI_Win_lock(EXCLUSIVE, self) on a window with no_locks=true", 1);
    rc = EXPECT(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, W), SYNC, "%s",
                case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(rank, W);
    end();

    begin("MPI_Win_lock_all on a window with no_locks=true", 1);
    rc = EXPECT(MPI_Win_lock_all(0, W), SYNC, "%s", case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock_all(W);
    end();
}

static void cases_double_lock(void)
{
    int rc;

    /* Shared locks only: a wrongly accepted second lock cannot deadlock. */
    begin("second MPI_Win_lock(SHARED, 0) (rank 0 already locked)", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, 0)");
    rc = EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, W), SYNC, "%s",
                case_name);
    EXPECT(MPI_Win_unlock(0, W), MPI_SUCCESS, "%s: then MPI_Win_unlock(0)",
           case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(0, W);
    end();

    begin("MPI_Win_lock(SHARED, right) inside lock_all", 0);
    EXPECT(MPI_Win_lock_all(0, W), MPI_SUCCESS, "MPI_Win_lock_all");
    rc = EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), SYNC, "%s",
                case_name);
    EXPECT(MPI_Win_unlock_all(W), MPI_SUCCESS, "%s: then MPI_Win_unlock_all",
           case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(right, W);
    end();

    begin("second MPI_Win_lock_all", 0);
    EXPECT(MPI_Win_lock_all(0, W), MPI_SUCCESS, "MPI_Win_lock_all");
    rc = EXPECT(MPI_Win_lock_all(0, W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_unlock_all(W), MPI_SUCCESS, "%s: then MPI_Win_unlock_all",
           case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock_all(W);
    end();

    begin("MPI_Win_lock_all inside a lock", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    rc = EXPECT(MPI_Win_lock_all(0, W), SYNC, "%s", case_name);
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS, "%s: then MPI_Win_unlock",
           case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock_all(W);
    end();
}

static void cases_lock_args(void)
{
    int rc;

    begin("MPI_Win_lock with lock_type 12345", 0);
    rc = EXPECT(MPI_Win_lock(12345, right, 0, W), MPI_ERR_LOCKTYPE, "%s",
                case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(right, W);
    end();

    begin("MPI_Win_lock of rank n", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, nranks, 0, W), MPI_ERR_RANK, "%s",
           case_name);
    end();

    begin("MPI_Win_lock of rank -5", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, -5, 0, W), MPI_ERR_RANK, "%s",
           case_name);
    end();

    begin("MPI_Win_lock with assert 0x10000", 0);
    rc = EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0x10000, W),
                MPI_ERR_ASSERT, "%s", case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock(right, W);
    end();

    begin("MPI_Win_lock_all with assert 0x10000", 0);
    rc = EXPECT(MPI_Win_lock_all(0x10000, W), MPI_ERR_ASSERT, "%s",
                case_name);
    if (rc == MPI_SUCCESS)
        MPI_Win_unlock_all(W);
    end();

    begin("MPI_Win_unlock of rank n", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    EXPECT(MPI_Win_unlock(nranks, W), MPI_ERR_RANK, "%s", case_name);
    EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS,
           "%s: then MPI_Win_unlock(right)", case_name);
    end();
}

/* MPI_Win_free with an epoch open must be refused and leave the handle
 * alone; returns 0 if the window is gone. */
static int free_refused(const char *what)
{
    MPI_Win before = W;
    EXPECT(MPI_Win_free(&x.w), SYNC, "MPI_Win_free with %s open", what);
    if (x.w == MPI_WIN_NULL) {
        prma_soft_fail(__FILE__, __LINE__, "MPI_Win_free with %s open freed "
                       "the window (the rest of this case is skipped)", what);
        return 0;
    }
    SOFT_CHECKF(x.w == before, "MPI_Win_free with %s open changed the "
                "handle", what);
    x.w = before;
    return 1;
}

static void cases_free(void)
{
    begin("MPI_Win_free with lock_all open", 0);
    EXPECT(MPI_Win_lock_all(0, W), MPI_SUCCESS, "MPI_Win_lock_all");
    if (free_refused("a lock_all epoch"))
        EXPECT(MPI_Win_unlock_all(W), MPI_SUCCESS,
               "MPI_Win_unlock_all after the refused free");
    end();

    begin("MPI_Win_free with a lock open", 0);
    EXPECT(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, W), MPI_SUCCESS,
           "MPI_Win_lock(SHARED, right)");
    if (free_refused("a lock epoch"))
        EXPECT(MPI_Win_unlock(right, W), MPI_SUCCESS,
               "MPI_Win_unlock after the refused free");
    end();

    begin("MPI_Win_free with PSCW access and exposure epochs open", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS, "MPI_Win_start(self)");
    if (free_refused("PSCW access and exposure epochs")) {
        EXPECT(MPI_Win_complete(W), MPI_SUCCESS,
               "MPI_Win_complete after the refused free");
        EXPECT(MPI_Win_wait(W), MPI_SUCCESS,
               "MPI_Win_wait after the refused free");
    }
    end();

    begin("MPI_Win_free with a PSCW exposure epoch open", 0);
    EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
    if (free_refused("a PSCW exposure epoch")) {
        EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS,
               "MPI_Win_start(self) after the refused free");
        EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "MPI_Win_complete");
        EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "MPI_Win_wait");
    }
    end();
}

static void cases_outside_group(void)
{
    unsigned char ob[LEN], gb[LEN];
    prma_fill(ob, LEN, 3, 0);

    /* empty access group: even the rank itself is outside */
    begin("MPI_Put / MPI_Get to myself, not in the (empty) start group", 0);
    EXPECT(MPI_Win_start(MPI_GROUP_EMPTY, 0, W), MPI_SUCCESS,
           "MPI_Win_start(empty group)");
    EXPECT(MPI_Put(ob, LEN, MPI_BYTE, rank, STRAY_DISP, LEN, MPI_BYTE, W),
           SYNC, "MPI_Put to myself, not in the (empty) start group");
    EXPECT(MPI_Get(gb, LEN, MPI_BYTE, rank, STRAY_DISP, LEN, MPI_BYTE, W),
           SYNC, "MPI_Get from myself, not in the (empty) start group");
    EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
           case_name);
    end();

    /* group {self}: the right neighbour is outside */
    if (nranks >= 2) {
        begin("MPI_Put / MPI_Get to the right neighbour, not in the start "
              "group {self}", 0);
        EXPECT(MPI_Win_post(gself, 0, W), MPI_SUCCESS, "MPI_Win_post(self)");
        EXPECT(MPI_Win_start(gself, 0, W), MPI_SUCCESS,
               "MPI_Win_start(self)");
        EXPECT(MPI_Put(ob, LEN, MPI_BYTE, right, STRAY_DISP, LEN, MPI_BYTE, W),
               SYNC, "MPI_Put to the right neighbour, not in the start group "
               "{self}");
        EXPECT(MPI_Get(gb, LEN, MPI_BYTE, right, STRAY_DISP, LEN, MPI_BYTE, W),
               SYNC, "MPI_Get from the right neighbour, not in the start "
               "group {self}");
        EXPECT(MPI_Win_complete(W), MPI_SUCCESS, "%s: then MPI_Win_complete",
               case_name);
        EXPECT(MPI_Win_wait(W), MPI_SUCCESS, "%s: then MPI_Win_wait",
               case_name);
        end();
    }
}

int main(int argc, char **argv)
{
    signal(SIGALRM, watchdog);
    alarm(WATCHDOG_S);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    left = (rank - 1 + nranks) % nranks;
    right = (rank + 1) % nranks;
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &world_group));
    MPI_CHECK(MPI_Group_incl(world_group, 1, &rank, &gself));
    MPI_CHECK(MPI_Group_incl(world_group, 1, &left, &gleft));
    MPI_CHECK(MPI_Group_incl(world_group, 1, &right, &gright));

    /* fresh windows pass the usability check (the check of the check) */
    begin("nothing (fresh window)", 0);
    end();
    begin("nothing (fresh no_locks window)", 1);
    end();
    CHECKF(prma_soft_failures == 0, "a fresh window does not pass the "
           "usability check: the cases below would mean nothing");

    cases_unlock();
    cases_complete();
    cases_wait();
    cases_fence_in_passive();
    cases_flush();
    cases_nested();
    cases_no_locks();
    cases_double_lock();
    cases_lock_args();
    cases_free();
    cases_outside_group();

    current_case = "(end)";
    MPI_CHECK(MPI_Group_free(&gself));
    MPI_CHECK(MPI_Group_free(&gleft));
    MPI_CHECK(MPI_Group_free(&gright));
    MPI_CHECK(MPI_Group_free(&world_group));
    const int total = prma_soft_total();
    if (rank == 0) {
        if (total)
            printf("sync_errors: %d ranks: %d failed checks (summed over "
                   "ranks) of %d per rank, %d cases\n", nranks, total,
                   n_checks, case_no);
        else
            printf("sync_errors: %d ranks, %d cases, %d checks per rank: ok\n",
                   nranks, case_no, n_checks);
    }
    MPI_Finalize();
    return total ? 1 : 0;
}
