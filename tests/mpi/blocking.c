/*
 * blocking: a passive target that waits in a blocking call of the MPI
 * library (MPI_Recv, MPI_Waitall, MPI_Barrier, ...) while its origins lock,
 * put, accumulate, flush and unlock on it; and the results of those calls.
 *
 * The test turns portrma's progress thread off (PORTRMA_PROGRESS=off,
 * unless the environment says otherwise), so that over UCX transports that
 * emulate RMA at the target (tcp; sm on memory UCX did not allocate) only
 * the target's own calls drive its UCX worker. Each phase has rank 0 wait
 * in one blocking call for a message (or a barrier) that each origin sends
 * only after ROUNDS of lock / put / accumulate / flush / unlock on rank 0:
 * if the blocking call did not drive portrma's progress, the flushes would
 * never complete and the watchdog would end the test.
 *
 * Then it checks what the calls returned, as the MPI library's own
 * blocking calls would: sources, tags and counts of the statuses,
 * MPI_STATUS_IGNORE, MPI_PROC_NULL, MPI_REQUEST_NULL and inactive
 * persistent requests, MPI_ERR_TRUNCATE from MPI_Recv, MPI_ERR_IN_STATUS
 * with each status's error from MPI_Waitall (MPI_ERR_PENDING for requests
 * not yet complete, which a second wait completes) and MPI_Waitsome, and the
 * generalized request of an MPI_Rput. Finally, the data on rank 0: every
 * put and every accumulate.
 *
 * Needs 2 or more ranks: exits 77 with 1.
 */
#include "common.h"

#define WATCHDOG_S 90
#define ROUNDS 20
#define PHASES 10
#define NCNT 4 /* doubles per origin, MPI_MAX by accumulate */

static int rank, nranks;
static MPI_Comm comm; /* MPI_COMM_WORLD's duplicate, MPI_ERRORS_RETURN */

/* The window: per origin a 64-bit counter, NCNT doubles (MPI_MAX), then a
 * slot of 8 bytes per phase and round. */
static size_t counter_off(int o) { return (size_t)o * 8; }
static size_t max_off(int o) { return (size_t)nranks * 8 + (size_t)o * NCNT * 8; }
static size_t slot_off(int o, int ph, int r)
{
    return (size_t)nranks * 8 * (1 + NCNT) +
           (((size_t)o * PHASES + (size_t)ph) * ROUNDS + (size_t)r) * 8;
}
static uint64_t slot_value(int o, int ph, int r)
{
    return prma_seed((uint64_t)o, (uint64_t)ph, (uint64_t)r);
}

/* An origin's work on rank 0 in phase ph. */
static void origin_rounds(MPI_Win win, int ph)
{
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t v = slot_value(rank, ph, r);
        long long one = 1;
        double mx[NCNT];

        for (int k = 0; k < NCNT; k++)
            mx[k] = (double)(ph * ROUNDS + r) + 0.5 * k;
        MPI_CHECK(MPI_Win_lock(r % 2 ? MPI_LOCK_SHARED : MPI_LOCK_EXCLUSIVE, 0, 0, win));
        MPI_CHECK(MPI_Put(&v, 8, MPI_BYTE, 0, (MPI_Aint)slot_off(rank, ph, r), 8, MPI_BYTE, win));
        MPI_CHECK(MPI_Accumulate(&one, 1, MPI_LONG_LONG, 0, (MPI_Aint)counter_off(rank), 1,
                                 MPI_LONG_LONG, MPI_SUM, win));
        MPI_CHECK(MPI_Accumulate(mx, NCNT, MPI_DOUBLE, 0, (MPI_Aint)max_off(rank), NCNT,
                                 MPI_DOUBLE, MPI_MAX, win));
        MPI_CHECK(MPI_Win_flush(0, win));
        MPI_CHECK(MPI_Win_unlock(0, win));
    }
}

static int count_of(const MPI_Status *st, MPI_Datatype type)
{
    int n = -1;
    MPI_CHECK(MPI_Get_count(st, type, &n));
    return n;
}

static int error_class(int code)
{
    int c = -1;
    MPI_Error_class(code, &c);
    return c;
}

/* Messages of the phases: origin o sends o + 1 ints of (ph, o, ...). */
static void origin_send(int ph, int tag)
{
    int msg[8] = { ph, rank, 7, 7, 7, 7, 7, 7 };
    MPI_CHECK(MPI_Send(msg, rank + 1, MPI_INT, 0, tag, comm));
}

