/*
 * guard.c - guarded exposure: catch a program's own loads and stores that
 * collide with RMA on its window, at the instruction.
 *
 * Protection.  The owner's user view of a window of portrma memory (a
 * memfd, mem.h) is mprotect'ed while origins may reach it: PROT_NONE in an
 * exposure epoch (PROT_READ when its asserts promise no put: MPI_MODE_NOPUT),
 * and between epochs too unless the window promised never to be locked
 * (no_locks), because a passive-target epoch may open at any time without
 * the owner taking part. portrma itself, and same-node peers, reach the
 * memory through mappings of their own (the agent view), so RMA goes on.
 *
 * Faults.  A SIGSEGV in a guarded range is recorded (window, offset, size
 * and kind of the access, instruction pointer) and the access completes:
 * the page is opened, the trap flag set, and the SIGTRAP after that one
 * instruction closes the page again. A rep stos/movs (memset, memcpy) is
 * done by the handler itself through the agent view, in one go. A page
 * that faults more than GUARD_HOT times between two synchronization calls
 * of the owner stays open until the next one, and once GUARD_HOT_PAGES
 * pages are, the whole window does: later accesses are not checked (the
 * guard samples, so that loops over large windows finish).
 * Every other fault, and every SIGTRAP that is not ours, goes to the
 * handler installed before. The handlers write only into memory allocated
 * beforehand.
 *
 * Matching.  strict: an access while the window is exposed (an active
 * epoch, or a passive epoch some other origin has open on it) is a
 * conflict. race: origins keep their accesses per target and hand them to
 * the target's ring (guard area, guard.h) at the end of their epoch (and at
 * a flush), tagged by the epoch: the fence's number, the post's number, or
 * for passive target an interval of the target's passive clock. At every
 * synchronization call the owner takes the ring in and matches it with its
 * own accesses: same bytes, at least one of them a write, same epoch.
 * Conflicts are printed and returned as PRMA_ERR_RMA_CONFLICT.
 *
 * NOTE: threads. The fault path is lock-free but assumes that the window's
 * pages are not touched by another thread of the owner during the single
 * step, and that no thread faults in a window while a synchronization call
 * compacts its records: accesses of other threads may go unrecorded then.
 */
#include "guard.h"
#include "agent.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "ctl.h"
#include "log.h"
#include "mem.h"
#include "settings.h"
#include "win.h"

#define GUARD_RING     2048   /* records in a target's ring */
#define GUARD_LOCAL    16384  /* local accesses kept per window */
#define GUARD_REPORT   8      /* conflicts printed per report */
#define GUARD_SLOTS    256    /* guarded windows per process */
#define GUARD_PENDING  4      /* pages open for one instruction */
#define GUARD_HOT      16     /* faults on a page before it stays open until the next
                                 synchronization call */
#define GUARD_HOT_PAGES 16    /* hot pages before the whole window stays open so */
#define GUARD_PENDING_OPS 8192 /* RMA accesses an origin keeps per epoch */

#define TAG_FENCE (UINT64_C(1) << 62)
#define TAG_PSCW  (UINT64_C(2) << 62)
#define TAG_KIND  (UINT64_C(3) << 62)
#define TAG_STRICT_PASSIVE 1  /* strict: recorded while a passive epoch was open */

/* ---- the guard area (shared: in the control block's memfd) ----------- */

struct guard_rec {
    uint64_t seq;      /* index + 1 once the record is complete */
    uint64_t off;      /* bytes from the target's window base */
    uint64_t len;
    uint64_t meta;     /* origin rank << 8 | enum prma_guard_op */
    uint64_t tag;      /* TAG_FENCE | n, TAG_PSCW | n, or 0: passive */
    uint64_t t_open;   /* passive: collides with local accesses after this ... */
    uint64_t t_close;  /* ... up to this time of the target's passive clock */
    uint64_t pad;
};

struct guard_area {
    uint64_t n;         /* records appended (origins: atomic add) */
    uint64_t consumed;  /* records the owner took in */
    uint64_t dropped;   /* records that found the ring full */
    uint64_t pclock;    /* passive clock: +1 at each passive open, access, flush, close */
    uint64_t popen;     /* passive epochs open on this target */
    uint64_t pseq;      /* posts made */
    uint64_t pad[2];
    struct guard_rec rec[GUARD_RING];
};

#define AREA_FIELD(f) ((uint64_t)offsetof(struct guard_area, f))

/* ---- the owner's state ------------------------------------------------ */

struct lrec {            /* one local access (written by the fault handler) */
    uint64_t  off, len;
    uint64_t  tag;       /* the exposure epoch then */
    uint64_t  t;         /* the passive clock then */
    uintptr_t ip;        /* 0: the origin buffer of an RMA call */
    int       write;
};

struct rrec {            /* one RMA access of an origin, taken in */
    uint64_t off, len, tag, t_open, t_close;
    int      origin, op;
};

struct orec {            /* one RMA access of ours, not handed over yet */
    int      target, op;
    uint64_t off, len;
    uint64_t t_open;     /* passive: from when it may collide (target's clock) */
};

struct conflict {
    struct lrec l;
    struct rrec r;       /* r.op == 0: strict, no RMA access needed */
    int         passive; /* strict: a passive epoch was open */
};

