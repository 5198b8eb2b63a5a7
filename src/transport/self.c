/*
 * self.c - the self port: this process's own window, reached through the
 * agent view. Every message completes on the spot.
 */
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include "../atomic.h"
#include "../log.h"
#include "../port.h"
#include "../win.h"

struct self_port {
    struct prma_port base;   /* first: a port is a self_port */
    char            *memory; /* agent view of the local window */
    char            *ctl;    /* the local control block */
};

static int self_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct self_port *self = (struct self_port *)port;
    int status = prma__direct_msg(self->memory, self->ctl, msg);

    return status == PRMA_ERR_NOTSUP ? prma__port_stub_putport(port, msg) : status;
}

static void self_destroy(struct prma_port *port)
{
    free(port);
}

static const struct prma_port_ops self_ops = {
    .name      = "self",
    .flags     = PRMA_PORTF_SPOT,
    .putport   = self_putport,
    .progress  = prma__port_nop_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = self_destroy,
};

int prma__port_init_self(struct prma_win *win, struct prma_port **port_p)
{
    struct self_port *self = calloc(1, sizeof(*self));

    if (self == NULL)
        return PRMA_ERR_NOMEM;
    prma__port_init(&self->base, &self_ops, win->rank);
    self->memory = win->agent_base;
    self->ctl    = (char *)win->ctl;
    self->base.mp_direct = self->memory;
    self->base.mp_ctl    = self->ctl;
    *port_p = &self->base;
    return PRMA_OK;
}