static void check_msg(const int *msg, const MPI_Status *st, int ph, int tag, const char *what)
{
    int o = st->MPI_SOURCE;
    SOFT_CHECKF(o >= 1 && o < nranks, "%s: source %d", what, o);
    SOFT_CHECKF(st->MPI_TAG == tag, "%s: tag %d, expected %d", what, st->MPI_TAG, tag);
    SOFT_CHECKF(count_of(st, MPI_INT) == o + 1, "%s: count %d from %d", what,
                count_of(st, MPI_INT), o);
    SOFT_CHECKF(msg[0] == ph && msg[1] == o, "%s: message (%d, %d) from %d", what, msg[0],
                msg[1], o);
}

static void check_proc_null(const MPI_Status *st, const char *what)
{
    SOFT_CHECKF(st->MPI_SOURCE == MPI_PROC_NULL && st->MPI_TAG == MPI_ANY_TAG &&
                    count_of(st, MPI_INT) == 0,
                "%s: MPI_PROC_NULL gave source %d tag %d count %d", what, st->MPI_SOURCE,
                st->MPI_TAG, count_of(st, MPI_INT));
}

static void target_phases(void)
{
    const int no = nranks - 1;
    int msg[8], msgs[64][8], rc, idx;
    MPI_Request reqs[70];
    MPI_Status st, sts[70];

    CHECK(no + 2 <= 64);

    /* 0: MPI_Recv from any source, with a status, then MPI_STATUS_IGNORE. */
    for (int i = 0; i < no; i++) {
        MPI_CHECK(MPI_Recv(msg, 8, MPI_INT, MPI_ANY_SOURCE, 100, comm, &st));
        check_msg(msg, &st, 0, 100, "MPI_Recv");
    }
    /* 1: MPI_Waitall: a receive per origin, MPI_PROC_NULL, MPI_REQUEST_NULL. */
    for (int o = 1; o < nranks; o++)
        MPI_CHECK(MPI_Irecv(msgs[o], 8, MPI_INT, o, 101, comm, &reqs[o - 1]));
    MPI_CHECK(MPI_Irecv(msg, 8, MPI_INT, MPI_PROC_NULL, 101, comm, &reqs[no]));
    reqs[no + 1] = MPI_REQUEST_NULL;
    MPI_CHECK(MPI_Waitall(no + 2, reqs, sts));
    for (int o = 1; o < nranks; o++) {
        check_msg(msgs[o], &sts[o - 1], 1, 101, "MPI_Waitall");
        SOFT_CHECKF(sts[o - 1].MPI_SOURCE == o, "MPI_Waitall: status %d has source %d", o - 1,
                    sts[o - 1].MPI_SOURCE);
    }
    check_proc_null(&sts[no], "MPI_Waitall");
    for (int i = 0; i < no + 2; i++)
        SOFT_CHECKF(reqs[i] == MPI_REQUEST_NULL, "MPI_Waitall left request %d", i);
    /* 2: MPI_Barrier. */
    MPI_CHECK(MPI_Barrier(comm));
    /* 3: MPI_Waitany, one origin after another; then none active. */
    for (int o = 1; o < nranks; o++)
        MPI_CHECK(MPI_Irecv(msgs[o], 8, MPI_INT, o, 103, comm, &reqs[o - 1]));
    for (int i = 0; i < no; i++) {
        MPI_CHECK(MPI_Waitany(no, reqs, &idx, &st));
        SOFT_CHECKF(idx >= 0 && idx < no && st.MPI_SOURCE == idx + 1,
                    "MPI_Waitany: index %d source %d", idx, st.MPI_SOURCE);
        if (idx >= 0 && idx < no)
            check_msg(msgs[idx + 1], &st, 3, 103, "MPI_Waitany");
    }
    MPI_CHECK(MPI_Waitany(no, reqs, &idx, &st));
    SOFT_CHECKF(idx == MPI_UNDEFINED, "MPI_Waitany with no active request: index %d", idx);
    /* 4: MPI_Probe, then MPI_Mprobe / MPI_Mrecv. */
    for (int i = 0; i < no; i++) {
        MPI_Message m;
        MPI_CHECK(MPI_Probe(MPI_ANY_SOURCE, 104, comm, &st));
        SOFT_CHECKF(st.MPI_SOURCE >= 1 && count_of(&st, MPI_INT) == st.MPI_SOURCE + 1,
                    "MPI_Probe: source %d count %d", st.MPI_SOURCE, count_of(&st, MPI_INT));
        MPI_CHECK(MPI_Mprobe(st.MPI_SOURCE, 104, comm, &m, &st));
        MPI_CHECK(MPI_Mrecv(msg, 8, MPI_INT, &m, &st));
        SOFT_CHECKF(m == MPI_MESSAGE_NULL, "MPI_Mrecv left its message");
        check_msg(msg, &st, 4, 104, "MPI_Mprobe/MPI_Mrecv");
    }
    MPI_CHECK(MPI_Probe(MPI_PROC_NULL, 104, comm, &st));
    check_proc_null(&st, "MPI_Probe");
    /* 5: MPI_Waitsome until all are done. */
    for (int o = 1; o < nranks; o++)
        MPI_CHECK(MPI_Irecv(msgs[o], 8, MPI_INT, o, 105, comm, &reqs[o - 1]));
    for (int done = 0; done < no;) {
        int n = 0, ids[64];
        MPI_CHECK(MPI_Waitsome(no, reqs, &n, ids, sts));
        SOFT_CHECKF(n >= 1 && n <= no - done, "MPI_Waitsome: outcount %d", n);
        for (int k = 0; k < n && n <= no; k++)
            check_msg(msgs[ids[k] + 1], &sts[k], 5, 105, "MPI_Waitsome");
        done += n > 0 ? n : no;
    }
    {
        int n = 0, ids[64];
        MPI_CHECK(MPI_Waitsome(no, reqs, &n, ids, sts));
        SOFT_CHECKF(n == MPI_UNDEFINED, "MPI_Waitsome with no active request: %d", n);
    }
    /* 6: MPI_ERR_IN_STATUS: origin 1's message is too long for its buffer. */
    for (int o = 1; o < nranks; o++)
        MPI_CHECK(MPI_Irecv(msgs[o], o == 1 ? 1 : 8, MPI_INT, o, 106, comm, &reqs[o - 1]));
    rc = MPI_Waitall(no, reqs, sts);
    SOFT_CHECKF(error_class(rc) == MPI_ERR_IN_STATUS, "MPI_Waitall with a truncated receive: %s",
                prma_err_string(rc));
    if (rc == MPI_ERR_IN_STATUS) {
        SOFT_CHECKF(error_class(sts[0].MPI_ERROR) == MPI_ERR_TRUNCATE,
                    "MPI_Waitall: the truncated receive's status says %s",
                    prma_err_string(sts[0].MPI_ERROR));
        /* The others are complete, or, as the MPI library's own MPI_Waitall
         * may leave them, MPI_ERR_PENDING and still active. */
        for (int o = 2; o < nranks; o++) {
            int e = sts[o - 1].MPI_ERROR;
            SOFT_CHECKF(e == MPI_SUCCESS || e == MPI_ERR_PENDING,
                        "MPI_Waitall: status %d says %s", o - 1, prma_err_string(e));
            if (e == MPI_ERR_PENDING)
                MPI_CHECK(MPI_Wait(&reqs[o - 1], &sts[o - 1]));
            check_msg(msgs[o], &sts[o - 1], 6, 106, "MPI_Waitall (MPI_ERR_IN_STATUS)");
        }
    }
    /* ... and with MPI_STATUSES_IGNORE: a second MPI_Waitall completes
     * whatever the first left pending. */
    for (int o = 1; o < nranks; o++) {
        msgs[o][0] = msgs[o][1] = -1;
        MPI_CHECK(MPI_Irecv(msgs[o], o == 1 ? 1 : 8, MPI_INT, o, 111, comm, &reqs[o - 1]));
    }
    rc = MPI_Waitall(no, reqs, MPI_STATUSES_IGNORE);
    SOFT_CHECKF(error_class(rc) == MPI_ERR_IN_STATUS,
                "MPI_Waitall with a truncated receive, no statuses: %s", prma_err_string(rc));
    MPI_CHECK(MPI_Waitall(no, reqs, MPI_STATUSES_IGNORE));
    for (int o = 1; o < nranks; o++) {
        SOFT_CHECKF(reqs[o - 1] == MPI_REQUEST_NULL, "MPI_Waitall (no statuses) left request %d",
                    o - 1);
        SOFT_CHECKF(o == 1 || (msgs[o][0] == 6 && msgs[o][1] == o),
                    "MPI_Waitall (no statuses): message (%d, %d) from %d", msgs[o][0],
                    msgs[o][1], o);
    }
    /* 7: the same through MPI_Waitsome, then MPI_Recv's own MPI_ERR_TRUNCATE. */
    for (int o = 1; o < nranks; o++)
        MPI_CHECK(MPI_Irecv(msgs[o], o == 1 ? 1 : 8, MPI_INT, o, 107, comm, &reqs[o - 1]));
    for (int done = 0, seen_err = 0; done < no;) {
        int n = 0, ids[64];
        rc = MPI_Waitsome(no, reqs, &n, ids, sts);
        SOFT_CHECKF(rc == MPI_SUCCESS || error_class(rc) == MPI_ERR_IN_STATUS,
                    "MPI_Waitsome: %s", prma_err_string(rc));
        if (n <= 0 || n == MPI_UNDEFINED)
            break;
        for (int k = 0; k < n; k++) {
            if (ids[k] == 0) {
                seen_err = 1;
                SOFT_CHECKF(error_class(rc) == MPI_ERR_IN_STATUS &&
                                error_class(sts[k].MPI_ERROR) == MPI_ERR_TRUNCATE,
                            "MPI_Waitsome: the truncated receive gave %s, status %s",
                            prma_err_string(rc), prma_err_string(sts[k].MPI_ERROR));
            } else {
                check_msg(msgs[ids[k] + 1], &sts[k], 7, 107, "MPI_Waitsome");
            }
        }
        done += n;
        if (done == no)
            SOFT_CHECKF(seen_err, "MPI_Waitsome never reported the truncation");
    }
    rc = MPI_Recv(msg, 1, MPI_INT, 1, 108, comm, &st);
    SOFT_CHECKF(error_class(rc) == MPI_ERR_TRUNCATE, "MPI_Recv of a long message: %s",
                prma_err_string(rc));
    for (int o = 2; o < nranks; o++)
        MPI_CHECK(MPI_Recv(msg, 8, MPI_INT, o, 108, comm, MPI_STATUS_IGNORE));
    /* 8: MPI_Sendrecv with each origin, and with MPI_PROC_NULL. */
    for (int o = 1; o < nranks; o++) {
        int out[2] = { 8, -o };
        MPI_CHECK(MPI_Sendrecv(out, 2, MPI_INT, o, 109, msg, 8, MPI_INT, o, 109, comm, &st));
        check_msg(msg, &st, 8, 109, "MPI_Sendrecv");
    }
    MPI_CHECK(MPI_Sendrecv(msg, 1, MPI_INT, MPI_PROC_NULL, 0, msg, 1, MPI_INT, MPI_PROC_NULL, 0,
                           comm, &st));
    check_proc_null(&st, "MPI_Sendrecv");
    /* 9: a persistent receive: MPI_Wait completes it, and then, inactive,
     * returns at once with an empty status. */
    for (int o = 1; o < nranks; o++) {
        MPI_Request p;
        MPI_CHECK(MPI_Recv_init(msg, 8, MPI_INT, o, 110, comm, &p));
        MPI_CHECK(MPI_Start(&p));
        MPI_CHECK(MPI_Wait(&p, &st));
        check_msg(msg, &st, 9, 110, "MPI_Wait (persistent)");
        SOFT_CHECKF(p != MPI_REQUEST_NULL, "MPI_Wait freed a persistent request");
        st.MPI_SOURCE = 12345;
        MPI_CHECK(MPI_Wait(&p, &st));
        SOFT_CHECKF(st.MPI_SOURCE == MPI_ANY_SOURCE && st.MPI_TAG == MPI_ANY_TAG &&
                        count_of(&st, MPI_INT) == 0,
                    "MPI_Wait on an inactive request: source %d tag %d", st.MPI_SOURCE,
                    st.MPI_TAG);
        MPI_CHECK(MPI_Request_free(&p));
    }
}