struct prma_guard {
    struct prma_win   *win;
    int                mode;
    int                guardable;  /* our part is memory we can protect */
    int                slot;       /* in the registry, -1: none */
    uintptr_t          lo, hi;     /* protected pages of the user view */
    uintptr_t          base, end;  /* the window's bytes */
    char              *agent;      /* the agent view of lo */
    unsigned char     *faults;     /* [pages] faults since the last synchronization call */
    volatile int       opened;     /* hot pages were left open since then */
    unsigned           hot;        /* how many */
    unsigned           syncs;      /* synchronization calls seen */
    unsigned long      odropped;   /* our RMA accesses not kept (too many) */
    volatile int       prot;       /* protection now */
    volatile uint64_t  tag;        /* exposure epoch now, 0: none */
    struct guard_area *area;       /* ours */
    uint64_t           fseq;       /* fences done */
    unsigned           post_mode;  /* asserts of the last post, and fence */
    unsigned           fence_mode;
    int                self_open;  /* our own passive epochs on us */
    char               name[128];
    /* local accesses (the fault handler appends) */
    struct lrec       *l;
    _Atomic unsigned   ln;
    _Atomic unsigned   ldropped;
    unsigned           lmatched;
    /* origins' accesses taken in */
    struct rrec       *r;
    size_t             rn, rcap, rmatched;
    unsigned long      rdropped;
    /* conflicts found, not reported yet */
    struct conflict    c[GUARD_REPORT];
    unsigned long      nc;
    /* our accesses as an origin */
    struct orec       *o;
    size_t             on, ocap;
    uint64_t          *t_open;     /* [size] passive epoch to it open: lower bound + 1;
                                      0: none open */
};

/* ---- the registry the signal handlers search --------------------------- */

static struct {
    _Atomic uintptr_t          lo, hi;
    struct prma_guard *_Atomic g;
} slots[GUARD_SLOTS];

static size_t page_size;
static struct sigaction old_segv, old_trap;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

/* Pages a thread opened for the instruction being stepped. */
static __thread struct {
    uintptr_t          page[GUARD_PENDING];
    struct prma_guard *g[GUARD_PENDING];
    int                n;
} pending __attribute__((tls_model("initial-exec")));

static struct prma_guard *guard_find(uintptr_t a)
{
    for (int i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t hi = atomic_load_explicit(&slots[i].hi, memory_order_acquire);

        if (hi != 0 && a < hi && a >= atomic_load_explicit(&slots[i].lo, memory_order_relaxed))
            return atomic_load_explicit(&slots[i].g, memory_order_relaxed);
    }
    return NULL;
}

/* Does [a, a + len) meet a guarded range? */
static int guard_meets(uintptr_t a, size_t len)
{
    for (int i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t hi = atomic_load_explicit(&slots[i].hi, memory_order_acquire);

        if (hi != 0 && a < hi && a + len > atomic_load_explicit(&slots[i].lo, memory_order_relaxed))
            return 1;
    }
    return 0;
}

/* ---- modes and sizes --------------------------------------------------- */

int prma__guard_mode(int requested, int flavor)
{
    int mode;

    switch (requested) {
    case PRMA_GUARD_OFF:    mode = PRMA_GUARD_MODE_OFF; break;
    case PRMA_GUARD_STRICT: mode = PRMA_GUARD_MODE_STRICT; break;
    case PRMA_GUARD_RACE:   mode = PRMA_GUARD_MODE_RACE; break;
    default:                mode = prma__config.guard; break;
    }
    if (flavor == PRMA_WIN_FLAVOR_SHARED || flavor == PRMA_WIN_FLAVOR_DYNAMIC)
        return PRMA_GUARD_MODE_OFF;
#if !defined(__x86_64__)
    if (mode != PRMA_GUARD_MODE_OFF)
        prma_warn("the exposure guard needs x86-64; windows are not guarded");
    mode = PRMA_GUARD_MODE_OFF;
#endif
    return mode;
}

uint64_t prma__guard_area_off(int nranks)
{
    return (prma_ctl_size(nranks) + 63) & ~(uint64_t)63;
}

size_t prma__guard_area_size(int mode, int nranks)
{
    if (mode == PRMA_GUARD_MODE_OFF)
        return 0;
    return (size_t)(prma__guard_area_off(nranks) - prma_ctl_size(nranks)) +
           sizeof(struct guard_area);
}

size_t prma__win_ctl_size(const struct prma_win *win)
{
    size_t size = prma_ctl_size(win->size) +
                  (win->guard != NULL ? prma__guard_area_size(win->guard->mode, win->size) : 0);

    /* The node agent's slots come last (agent.c). */
    return size + prma__agent_area_size(win, size);
}

int prma__guard_create(struct prma_win *win, int mode)
{
    struct prma_guard *g;

    if (mode == PRMA_GUARD_MODE_OFF)
        return PRMA_OK;
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return PRMA_ERR_NOMEM;
    g->win    = win;
    g->mode   = mode;
    g->slot   = -1;
    g->l      = calloc(GUARD_LOCAL, sizeof(*g->l));
    g->t_open = calloc((size_t)win->size, sizeof(*g->t_open));
    if (g->l == NULL || g->t_open == NULL) {
        free(g->l);
        free(g->t_open);
        free(g);
        return PRMA_ERR_NOMEM;
    }
    snprintf(g->name, sizeof(g->name), "portrma window");
    win->guard = g;
    return PRMA_OK;
}

/* ---- x86-64: what the faulting instruction does ---------------------- */


/*
 * Decode enough of the instruction at p to know how many bytes it reads or
 * writes: prefixes, REX, VEX/EVEX, the opcode and the ModRM reg field. Not
 * a disassembler: the common load, store and read-modify-write forms that
 * compilers emit and glibc's string functions use; anything else counts as
 * its default operand size.
 */
