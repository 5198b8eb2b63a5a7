/*
 * test_barrier.c - the group's own shared-memory barrier (src/barrier.c).
 *
 * Threads of this process stand for the members; the barrier lives in
 * ordinary memory here (in a window it is on a memfd page every member
 * maps, which test_win.c exercises). Rank threads record failures and the
 * test's thread asserts after joining them (cmocka is not thread-safe).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "barrier.h"
#include "wait.h"
#include "portrma.h"
#include "unit.h"

#define MAXMEMBERS 4
#define ROUNDS     2000

struct team {
    struct prma_shm_barrier bar;
    uint32_t                n;
    int                     flags;                /* the flag barrier */
    atomic_int              arrived[MAXMEMBERS];  /* rounds each has entered */
    /* Plain stores, ordered by the barrier alone: member j writes slot
     * round % 2 before a round's barrier, the others read it after. It is
     * written again two rounds later, after everyone has left this one. */
    int                     plain[MAXMEMBERS][2];
};

struct member {
    struct team *team;
    int          me;
    pthread_t    thread;
    int          early;     /* left a round before everyone arrived */
    int          late;      /* someone was more than one round ahead */
    int          unseen;    /* a plain store before the barrier was not visible */
    int          failed;    /* the barrier returned an error */
};

/* Waiter callbacks over an array of two pids; a third slot counts
 * progress calls. */
static void count_progress(void *arg)
{
    ((int *)arg)[2]++;
}

static int check_pids(void *arg)
{
    const int *pids = arg;

    for (int i = 0; i < 2; i++)
        if (kill(pids[i], 0) != 0 && errno == ESRCH)
            return PRMA_ERR_PEER_LOST;
    return PRMA_OK;
}

static void *late_member(void *arg)
{
    usleep(300 * 1000);
    prma__shm_barrier(arg, 2, NULL);
    return NULL;
}

static void *member_main(void *arg)
{
    struct member *m = arg;
    struct team *t = m->team;

    uint64_t mine = 0;

    for (int round = 1; round <= ROUNDS; round++) {
        t->plain[m->me][round % 2] = round;
        atomic_store(&t->arrived[m->me], round);
        if ((t->flags ? prma__shm_flag_barrier(&t->bar, t->n, (uint32_t)m->me, &mine, NULL)
                      : prma__shm_barrier(&t->bar, t->n, NULL)) != PRMA_OK)
            m->failed++;
        for (uint32_t j = 0; j < t->n; j++) {
            int a = atomic_load(&t->arrived[j]);

            /* Everyone has entered this round; nobody can be past the next
             * one's barrier, since we have not arrived there yet. */
            if (a < round)
                m->early++;
            if (a > round + 1)
                m->late++;
            if (t->plain[j][round % 2] != round)
                m->unseen++;
        }
    }
    return NULL;
}

static void run_team_of(uint32_t n, int flags)
{
    struct member members[MAXMEMBERS];
    struct team team;

    memset(&team, 0, sizeof(team));
    team.n     = n;
    team.flags = flags;
    for (uint32_t i = 0; i < n; i++)
        atomic_init(&team.arrived[i], 0);
    unit_watchdog_arm("test_barrier (run_team)", UNIT_WATCHDOG_SECONDS);
    for (uint32_t i = 0; i < n; i++) {
        members[i] = (struct member){ .team = &team, .me = (int)i };
        assert_int_equal(pthread_create(&members[i].thread, NULL, member_main, &members[i]), 0);
    }
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(pthread_join(members[i].thread, NULL), 0);
    unit_watchdog_disarm();
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(members[i].early, 0);
        assert_int_equal(members[i].late, 0);
        assert_int_equal(members[i].failed, 0);
        assert_int_equal(members[i].unseen, 0);
    }
    if (flags) {
        /* Every member announced every round. */
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(atomic_load(&team.bar.slot[i].round), ROUNDS);
        return;
    }
    /* Every round completed once, and the count is ready for the next. */
    assert_int_equal(atomic_load(&team.bar.gen), ROUNDS);
    assert_int_equal(atomic_load(&team.bar.count), 0);
}