static void origin_phases(MPI_Win win)
{
    MPI_Status st;
    int msg[8];

    for (int ph = 0; ph < PHASES; ph++) {
        origin_rounds(win, ph);
        switch (ph) {
        case 2:
            MPI_CHECK(MPI_Barrier(comm));
            break;
        case 6:
            /* Origin 1's truncated message first, the others late: the
             * target's MPI_Waitall sees the error while they are pending. */
            for (int tag = 106; tag <= 111; tag += 5) {
                if (rank > 1)
                    usleep(50000);
                origin_send(ph, tag);
            }
            break;
        case 7:
            origin_send(ph, 100 + ph);
            origin_send(ph, 108);
            break;
        case 8: {
            int out[8] = { 8, rank, 7, 7, 7, 7, 7, 7 };
            MPI_CHECK(MPI_Sendrecv(out, rank + 1, MPI_INT, 0, 109, msg, 8, MPI_INT, 0, 109,
                                   comm, &st));
            SOFT_CHECKF(st.MPI_SOURCE == 0 && st.MPI_TAG == 109 &&
                            count_of(&st, MPI_INT) == 2 && msg[0] == 8 && msg[1] == -rank,
                        "MPI_Sendrecv at the origin: source %d tag %d", st.MPI_SOURCE,
                        st.MPI_TAG);
            break;
        }
        default:
            origin_send(ph, 100 + ph + (ph == 9));
        }
    }
}