void prma__guard_insn_decode(const uint8_t *p, struct prma_insn *in)
{
    int opsz16 = 0, rexw = 0, map = 0, pp = 0, vl = -1, legacy_f3 = 0, legacy_f2 = 0;
    const uint8_t *q = p;
    unsigned v, op, reg;

    memset(in, 0, sizeof(*in));
    for (int i = 0; i < 14; i++, q++) {
        uint8_t b = *q;

        if (b == 0x66)
            opsz16 = 1;
        else if (b == 0xf3)
            legacy_f3 = 1;
        else if (b == 0xf2)
            legacy_f2 = 1;
        else if (b == 0x67)
            in->addr32 = 1;
        else if (b != 0xf0 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0x26 && b != 0x64 &&
                 b != 0x65)
            break;
    }
    in->rep = legacy_f3;
    if ((*q & 0xf0) == 0x40) {
        rexw = (*q >> 3) & 1;
        q++;
    }
    if (*q == 0xc5) {
        map = 1;
        vl  = (q[1] >> 2) & 1;
        pp  = q[1] & 3;
        q += 2;
    } else if (*q == 0xc4) {
        map  = q[1] & 0x1f;
        rexw = q[2] >> 7;
        vl   = (q[2] >> 2) & 1;
        pp   = q[2] & 3;
        q += 3;
    } else if (*q == 0x62) {
        map  = q[1] & 3;
        rexw = q[2] >> 7;
        pp   = q[2] & 3;
        vl   = (q[3] >> 5) & 3;
        q += 4;
    } else {
        pp = opsz16 ? 1 : legacy_f3 ? 2 : legacy_f2 ? 3 : 0;
        if (*q == 0x0f) {
            map = 1;
            q++;
            if (*q == 0x38 || *q == 0x3a) {
                map = *q == 0x38 ? 2 : 3;
                q++;
            }
        }
    }
    op  = *q;
    reg = (q[1] >> 3) & 7;
    v   = rexw ? 8 : opsz16 ? 2 : 4;
    in->size = v;
    if (map == 0) {
        if (op >= 0xa4 && op <= 0xaf) {
            in->string = op == 0xaa || op == 0xab ? 's' : op == 0xa4 || op == 0xa5 ? 'm' : 'o';
            in->size   = (op & 1) ? v : 1;
            in->ilen   = (unsigned)(q + 1 - p);
            return;
        }
        if (op < 0x40 && (op & 7) <= 3) {
            in->size = (op & 1) ? v : 1;
            in->rmw  = (op & 7) <= 1 && (op & 0x38) != 0x38;
        } else if (op >= 0x80 && op <= 0x83) {
            in->size = op == 0x80 || op == 0x82 ? 1 : v;
            in->rmw  = reg != 7;
        } else if (op == 0x84 || op == 0x88 || op == 0x8a || op == 0xc6) {
            in->size = 1;
        } else if (op == 0x86 || op == 0x87) {
            in->size = op == 0x86 ? 1 : v;
            in->rmw  = 1;
        } else if (op == 0xc0 || op == 0xd0 || op == 0xd2 || op == 0xc1 || op == 0xd1 ||
                   op == 0xd3) {
            in->size = (op & 1) ? v : 1;
            in->rmw  = 1;
        } else if (op == 0xf6 || op == 0xf7) {
            in->size = op == 0xf6 ? 1 : v;
            in->rmw  = reg == 2 || reg == 3;
        } else if (op == 0xfe || op == 0xff) {
            in->size = op == 0xfe ? 1 : (reg >= 2 && reg <= 6 && reg != 3 && reg != 5) ? 8 : v;
            in->rmw  = reg <= 1;
        }
        return;
    }
    if (map == 1) {
        unsigned vec = vl < 0 ? 16 : 16u << vl;

        switch (op) {
        case 0xb6: case 0xbe: in->size = 1; return;
        case 0xb7: case 0xbf: in->size = 2; return;
        case 0xb0: case 0xc0: in->size = 1; in->rmw = 1; return;
        case 0xb1: case 0xc1: in->rmw = 1; return;
        case 0xc7: in->size = rexw ? 16 : 8; in->rmw = 1; return;
        case 0xc3: return;
        case 0x10: case 0x11:
            in->size = pp == 2 ? 4 : pp == 3 ? 8 : vec;
            return;
        case 0x12: case 0x13: case 0x16: case 0x17: case 0xd6:
            in->size = 8;
            return;
        case 0x6e: case 0x7e:
            in->size = op == 0x7e && pp == 2 ? 8 : rexw ? 8 : 4;
            return;
        case 0x6f: case 0x7f:
            in->size = vl < 0 && pp == 0 ? 8 : vec;
            return;
        default:
            if ((op >= 0x40 && op <= 0x4f) || (op >= 0xa3 && op <= 0xaf))
                return;  /* cmov, bt*, shld/shrd, imul: the default size */
            in->size = vec;
            return;
        }
    }
    in->size = vl < 0 ? 16 : 16u << vl;  /* 0f38, 0f3a: vector forms */
}

/* ---- the signal handlers ---------------------------------------------- */

static void chain(const struct sigaction *old, int sig, siginfo_t *si, void *uc)
{
    struct sigaction dfl;

    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction != NULL) {
            old->sa_sigaction(sig, si, uc);
            return;
        }
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* The default action, as if we had never been there: a fault repeats
     * when we return; a trap is raised again, to arrive once we return. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    if (sig != SIGSEGV)
        raise(sig);
}

