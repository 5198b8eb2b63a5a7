/*
 * attrs: window attributes and the other window object calls.
 *
 *  - predefined attributes MPI_WIN_BASE, MPI_WIN_SIZE, MPI_WIN_DISP_UNIT,
 *    MPI_WIN_CREATE_FLAVOR, MPI_WIN_MODEL, for MPI_Win_create (malloc'd
 *    memory, and size 0 with base NULL) and MPI_Win_allocate windows;
 *  - user keyvals: copy/delete callbacks, set/get/overwrite/delete_attr,
 *    delete callbacks run by MPI_Win_free, MPI_Win_free_keyval, unset keys;
 *  - MPI_Win_get_group, MPI_Win_set_name/get_name, MPI_Win_get_errhandler,
 *    MPI_Win_get_info/set_info, MPI_Win_c2f/f2c;
 *  - a window on a sub-communicator (evens/odds of MPI_COMM_WORLD) with
 *    fence + put + get inside it.
 */
#include "common.h"

static int rank, nranks;

/* ---- predefined attributes ------------------------------------------- */

static void check_predefined(MPI_Win win, void *base, MPI_Aint size,
                             int disp_unit, int flavour, const char *what)
{
    int flag = 0;

    void *battr = NULL;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_BASE, &battr, &flag));
    CHECKF(flag, "%s: MPI_WIN_BASE not set", what);
    CHECKF(battr == base, "%s: MPI_WIN_BASE %p, expected %p", what, battr,
           base);

    MPI_Aint *sizep = NULL;
    flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_SIZE, &sizep, &flag));
    CHECKF(flag && sizep, "%s: MPI_WIN_SIZE not set", what);
    CHECKF(*sizep == size, "%s: MPI_WIN_SIZE %ld, expected %ld", what,
           (long)*sizep, (long)size);

    int *dup = NULL;
    flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &dup, &flag));
    CHECKF(flag && dup, "%s: MPI_WIN_DISP_UNIT not set", what);
    CHECKF(*dup == disp_unit, "%s: MPI_WIN_DISP_UNIT %d, expected %d", what,
           *dup, disp_unit);

    int *flp = NULL;
    flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flp, &flag));
    CHECKF(flag && flp, "%s: MPI_WIN_CREATE_FLAVOR not set", what);
    CHECKF(*flp == flavour, "%s: MPI_WIN_CREATE_FLAVOR %d, expected %d", what,
           *flp, flavour);

    int *modelp = NULL;
    flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_MODEL, &modelp, &flag));
    CHECKF(flag && modelp, "%s: MPI_WIN_MODEL not set", what);
    CHECKF(*modelp == MPI_WIN_SEPARATE || *modelp == MPI_WIN_UNIFIED,
           "%s: MPI_WIN_MODEL %d is neither MPI_WIN_SEPARATE (%d) nor "
           "MPI_WIN_UNIFIED (%d)", what, *modelp, MPI_WIN_SEPARATE,
           MPI_WIN_UNIFIED);
}

