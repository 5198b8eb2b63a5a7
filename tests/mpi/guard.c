/*
 * guard: the exposure guard (info key portrma_guard, PORTRMA_GUARD) catches
 * a target's own loads and stores that collide with RMA, and raises
 * MPI_ERR_RMA_CONFLICT at the target's next synchronization call.
 *
 * Rank 0 is the origin, rank 1 (rank 0 itself at np=1) the target; other
 * ranks only take part in the collectives. For each mode (strict, race,
 * off), each synchronization kind (fence, PSCW, lock) and each case, the
 * target's closing call (fence, wait, or MPI_Win_sync after the origin's
 * unlock) must return exactly the class expected:
 *
 *   case           target does, in the origin's epoch       strict  race
 *   store          a store to the bytes the origin puts     CONFLICT CONFLICT
 *   load           a load of them                           CONFLICT CONFLICT
 *   store-first    a store, then the origin puts            CONFLICT CONFLICT
 *   other-page     a store to another page                  CONFLICT success
 *   same-page      a store to other bytes of the same page  CONFLICT success
 *   load-get       a load of the bytes the origin gets      CONFLICT success
 *   store-get      a store to them                          CONFLICT CONFLICT
 *   clean          nothing in the epoch; a load after it    success  success
 *
 * (strict, lock, np=1: the lock is the owner's own, under which it may
 * touch its memory: success; race still sees the collisions.)
 * Off: every case is a success. The same for a window made with
 * MPI_Win_create on MPI_Alloc_mem memory (fence). Then a handler of the
 * program's own for SIGSEGV must still get the program's own faults.
 *
 * With the argument "env" the mode comes from PORTRMA_GUARD (no info key):
 * guard-check.sh runs it so, and checks the reports on stderr.
 */
#include "common.h"

#include <setjmp.h>
#include <sys/mman.h>

#define WBYTES 8192    /* two pages */
#define X      256     /* the bytes the origin reaches */
#define SAME   1024    /* other bytes of X's page */
#define OTHER  (4096 + 128)
#define TAG    77

enum sync { SYNC_FENCE, SYNC_PSCW, SYNC_LOCK, NSYNC };
static const char *sync_name[] = { "fence", "pscw", "lock" };

enum gcase { C_STORE, C_LOAD, C_STORE_FIRST, C_OTHER_PAGE, C_SAME_PAGE, C_LOAD_GET,
             C_STORE_GET, C_CLEAN, NCASE };
static const char *case_name[] = { "store", "load", "store-first", "other-page",
                                   "same-page", "load-get", "store-get", "clean" };

static int rank, nranks, origin, target;
static MPI_Group origin_group, target_group;

/* The program's own accesses, where the report must find them. */
__attribute__((noinline)) void guard_store_int(volatile int *p, int v)
{
    *p = v;
}

__attribute__((noinline)) int guard_load_int(volatile int *p)
{
    return *p;
}

static void go(int to)
{
    int x = 1;

    if (to != rank)
        MPI_CHECK(MPI_Send(&x, 1, MPI_INT, to, TAG, MPI_COMM_WORLD));
}

static void wait_go(int from)
{
    int x;

    if (from != rank)
        MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, from, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
}

/* What the target does in the origin's epoch. */
static void target_access(enum gcase c, char *base)
{
    switch (c) {
    case C_STORE:
    case C_STORE_FIRST:
    case C_STORE_GET:
        guard_store_int((int *)(base + X), 42);
        break;
    case C_LOAD:
    case C_LOAD_GET:
        (void)guard_load_int((int *)(base + X));
        break;
    case C_OTHER_PAGE:
        guard_store_int((int *)(base + OTHER), 42);
        break;
    case C_SAME_PAGE:
        guard_store_int((int *)(base + SAME), 42);
        break;
    default:
        break;
    }
}

/* The origin's RMA of the case. */
static void origin_access(enum gcase c, MPI_Win win)
{
    static int v = 7, got;

    if (c == C_LOAD_GET || c == C_STORE_GET)
        MPI_CHECK(MPI_Get(&got, 1, MPI_INT, target, X, 1, MPI_INT, win));
    else
        MPI_CHECK(MPI_Put(&v, 1, MPI_INT, target, X, 1, MPI_INT, win));
}

