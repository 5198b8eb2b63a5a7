/*
 * test_settings.c - the PORTRMA_* settings (src/settings.c).
 *
 * Every case starts from an environment without PORTRMA_* variables (the
 * setup clears them) and leaves it that way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "portrma.h"
#include "settings.h"

static const char *const names[] = { "PORTRMA_LOG", "PORTRMA_SHM", "PORTRMA_NUMA",
                                     "PORTRMA_TRANSPORT", "PORTRMA_NODE_SIZE",
                                     "PORTRMA_PROGRESS", "PORTRMA_GUARD", "PORTRMA_AGENT",
                                     "PORTRMA_STREAM", "PORTRMA_REMAP" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

static int clear_env(void **state)
{
    for (size_t i = 0; i < NNAMES; i++)
        unsetenv(names[i]);
    prma__config_load();
    return 0;
}

static void test_settings_defaults(void **state)
{
    /* Scribble over the config: loading must restore every default. */
    prma__config.log_level = PRMA_LOG_DEBUG;
    prma__config.shm_mode  = PRMA_SHM_CMA;
    prma__config.numa_bind = 0;
    prma__config.transport = PRMA_TRANSPORT_UCX;
    prma__config.node_size = 7;
    prma__config.progress  = PRMA_PROGRESS_OFF;
    prma__config.stream    = 0;
    prma__config_load();
    assert_int_equal(prma__config.log_level, PRMA_LOG_WARN);
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_MAP);
    assert_int_equal(prma__config.numa_bind, 1);
    assert_int_equal(prma__config.transport, PRMA_TRANSPORT_AUTO);
    assert_int_equal(prma__config.node_size, 0);
    assert_int_equal(prma__config.progress, PRMA_PROGRESS_THREAD);
    assert_int_equal(prma__config.stream, 1);
    assert_int_equal(prma__log_level, PRMA_LOG_WARN);
}

