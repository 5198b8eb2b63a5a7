/*
 * context.c - starting and stopping portrma in a process.
 */
#include "context.h"

#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include "agent.h"
#include "copy.h"
#include "log.h"
#include "mem.h"
#include "settings.h"
#include "transport/ucx.h"
#include "wait.h"

/* PORTRMA_* are read once per process, however many contexts are started
 * and from however many threads. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static pthread_once_t copy_once   = PTHREAD_ONCE_INIT;

int prma_init(const prma_bootstrap_t *boot, prma_context_h *ctx_p)
{
    struct prma_context *ctx;
    int status;

    if (boot == NULL || boot->size <= 0 || boot->rank < 0 || boot->rank >= boot->size)
        return PRMA_ERR_ARG;
    pthread_once(&config_once, prma__config_load);
    pthread_once(&copy_once, prma__copy_setup);
    prma__log_rank = boot->rank;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return PRMA_ERR_NOMEM;
    ctx->boot    = *boot;
    ctx->node_id = boot->node_id;
    ctx->forced  = prma__config.transport == PRMA_TRANSPORT_UCX;
    if (prma__config.node_size > 0) {
        /* Pretend nodes: consecutive local ranks in groups of node_size. */
        ctx->node_id = boot->node_id * 1000003u + (uint64_t)(boot->local_rank /
                                                            prma__config.node_size);
    }
    pthread_mutex_init(&ctx->lock, NULL);
    pthread_mutex_init(&ctx->agent_lock, NULL);
    LIST_INIT(&ctx->mems);
    LIST_INIT(&ctx->pool);
    status = prma__ucx_init(ctx, boot->nnodes > 1 || ctx->forced || prma__config.node_size > 0);
    if (status != PRMA_OK) {
        pthread_mutex_destroy(&ctx->agent_lock);
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return status;
    }
    *ctx_p = ctx;
    return PRMA_OK;
}

int prma_progress(prma_context_h ctx)
{
    if (ctx == NULL)
        return 0;
    prma__agent_serve(ctx);
    if (ctx->ucx == NULL)
        return prma_agent_active(ctx);
    prma__ucx_progress(ctx->ucx);
    return 1;
}

int prma_agent_active(prma_context_h ctx)
{
    return ctx != NULL && atomic_load_explicit(&ctx->nagents, memory_order_relaxed) > 0;
}

void prma_agent_idle(prma_context_h ctx)
{
    if (ctx != NULL)
        prma__agent_idle(ctx);
}

int prma_progress_needed(prma_context_h ctx)
{
    return ctx != NULL && ctx->ucx != NULL;
}

unsigned prma_progress_turn(prma_context_h ctx, unsigned *turns_p)
{
    struct prma_waiter wait = { .turns = *turns_p, .idle = *turns_p };
    unsigned n = 0;

    if (ctx != NULL && ctx->ucx != NULL && (n = prma__ucx_drive(ctx->ucx)) != 0) {
        *turns_p = 0;  /* events: spin again before the next yield */
        return n;
    }
    if (ctx != NULL && (n = (unsigned)prma__agent_serve(ctx)) != 0) {
        *turns_p = 0;  /* requests served: the next is likely close behind */
        return n;
    }
    prma__wait_turn(&wait);
    *turns_p = wait.turns;
    return 0;
}

void prma_quiesce(prma_context_h ctx)
{
    if (ctx != NULL && ctx->ucx != NULL)
        prma__ucx_quiesce(ctx->ucx);
}

void prma_finalize(prma_context_h ctx)
{
    if (ctx == NULL)
        return;
    prma__ucx_fini(ctx);
    prma__mem_fini(ctx);
    if (ctx->topo != NULL)
        hwloc_topology_destroy((hwloc_topology_t)ctx->topo);
    /* Memory from prma_mem_alloc() may still be in the program's hands:
     * leave it mapped; the descriptors close with the process. */
    pthread_mutex_destroy(&ctx->agent_lock);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->agents);
    free(ctx->wins);
    free(ctx);
}

const char *prma_port_kinds(void)
{
    static char kinds[160];

    snprintf(kinds, sizeof(kinds),
             "self, shm (mapped memfd), shm-cma (process_vm_readv/writev), ucx (UCX %s)",
             ucp_get_version_string());
    return kinds;
}
