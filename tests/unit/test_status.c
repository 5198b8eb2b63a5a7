/*
 * test_status.c - the status table (PRMA_STATUS_MAP in portrma.h) and what
 * src/status.c expands from it.
 *
 * The fourth column of the table is pasted onto "MPI_" by the shim; the table
 * test below pins that column, so that a change of MPI class is a deliberate
 * edit of this file too.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "portrma.h"

struct status_entry {
    int         value;
    const char *name;      /* first column, stringized */
    const char *msg;       /* third column */
    const char *mpiclass;  /* fourth column, stringized */
};

static const struct status_entry entries[] = {
#define X(name, value, msg, mpiclass) { PRMA_##name, #name, msg, #mpiclass },
    PRMA_STATUS_MAP(X)
#undef X
};

#define NENTRIES ((int)(sizeof(entries) / sizeof(entries[0])))

static const struct status_entry *entry_named(const char *name)
{
    for (int i = 0; i < NENTRIES; i++)
        if (strcmp(entries[i].name, name) == 0)
            return &entries[i];
    return NULL;
}

static void test_status_values_are_distinct(void **state)
{
    assert_true(NENTRIES >= 20);
    for (int i = 0; i < NENTRIES; i++)
        for (int j = i + 1; j < NENTRIES; j++) {
            if (entries[i].value == entries[j].value)
                fail_msg("PRMA_%s and PRMA_%s share the value %d", entries[i].name,
                         entries[j].name, entries[i].value);
            if (strcmp(entries[i].name, entries[j].name) == 0)
                fail_msg("PRMA_%s appears twice", entries[i].name);
        }
}

static void test_status_messages_are_nonempty_and_expanded(void **state)
{
    for (int i = 0; i < NENTRIES; i++) {
        const char *s = prma_status_string(entries[i].value);

        assert_non_null(s);
        if (s[0] == '\0')
            fail_msg("PRMA_%s has an empty message", entries[i].name);
        /* status.c expands the same column: the string is the table's. */
        assert_string_equal(s, entries[i].msg);
        assert_string_not_equal(s, "unknown status");
        if (entries[i].mpiclass[0] == '\0')
            fail_msg("PRMA_%s has no MPI class", entries[i].name);
    }
}

static void test_status_unknown_value_is_unknown_status(void **state)
{
    static const int unknown[] = { 2, 100, -63, -1000, INT_MIN, INT_MAX };

    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_string_equal(prma_status_string(unknown[i]), "unknown status");
}

static void test_status_ok_is_zero_and_errors_are_negative(void **state)
{
    assert_int_equal(PRMA_OK, 0);
    assert_true(PRMA_EASYNC > 0);
    for (int i = 0; i < NENTRIES; i++) {
        int is_err = strncmp(entries[i].name, "ERR_", 4) == 0;

        if (is_err && entries[i].value >= 0)
            fail_msg("PRMA_%s = %d is an error but not negative", entries[i].name,
                     entries[i].value);
        if (!is_err && entries[i].value < 0)
            fail_msg("PRMA_%s = %d is negative but not named ERR_", entries[i].name,
                     entries[i].value);
    }
    /* Only OK and EASYNC are not errors. */
    for (int i = 0; i < NENTRIES; i++)
        if (entries[i].value >= 0)
            assert_true(entries[i].value == PRMA_OK || entries[i].value == PRMA_EASYNC);
}

static void test_status_mpi_class_mapping(void **state)
{
    static const struct { const char *name; const char *mpiclass; } expect[] = {
        { "OK",              "SUCCESS" },
        { "EASYNC",          "SUCCESS" },
        { "ERR_ARG",         "ERR_ARG" },
        { "ERR_RMA_SYNC",    "ERR_RMA_SYNC" },
        { "ERR_RMA_RANGE",   "ERR_RMA_RANGE" },
        { "ERR_WIN",         "ERR_WIN" },
        { "ERR_NOMEM",       "ERR_NO_MEM" },
        { "ERR_ASSERT",      "ERR_ASSERT" },
        { "ERR_RANK",        "ERR_RANK" },
        { "ERR_COUNT",       "ERR_COUNT" },
        { "ERR_TYPE",        "ERR_TYPE" },
        { "ERR_SIZE",        "ERR_SIZE" },
        { "ERR_DISP",        "ERR_DISP" },
        { "ERR_NOTSUP",      "ERR_UNSUPPORTED_OPERATION" },
        { "ERR_UNREACHABLE", "ERR_UNSUPPORTED_OPERATION" },
        { "ERR_MAP",         "ERR_NO_MEM" },
    };

    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        const struct status_entry *e = entry_named(expect[i].name);

        if (e == NULL)
            fail_msg("PRMA_%s is missing from PRMA_STATUS_MAP", expect[i].name);
        if (strcmp(e->mpiclass, expect[i].mpiclass) != 0)
            fail_msg("PRMA_%s maps to MPI_%s, expected MPI_%s", expect[i].name, e->mpiclass,
                     expect[i].mpiclass);
    }
    /* The enum and the table agree on the values too. */
    assert_int_equal(entry_named("ERR_RMA_SYNC")->value, PRMA_ERR_RMA_SYNC);
    assert_int_equal(entry_named("ERR_RMA_RANGE")->value, PRMA_ERR_RMA_RANGE);
}

static void test_status_version_matches_header(void **state)
{
    assert_non_null(prma_version());
    assert_string_equal(prma_version(), PRMA_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_values_are_distinct),
        cmocka_unit_test(test_status_messages_are_nonempty_and_expanded),
        cmocka_unit_test(test_status_unknown_value_is_unknown_status),
        cmocka_unit_test(test_status_ok_is_zero_and_errors_are_negative),
        cmocka_unit_test(test_status_mpi_class_mapping),
        cmocka_unit_test(test_status_version_matches_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