/* Record a local access of [a, a + len) (clipped to the window). */
static void local_note(struct prma_guard *g, uintptr_t a, size_t len, int write, uintptr_t ip)
{
    uint64_t tag = g->tag, t, off;
    struct lrec *last;
    unsigned i;

    if (a < g->base || a >= g->end)
        return;  /* a byte of the page that is not the window's */
    if (len > g->end - a)
        len = g->end - a;
    if (len == 0)
        len = 1;
    off = a - g->base;
    t   = atomic_load_explicit((_Atomic uint64_t *)&g->area->pclock, memory_order_acquire);
    if (g->mode == PRMA_GUARD_MODE_STRICT) {
        long open = (long)atomic_load_explicit((_Atomic uint64_t *)&g->area->popen,
                                               memory_order_acquire) -
                    g->self_open;

        if (tag == 0 && open <= 0)
            return;  /* not exposed: allowed */
        if (tag == 0)
            tag = TAG_STRICT_PASSIVE;
    }
    i = atomic_load_explicit(&g->ln, memory_order_relaxed);
    if (i > 0) {
        last = &g->l[i - 1];
        /* The same instruction again, or a loop over adjacent bytes. */
        if (last->ip == ip && last->write == write && last->tag == tag && last->t == t) {
            if (off >= last->off && off + len <= last->off + last->len)
                return;
            if (off == last->off + last->len) {
                last->len += len;
                return;
            }
        }
    }
    i = atomic_fetch_add_explicit(&g->ln, 1, memory_order_relaxed);
    if (i >= GUARD_LOCAL) {
        atomic_fetch_sub_explicit(&g->ln, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&g->ldropped, 1, memory_order_relaxed);
        return;
    }
    g->l[i] = (struct lrec){ .off = off, .len = len, .tag = tag, .t = t, .ip = ip,
                             .write = write };
}

/* Where p is in the agent view, when it lies in g's range; else p. */
static char *to_agent(uintptr_t p, struct prma_guard *g)
{
    return g != NULL ? g->agent + (p - g->lo) : (char *)p;
}

/* A rep stos or rep movs over guarded memory, done here through the agent
 * view in one go (single-stepping would trap once per element). Returns 1
 * when done, 0 when the instruction must be stepped instead. */
static int emulate_string(ucontext_t *uc, const struct prma_insn *in)
{
    greg_t *r = uc->uc_mcontext.gregs;
    uint64_t n = (uint64_t)r[REG_RCX], total;
    uintptr_t dst = (uintptr_t)r[REG_RDI], src = (uintptr_t)r[REG_RSI];
    struct prma_guard *gd, *gs = NULL;
    char *d, *s;

    if (!in->rep || in->addr32 || (in->string != 's' && in->string != 'm') ||
        (r[REG_EFL] & 0x400) || __builtin_mul_overflow(n, (uint64_t)in->size, &total) ||
        dst + total < dst)
        return 0;
    if (total == 0)
        goto done;
    /* Each side wholly inside one guarded window, or wholly outside all. */
    gd = guard_find(dst);
    if (gd != NULL ? dst + total > gd->hi : guard_meets(dst, total))
        return 0;
    if (in->string == 'm') {
        if (src + total < src)
            return 0;
        gs = guard_find(src);
        if (gs != NULL ? src + total > gs->hi : guard_meets(src, total))
            return 0;
    }
    d = to_agent(dst, gd);
    if (in->string == 's') {
        uint64_t v = (uint64_t)r[REG_RAX];

        if (in->size == 1)
            memset(d, (int)(v & 0xff), total);
        else
            for (uint64_t i = 0; i < n; i++)
                memcpy(d + i * in->size, &v, in->size);
    } else {
        s = to_agent(src, gs);
        if (dst > src && dst < src + total) {
            /* Forward, element by element, as the instruction does. */
            for (uint64_t i = 0; i < n; i++)
                memmove(d + i * in->size, s + i * in->size, in->size);
        } else {
            memmove(d, s, total);
        }
        if (gs != NULL)
            local_note(gs, src, total, 0, (uintptr_t)r[REG_RIP]);
        r[REG_RSI] = (greg_t)(src + total);
    }
    if (gd != NULL)
        local_note(gd, dst, total, 1, (uintptr_t)r[REG_RIP]);
    r[REG_RDI] = (greg_t)(dst + total);
    r[REG_RCX] = 0;
done:
    r[REG_RIP] += in->ilen;
    return 1;
}

static void guard_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    uintptr_t a = (uintptr_t)si->si_addr, page;
    struct prma_guard *g;
    struct prma_insn in;
    int saved = errno;

    g = si->si_code == SEGV_ACCERR ? guard_find(a) : NULL;
    if (g == NULL || pending.n >= GUARD_PENDING) {
        if (si->si_code == SEGV_ACCERR && prma__remap_fault(a)) {
            errno = saved;
            return;
        }
        chain(&old_segv, sig, si, ucv);
        errno = saved;
        return;
    }
    prma__guard_insn_decode((const uint8_t *)uc->uc_mcontext.gregs[REG_RIP], &in);
    if (in.string && emulate_string(uc, &in)) {
        errno = saved;
        return;
    }
    local_note(g, a, in.size, (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0 || in.rmw,
               (uintptr_t)uc->uc_mcontext.gregs[REG_RIP]);
    page = a & ~(uintptr_t)(page_size - 1);
    mprotect((void *)page, page_size, PROT_READ | PROT_WRITE);
    if (g->faults != NULL && ++g->faults[(page - g->lo) / page_size] > GUARD_HOT) {
        /* A hot page: open until the next synchronization call. */
        g->opened = 1;
        if (++g->hot > GUARD_HOT_PAGES)
            mprotect((void *)g->lo, g->hi - g->lo, PROT_READ | PROT_WRITE);
        errno = saved;
        return;
    }
    pending.page[pending.n] = page;
    pending.g[pending.n]    = g;
    pending.n++;
    uc->uc_mcontext.gregs[REG_EFL] |= 0x100;  /* trap after this instruction */
    errno = saved;
}

static void guard_trap(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    int saved = errno;

    if (pending.n == 0) {
        chain(&old_trap, sig, si, ucv);
        return;
    }
    for (int i = 0; i < pending.n; i++)
        mprotect((void *)pending.page[i], page_size, pending.g[i]->prot);
    pending.n = 0;
    uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x100;
    errno = saved;
}

