/*
 * floor_pingpong.c - the latency floor of the shm path: how long one cache
 * line takes to go from one core to another, one way.
 *
 * Two processes (fork) share one anonymous mapping, each pinned to its own
 * CPU (-c a,b; default the first two CPUs this process may run on). They pass
 * a counter in one cache line back and forth: the parent writes an odd value
 * and waits for the next even one, the child waits for the odd one and
 * writes the next even one. One round trip is two one-way trips, so the
 * one-way latency is the time of `iters` round trips over 2 * iters. Anything
 * that needs the other process to see a store (a fence, a PSCW post, a lock
 * word another process holds) pays this at least once.
 *
 * Every wait is bounded (-t seconds, default 5, for any single wait): if the
 * other side does not answer in time the program says so and exits 1, the
 * parent killing the child. The row reports the best of -n trials (default 5)
 * of -i round trips each (default 100000); a trial stops early after one
 * second (a busy CPU makes every round trip wait for the scheduler), and its
 * latency is then that of the round trips it made.
 *
 *   prma_floor_pingpong [-i iters] [-n trials] [-c cpu_a,cpu_b] [-t seconds]
 *
 * No MPI: it runs on its own.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE 64

/* The shared page: the counter alone in its line; in another, the child's
 * status and the round trip after which it stops (the parent may lower it). */
struct shared {
    _Alignas(LINE) volatile uint64_t counter;
    _Alignas(LINE) volatile int child_failed;
    volatile uint64_t last;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Spins until the counter holds `want`; looks at the clock every 2^14 spins
 * and gives up (returns -1) once `limit` seconds have passed.
 */
static int wait_for(struct shared *sh, uint64_t want, double limit)
{
    double deadline = 0;

    for (unsigned spins = 1;; spins++) {
        if (__atomic_load_n(&sh->counter, __ATOMIC_ACQUIRE) == want)
            return 0;
        if ((spins & ((1u << 14) - 1)) == 0) {
            double t = now();

            if (deadline == 0)
                deadline = t + limit;
            else if (t > deadline)
                return -1;
        }
    }
}

/* The child's side: answer every odd value with the next even one until the
 * parent's last one. */
static void child(struct shared *sh, int cpu, double limit)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (pin(cpu) != 0) {
        sh->child_failed = 1;
        _exit(1);
    }
    __atomic_store_n(&sh->counter, 0, __ATOMIC_RELEASE); /* ready */
    for (uint64_t v = 1; v < __atomic_load_n(&sh->last, __ATOMIC_ACQUIRE); v += 2) {
        if (wait_for(sh, v, limit) != 0) {
            sh->child_failed = 1;
            _exit(1);
        }
        __atomic_store_n(&sh->counter, v + 1, __ATOMIC_RELEASE);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    long iters = 100000, trials = 5, warmup;
    int cpu[2] = {-1, -1}, opt, status = 0;
    double limit = 5, best = 0;
    uint64_t v = 0;
    struct shared *sh;
    cpu_set_t allowed;
    pid_t pid;

    while ((opt = getopt(argc, argv, "i:n:c:t:")) != -1) {
        switch (opt) {
        case 'i':
            iters = atol(optarg);
            break;
        case 'n':
            trials = atol(optarg);
            break;
        case 'c':
            if (sscanf(optarg, "%d,%d", &cpu[0], &cpu[1]) != 2)
                goto usage;
            break;
        case 't':
            limit = atof(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc || iters < 1 || trials < 1 || limit <= 0)
        goto usage;
    if (cpu[0] < 0) {
        /* The first two CPUs this process may run on. */
        if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
            CPU_ZERO(&allowed);
        for (int c = 0, k = 0; c < CPU_SETSIZE && k < 2; c++)
            if (CPU_ISSET(c, &allowed))
                cpu[k++] = c;
        if (cpu[1] < 0) {
            fprintf(stderr, "prma_floor_pingpong: needs two CPUs, this process may use one\n");
            return 2;
        }
    }
    warmup = iters / 10 + 1;

    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        fprintf(stderr, "prma_floor_pingpong: mmap: %s\n", strerror(errno));
        return 1;
    }
    sh->counter = UINT64_MAX; /* the child sets 0 when it is pinned and ready */
    sh->child_failed = 0;
    sh->last = UINT64_MAX;
    if (pin(cpu[0]) != 0) {
        fprintf(stderr, "prma_floor_pingpong: cannot pin to CPU %d: %s\n", cpu[0],
                strerror(errno));
        return 1;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "prma_floor_pingpong: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0)
        child(sh, cpu[1], limit);

    if (wait_for(sh, 0, limit) != 0)
        goto timed_out;
    for (long k = 0; k < warmup; k++) {
        __atomic_store_n(&sh->counter, ++v, __ATOMIC_RELEASE);
        if (wait_for(sh, ++v, limit) != 0)
            goto timed_out;
    }
    for (long t = 0; t < trials; t++) {
        double t0 = now(), one_way;
        long k;

        for (k = 0; k < iters; k++) {
            __atomic_store_n(&sh->counter, ++v, __ATOMIC_RELEASE);
            if (wait_for(sh, ++v, limit) != 0)
                goto timed_out;
            if ((k & 1023) == 1023 && now() - t0 > 1.0) {
                k++;
                break;
            }
        }
        one_way = (now() - t0) / (2.0 * (double)k);
        if (best == 0 || one_way < best)
            best = one_way;
    }
    /* The child stops after the last even value. */
    __atomic_store_n(&sh->last, v, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->counter, v + 1, __ATOMIC_RELEASE);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "prma_floor_pingpong: the child failed\n");
        return 1;
    }

    printf("# portrma floor: cache-line ping-pong between two processes\n");
    printf("# CPUs %d and %d; one %d-byte line, one way; best of %ld trials of %ld round trips\n",
           cpu[0], cpu[1], LINE, trials, iters);
    printf("# %-10s %18s\n", "Size", "Latency (us)");
    printf("%-12d %18.3f\n", LINE, best * 1e6);
    return 0;

timed_out:
    if (sh->child_failed)
        fprintf(stderr, "prma_floor_pingpong: the child could not be pinned or waited in vain\n");
    else
        fprintf(stderr, "prma_floor_pingpong: no answer from the child within %g s (is a CPU busy?)\n",
                limit);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;

usage:
    fprintf(stderr,
            "usage: prma_floor_pingpong [-i iters] [-n trials] [-c cpu_a,cpu_b] [-t seconds]\n");
    return 2;
}
