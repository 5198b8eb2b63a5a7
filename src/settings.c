/*
 * settings.c - the PORTRMA_* settings: one table gives the name, the values,
 * the default and the meaning, for the parser and for portrma_info alike.
 */
#include "settings.h"

#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "portrma.h"

struct prma_config prma__config = {
    .log_level = PRMA_LOG_WARN,
    .shm_mode  = PRMA_SHM_MAP,
    .numa_bind = 1,
    .transport = PRMA_TRANSPORT_AUTO,
    .node_size = 0,
    .progress  = PRMA_PROGRESS_THREAD,
    .guard     = 0,
    .agent     = 1,
    .stream    = 1,
    .remap     = 1,
};

struct setting {
    const char        *name;
    const char        *deflt;
    const char *const *values;   /* accepted spellings, index = value; NULL: a count >= 0 */
    int               *field;
    const char        *meaning;
};

static const char *const log_values[]  = { "error", "warn", "info", "debug", NULL };
static const char *const shm_values[]  = { "map", "cma", NULL };
static const char *const bool_values[] = { "off", "on", NULL };
static const char *const transport_values[] = { "auto", "ucx", NULL };
static const char *const progress_values[] = { "off", "thread", NULL };
static const char *const guard_values[] = { "off", "strict", "race", NULL };

static const struct setting settings[] = {
    { "PORTRMA_LOG", "warn", log_values, &prma__config.log_level,
      "diagnostics printed on stderr: error, warn, info or debug" },
    { "PORTRMA_SHM", "map", shm_values, &prma__config.shm_mode,
      "same-node peers: map reaches portrma-allocated window memory through a "
      "shared mapping (memcpy), cma always uses process_vm_readv/writev" },
    { "PORTRMA_NUMA", "on", bool_values, &prma__config.numa_bind,
      "on binds window memory to the NUMA node its owner runs on (hwloc)" },
    { "PORTRMA_TRANSPORT", "auto", transport_values, &prma__config.transport,
      "auto reaches same-node peers through shm and other nodes through UCX; "
      "ucx sends every peer but this process through UCX" },
    { "PORTRMA_PROGRESS", "thread", progress_values, &prma__config.progress,
      "thread: a process that uses UCX runs a progress thread, asleep on the UCX "
      "worker's event fd while idle, so that peers' operations that need this "
      "process (locks and atomics UCX emulates, over tcp) complete while it "
      "computes or waits in other MPI calls; off: only inside portrma calls" },
    { "PORTRMA_GUARD", "off", guard_values, &prma__config.guard,
      "exposure guard of windows of portrma memory: strict reports any local load or "
      "store while the window is exposed to RMA, race only one that collides with an "
      "RMA access of the same bytes in the same epoch; either is raised as "
      "MPI_ERR_RMA_CONFLICT at the window's next synchronization call (x86-64)" },
    { "PORTRMA_AGENT", "on", bool_values, &prma__config.agent,
      "on: a process that waits (in portrma or in a blocking MPI call) applies the "
      "small puts, gets and accumulates that same-node origins hand it for a window "
      "they reach by process_vm_readv/writev, sooner than those system calls; off: "
      "origins always use the system calls" },
    { "PORTRMA_STREAM", "on", bool_values, &prma__config.stream,
      "on: once the puts and gets of 64 KiB and more made to or from mapped memory "
      "between two synchronizations of a window add up to more than the last-level "
      "cache holds, further ones are copied with non-temporal stores (x86-64), which "
      "write memory without reading it first; off: always ordinary copies" },
    { "PORTRMA_REMAP", "on", bool_values, &prma__config.remap,
      "on: the pages of a window made on the program's own memory (MPI_Win_create on "
      "malloc'd or other private anonymous memory) move into a memfd in place while "
      "the window lives, so that same-node peers map them and copy instead of using "
      "process_vm_readv/writev; off: they stay where they are (the window info key "
      "portrma_remap sets it per window)" },
    { "PORTRMA_NODE_SIZE", "0", NULL, &prma__config.node_size,
      "a count k > 0 splits each node into pretend nodes of k consecutive local "
      "ranks, so that one machine mixes shm and ucx ports (for testing)" },
};

#define NSETTINGS ((int)(sizeof(settings) / sizeof(settings[0])))

static int parse(const struct setting *s, const char *text)
{
    if (s->values == NULL) {
        char *end;
        long n = strtol(text, &end, 10);

        return (*text != '\0' && *end == '\0' && n >= 0 && n <= 1 << 20) ? (int)n : -1;
    }
    for (int i = 0; s->values[i] != NULL; i++)
        if (strcmp(text, s->values[i]) == 0)
            return i;
    return -1;
}

void prma__config_load(void)
{
    for (int i = 0; i < NSETTINGS; i++) {
        const char *text = getenv(settings[i].name);
        int value;

        *settings[i].field = parse(&settings[i], settings[i].deflt);
        if (text == NULL || *text == '\0')
            continue;
        value = parse(&settings[i], text);
        if (value < 0) {
            prma__log_level = *settings[0].field;
            prma_warn("%s has an unknown value '%s'; using '%s'", settings[i].name, text,
                      settings[i].deflt);
            continue;
        }
        *settings[i].field = value;
    }
    prma__log_level = prma__config.log_level;
}

int prma_setting_get(int i, prma_setting_t *setting_p)
{
    const char *text;

    if (i < 0 || i >= NSETTINGS)
        return PRMA_ERR_NOTFOUND;
    text = getenv(settings[i].name);
    setting_p->name    = settings[i].name;
    setting_p->deflt   = settings[i].deflt;
    setting_p->value   = (text != NULL && parse(&settings[i], text) >= 0) ? text
                                                                        : settings[i].deflt;
    setting_p->meaning = settings[i].meaning;
    return PRMA_OK;
}