/* Install handler h for sig, or take sig back from a handler installed
 * after ours (which then gets every signal that is not ours).
 * NOTE: caller holds install_lock. */
static void install(int sig, void (*h)(int, siginfo_t *, void *), struct sigaction *old)
{
    struct sigaction sa, cur;

    if (sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == h)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_flags     = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sa.sa_sigaction = h;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}

void prma__segv_install(void)
{
    pthread_mutex_lock(&install_lock);
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    install(SIGSEGV, guard_segv, &old_segv);
    pthread_mutex_unlock(&install_lock);
}

static void guard_install(void)
{
    prma__segv_install();
    pthread_mutex_lock(&install_lock);
    install(SIGTRAP, guard_trap, &old_trap);
    pthread_mutex_unlock(&install_lock);
}

/* ---- setup ------------------------------------------------------------- */

static void guard_protect(struct prma_guard *g, int prot)
{
    if (!g->guardable || (g->prot == prot && !g->opened))
        return;
    if (g->opened) {
        memset(g->faults, 0, (g->hi - g->lo) / page_size);
        g->opened = 0;
        g->hot    = 0;
    }
    if (mprotect((void *)g->lo, g->hi - g->lo, prot) != 0) {
        prma_warn("protecting window memory failed: %s", strerror(errno));
        return;
    }
    g->prot = prot;
}

int prma__guard_setup(struct prma_win *win)
{
    struct prma_guard *g = win->guard;
    struct prma_mem *mem;
    uintptr_t lo, hi;

    if (g == NULL)
        return PRMA_OK;
    g->area = (struct guard_area *)((char *)win->ctl + prma__guard_area_off(win->size));
    guard_install();
    mem = win->mem != NULL ? win->mem
                           : (win->len > 0 ? prma__mem_lookup(win->ctx, win->base, win->len)
                                           : NULL);
    if (mem == NULL || win->len == 0)
        return PRMA_OK;  /* user memory: an origin only */
    lo = (uintptr_t)win->base & ~(uintptr_t)(page_size - 1);
    hi = ((uintptr_t)win->base + win->len + page_size - 1) & ~(uintptr_t)(page_size - 1);
    if (guard_meets(lo, hi - lo)) {
        prma_warn("window memory shares pages with a guarded window: not guarded");
        return PRMA_OK;
    }
    g->faults = calloc((hi - lo) / page_size, 1);
    if (g->faults == NULL)
        return PRMA_OK;
    g->lo    = lo;
    g->hi    = hi;
    g->base  = (uintptr_t)win->base;
    g->end   = (uintptr_t)win->base + win->len;
    g->agent = (char *)mem->agent + (lo - (uintptr_t)mem->user);
    g->prot  = PROT_READ | PROT_WRITE;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        struct prma_guard *none = NULL;

        if (atomic_compare_exchange_strong(&slots[i].g, &none, g)) {
            atomic_store_explicit(&slots[i].lo, lo, memory_order_relaxed);
            atomic_store_explicit(&slots[i].hi, hi, memory_order_release);
            g->slot      = i;
            g->guardable = 1;
            break;
        }
    }
    if (!g->guardable) {
        prma_warn("more than %d guarded windows: this one is not guarded", GUARD_SLOTS);
        return PRMA_OK;
    }
    return prma__guard_leave(win, PRMA_GUARD_EV_NONE, 0, PRMA_OK);
}

void prma__guard_destroy(struct prma_win *win)
{
    struct prma_guard *g = win->guard;

    if (g == NULL)
        return;
    if (g->guardable) {
        guard_protect(g, PROT_READ | PROT_WRITE);
        atomic_store_explicit(&slots[g->slot].hi, 0, memory_order_release);
        atomic_store_explicit(&slots[g->slot].g, NULL, memory_order_release);
    }
    free(g->faults);
    free(g->l);
    free(g->r);
    free(g->o);
    free(g->t_open);
    free(g);
    win->guard = NULL;
}

int prma_win_set_name(prma_win_h win, const char *name)
{
    if (win == NULL || win->magic != PRMA_WIN_MAGIC || name == NULL)
        return PRMA_ERR_ARG;
    if (win->guard != NULL)
        snprintf(win->guard->name, sizeof(win->guard->name), "%s", name);
    return PRMA_OK;
}

/* ---- origin side -------------------------------------------------------- */

static int area_atomic(struct prma_win *win, int target, uint64_t field, uint32_t aop,
                       uint64_t v, uint64_t *old_p)
{
    uint64_t old;

    return prma__win_atomic(win, target, PRMA_REGION_CTL,
                            prma__guard_area_off(win->size) + field, 8, aop, v, 0,
                            old_p != NULL ? old_p : &old);
}