/* Both sides of the epoch: the target's access before (store-first) or
 * after the origin's RMA, ordered by messages. */
static void epoch_body(enum gcase c, MPI_Win win, char *base)
{
    int first = c == C_STORE_FIRST;

    if (rank == target && first)
        target_access(c, base);
    if (rank == target && first)
        go(origin);
    if (rank == origin && first)
        wait_go(target);
    if (rank == origin)
        origin_access(c, win);
    if (rank == origin && !first)
        go(target);
    if (rank == target && !first) {
        wait_go(origin);
        target_access(c, base);
    }
    /* The target's access is done before the origin closes its epoch. */
    if (rank == target)
        go(origin);
    if (rank == origin)
        wait_go(target);
}

/* The target keeps the first failure; elsewhere every call must succeed. */
static int keep(int rc, int one)
{
    if (rank != target)
        MPI_CHECK(one);
    return rc != MPI_SUCCESS ? rc : one;
}

/* One case; returns the class the target's closing call returned (success
 * elsewhere). */
static int run_case(enum sync s, enum gcase c, MPI_Win win, char *base)
{
    int rc = MPI_SUCCESS, one, cls;

    switch (s) {
    case SYNC_FENCE:
        MPI_CHECK(MPI_Win_fence(0, win));
        epoch_body(c, win, base);
        /* Closing for good: the load of "clean" comes after every epoch. */
        rc = MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
        break;
    case SYNC_PSCW:
        if (rank == target)
            MPI_CHECK(MPI_Win_post(origin_group, 0, win));
        if (rank == origin)
            MPI_CHECK(MPI_Win_start(target_group, 0, win));
        epoch_body(c, win, base);
        /* At np=1 the origin's closing call is the target's first. */
        if (rank == origin)
            rc = keep(rc, MPI_Win_complete(win));
        if (rank == target)
            rc = keep(rc, MPI_Win_wait(win));
        break;
    case SYNC_LOCK:
        /* The target hears that the lock is held before it goes on. */
        if (rank == origin) {
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, target, 0, win));
            go(target);
        }
        if (rank == target)
            wait_go(origin);
        epoch_body(c, win, base);
        if (rank == origin)
            rc = keep(rc, MPI_Win_unlock(target, win));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        rc = keep(rc, MPI_Win_sync(win));
        break;
    default:
        break;
    }
    /* After the epoch: a load is never a conflict. */
    if (c == C_CLEAN && rank == target)
        (void)guard_load_int((int *)(base + X));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (s == SYNC_LOCK && rank == target && c == C_CLEAN) {
        one = MPI_Win_sync(win);
        if (rc == MPI_SUCCESS)
            rc = one;
    }
    MPI_Error_class(rc, &cls);
    return cls;
}

static int expected(const char *mode, enum sync s, enum gcase c)
{
    if (strcmp(mode, "off") == 0 || c == C_CLEAN)
        return MPI_SUCCESS;
    /* strict: only another rank's lock exposes the window (at np=1 the
     * lock is the owner's own, under which it may touch its memory). */
    if (strcmp(mode, "strict") == 0)
        return s == SYNC_LOCK && origin == target ? MPI_SUCCESS : MPI_ERR_RMA_CONFLICT;
    return c == C_OTHER_PAGE || c == C_SAME_PAGE || c == C_LOAD_GET ? MPI_SUCCESS
                                                                    : MPI_ERR_RMA_CONFLICT;
}

static MPI_Info guard_info(const char *mode)
{
    MPI_Info info = MPI_INFO_NULL;

    if (mode != NULL) {
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, "portrma_guard", mode));
    }
    return info;
}

