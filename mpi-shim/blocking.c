/*
 * blocking.c - the MPI library's blocking calls that a passive target
 * typically waits in, made to drive portrma's progress while they wait.
 *
 * Over UCX transports without remote memory access (tcp; shared memory on
 * memory UCX did not allocate) a peer's put or get is carried out by this
 * process's UCX worker. A target that sits in the MPI library's MPI_Barrier
 * or MPI_Recv leaves that to the progress thread, asleep on the worker's
 * event fd, so every such operation pays for a wake-up (or, with
 * PORTRMA_PROGRESS=off, waits until the target calls portrma again). So
 * while UCX is up in this process, each call below starts its nonblocking
 * form (PMPI_Ibarrier, PMPI_Irecv, ...) or takes its test form (PMPI_Test*,
 * PMPI_Iprobe, ...) and tests it in turns with one drive of the worker,
 * relaxing and then yielding the CPU when neither moved
 * (prma_progress_turn). The same holds while this process has a window
 * whose same-node origins reach it by process_vm_readv/writev: each turn
 * then also serves the small operations those origins hand it (the node
 * agent, src/agent.c), and the end of the wait tells them it no longer
 * polls (prma_agent_idle). Otherwise each passes straight to its PMPI_
 * form, for the price of a branch and a load.
 *
 * The set, and why:
 * - MPI_Barrier: where the targets of OSU-style benchmarks, and of most
 *   passive-target programs, wait for their origins to finish.
 * - MPI_Wait, MPI_Waitall, MPI_Waitany, MPI_Waitsome: where every
 *   nonblocking operation (point-to-point, collective, generalized) ends.
 * - MPI_Recv, MPI_Probe, MPI_Mprobe, MPI_Mrecv, MPI_Sendrecv, MPI_Send,
 *   MPI_Ssend: a process waiting for a peer's message (or for its receiver,
 *   for a send in rendezvous or synchronous mode), as in a manager-worker
 *   loop whose manager is also a window's target.
 * - MPI_Test, MPI_Testall, MPI_Testany, MPI_Testsome, MPI_Iprobe,
 *   MPI_Improbe: a process that polls instead of waiting; each call drives
 *   the worker once and does not wait.
 * Left to the MPI library: the collectives that compute (MPI_Allreduce,
 * MPI_Bcast, ...), whose nonblocking forms are often slower than the
 * blocking ones, MPI_Sendrecv_replace (no nonblocking form before MPI-4.0),
 * MPI_Bsend and MPI_Rsend (they do not wait for a peer).
 *
 * The results are the blocking call's: a test form completes a request
 * exactly as the wait form does (statuses and MPI_STATUS_IGNORE,
 * MPI_ERR_IN_STATUS with each status's error, MPI_REQUEST_NULL and inactive
 * persistent requests, generalized requests such as portrma's MPI_Rput),
 * MPI_PROC_NULL is served by the nonblocking form as by the blocking one,
 * and an error is raised by the PMPI_ call that finds it, through the same
 * communicator's error handler.
 */
#include "shim.h"

int shim_progress;

/* Must a blocking call be a loop: UCX is up, or this process serves
 * same-node origins? Windows come and go, so the second is asked each
 * time (one load). */
static inline int shim_loops(void)
{
    return shim_progress || prma_agent_active(shim_ctx);
}

/* A loop is over: origins stop waiting for this process to serve them. */
static inline int loop_end(int rc)
{
    prma_agent_idle(shim_ctx);
    return rc;
}

/* Test a started request in turns with portrma's progress until it is
 * complete: what PMPI_Wait would return. */
static int wait_request(MPI_Request *request, MPI_Status *status)
{
    unsigned turns = 0;
    int done = 0, rc;

    for (;;) {
        rc = PMPI_Test(request, &done, status);
        if (rc != MPI_SUCCESS || done)
            return loop_end(rc);
        prma_progress_turn(shim_ctx, &turns);
    }
}

int shim_barrier(MPI_Comm comm)
{
    MPI_Request req;
    int rc;

    if (!shim_loops())
        return PMPI_Barrier(comm);
    rc = PMPI_Ibarrier(comm, &req);
    return rc != MPI_SUCCESS ? rc : wait_request(&req, MPI_STATUS_IGNORE);
}

SHIM_EXPORT int MPI_Barrier(MPI_Comm comm)
{
    return shim_barrier(comm);
}

/* ---- the wait family ------------------------------------------------ */