void prma__guard_note(struct prma_win *win, int target, uint64_t off, size_t len, int op,
                      void **buf_p)
{
    struct prma_guard *g = win->guard, *bg;
    struct orec *last;
    uint64_t t = 0;

    /* An origin buffer in guarded memory: this process's own access. */
    if (buf_p != NULL && *buf_p != NULL && (bg = guard_find((uintptr_t)*buf_p)) != NULL &&
        (uintptr_t)*buf_p + len <= bg->hi) {
        local_note(bg, (uintptr_t)*buf_p, len, op == PRMA_GUARD_OP_GET, 0);
        *buf_p = to_agent((uintptr_t)*buf_p, bg);
    }
    if (g->mode != PRMA_GUARD_MODE_RACE || len == 0 || win->peers[target].memfd < 0)
        return;  /* strict needs no record; user memory is never guarded */
    /* Passive target: a lock epoch may collide from its lock (or last
     * flush) on; lock_all, often open for the whole run with barriers
     * portrma cannot see in between, only from the access itself. */
    if (win->epoch.access == PRMA_ACCESS_LOCK_ALL) {
        if (area_atomic(win, target, AREA_FIELD(pclock), PRMA_AOP_ADD, 1, &t) != PRMA_OK)
            return;
    } else if (win->epoch.access == PRMA_ACCESS_LOCK) {
        t = g->t_open[target] > 0 ? g->t_open[target] - 1 : 0;
    }
    if (g->on > 0) {
        last = &g->o[g->on - 1];
        if (last->target == target && last->op == op && last->t_open == t &&
            off == last->off + last->len) {
            last->len += len;
            return;
        }
    }
    if (g->on == GUARD_PENDING_OPS) {
        g->odropped++;
        return;
    }
    if (g->on == g->ocap) {
        size_t cap = g->ocap ? 2 * g->ocap : 64;
        struct orec *o = realloc(g->o, cap * sizeof(*o));

        if (o == NULL) {
            prma_warn("no memory to keep an RMA access for the exposure guard");
            return;
        }
        g->o    = o;
        g->ocap = cap;
    }
    g->o[g->on++] = (struct orec){ .target = target, .op = op, .off = off, .len = len,
                                   .t_open = t };
}

/* Append one record to target's ring. */
static int ring_append(struct prma_win *win, int target, const struct orec *o, uint64_t tag,
                       uint64_t t_close)
{
    uint64_t idx, consumed, base;
    uint64_t words[6] = { o->off, o->len, (uint64_t)win->rank << 8 | (uint64_t)o->op, tag,
                          o->t_open, t_close };
    int status;

    status = area_atomic(win, target, AREA_FIELD(n), PRMA_AOP_ADD, 1, &idx);
    if (status == PRMA_OK)
        status = area_atomic(win, target, AREA_FIELD(consumed), PRMA_AOP_ADD, 0, &consumed);
    if (status != PRMA_OK)
        return status;
    if (idx - consumed >= GUARD_RING)
        return area_atomic(win, target, AREA_FIELD(dropped), PRMA_AOP_ADD, 1, NULL);
    base = AREA_FIELD(rec) + (idx % GUARD_RING) * sizeof(struct guard_rec);
    for (int i = 0; i < 6 && status == PRMA_OK; i++)
        status = area_atomic(win, target, base + (uint64_t)(i + 1) * 8, PRMA_AOP_SWAP,
                             words[i], NULL);
    if (status == PRMA_OK)
        status = area_atomic(win, target, base, PRMA_AOP_SWAP, idx + 1, NULL);
    return status;
}

int prma__guard_passive_open(struct prma_win *win, int target)
{
    struct prma_guard *g = win->guard;
    uint64_t t;
    int status;

    if (win->peers[target].memfd < 0)
        return PRMA_OK;
    status = area_atomic(win, target, AREA_FIELD(popen), PRMA_AOP_ADD, 1, NULL);
    if (status == PRMA_OK)
        status = area_atomic(win, target, AREA_FIELD(pclock), PRMA_AOP_ADD, 1, &t);
    if (status != PRMA_OK)
        return status;
    g->t_open[target] = t + 1;
    if (target == win->rank)
        g->self_open++;
    return PRMA_OK;
}

/* Hand our records for target over, tagged; passive ones (tag 0) close at
 * t_close. Records for other targets stay. */
static int deliver_records(struct prma_win *win, int target, int kind, uint64_t t_close)
{
    struct prma_guard *g = win->guard;
    uint64_t tag = kind == PRMA_GUARD_EPOCH_FENCE ? TAG_FENCE | g->fseq : 0, seq;
    size_t keep = 0;
    int status = PRMA_OK;

    for (size_t i = 0; i < g->on; i++) {
        const struct orec *o = &g->o[i];

        if (target >= 0 && o->target != target) {
            g->o[keep++] = *o;
            continue;
        }
        if (status != PRMA_OK)
            continue;
        if (kind == PRMA_GUARD_EPOCH_PSCW) {
            /* The target's post for this epoch has arrived: its number is
             * in its guard area. */
            status = area_atomic(win, o->target, AREA_FIELD(pseq), PRMA_AOP_ADD, 0, &seq);
            tag = TAG_PSCW | seq;
        }
        if (status == PRMA_OK)
            status = ring_append(win, o->target, o, tag, t_close);
    }
    g->on = keep;
    return status;
}

/* A passive epoch to target ends (close) or its accesses so far are
 * complete (flush): complete them, take the time, hand them over. */
static int deliver_passive(struct prma_win *win, int target, int close)
{
    struct prma_guard *g = win->guard;
    uint64_t t_close = 0;
    int status, one;

    if (g->t_open[target] == 0)
        return PRMA_OK;
    status = prma__win_complete_target(win, target);
    if (status == PRMA_OK)
        status = area_atomic(win, target, AREA_FIELD(pclock), PRMA_AOP_ADD, 1, &t_close);
    if (status == PRMA_OK)
        status = deliver_records(win, target, PRMA_GUARD_EPOCH_PASSIVE, t_close);
    if (!close) {
        g->t_open[target] = t_close + 1;
        return status;
    }
    one = area_atomic(win, target, AREA_FIELD(popen), PRMA_AOP_ADD, (uint64_t)-1, NULL);
    g->t_open[target] = 0;
    if (target == win->rank)
        g->self_open--;
    return status != PRMA_OK ? status : one;
}

