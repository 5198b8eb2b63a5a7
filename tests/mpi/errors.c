/*
 * errors: erroneous one-sided calls must be refused with the right error
 * CLASS (MPI-3.1) when MPI_ERRORS_RETURN is set, must have no effect, and
 * must leave the window usable.
 *
 * After every refused operation (one "case"): a correct put into rank r+1
 * must succeed; after a fence every rank's window must hold exactly that put
 * and the sentinel everywhere else, and no refused get may have written its
 * origin buffer.  The window is then reset to the sentinel.
 *
 * Error-class mismatches are recorded (every one is printed) and turn into a
 * non-zero exit at the end, so one run lists all deviations.  Problems that
 * make going on pointless (a fence failing) abort at once.
 *
 * Also: a user error handler (MPI_Win_create_errhandler) is called with the
 * window and the error code, by a failing call and by MPI_Win_call_errhandler.
 *
 * Expected classes (MPI-3.1): RMA call outside an access epoch (before the
 * first fence, after fence(MPI_MODE_NOSUCCEED)) -> MPI_ERR_RMA_SYNC; target
 * range outside the target window, including a negative target_disp ->
 * MPI_ERR_RMA_RANGE; target rank n or -5 -> MPI_ERR_RANK (MPI_PROC_NULL is a
 * valid no-op); negative count -> MPI_ERR_COUNT; MPI_DATATYPE_NULL or an
 * uncommitted type -> MPI_ERR_TYPE; invalid fence assert -> MPI_ERR_ASSERT;
 * attach/detach on a window that is not dynamic -> MPI_ERR_RMA_FLAVOR;
 * MPI_WIN_NULL -> MPI_ERR_WIN (raised on MPI_COMM_WORLD, whose handler is
 * set to MPI_ERRORS_RETURN too).
 */
#include "common.h"

#define WSIZE 64     /* bytes in every rank's window */
#define GOOD_DISP 32 /* where the correct put of each case goes */
#define GOOD_LEN 16
#define BAD_LEN 4
#define GUARD 64

static int rank, nranks, right, left;
static MPI_Win win;
static unsigned char *wmem;
static unsigned char bad_obuf[WSIZE];
static unsigned char good_obuf[GOOD_LEN];
static unsigned char gbuf[WSIZE + GUARD];
static int case_no;

/* Record a failure unless `rc` is of class `want`. */
#define EXPECT_CLASS(rc, want, ...)                                            \
    prma_expect_class_at(__FILE__, __LINE__, (rc), (want), __VA_ARGS__)

static uint64_t good_seed(int origin, int cno)
{
    return prma_seed((uint64_t)origin, 400, (uint64_t)cno);
}

/* Soft verification of a region; returns 1 if ok. */
static int soft_const(const unsigned char *buf, size_t from, size_t len,
                      uint8_t v, const char *name, const char *region)
{
    long long bad = prma_find_const_mismatch(buf + from, len, v);
    SOFT_CHECKF(bad < 0, "after %s: %s byte %lld is 0x%02x, expected the "
                "untouched 0x%02x (a refused operation wrote data?)",
                name, region, bad < 0 ? -1 : (long long)from + bad,
                bad >= 0 ? buf[from + (size_t)bad] : 0, v);
    return bad < 0;
}

/* Called inside an open epoch after the refused operation(s) of a case. */
static void end_case(const char *name)
{
    prma_fill(good_obuf, GOOD_LEN, good_seed(rank, case_no), GOOD_DISP);
    int rc = MPI_Put(good_obuf, GOOD_LEN, MPI_BYTE, right, GOOD_DISP,
                     GOOD_LEN, MPI_BYTE, win);
    EXPECT_CLASS(rc, MPI_SUCCESS, "after %s: a correct MPI_Put", name);
    MPI_CHECK(MPI_Win_fence(0, win));

    soft_const(wmem, 0, GOOD_DISP, PRMA_SENTINEL, name, "window");
    long long bad = prma_find_pattern_mismatch(
        wmem + GOOD_DISP, GOOD_LEN, good_seed(left, case_no), GOOD_DISP);
    SOFT_CHECKF(bad < 0, "after %s: the correct put from rank %d did not land "
                "(window byte %lld)", name, left, GOOD_DISP + bad);
    soft_const(wmem, GOOD_DISP + GOOD_LEN, WSIZE - GOOD_DISP - GOOD_LEN,
               PRMA_SENTINEL, name, "window");
    soft_const(gbuf, 0, sizeof gbuf, PRMA_SENTINEL2, name, "get origin buffer");

    /* reset for the next case; the fence makes it visible */
    prma_fill_const(wmem, WSIZE, PRMA_SENTINEL);
    prma_fill_const(gbuf, sizeof gbuf, PRMA_SENTINEL2);
    MPI_CHECK(MPI_Win_fence(0, win));
    case_no++;
}