SHIM_EXPORT int MPI_Wait(MPI_Request *request, MPI_Status *status)
{
    if (!shim_loops() || request == NULL || *request == MPI_REQUEST_NULL)
        return PMPI_Wait(request, status);
    return wait_request(request, status);
}

SHIM_EXPORT int MPI_Waitall(int count, MPI_Request array_of_requests[],
                            MPI_Status *array_of_statuses)
{
    unsigned turns = 0;
    int done = 0, rc;

    if (!shim_loops() || count <= 0 || array_of_requests == NULL)
        return PMPI_Waitall(count, array_of_requests, array_of_statuses);
    /* MPI_Testall leaves requests and statuses alone until all are
     * complete, then does what MPI_Waitall does (MPI_ERR_IN_STATUS too). */
    for (;;) {
        rc = PMPI_Testall(count, array_of_requests, &done, array_of_statuses);
        if (rc != MPI_SUCCESS || done)
            return loop_end(rc);
        prma_progress_turn(shim_ctx, &turns);
    }
}

SHIM_EXPORT int MPI_Waitany(int count, MPI_Request array_of_requests[], int *index,
                            MPI_Status *status)
{
    unsigned turns = 0;
    int done = 0, rc;

    if (!shim_loops() || count <= 0 || array_of_requests == NULL || index == NULL)
        return PMPI_Waitany(count, array_of_requests, index, status);
    /* No active request: MPI_Testany says done with MPI_UNDEFINED, as
     * MPI_Waitany returns at once. */
    for (;;) {
        rc = PMPI_Testany(count, array_of_requests, index, &done, status);
        if (rc != MPI_SUCCESS || done)
            return loop_end(rc);
        prma_progress_turn(shim_ctx, &turns);
    }
}

SHIM_EXPORT int MPI_Waitsome(int incount, MPI_Request array_of_requests[], int *outcount,
                             int array_of_indices[], MPI_Status array_of_statuses[])
{
    unsigned turns = 0;
    int rc;

    if (!shim_loops() || incount <= 0 || array_of_requests == NULL || outcount == NULL ||
        array_of_indices == NULL)
        return PMPI_Waitsome(incount, array_of_requests, outcount, array_of_indices,
                             array_of_statuses);
    /* Done when something completed, or with MPI_UNDEFINED when nothing
     * is active. */
    for (;;) {
        rc = PMPI_Testsome(incount, array_of_requests, outcount, array_of_indices,
                           array_of_statuses);
        if (rc != MPI_SUCCESS || *outcount != 0)
            return loop_end(rc);
        prma_progress_turn(shim_ctx, &turns);
    }
}

/* ---- point-to-point ------------------------------------------------- */

SHIM_EXPORT int MPI_Recv(void *buf, int count, MPI_Datatype datatype, int source, int tag,
                         MPI_Comm comm, MPI_Status *status)
{
    MPI_Request req;
    int rc;

    if (!shim_loops() || source == MPI_PROC_NULL)
        return PMPI_Recv(buf, count, datatype, source, tag, comm, status);
    rc = PMPI_Irecv(buf, count, datatype, source, tag, comm, &req);
    return rc != MPI_SUCCESS ? rc : wait_request(&req, status);
}

SHIM_EXPORT int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
                         MPI_Comm comm)
{
    MPI_Request req;
    int rc;

    if (!shim_loops() || dest == MPI_PROC_NULL)
        return PMPI_Send(buf, count, datatype, dest, tag, comm);
    rc = PMPI_Isend(buf, count, datatype, dest, tag, comm, &req);
    return rc != MPI_SUCCESS ? rc : wait_request(&req, MPI_STATUS_IGNORE);
}

SHIM_EXPORT int MPI_Ssend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
                          MPI_Comm comm)
{
    MPI_Request req;
    int rc;

    if (!shim_loops() || dest == MPI_PROC_NULL)
        return PMPI_Ssend(buf, count, datatype, dest, tag, comm);
    rc = PMPI_Issend(buf, count, datatype, dest, tag, comm, &req);
    return rc != MPI_SUCCESS ? rc : wait_request(&req, MPI_STATUS_IGNORE);
}