static void test_settings_transport_and_node_size_are_read(void **state)
{
    assert_int_equal(setenv("PORTRMA_TRANSPORT", "ucx", 1), 0);
    assert_int_equal(setenv("PORTRMA_NODE_SIZE", "2", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.transport, PRMA_TRANSPORT_UCX);
    assert_int_equal(prma__config.node_size, 2);
    /* A count must be a whole non-negative number. */
    assert_int_equal(setenv("PORTRMA_NODE_SIZE", "2x", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.node_size, 0);
    assert_int_equal(setenv("PORTRMA_NODE_SIZE", "-3", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.node_size, 0);
    assert_int_equal(setenv("PORTRMA_TRANSPORT", "verbs", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.transport, PRMA_TRANSPORT_AUTO);
    assert_int_equal(setenv("PORTRMA_PROGRESS", "off", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.progress, PRMA_PROGRESS_OFF);
    /* The exposure guard: off by default, strict, race, nothing else. */
    assert_int_equal(prma__config.guard, 0);
    assert_int_equal(setenv("PORTRMA_GUARD", "race", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.guard, 2);
    assert_int_equal(setenv("PORTRMA_GUARD", "strict", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.guard, 1);
    assert_int_equal(setenv("PORTRMA_GUARD", "on", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.guard, 0);
    clear_env(state);
}

static void test_settings_shm_cma_is_read(void **state)
{
    assert_int_equal(setenv("PORTRMA_SHM", "cma", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_CMA);
    /* The others keep their defaults. */
    assert_int_equal(prma__config.log_level, PRMA_LOG_WARN);
    assert_int_equal(prma__config.numa_bind, 1);

    /* Loading again is idempotent; unsetting goes back to the default. */
    prma__config_load();
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_CMA);
    unsetenv("PORTRMA_SHM");
    prma__config_load();
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_MAP);
}

static void test_settings_every_variable_is_read(void **state)
{
    assert_int_equal(setenv("PORTRMA_LOG", "debug", 1), 0);
    assert_int_equal(setenv("PORTRMA_NUMA", "off", 1), 0);
    assert_int_equal(setenv("PORTRMA_SHM", "map", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.log_level, PRMA_LOG_DEBUG);
    assert_int_equal(prma__log_level, PRMA_LOG_DEBUG);
    assert_int_equal(prma__config.numa_bind, 0);
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_MAP);
    clear_env(state);
}

static void test_settings_bad_value_keeps_default(void **state)
{
    /* A bad value after a good one: the default, not the earlier value. */
    assert_int_equal(setenv("PORTRMA_SHM", "cma", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_CMA);
    assert_int_equal(setenv("PORTRMA_SHM", "CMA-please", 1), 0);
    assert_int_equal(setenv("PORTRMA_NUMA", "1", 1), 0);
    assert_int_equal(setenv("PORTRMA_LOG", "verbose", 1), 0);
    prma__config_load();  /* warns on stderr, three times */
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_MAP);
    assert_int_equal(prma__config.numa_bind, 1);
    assert_int_equal(prma__config.log_level, PRMA_LOG_WARN);
    assert_int_equal(prma__log_level, PRMA_LOG_WARN);

    /* An empty value counts as unset. */
    assert_int_equal(setenv("PORTRMA_SHM", "", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.shm_mode, PRMA_SHM_MAP);
    clear_env(state);
}

static void test_settings_get_enumerates_all(void **state)
{
    prma_setting_t s;
    int seen[NNAMES] = { 0 };
    int i;

    for (i = 0; prma_setting_get(i, &s) == PRMA_OK; i++) {
        size_t k;

        assert_true(i < 100);
        assert_non_null(s.name);
        assert_non_null(s.value);
        assert_non_null(s.deflt);
        assert_non_null(s.meaning);
        assert_true(strncmp(s.name, "PORTRMA_", 8) == 0);
        assert_true(strlen(s.meaning) > 0);
        /* Unset: the value in force is the default. */
        assert_string_equal(s.value, s.deflt);
        for (k = 0; k < NNAMES; k++)
            if (strcmp(s.name, names[k]) == 0)
                seen[k]++;
    }
    assert_int_equal(i, (int)NNAMES);
    for (size_t k = 0; k < NNAMES; k++)
        assert_int_equal(seen[k], 1);
}

static void test_settings_get_past_last_is_notfound(void **state)
{
    prma_setting_t s, before;
    int n = 0;

    while (prma_setting_get(n, &s) == PRMA_OK)
        n++;
    memset(&s, 0x5A, sizeof(s));
    before = s;
    assert_int_equal(prma_setting_get(n, &s), PRMA_ERR_NOTFOUND);
    assert_int_equal(prma_setting_get(n + 1, &s), PRMA_ERR_NOTFOUND);
    assert_int_equal(prma_setting_get(-1, &s), PRMA_ERR_NOTFOUND);
    /* Output arguments are written only on success. */
    assert_memory_equal(&s, &before, sizeof(s));
}

static void test_settings_get_reports_value_in_force(void **state)
{
    prma_setting_t s;
    int i;

    assert_int_equal(setenv("PORTRMA_SHM", "cma", 1), 0);
    for (i = 0; prma_setting_get(i, &s) == PRMA_OK; i++)
        if (strcmp(s.name, "PORTRMA_SHM") == 0)
            break;
    assert_int_equal(prma_setting_get(i, &s), PRMA_OK);
    assert_string_equal(s.name, "PORTRMA_SHM");
    assert_string_equal(s.value, "cma");
    assert_string_equal(s.deflt, "map");

    /* A value the parser refuses is not the one in force. */
    assert_int_equal(setenv("PORTRMA_SHM", "bogus", 1), 0);
    assert_int_equal(prma_setting_get(i, &s), PRMA_OK);
    assert_string_equal(s.value, "map");
    clear_env(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_settings_defaults, clear_env),
        cmocka_unit_test_setup(test_settings_transport_and_node_size_are_read, clear_env),
        cmocka_unit_test_setup(test_settings_shm_cma_is_read, clear_env),
        cmocka_unit_test_setup(test_settings_every_variable_is_read, clear_env),
        cmocka_unit_test_setup(test_settings_bad_value_keeps_default, clear_env),
        cmocka_unit_test_setup(test_settings_get_enumerates_all, clear_env),
        cmocka_unit_test_setup(test_settings_get_past_last_is_notfound, clear_env),
        cmocka_unit_test_setup(test_settings_get_reports_value_in_force, clear_env),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