static void run_mode(const char *mode, int use_info)
{
    for (int s = 0; s < NSYNC; s++) {
        MPI_Info info = guard_info(use_info ? mode : NULL);
        char *base, name[MPI_MAX_OBJECT_NAME];
        MPI_Win win;

        MPI_CHECK(MPI_Win_allocate(WBYTES, 1, info, MPI_COMM_WORLD, &base, &win));
        if (info != MPI_INFO_NULL)
            MPI_Info_free(&info);
        MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
        for (int c = 0; c < NCASE; c++) {
            int got, want = expected(mode, (enum sync)s, (enum gcase)c);

            snprintf(name, sizeof(name), "guard %s %s %s", mode, sync_name[s], case_name[c]);
            MPI_CHECK(MPI_Win_set_name(win, name));
            if (rank == 0)
                printf("guard: %s\n", name);
            fflush(stdout);
            got = run_case((enum sync)s, (enum gcase)c, win, base);
            if (rank == target)
                SOFT_CHECKF(got == want, "%s: the target's closing call returned class %d, "
                            "expected %d (%s)", name, got, want, prma_err_string(want));
        }
        MPI_CHECK(MPI_Win_free(&win));
    }
}

/* MPI_Win_create on MPI_Alloc_mem memory is guarded too. */
static void run_create(const char *mode)
{
    MPI_Info info = guard_info(mode);
    char *mem;
    MPI_Win win;
    int got, want = strcmp(mode, "off") == 0 ? MPI_SUCCESS : MPI_ERR_RMA_CONFLICT;

    MPI_CHECK(MPI_Alloc_mem(WBYTES, MPI_INFO_NULL, &mem));
    MPI_CHECK(MPI_Win_create(mem, WBYTES, 1, info, MPI_COMM_WORLD, &win));
    MPI_Info_free(&info);
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Win_set_name(win, "guard create store"));
    got = run_case(SYNC_FENCE, C_STORE, win, mem);
    if (rank == target)
        SOFT_CHECKF(got == want, "%s MPI_Win_create on MPI_Alloc_mem: class %d (%s), expected %d",
                    mode, got, prma_err_string(got), want);
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Free_mem(mem));
}

/* ---- a program's own SIGSEGV handler ---------------------------------- */

static sigjmp_buf own_jmp;
static volatile sig_atomic_t own_faults;

static void own_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    own_faults++;
    siglongjmp(own_jmp, 1);
}

static void own_handler_check(void)
{
    char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MPI_Info info = guard_info("race");
    char *base;
    MPI_Win win;

    CHECK(page != MAP_FAILED);
    /* A guarded window exists (the guard's handlers are in). */
    MPI_CHECK(MPI_Win_allocate(WBYTES, 1, info, MPI_COMM_WORLD, &base, &win));
    MPI_Info_free(&info);
    MPI_CHECK(MPI_Win_fence(0, win));
    if (sigsetjmp(own_jmp, 1) == 0)
        guard_store_int((int *)(page + 64), 1);
    CHECKF(own_faults == 1, "the program's own SIGSEGV handler saw %d faults, expected 1",
           (int)own_faults);
    /* And the window is still guarded, its own accesses still allowed. */
    guard_store_int((int *)(base + OTHER), 1);
    MPI_CHECK(MPI_Win_fence(0, win));
    CHECK(guard_load_int((int *)(base + OTHER)) == 1);
    MPI_CHECK(MPI_Win_free(&win));
    munmap(page, 4096);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    MPI_Group world;
    int use_env = argc > 1 && strcmp(argv[1], "env") == 0;

    /* The program's handler comes first: the guard must chain to it. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = own_segv;
    sa.sa_flags     = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    origin = 0;
    target = nranks > 1 ? 1 : 0;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    MPI_Group_incl(world, 1, &origin, &origin_group);
    MPI_Group_incl(world, 1, &target, &target_group);
    MPI_Group_free(&world);

    if (use_env) {
        const char *mode = getenv("PORTRMA_GUARD");

        run_mode(mode != NULL && *mode != '\0' ? mode : "off", 0);
    } else {
        run_mode("strict", 1);
        run_mode("race", 1);
        run_mode("off", 1);
        run_create("race");
        run_create("strict");
        own_handler_check();
    }

    MPI_Group_free(&origin_group);
    MPI_Group_free(&target_group);
    if (prma_soft_total() != 0) {
        MPI_Finalize();
        return 1;
    }
    if (rank == 0)
        printf("guard: ok\n");
    MPI_Finalize();
    return 0;
}