SHIM_EXPORT int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                             int dest, int sendtag, void *recvbuf, int recvcount,
                             MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm,
                             MPI_Status *status)
{
    MPI_Request reqs[2];
    unsigned turns = 0;
    int rc, first = MPI_SUCCESS, done;

    if (!shim_loops())
        return PMPI_Sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount,
                             recvtype, source, recvtag, comm, status);
    rc = PMPI_Irecv(recvbuf, recvcount, recvtype, source, recvtag, comm, &reqs[0]);
    if (rc != MPI_SUCCESS)
        return rc;
    rc = PMPI_Isend(sendbuf, sendcount, sendtype, dest, sendtag, comm, &reqs[1]);
    if (rc != MPI_SUCCESS) {
        /* Raised already; take the receive back. */
        PMPI_Cancel(&reqs[0]);
        PMPI_Wait(&reqs[0], MPI_STATUS_IGNORE);
        return rc;
    }
    /* Each request is tested on its own, so that an error is raised with
     * its own class (MPI_Testall would say MPI_ERR_IN_STATUS). */
    while (reqs[0] != MPI_REQUEST_NULL || reqs[1] != MPI_REQUEST_NULL) {
        int moved = 0;

        for (int i = 0; i < 2; i++) {
            if (reqs[i] == MPI_REQUEST_NULL)
                continue;
            done = 0;
            rc = PMPI_Test(&reqs[i], &done, i == 0 ? status : MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) {
                /* Complete with an error: done with it, as MPI_Wait would be. */
                if (first == MPI_SUCCESS)
                    first = rc;
                reqs[i] = MPI_REQUEST_NULL;
            }
            moved |= done || rc != MPI_SUCCESS;
        }
        if (!moved)
            prma_progress_turn(shim_ctx, &turns);
    }
    return loop_end(first);
}

SHIM_EXPORT int MPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status)
{
    unsigned turns = 0;
    int flag = 0, rc;

    if (!shim_loops())
        return PMPI_Probe(source, tag, comm, status);
    for (;;) {
        rc = PMPI_Iprobe(source, tag, comm, &flag, status);
        if (rc != MPI_SUCCESS || flag)
            return loop_end(rc);
        prma_progress_turn(shim_ctx, &turns);
    }
}

SHIM_EXPORT int MPI_Mprobe(int source, int tag, MPI_Comm comm, MPI_Message *message,
                           MPI_Status *status)
{
    unsigned turns = 0;
    int flag = 0, rc;

    if (!shim_loops() || message == NULL)
        return PMPI_Mprobe(source, tag, comm, message, status);
    for (;;) {
        rc = PMPI_Improbe(source, tag, comm, &flag, message, status);
        if (rc != MPI_SUCCESS || flag)
            return loop_end(rc);
        prma_progress_turn(shim_ctx, &turns);
    }
}

SHIM_EXPORT int MPI_Mrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message,
                          MPI_Status *status)
{
    MPI_Request req;
    int rc;

    if (!shim_loops() || message == NULL)
        return PMPI_Mrecv(buf, count, datatype, message, status);
    rc = PMPI_Imrecv(buf, count, datatype, message, &req);
    return rc != MPI_SUCCESS ? rc : wait_request(&req, status);
}

/* ---- polling: one drive per call ------------------------------------ */

SHIM_EXPORT int MPI_Test(MPI_Request *request, int *flag, MPI_Status *status)
{
    if (shim_loops())
        prma_progress(shim_ctx);
    return PMPI_Test(request, flag, status);
}

SHIM_EXPORT int MPI_Testall(int count, MPI_Request array_of_requests[], int *flag,
                            MPI_Status array_of_statuses[])
{
    if (shim_loops())
        prma_progress(shim_ctx);
    return PMPI_Testall(count, array_of_requests, flag, array_of_statuses);
}

SHIM_EXPORT int MPI_Testany(int count, MPI_Request array_of_requests[], int *index, int *flag,
                            MPI_Status *status)
{
    if (shim_loops())
        prma_progress(shim_ctx);
    return PMPI_Testany(count, array_of_requests, index, flag, status);
}

SHIM_EXPORT int MPI_Testsome(int incount, MPI_Request array_of_requests[], int *outcount,
                             int array_of_indices[], MPI_Status array_of_statuses[])
{
    if (shim_loops())
        prma_progress(shim_ctx);
    return PMPI_Testsome(incount, array_of_requests, outcount, array_of_indices,
                         array_of_statuses);
}

SHIM_EXPORT int MPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status)
{
    if (shim_loops())
        prma_progress(shim_ctx);
    return PMPI_Iprobe(source, tag, comm, flag, status);
}

SHIM_EXPORT int MPI_Improbe(int source, int tag, MPI_Comm comm, int *flag, MPI_Message *message,
                            MPI_Status *status)
{
    if (shim_loops())
        prma_progress(shim_ctx);
    return PMPI_Improbe(source, tag, comm, flag, message, status);
}