/* MPI_Rput's request through MPI_Wait and MPI_Waitall, and MPI_Test. */
static void requests(MPI_Win win)
{
    uint64_t v = 42, back = 0;
    MPI_Request r[2];
    MPI_Status st;
    int flag = 0;

    if (rank == 0)
        return;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
    MPI_CHECK(MPI_Rget(&back, 8, MPI_BYTE, 0, (MPI_Aint)slot_off(rank, 0, 0), 8, MPI_BYTE, win,
                       &r[0]));
    MPI_CHECK(MPI_Wait(&r[0], &st));
    SOFT_CHECKF(r[0] == MPI_REQUEST_NULL, "MPI_Wait left MPI_Rget's request");
    SOFT_CHECKF(back == slot_value(rank, 0, 0), "MPI_Rget read %llx",
                (unsigned long long)back);
    MPI_CHECK(MPI_Rget(&back, 8, MPI_BYTE, 0, (MPI_Aint)slot_off(rank, 0, 1), 8, MPI_BYTE, win,
                       &r[0]));
    MPI_CHECK(MPI_Rget(&v, 8, MPI_BYTE, 0, (MPI_Aint)slot_off(rank, 0, 2), 8, MPI_BYTE, win,
                       &r[1]));
    MPI_CHECK(MPI_Waitall(2, r, MPI_STATUSES_IGNORE));
    SOFT_CHECKF(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL,
                "MPI_Waitall left MPI_Rget's requests");
    SOFT_CHECKF(back == slot_value(rank, 0, 1) && v == slot_value(rank, 0, 2),
                "MPI_Rget read wrong data");
    v = 42;
    MPI_CHECK(MPI_Rput(&v, 8, MPI_BYTE, 0, (MPI_Aint)slot_off(rank, 0, 2), 8, MPI_BYTE, win,
                       &r[0]));
    while (!flag)
        MPI_CHECK(MPI_Test(&r[0], &flag, MPI_STATUS_IGNORE));
    SOFT_CHECKF(r[0] == MPI_REQUEST_NULL, "MPI_Test left MPI_Rput's request");
    MPI_CHECK(MPI_Win_unlock(0, win));
}