int prma__guard_deliver(struct prma_win *win, int target, int kind)
{
    int status = PRMA_OK, one;

    switch (kind) {
    case PRMA_GUARD_EPOCH_PASSIVE:
        return deliver_passive(win, target, 1);
    case PRMA_GUARD_EPOCH_FLUSH:
        if (target >= 0)
            return deliver_passive(win, target, 0);
        for (int t = 0; t < win->size; t++)
            if ((one = deliver_passive(win, t, 0)) != PRMA_OK && status == PRMA_OK)
                status = one;
        return status;
    default:
        return win->guard->on > 0 ? deliver_records(win, target, kind, 0) : PRMA_OK;
    }
}

int prma__guard_post(struct prma_win *win, unsigned mode)
{
    struct prma_guard *g = win->guard;

    g->post_mode = mode;
    atomic_fetch_add_explicit((_Atomic uint64_t *)&g->area->pseq, 1, memory_order_seq_cst);
    return PRMA_OK;
}

/* ---- the owner, at its synchronization calls ---------------------------- */

/* Take in what origins appended to our ring. */
static void ring_take(struct prma_guard *g)
{
    _Atomic uint64_t *consumed = (_Atomic uint64_t *)&g->area->consumed;
    uint64_t c = atomic_load_explicit(consumed, memory_order_relaxed), d;

    for (;;) {
        struct guard_rec *rec = &g->area->rec[c % GUARD_RING];

        if (atomic_load_explicit((_Atomic uint64_t *)&rec->seq, memory_order_acquire) != c + 1)
            break;
        if (g->rn == g->rcap) {
            size_t cap = g->rcap ? 2 * g->rcap : 256;
            struct rrec *r = realloc(g->r, cap * sizeof(*r));

            if (r == NULL)
                break;
            g->r    = r;
            g->rcap = cap;
        }
        g->r[g->rn++] = (struct rrec){ .off = rec->off, .len = rec->len, .tag = rec->tag,
                                       .t_open = rec->t_open, .t_close = rec->t_close,
                                       .origin = (int)(rec->meta >> 8),
                                       .op = (int)(rec->meta & 0xff) };
        c++;
        atomic_store_explicit(consumed, c, memory_order_release);
    }
    d = atomic_exchange_explicit((_Atomic uint64_t *)&g->area->dropped, 0, memory_order_relaxed);
    g->rdropped += d;
}

static void conflict_add(struct prma_guard *g, const struct lrec *l, const struct rrec *r,
                         int passive)
{
    if (g->nc < GUARD_REPORT) {
        g->c[g->nc].l       = *l;
        g->c[g->nc].passive = passive;
        if (r != NULL)
            g->c[g->nc].r = *r;
        else
            memset(&g->c[g->nc].r, 0, sizeof(g->c[g->nc].r));
    }
    g->nc++;
}

static int collide(const struct lrec *l, const struct rrec *r)
{
    if (l->off >= r->off + r->len || r->off >= l->off + l->len)
        return 0;
    if (!l->write && r->op == PRMA_GUARD_OP_GET)
        return 0;
    if (r->tag != 0)
        return r->tag == l->tag;
    return r->t_open < l->t && l->t <= r->t_close;
}

static void race_match(struct prma_guard *g, unsigned ln)
{
    /* New local accesses against every record; old ones against new records. */
    for (unsigned i = 0; i < ln; i++)
        for (size_t j = i < g->lmatched ? g->rmatched : 0; j < g->rn; j++)
            if (collide(&g->l[i], &g->r[j]))
                conflict_add(g, &g->l[i], &g->r[j], 0);
    g->lmatched = ln;
    g->rmatched = g->rn;
}

/* Function, and file:line where the object has debug information. */
static void locate(uintptr_t ip, char *buf, size_t len)
{
    char cmd[1200], func[256] = "", line[512] = "";
    uintptr_t addr = ip;
    const char *obj;
    Dl_info di;
    FILE *f;

    if (ip == 0) {
        snprintf(buf, len, "as the origin or result buffer of an RMA call");
        return;
    }
    if (dladdr((void *)ip, &di) == 0 || di.dli_fname == NULL) {
        snprintf(buf, len, "at %#lx", (unsigned long)ip);
        return;
    }
    obj = di.dli_fname[0] != '\0' ? di.dli_fname : "/proc/self/exe";
    f = fopen(obj, "rb");
    if (f != NULL) {
        Elf64_Ehdr eh;

        /* Position-independent objects: addr2line wants the offset. */
        if (fread(&eh, sizeof(eh), 1, f) == 1 && eh.e_type == ET_DYN)
            addr = ip - (uintptr_t)di.dli_fbase;
        fclose(f);
    }
    snprintf(cmd, sizeof(cmd), "addr2line -f -C -e '%s' %#lx 2>/dev/null", obj,
             (unsigned long)addr);
    f = strchr(obj, '\'') == NULL ? popen(cmd, "r") : NULL;
    if (f != NULL) {
        if (fgets(func, sizeof(func), f) != NULL)
            func[strcspn(func, "\n")] = '\0';
        if (fgets(line, sizeof(line), f) != NULL)
            line[strcspn(line, "\n")] = '\0';
        pclose(f);
    }
    if (func[0] == '\0' || strcmp(func, "??") == 0)
        snprintf(func, sizeof(func), "%s", di.dli_sname != NULL ? di.dli_sname : "??");
    if (line[0] == '\0' || strncmp(line, "??", 2) == 0)
        snprintf(buf, len, "in %s (%s+%#lx)", func, obj, (unsigned long)addr);
    else
        snprintf(buf, len, "in %s at %s", func, line);
}

static const char *epoch_kind(uint64_t tag)
{
    switch (tag & TAG_KIND) {
    case TAG_FENCE: return "fence epoch";
    case TAG_PSCW:  return "post/wait (PSCW) exposure epoch";
    default:        return "passive-target (lock) epoch";
    }
}

