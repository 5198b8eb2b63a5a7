/*
 * init.c - bringing portrma up inside MPI_Init and down inside MPI_Finalize.
 *
 * Node identity is computed once here, collectively over MPI_COMM_WORLD, the
 * way the MPI library sees nodes (MPI_COMM_TYPE_SHARED): the node's id is
 * the smallest world rank on it.
 */
#include "shim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

prma_context_h shim_ctx;
static int shim_failed;

/* The job-wide allgather prma_init() may use, over a private duplicate of
 * MPI_COMM_WORLD. */
static int world_allgather(void *arg, const void *sendbuf, void *recvbuf, size_t len)
{
    return PMPI_Allgather(sendbuf, (int)len, MPI_BYTE, recvbuf, (int)len, MPI_BYTE,
                          *(MPI_Comm *)arg);
}

static void shim_setup(int thread_level)
{
    prma_bootstrap_t boot;
    MPI_Comm node, world;
    int rank, size, leader, local_rank, is_leader, nnodes, status;

    if (PMPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS ||
        PMPI_Comm_size(MPI_COMM_WORLD, &size) != MPI_SUCCESS ||
        PMPI_Comm_dup(MPI_COMM_WORLD, &world) != MPI_SUCCESS ||
        PMPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) !=
            MPI_SUCCESS) {
        fprintf(stderr, "portrma: cannot learn this process's rank and node from MPI\n");
        shim_failed = 1;
        return;
    }
    PMPI_Comm_rank(node, &local_rank);
    PMPI_Allreduce(&rank, &leader, 1, MPI_INT, MPI_MIN, node);
    PMPI_Comm_free(&node);
    is_leader = local_rank == 0;
    PMPI_Allreduce(&is_leader, &nnodes, 1, MPI_INT, MPI_SUM, world);
    boot.rank       = rank;
    boot.size       = size;
    boot.node_id    = (uint64_t)leader;
    boot.local_rank = local_rank;
    boot.nnodes     = nnodes;
    boot.threads    = thread_level == MPI_THREAD_MULTIPLE;
    boot.arg        = &world;
    boot.allgather  = world_allgather;
    status = prma_init(&boot, &shim_ctx);
    PMPI_Comm_free(&world);
    if (status == PRMA_OK)
        status = shim_classes_setup();
    if (status == PRMA_OK)
        status = shim_type_setup();
    shim_op_setup();
    if (status != PRMA_OK) {
        fprintf(stderr, "portrma: start-up failed: %s\n", prma_status_string(status));
        shim_failed = 1;
        return;
    }
    shim_progress = prma_progress_needed(shim_ctx);
}

int shim_ready(const char *func)
{
    if (shim_ctx != NULL)
        return MPI_SUCCESS;
    fprintf(stderr, "portrma: %s: %s\n", func,
            shim_failed ? "portrma failed to start in MPI_Init"
                        : "called before MPI_Init (or portrma was loaded after it)");
    return MPI_ERR_OTHER;
}

/* The MPI library's own function behind a PMPI_ name the shim defines too
 * (the shim's would call itself). */
void (*shim_next(const char *name))(void)
{
    void *sym = dlsym(RTLD_NEXT, name);
    void (*fn)(void);

    if (sym == NULL) {
        fprintf(stderr, "portrma: the MPI library has no %s: is portrma loaded ahead of it?\n",
                name);
        abort();
    }
    memcpy(&fn, &sym, sizeof(fn));
    return fn;
}

SHIM_EXPORT int MPI_Init(int *argc, char ***argv)
{
    int rc = SHIM_NEXT(PMPI_Init)(argc, argv);

    if (rc == MPI_SUCCESS)
        shim_setup(MPI_THREAD_SINGLE);
    return rc;
}

SHIM_EXPORT int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    int rc = SHIM_NEXT(PMPI_Init_thread)(argc, argv, required, provided);

    if (rc == MPI_SUCCESS)
        shim_setup(*provided);
    return rc;
}

SHIM_EXPORT int MPI_Finalize(void)
{
    if (shim_ctx != NULL) {
        shim_type_teardown();
        if (shim_progress) {
            /* No peer closes its endpoints before every peer expects it
             * (a peer still in its last MPI_Win_free would take that for
             * a failure); the barrier drives UCX meanwhile. */
            prma_quiesce(shim_ctx);
            shim_barrier(MPI_COMM_WORLD);
            shim_progress = 0;
        }
        prma_finalize(shim_ctx);
        shim_ctx = NULL;
    }
    return SHIM_NEXT(PMPI_Finalize)();
}

/* A program or tool that calls these by their PMPI_ names starts and stops
 * portrma too, as it must when window calls' PMPI_ names are portrma's
 * (shim.h); MPICH's mpi_f08 module is one. */
SHIM_PMPI(MPI_Init);
SHIM_PMPI(MPI_Init_thread);
SHIM_PMPI(MPI_Finalize);