int main(int argc, char **argv)
{
    setenv("PORTRMA_PROGRESS", "off", 0);
    prma_watchdog_arm("blocking", WATCHDOG_S);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (nranks < 2) {
        if (rank == 0)
            printf("blocking: needs 2 or more ranks: skipped\n");
        MPI_Finalize();
        return 77;
    }
    CHECK(nranks <= 62);
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
    MPI_CHECK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));

    const size_t wsize = slot_off(nranks, 0, 0);
    unsigned char *mem;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)wsize, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win));
    if (rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
        memset(mem, 0, wsize);
        MPI_CHECK(MPI_Win_sync(win));
        MPI_CHECK(MPI_Win_unlock(0, win));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    if (rank == 0)
        target_phases();
    else
        origin_phases(win);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    requests(win);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    if (rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        MPI_CHECK(MPI_Win_sync(win));
        for (int o = 1; o < nranks; o++) {
            long long c;
            memcpy(&c, mem + counter_off(o), sizeof c);
            SOFT_CHECKF(c == PHASES * ROUNDS, "origin %d: counter %lld, expected %d", o, c,
                        PHASES * ROUNDS);
            for (int k = 0; k < NCNT; k++) {
                double m;
                memcpy(&m, mem + max_off(o) + 8 * k, sizeof m);
                SOFT_CHECKF(m == (double)(PHASES * ROUNDS - 1) + 0.5 * k,
                            "origin %d: maximum %d is %g", o, k, m);
            }
            for (int ph = 0; ph < PHASES; ph++)
                for (int r = 0; r < ROUNDS; r++) {
                    uint64_t v, want = ph == 0 && r == 2 ? 42 : slot_value(o, ph, r);
                    memcpy(&v, mem + slot_off(o, ph, r), sizeof v);
                    SOFT_CHECKF(v == want, "origin %d phase %d round %d: the put did not land",
                                o, ph, r);
                }
        }
        MPI_CHECK(MPI_Win_unlock(0, win));
    }
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Comm_free(&comm));
    const int total = prma_soft_total();
    if (rank == 0)
        printf("blocking: %d ranks: %s\n", nranks, total ? "FAILED" : "ok");
    MPI_Finalize();
    return total ? 1 : 0;
}