static const char *op_name(int op)
{
    return op == PRMA_GUARD_OP_GET ? "a get" : op == PRMA_GUARD_OP_PUT ? "a put"
                                                                         : "an accumulate";
}

static void report(struct prma_guard *g)
{
    struct prma_win *win = g->win;
    char where[800];

    fprintf(stderr,
            "portrma: RMA conflict on window \"%s\" (rank %d of %d, PORTRMA_GUARD=%s): "
            "%lu conflicting access%s\n",
            g->name, win->rank, win->size, g->mode == PRMA_GUARD_MODE_STRICT ? "strict" : "race",
            g->nc, g->nc == 1 ? "" : "es");
    for (unsigned long i = 0; i < g->nc && i < GUARD_REPORT; i++) {
        const struct conflict *c = &g->c[i];

        locate(c->l.ip, where, sizeof(where));
        if (c->r.op == 0)
            fprintf(stderr,
                    "portrma:   local %s of %lu byte%s at byte offset %lu while the window "
                    "was exposed (%s), %s\n",
                    c->l.write ? "store" : "load", (unsigned long)c->l.len,
                    c->l.len == 1 ? "" : "s", (unsigned long)c->l.off,
                    c->passive ? "a passive-target epoch was open on it" : epoch_kind(c->l.tag),
                    where);
        else
            fprintf(stderr,
                    "portrma:   local %s of %lu byte%s at byte offset %lu in a %s collides "
                    "with %s by rank %d of bytes %lu..%lu, %s\n",
                    c->l.write ? "store" : "load", (unsigned long)c->l.len,
                    c->l.len == 1 ? "" : "s", (unsigned long)c->l.off,
                    epoch_kind(c->r.tag), op_name(c->r.op), c->r.origin,
                    (unsigned long)c->r.off, (unsigned long)(c->r.off + c->r.len - 1), where);
    }
    if (g->nc > GUARD_REPORT)
        fprintf(stderr, "portrma:   ... and %lu more\n", g->nc - GUARD_REPORT);
    fflush(stderr);
}

int prma__guard_leave(struct prma_win *win, int event, unsigned mode, int status)
{
    struct prma_guard *g = win->guard;
    const struct prma_epoch *ep = &win->epoch;
    unsigned ln, keep, kept;
    uint64_t popen;
    int prot;

    /* Now and then: take SIGSEGV back from a handler installed after ours. */
    if ((++g->syncs & 63) == 0)
        guard_install();
    popen = atomic_load_explicit((_Atomic uint64_t *)&g->area->popen, memory_order_acquire);
    ln    = atomic_load_explicit(&g->ln, memory_order_acquire);
    if (g->mode == PRMA_GUARD_MODE_STRICT) {
        for (unsigned i = 0; i < ln; i++)
            conflict_add(g, &g->l[i], NULL, g->l[i].tag == TAG_STRICT_PASSIVE);
        atomic_store_explicit(&g->ln, 0, memory_order_release);
        ln = 0;
    } else {
        ring_take(g);
        race_match(g, ln);
    }

    /* The epoch now open. */
    if (event == PRMA_GUARD_EV_FENCE) {
        g->fseq++;
        g->fence_mode = mode;
    }
    if (ep->exposure == PRMA_EXPOSURE_FENCE) {
        g->tag = TAG_FENCE | g->fseq;
        prot   = g->fence_mode & PRMA_MODE_NOPUT ? PROT_READ : PROT_NONE;
    } else if (ep->exposure == PRMA_EXPOSURE_PSCW) {
        g->tag = TAG_PSCW | atomic_load_explicit((_Atomic uint64_t *)&g->area->pseq,
                                                 memory_order_relaxed);
        prot   = g->post_mode & PRMA_MODE_NOPUT ? PROT_READ : PROT_NONE;
    } else {
        g->tag = 0;
        prot   = ep->no_locks ? PROT_READ | PROT_WRITE : PROT_NONE;
    }

    /* Keep what can still collide: accesses of the epoch still open, and
     * passive-period accesses while a passive epoch may still deliver. */
    if (g->mode == PRMA_GUARD_MODE_RACE) {
        size_t rkeep = 0;

        for (size_t j = 0; j < g->rn; j++)
            if (g->r[j].tag != 0 && g->r[j].tag == g->tag)
                g->r[rkeep++] = g->r[j];
        g->rn = g->rmatched = rkeep;
        keep = 0;
        for (unsigned i = 0; i < ln; i++)
            if ((g->l[i].tag != 0 && g->l[i].tag == g->tag) || (g->l[i].tag == 0 && popen > 0))
                g->l[keep++] = g->l[i];
        kept = keep;
        /* Accesses recorded meanwhile (other threads) are kept too. */
        for (unsigned i = ln; i < atomic_load_explicit(&g->ln, memory_order_acquire); i++)
            g->l[keep++] = g->l[i];
        atomic_store_explicit(&g->ln, keep, memory_order_release);
        g->lmatched = kept;
    }
    guard_protect(g, prot);

    if (g->rdropped > 0 || g->odropped > 0 ||
        atomic_load_explicit(&g->ldropped, memory_order_relaxed) > 0) {
        prma_warn("exposure guard of window \"%s\": %lu RMA and %u local accesses were not "
                  "checked (logs full)",
                  g->name, g->rdropped + g->odropped,
                  atomic_load_explicit(&g->ldropped, memory_order_relaxed));
        g->rdropped = 0;
        g->odropped = 0;
        atomic_store_explicit(&g->ldropped, 0, memory_order_relaxed);
    }
    if (g->nc == 0)
        return status;
    report(g);
    g->nc = 0;
    return status == PRMA_OK ? PRMA_ERR_RMA_CONFLICT : status;
}