static void test_predefined(void)
{
    MPI_Win win;

    /* MPI_Win_create, malloc'd memory, per-rank size and disp_unit */
    const MPI_Aint csize = 100 + 8 * rank;
    const int cdu = (rank % 2) ? 4 : 1;
    void *cbase = prma_xmalloc((size_t)csize);
    MPI_CHECK(MPI_Win_create(cbase, csize, cdu, MPI_INFO_NULL, MPI_COMM_WORLD,
                             &win));
    check_predefined(win, cbase, csize, cdu, MPI_WIN_FLAVOR_CREATE,
                     "MPI_Win_create");
    MPI_CHECK(MPI_Win_free(&win));
    free(cbase);

    /* MPI_Win_create with size 0 and base NULL */
    MPI_CHECK(MPI_Win_create(NULL, 0, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    check_predefined(win, NULL, 0, 1, MPI_WIN_FLAVOR_CREATE,
                     "MPI_Win_create(NULL, 0)");
    MPI_CHECK(MPI_Win_free(&win));

    /* MPI_Win_allocate */
    const MPI_Aint asize = 4096 + 16 * rank;
    void *abase = NULL;
    MPI_CHECK(MPI_Win_allocate(asize, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &abase,
                               &win));
    CHECK(abase != NULL);
    check_predefined(win, abase, asize, 8, MPI_WIN_FLAVOR_ALLOCATE,
                     "MPI_Win_allocate");
    MPI_CHECK(MPI_Win_free(&win));
}

/* ---- user keyvals ----------------------------------------------------- */

static int copy_calls, delete_calls;
static MPI_Win last_delete_win;
static int last_delete_keyval;
static void *last_delete_val;
static void *last_delete_extra;
static int extra_state_token;

static int copy_cb(MPI_Win oldwin, int keyval, void *extra, void *in,
                   void *out, int *flag)
{
    (void)oldwin; (void)keyval; (void)extra; (void)in; (void)out;
    copy_calls++;
    *flag = 0;
    return MPI_SUCCESS;
}

static int delete_cb(MPI_Win win, int keyval, void *val, void *extra)
{
    delete_calls++;
    last_delete_win = win;
    last_delete_keyval = keyval;
    last_delete_val = val;
    last_delete_extra = extra;
    return MPI_SUCCESS;
}

static void test_keyvals(void)
{
    static int val_a, val_b, val_c;
    int kv = MPI_KEYVAL_INVALID, kv_unset = MPI_KEYVAL_INVALID;
    int flag = -1;
    void *got = NULL;
    MPI_Win win;
    void *base = NULL;

    MPI_CHECK(MPI_Win_create_keyval(copy_cb, delete_cb, &kv,
                                    &extra_state_token));
    MPI_CHECK(MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN,
                                    MPI_WIN_NULL_DELETE_FN, &kv_unset, NULL));
    CHECK(kv != MPI_KEYVAL_INVALID && kv_unset != MPI_KEYVAL_INVALID);
    CHECK(kv != kv_unset);
    MPI_CHECK(MPI_Win_allocate(64, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base,
                               &win));

    /* unset key: flag 0 */
    MPI_CHECK(MPI_Win_get_attr(win, kv, &got, &flag));
    CHECKF(flag == 0, "get of a never-set key gave flag %d", flag);
    flag = -1;
    MPI_CHECK(MPI_Win_get_attr(win, kv_unset, &got, &flag));
    CHECKF(flag == 0, "get of a never-set key gave flag %d", flag);

    /* set, get */
    MPI_CHECK(MPI_Win_set_attr(win, kv, &val_a));
    CHECK(delete_calls == 0);
    flag = 0;
    got = NULL;
    MPI_CHECK(MPI_Win_get_attr(win, kv, &got, &flag));
    CHECK(flag == 1 && got == &val_a);

    /* overwrite: the delete callback runs for the old value */
    MPI_CHECK(MPI_Win_set_attr(win, kv, &val_b));
    CHECKF(delete_calls == 1, "overwriting an attribute: %d delete callback "
           "calls, expected 1", delete_calls);
    CHECK(last_delete_val == &val_a);
    CHECK(last_delete_win == win);
    CHECK(last_delete_keyval == kv);
    CHECK(last_delete_extra == &extra_state_token);
    flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, kv, &got, &flag));
    CHECK(flag == 1 && got == &val_b);

    /* delete_attr: callback runs, then the key is unset */
    MPI_CHECK(MPI_Win_delete_attr(win, kv));
    CHECKF(delete_calls == 2, "MPI_Win_delete_attr: %d delete callback "
           "calls in all, expected 2", delete_calls);
    CHECK(last_delete_val == &val_b);
    CHECK(last_delete_win == win);
    flag = -1;
    MPI_CHECK(MPI_Win_get_attr(win, kv, &got, &flag));
    CHECK(flag == 0);

    /* win_free runs the delete callbacks of the remaining attributes */
    MPI_CHECK(MPI_Win_set_attr(win, kv, &val_c));
    CHECK(delete_calls == 2);
    MPI_CHECK(MPI_Win_free(&win));
    CHECK(win == MPI_WIN_NULL);
    CHECKF(delete_calls == 3, "MPI_Win_free: %d delete callback calls in "
           "all, expected 3", delete_calls);
    CHECK(last_delete_val == &val_c);
    CHECK(last_delete_keyval == kv);
    CHECK(last_delete_extra == &extra_state_token);

    /* windows are never copied */
    CHECK(copy_calls == 0);

    MPI_CHECK(MPI_Win_free_keyval(&kv));
    CHECK(kv == MPI_KEYVAL_INVALID);
    MPI_CHECK(MPI_Win_free_keyval(&kv_unset));
    CHECK(kv_unset == MPI_KEYVAL_INVALID);
    CHECK(delete_calls == 3);
}