/* One erroneous call inside an open epoch, then end_case. */
#define ONE_CASE(call, want, name)                                             \
    do {                                                                       \
        int rc_ = (call);                                                      \
        EXPECT_CLASS(rc_, want, "%s", name);                                   \
        end_case(name);                                                        \
    } while (0)

#define PUT(oc, ot, tr, td, tc, tt, w)                                         \
    MPI_Put(bad_obuf, (oc), (ot), (tr), (MPI_Aint)(td), (tc), (tt), (w))
#define GET(oc, ot, tr, td, tc, tt, w)                                         \
    MPI_Get(gbuf, (oc), (ot), (tr), (MPI_Aint)(td), (tc), (tt), (w))

/* ---- user error handler ---------------------------------------------- */

static int eh_calls;
static MPI_Win eh_win;
static int eh_code;

static void user_eh(MPI_Win *w, int *code, ...)
{
    eh_calls++;
    eh_win = *w;
    eh_code = *code;
}

static void test_user_errhandler(void)
{
    MPI_Errhandler eh;
    MPI_CHECK(MPI_Win_create_errhandler(user_eh, &eh));
    MPI_CHECK(MPI_Win_set_errhandler(win, eh));
    eh_calls = 0;
    eh_win = MPI_WIN_NULL;
    eh_code = MPI_SUCCESS;

    /* a successful operation must not call it */
    end_case("user errhandler: successful put");
    SOFT_CHECKF(eh_calls == 0, "user error handler called %d times by "
                "successful operations", eh_calls);

    /* an erroneous one must, with the window and the code */
    int rc = PUT(BAD_LEN, MPI_BYTE, -5, 0, BAD_LEN, MPI_BYTE, win);
    SOFT_CHECKF(eh_calls == 1, "MPI_Put to rank -5 with a user error handler: "
                "handler called %d times, expected 1 (rc %d)", eh_calls, rc);
    if (eh_calls == 1) {
        SOFT_CHECKF(eh_win == win, "user error handler got another window");
        int cls = -1;
        MPI_Error_class(eh_code, &cls);
        SOFT_CHECKF(cls == MPI_ERR_RANK, "user error handler got code %d, "
                    "class %d %s, expected class MPI_ERR_RANK", eh_code, cls,
                    prma_class_name(cls));
    }
    end_case("MPI_Put to rank -5 with a user error handler");

    /* MPI_Win_call_errhandler */
    eh_calls = 0;
    eh_win = MPI_WIN_NULL;
    eh_code = MPI_SUCCESS;
    rc = MPI_Win_call_errhandler(win, MPI_ERR_OTHER);
    EXPECT_CLASS(rc, MPI_SUCCESS, "MPI_Win_call_errhandler");
    SOFT_CHECKF(eh_calls == 1, "MPI_Win_call_errhandler: handler called %d "
                "times, expected 1", eh_calls);
    SOFT_CHECKF(eh_calls != 1 || eh_win == win,
                "MPI_Win_call_errhandler: handler got another window");
    SOFT_CHECKF(eh_calls != 1 || eh_code == MPI_ERR_OTHER,
                "MPI_Win_call_errhandler: handler got code %d, expected "
                "MPI_ERR_OTHER (%d)", eh_code, MPI_ERR_OTHER);

    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    CHECK(eh == MPI_ERRHANDLER_NULL);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    right = (rank + 1) % nranks;
    left = (rank - 1 + nranks) % nranks;

    /* errors on MPI_WIN_NULL are raised on MPI_COMM_WORLD */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    void *base = NULL;
    MPI_CHECK(MPI_Win_allocate(WSIZE, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base,
                               &win));
    wmem = base;
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    prma_fill_const(wmem, WSIZE, PRMA_SENTINEL);
    prma_fill_const(gbuf, sizeof gbuf, PRMA_SENTINEL2);
    prma_fill(bad_obuf, WSIZE, prma_seed((uint64_t)rank, 401, 0), 0);

    MPI_Datatype uncommitted;
    MPI_CHECK(MPI_Type_contiguous(BAD_LEN, MPI_BYTE, &uncommitted));

    /* -- no epoch: before the first fence -- */
    EXPECT_CLASS(PUT(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, win),
                 MPI_ERR_RMA_SYNC, "MPI_Put before the first fence");
    EXPECT_CLASS(GET(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, win),
                 MPI_ERR_RMA_SYNC, "MPI_Get before the first fence");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("put/get before the first fence");

    /* -- no epoch: after a fence with MPI_MODE_NOSUCCEED -- */
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    EXPECT_CLASS(PUT(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, win),
                 MPI_ERR_RMA_SYNC, "MPI_Put after fence(MPI_MODE_NOSUCCEED)");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("MPI_Put after fence(MPI_MODE_NOSUCCEED)");
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    EXPECT_CLASS(GET(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, win),
                 MPI_ERR_RMA_SYNC, "MPI_Get after fence(MPI_MODE_NOSUCCEED)");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("MPI_Get after fence(MPI_MODE_NOSUCCEED)");

    /* From here on an epoch is open at the start of every case. */

    /* -- target range -- */
    ONE_CASE(PUT(8, MPI_BYTE, right, WSIZE - 4, 8, MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Put of 8 B at disp WSIZE-4 (past the end)");
    ONE_CASE(GET(8, MPI_BYTE, right, WSIZE - 4, 8, MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Get of 8 B at disp WSIZE-4 (past the end)");
    ONE_CASE(PUT(1, MPI_BYTE, right, WSIZE, 1, MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Put of 1 B at disp WSIZE");
    ONE_CASE(GET(1, MPI_BYTE, right, WSIZE, 1, MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Get of 1 B at disp WSIZE");
    /* disp_unit is 1: the last int of the window starts at WSIZE - 4 */
    ONE_CASE(PUT(2, MPI_INT, right, WSIZE - (int)sizeof(int), 2, MPI_INT, win),
             MPI_ERR_RMA_RANGE, "MPI_Put of 2 MPI_INT overlapping the end");

    /* -- counts -- */
    ONE_CASE(PUT(-1, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_COUNT, "MPI_Put with origin count -1");
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, right, 0, -1, MPI_BYTE, win),
             MPI_ERR_COUNT, "MPI_Put with target count -1");
    ONE_CASE(GET(-1, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_COUNT, "MPI_Get with origin count -1");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, right, 0, -1, MPI_BYTE, win),
             MPI_ERR_COUNT, "MPI_Get with target count -1");

    /* -- datatypes: uncommitted -- */
    ONE_CASE(PUT(1, uncommitted, right, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_TYPE, "MPI_Put with an uncommitted origin type");
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, right, 0, 1, uncommitted, win),
             MPI_ERR_TYPE, "MPI_Put with an uncommitted target type");
    ONE_CASE(GET(1, uncommitted, right, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_TYPE, "MPI_Get with an uncommitted origin type");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, right, 0, 1, uncommitted, win),
             MPI_ERR_TYPE, "MPI_Get with an uncommitted target type");

    /* -- fence asserts -- (the same on every rank, so no hang either way;
     * the fence(0) afterwards reopens an epoch whatever happened) */
    EXPECT_CLASS(MPI_Win_fence(0x10000, win), MPI_ERR_ASSERT,
                 "MPI_Win_fence(0x10000)");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("MPI_Win_fence(0x10000)");
    EXPECT_CLASS(MPI_Win_fence(-1, win), MPI_ERR_ASSERT, "MPI_Win_fence(-1)");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("MPI_Win_fence(-1)");

    /* attach and detach belong to dynamic windows only */
    EXPECT_CLASS(MPI_Win_attach(win, gbuf, 64), MPI_ERR_RMA_FLAVOR,
                 "MPI_Win_attach on an MPI_Win_allocate window");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("MPI_Win_attach on an allocate window");
    EXPECT_CLASS(MPI_Win_detach(win, gbuf), MPI_ERR_RMA_FLAVOR,
                 "MPI_Win_detach on an MPI_Win_allocate window");
    MPI_CHECK(MPI_Win_fence(0, win));
    end_case("MPI_Win_detach on an allocate window");

    /* The cases below are the ones an implementation that does not check
     * its arguments is most likely to crash on (wild target address, peer
     * index or handle), so they come last: a crash there does not hide the
     * results of the cases above. */

    /* -- target rank -- */
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, nranks, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_RANK, "MPI_Put to rank n");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, nranks, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_RANK, "MPI_Get from rank n");
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, -5, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_RANK, "MPI_Put to rank -5");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, -5, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_RANK, "MPI_Get from rank -5");
    /* MPI_PROC_NULL: valid, no effect */
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, MPI_PROC_NULL, 0, BAD_LEN, MPI_BYTE, win),
             MPI_SUCCESS, "MPI_Put to MPI_PROC_NULL");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, MPI_PROC_NULL, 0, BAD_LEN, MPI_BYTE, win),
             MPI_SUCCESS, "MPI_Get from MPI_PROC_NULL");

    /* -- user error handler -- */
    test_user_errhandler();

    /* -- target displacement outside the window: negative, far away -- */
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, right, -1, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Put at disp -1");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, right, -1, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Get at disp -1");
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, right, (MPI_Aint)1 << 40, BAD_LEN,
                 MPI_BYTE, win),
             MPI_ERR_RMA_RANGE, "MPI_Put at disp 2^40");

    /* -- datatypes: MPI_DATATYPE_NULL -- */
    ONE_CASE(PUT(BAD_LEN, MPI_DATATYPE_NULL, right, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_TYPE, "MPI_Put with origin type MPI_DATATYPE_NULL");
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_DATATYPE_NULL, win),
             MPI_ERR_TYPE, "MPI_Put with target type MPI_DATATYPE_NULL");
    ONE_CASE(GET(BAD_LEN, MPI_DATATYPE_NULL, right, 0, BAD_LEN, MPI_BYTE, win),
             MPI_ERR_TYPE, "MPI_Get with origin type MPI_DATATYPE_NULL");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_DATATYPE_NULL, win),
             MPI_ERR_TYPE, "MPI_Get with target type MPI_DATATYPE_NULL");

    /* -- MPI_WIN_NULL (reported on MPI_COMM_WORLD) -- */
    ONE_CASE(PUT(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, MPI_WIN_NULL),
             MPI_ERR_WIN, "MPI_Put on MPI_WIN_NULL");
    ONE_CASE(GET(BAD_LEN, MPI_BYTE, right, 0, BAD_LEN, MPI_BYTE, MPI_WIN_NULL),
             MPI_ERR_WIN, "MPI_Get on MPI_WIN_NULL");
    ONE_CASE(MPI_Win_fence(0, MPI_WIN_NULL), MPI_ERR_WIN,
             "MPI_Win_fence on MPI_WIN_NULL");
    {
        MPI_Win null_win = MPI_WIN_NULL;
        ONE_CASE(MPI_Win_free(&null_win), MPI_ERR_WIN,
                 "MPI_Win_free of MPI_WIN_NULL");
    }

    /* the window still works at the very end */
    end_case("all error cases");

    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Type_free(&uncommitted));

    const int total = prma_soft_total();
    if (rank == 0) {
        if (total)
            printf("errors: %d ranks: %d failed checks (summed over ranks)\n",
                   nranks, total);
        else
            printf("errors: %d ranks, %d cases: ok\n", nranks, case_no);
    }
    MPI_Finalize();
    return total ? 1 : 0;
}