static void run_team(uint32_t n)
{
    run_team_of(n, 0);
    run_team_of(n, 1);
}

static void test_barrier_single_member_passes(void **state)
{
    struct prma_shm_barrier bar;

    memset(&bar, 0, sizeof(bar));
    for (int i = 0; i < 3; i++)
        assert_int_equal(prma__shm_barrier(&bar, 1, NULL), PRMA_OK);
    assert_int_equal(atomic_load(&bar.gen), 3);
    assert_int_equal(atomic_load(&bar.count), 0);
}

/* A member that is gone (a child that exited and was reaped) never
 * arrives: the barrier must say so instead of waiting forever. */
static void test_barrier_dead_member_is_peer_lost(void **state)
{
    struct prma_shm_barrier bar;
    int pids[3] = { 0, 0, 0 }, wstatus;
    pid_t child = fork();

    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, &wstatus, 0), child);
    memset(&bar, 0, sizeof(bar));
    pids[0] = (int)getpid();
    pids[1] = (int)child;
    struct prma_waiter wait = { .check = check_pids, .arg = pids };

    assert_int_equal(prma__shm_barrier(&bar, 2, &wait), PRMA_ERR_PEER_LOST);
    assert_true(wait.turns > 0);
}

/* Live members that simply have not arrived yet are waited for. */
static void test_barrier_live_members_are_waited_for(void **state)
{
    struct prma_shm_barrier bar;
    int pids[3] = { (int)getpid(), (int)getpid(), 0 };
    pthread_t late;

    memset(&bar, 0, sizeof(bar));
    struct prma_waiter wait = { .progress = count_progress, .check = check_pids, .arg = pids };

    assert_int_equal(pthread_create(&late, NULL, late_member, &bar), 0);
    assert_int_equal(prma__shm_barrier(&bar, 2, &wait), PRMA_OK);
    /* It drove progress while it waited (300 ms). */
    assert_true(pids[2] > 0);
    assert_int_equal(pthread_join(late, NULL), 0);
    assert_int_equal(atomic_load(&bar.gen), 1);
}

static void test_barrier_nobody_leaves_early_2members(void **state)
{
    run_team(2);
}

static void test_barrier_nobody_leaves_early_4members(void **state)
{
    run_team(4);
}

static void test_barrier_lines_are_apart(void **state)
{
    /* count, gen and every member's flag sit on lines of their own. */
    assert_true(offsetof(struct prma_shm_barrier, gen) -
                    offsetof(struct prma_shm_barrier, count) >= 64);
    assert_true(offsetof(struct prma_shm_barrier, slot) -
                    offsetof(struct prma_shm_barrier, gen) >= 64);
    assert_true(offsetof(struct prma_shm_barrier, slot[1]) -
                    offsetof(struct prma_shm_barrier, slot[0]) == 64);
}

/* The flag barrier of a group of one passes at once, and counts. */
static void test_barrier_flags_single_member_passes(void **state)
{
    struct prma_shm_barrier bar;
    uint64_t round = 0;

    memset(&bar, 0, sizeof(bar));
    for (int i = 0; i < 3; i++)
        assert_int_equal(prma__shm_flag_barrier(&bar, 1, 0, &round, NULL), PRMA_OK);
    assert_int_equal(round, 3);
    assert_int_equal(prma__shm_flag_barrier(&bar, PRMA_BARRIER_SLOTS + 1, 0, &round, NULL),
                     PRMA_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_guarded(test_barrier_single_member_passes),
        unit_test_guarded(test_barrier_dead_member_is_peer_lost),
        unit_test_guarded(test_barrier_live_members_are_waited_for),
        unit_test_guarded(test_barrier_nobody_leaves_early_2members),
        unit_test_guarded(test_barrier_nobody_leaves_early_4members),
        unit_test_guarded(test_barrier_lines_are_apart),
        unit_test_guarded(test_barrier_flags_single_member_passes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