/* ---- the other window object calls ------------------------------------ */

static void dummy_eh(MPI_Win *win, int *code, ...)
{
    (void)win;
    (void)code;
}

static void test_object_calls(void)
{
    MPI_Win win;
    void *base = NULL;
    MPI_CHECK(MPI_Win_allocate(256, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base,
                               &win));

    /* group */
    MPI_Group wgroup, cgroup;
    int cmp = -1;
    MPI_CHECK(MPI_Win_get_group(win, &wgroup));
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &cgroup));
    MPI_CHECK(MPI_Group_compare(wgroup, cgroup, &cmp));
    CHECKF(cmp == MPI_IDENT, "MPI_Win_get_group: compare with the "
           "communicator's group gave %d, expected MPI_IDENT (%d)", cmp,
           MPI_IDENT);
    int gsize = -1, grank = -1;
    MPI_CHECK(MPI_Group_size(wgroup, &gsize));
    MPI_CHECK(MPI_Group_rank(wgroup, &grank));
    CHECK(gsize == nranks && grank == rank);
    MPI_CHECK(MPI_Group_free(&wgroup));
    MPI_CHECK(MPI_Group_free(&cgroup));

    /* name */
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    memset(name, 'x', sizeof name);
    MPI_CHECK(MPI_Win_get_name(win, name, &len));
    CHECKF(len >= 0 && len < MPI_MAX_OBJECT_NAME && name[len] == '\0' &&
               strlen(name) == (size_t)len,
           "default window name: resultlen %d inconsistent", len);
    const char *newname = "portrma test window #42";
    MPI_CHECK(MPI_Win_set_name(win, newname));
    memset(name, 'x', sizeof name);
    len = -1;
    MPI_CHECK(MPI_Win_get_name(win, name, &len));
    CHECKF(strcmp(name, newname) == 0, "MPI_Win_get_name gave \"%.*s\" after "
           "set_name(\"%s\")", MPI_MAX_OBJECT_NAME - 1, name, newname);
    CHECKF(len == (int)strlen(newname), "MPI_Win_get_name resultlen %d, "
           "expected %zu", len, strlen(newname));

    /* error handler */
    MPI_Errhandler eh = MPI_ERRHANDLER_NULL;
    MPI_CHECK(MPI_Win_get_errhandler(win, &eh));
    CHECKF(eh == MPI_ERRORS_ARE_FATAL, "default window error handler is not "
           "MPI_ERRORS_ARE_FATAL");
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    eh = MPI_ERRHANDLER_NULL;
    MPI_CHECK(MPI_Win_get_errhandler(win, &eh));
    CHECK(eh == MPI_ERRORS_RETURN);
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_Errhandler user;
    MPI_CHECK(MPI_Win_create_errhandler(dummy_eh, &user));
    MPI_CHECK(MPI_Win_set_errhandler(win, user));
    eh = MPI_ERRHANDLER_NULL;
    MPI_CHECK(MPI_Win_get_errhandler(win, &eh));
    CHECK(eh == user);
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Errhandler_free(&user)); /* still attached to win: stays valid */
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));

    /* info */
    MPI_Info info = MPI_INFO_NULL;
    MPI_CHECK(MPI_Win_get_info(win, &info));
    CHECK(info != MPI_INFO_NULL);
    int nkeys = -1;
    MPI_CHECK(MPI_Info_get_nkeys(info, &nkeys));
    CHECK(nkeys >= 0);
    MPI_CHECK(MPI_Info_free(&info));
    CHECK(info == MPI_INFO_NULL);
    MPI_Info hint;
    MPI_CHECK(MPI_Info_create(&hint));
    MPI_CHECK(MPI_Info_set(hint, "portrma_test_harmless_key", "1"));
    MPI_CHECK(MPI_Win_set_info(win, hint)); /* collective */
    MPI_CHECK(MPI_Info_free(&hint));
    MPI_CHECK(MPI_Win_get_info(win, &info));
    CHECK(info != MPI_INFO_NULL);
    MPI_CHECK(MPI_Info_free(&info));

    /* Fortran handle round trip */
    MPI_Fint f = MPI_Win_c2f(win);
    MPI_Win back = MPI_Win_f2c(f);
    CHECKF(back == win, "MPI_Win_f2c(MPI_Win_c2f(win)) is another handle");
    CHECK(MPI_Win_f2c(MPI_Win_c2f(MPI_WIN_NULL)) == MPI_WIN_NULL);

    /* the window still works after all that */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    MPI_CHECK(MPI_Win_free(&win));
}

