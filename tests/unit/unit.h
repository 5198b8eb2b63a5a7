/*
 * unit.h - what the threaded unit tests share: a watchdog that turns a hang
 * into a failure.
 *
 * cmocka's assertions longjmp into the test that is running, so they may only
 * be used on the thread that runs the test. Helper threads record what went
 * wrong and the test's own thread asserts on it after joining them. A helper
 * that never returns (a collective that lost a rank, a wait that is never
 * answered) would hang `make check` instead: unit_watchdog_arm() makes the
 * whole binary fail after a while instead, naming the test that hung.
 */
#ifndef PRMA_TEST_UNIT_H
#define PRMA_TEST_UNIT_H

#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char *unit_watchdog_name = "?";

static void unit_watchdog_fire(int sig)
{
    static const char head[] = "\nFATAL: unit test hung (watchdog fired): ";
    const char *name = unit_watchdog_name;
    ssize_t rc;

    (void)sig;
    /* Only async-signal-safe calls here. */
    rc = write(STDERR_FILENO, head, sizeof(head) - 1);
    rc = write(STDERR_FILENO, name, strlen(name));
    rc = write(STDERR_FILENO, "\n", 1);
    (void)rc;
    _exit(99);
}

/* Fail the whole binary if the current test is not done within seconds
 * (valgrind makes things ~50x slower: keep the limit generous). */
static inline void unit_watchdog_arm(const char *name, unsigned seconds)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = unit_watchdog_fire;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    unit_watchdog_name = name;
    alarm(seconds);
}

static inline void unit_watchdog_disarm(void)
{
    alarm(0);
    unit_watchdog_name = "?";
}

#define UNIT_WATCHDOG_SECONDS 120

/* cmocka setup/teardown pair that guards one test with the watchdog (cmocka
 * has printed the test's name just before: the log says which one hung). */
static inline int unit_watchdog_setup(void **state)
{
    unit_watchdog_arm("the test started last (see [ RUN ] above)", UNIT_WATCHDOG_SECONDS);
    return 0;
}

static inline int unit_watchdog_teardown(void **state)
{
    unit_watchdog_disarm();
    return 0;
}

#define unit_test_guarded(f) \
    cmocka_unit_test_setup_teardown(f, unit_watchdog_setup, unit_watchdog_teardown)

#endif /* PRMA_TEST_UNIT_H */
