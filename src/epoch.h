/*
 * epoch.h - the synchronization state of a window, as an object of its own.
 *
 * An access epoch decides which targets an origin may reach now; an exposure
 * epoch which origins may reach this process. Fence opens both at once for
 * the whole group. Every transition is checked here: a call that the current
 * state does not allow is PRMA_ERR_RMA_SYNC, never a hang.
 */
#ifndef PRMA_EPOCH_H
#define PRMA_EPOCH_H

struct prma_win;

enum prma_epoch_kind {
    PRMA_EPOCH_NONE = 0,  /* no epoch: RMA calls are refused */
    PRMA_EPOCH_FENCE,     /* between two fences (the second without NOSUCCEED) */
};

struct prma_epoch {
    enum prma_epoch_kind kind;
    unsigned             mode;  /* asserts given when it opened */
    unsigned long        nops;  /* operations issued in it */
};

/* Close the current fence epoch (completing its operations everywhere) and
 * open the next, as the asserts in mode allow. */
int prma__epoch_fence(struct prma_win *win, unsigned mode);

/* May an operation to target be issued now? */
int prma__epoch_check_access(const struct prma_win *win, int target);

/* May the window be freed now? */
int prma__epoch_check_free(const struct prma_win *win);

#endif /* PRMA_EPOCH_H */