/* ---- window on a sub-communicator ------------------------------------- */

#define SUB_WSIZE 4096
#define SUB_LEN 1000
#define SUB_DISP 17

static uint64_t sub_seed(int world_origin)
{
    return prma_seed((uint64_t)world_origin, 600, 0);
}

static void test_subcomm(void)
{
    MPI_Comm sub;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &sub));
    int srank, sn;
    MPI_CHECK(MPI_Comm_rank(sub, &srank));
    MPI_CHECK(MPI_Comm_size(sub, &sn));
    CHECK(srank == rank / 2);

    /* world rank of sub-rank s: same parity as us */
    const int sright = (srank + 1) % sn, sleft = (srank - 1 + sn) % sn;
    const int sleft2 = (srank - 2 + 2 * sn) % sn;
    const int wleft = 2 * sleft + rank % 2, wleft2 = 2 * sleft2 + rank % 2;

    void *base = NULL;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate(SUB_WSIZE, 1, MPI_INFO_NULL, sub, &base, &win));
    unsigned char *wmem = base;

    MPI_Group wg, sg;
    int cmp = -1;
    MPI_CHECK(MPI_Win_get_group(win, &wg));
    MPI_CHECK(MPI_Comm_group(sub, &sg));
    MPI_CHECK(MPI_Group_compare(wg, sg, &cmp));
    CHECK(cmp == MPI_IDENT);
    MPI_CHECK(MPI_Group_free(&wg));
    MPI_CHECK(MPI_Group_free(&sg));

    unsigned char obuf[SUB_LEN], gbuf[SUB_LEN + 64];
    prma_fill_const(wmem, SUB_WSIZE, PRMA_SENTINEL);
    prma_fill(obuf, SUB_LEN, sub_seed(rank), SUB_DISP);

    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(obuf, SUB_LEN, MPI_BYTE, sright, SUB_DISP, SUB_LEN,
                      MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    VERIFY_CONST(wmem, SUB_DISP, PRMA_SENTINEL, "sub-communicator window");
    VERIFY_PATTERN(wmem + SUB_DISP, SUB_LEN, sub_seed(wleft), SUB_DISP,
                   "sub-communicator put from sub-rank %d (world rank %d)",
                   sleft, wleft);
    VERIFY_CONST(wmem + SUB_DISP + SUB_LEN, SUB_WSIZE - SUB_DISP - SUB_LEN,
                 PRMA_SENTINEL, "sub-communicator window");

    prma_fill_const(gbuf, sizeof gbuf, PRMA_SENTINEL2);
    MPI_CHECK(MPI_Get(gbuf, SUB_LEN, MPI_BYTE, sleft, SUB_DISP, SUB_LEN,
                      MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    VERIFY_PATTERN(gbuf, SUB_LEN, sub_seed(wleft2), SUB_DISP,
                   "sub-communicator get from sub-rank %d (data of world "
                   "rank %d)", sleft, wleft2);
    VERIFY_CONST(gbuf + SUB_LEN, sizeof gbuf - SUB_LEN, PRMA_SENTINEL2,
                 "sub-communicator get: bytes past the requested length");

    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Comm_free(&sub));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    test_predefined();
    test_keyvals();
    test_object_calls();
    test_subcomm();

    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("attrs: %d ranks: ok\n", nranks);
    MPI_Finalize();
    return 0;
}
