/*
 * none.c - the port of a target that no port kind of this build can reach
 * (another node, until the ucx port exists). It refuses every message with
 * PRMA_ERR_UNREACHABLE and touches nothing.
 */
#include "../log.h"
#include "../port.h"
#include "../win.h"

static int none_putport(struct prma_port *port, struct prma_msg *msg)
{
    prma_error("target is on another node and no port kind of this build reaches it");
    return PRMA_ERR_UNREACHABLE;
}

static const struct prma_port_ops none_ops = {
    .name      = "none",
    .putport   = none_putport,
    .progress  = prma__port_nop_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = prma__port_nop_destroy,
};

/* One shared instance: it holds no per-target state. */
static struct prma_port none_port = {
    .mp_ops  = &none_ops,
    .mp_msgq = TAILQ_HEAD_INITIALIZER(none_port.mp_msgq),
    .mp_lock = PTHREAD_MUTEX_INITIALIZER,
    .mp_error = PRMA_OK,
    .mp_rank = -1,
};

int prma__port_init_none(struct prma_win *win, int rank, struct prma_port **port_p)
{
    *port_p = &none_port;
    return PRMA_OK;
}
