/*
 * context.c - starting and stopping portrma in a process.
 */
#include "context.h"

#include <hwloc.h>
#include <stdlib.h>
#include "log.h"
#include "mem.h"
#include "settings.h"

/* PORTRMA_* are read once per process, however many contexts are started
 * and from however many threads. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

int prma_init(const prma_bootstrap_t *boot, prma_context_h *ctx_p)
{
    struct prma_context *ctx;

    if (boot == NULL || boot->size <= 0 || boot->rank < 0 || boot->rank >= boot->size)
        return PRMA_ERR_ARG;
    pthread_once(&config_once, prma__config_load);
    prma__log_rank = boot->rank;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return PRMA_ERR_NOMEM;
    ctx->boot = *boot;
    pthread_mutex_init(&ctx->lock, NULL);
    LIST_INIT(&ctx->mems);
    *ctx_p = ctx;
    return PRMA_OK;
}

void prma_finalize(prma_context_h ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->topo != NULL)
        hwloc_topology_destroy((hwloc_topology_t)ctx->topo);
    /* Memory from prma_mem_alloc() may still be in the program's hands:
     * leave it mapped; the descriptors close with the process. */
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

const char *prma_port_kinds(void)
{
    return "self, shm (mapped memfd), shm-cma (process_vm_readv/writev)";
}
