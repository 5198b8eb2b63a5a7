/*
 * handle.c - MPI_Win handles that belong to portrma.
 *
 * Windows live in slots, allocated in chunks that never move. A handle names
 * a slot: its address when MPI_Win is a pointer type (Open MPI), a tagged
 * index when it is an integer (MPICH). Decoding checks that the value really
 * is one of our slots before touching it, so a freed, garbage or foreign
 * handle is refused (MPI_ERR_WIN) instead of dereferenced. Which encoding is
 * used follows from the type alone (_Generic), never from the library's name.
 */
#include "shim.h"

#include <stdint.h>
#include <stdlib.h>

#define CHUNK       256
#define MAXCHUNKS   4096
#define INT_TAG     0x5a000000u  /* integer handles: tag | index */
#define INT_MASK    0x00ffffffu

struct slot {
    struct shim_win *win;  /* NULL when free */
};

static struct slot *chunks[MAXCHUNKS];
static int nchunks;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

#define WIN_IS_POINTER _Generic((MPI_Win)0, int: 0, unsigned: 0, long: 0, default: 1)

static struct slot *slot_at(int index)
{
    return &chunks[index / CHUNK][index % CHUNK];
}

static MPI_Win encode(int index)
{
    if (WIN_IS_POINTER)
        return (MPI_Win)(uintptr_t)slot_at(index);
    return (MPI_Win)(uintptr_t)(INT_TAG | (unsigned)index);
}

/* The slot index a handle names, or -1. NOTE: caller holds table_lock. */
static int decode(MPI_Win handle)
{
    uintptr_t v = (uintptr_t)handle;

    if (WIN_IS_POINTER) {
        int n = __atomic_load_n(&nchunks, __ATOMIC_ACQUIRE);

        for (int c = 0; c < n; c++) {
            uintptr_t first = (uintptr_t)chunks[c];

            if (v >= first && v < first + CHUNK * sizeof(struct slot) &&
                (v - first) % sizeof(struct slot) == 0)
                return c * CHUNK + (int)((v - first) / sizeof(struct slot));
        }
        return -1;
    }
    if (((unsigned)v & ~INT_MASK) != INT_TAG ||
        (int)(v & INT_MASK) >= __atomic_load_n(&nchunks, __ATOMIC_ACQUIRE) * CHUNK)
        return -1;
    return (int)(v & INT_MASK);
}

MPI_Win shim_win_register(struct shim_win *w)
{
    MPI_Win handle = MPI_WIN_NULL;

    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < nchunks * CHUNK; i++) {
        if (slot_at(i)->win == NULL) {
            w->index = i;
            goto found;
        }
    }
    if (nchunks == MAXCHUNKS || (chunks[nchunks] = calloc(CHUNK, sizeof(struct slot))) == NULL)
        goto out;
    w->index = nchunks * CHUNK;
    __atomic_store_n(&nchunks, nchunks + 1, __ATOMIC_RELEASE);
found:
    __atomic_store_n(&slot_at(w->index)->win, w, __ATOMIC_RELEASE);
    handle = encode(w->index);
out:
    pthread_mutex_unlock(&table_lock);
    return handle;
}

void shim_win_unregister(struct shim_win *w)
{
    pthread_mutex_lock(&table_lock);
    __atomic_store_n(&slot_at(w->index)->win, NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&table_lock);
}

struct shim_win *shim_win_lookup(MPI_Win handle)
{
    struct shim_win *w = NULL;
    int index;

    if (handle == MPI_WIN_NULL)
        return NULL;
    /* No lock: chunks are never freed or moved, nchunks and the slots are
     * published with release stores under the table lock. A lookup racing
     * with the free of that very window is the program's error. */
    index = decode(handle);
    if (index >= 0)
        w = __atomic_load_n(&slot_at(index)->win, __ATOMIC_ACQUIRE);
    return w;
}

MPI_Win shim_win_handle(const struct shim_win *w)
{
    MPI_Win handle;

    pthread_mutex_lock(&table_lock);
    handle = encode(w->index);
    pthread_mutex_unlock(&table_lock);
    return handle;
}

/* Fortran handles: 0 is MPI_WIN_NULL, slot i is i + 1. */
MPI_Fint shim_win_to_f(MPI_Win handle)
{
    struct shim_win *w = shim_win_lookup(handle);

    return w == NULL ? 0 : (MPI_Fint)(w->index + 1);
}

MPI_Win shim_win_from_f(MPI_Fint f)
{
    MPI_Win handle = MPI_WIN_NULL;

    pthread_mutex_lock(&table_lock);
    if (f > 0 && f <= nchunks * CHUNK && slot_at(f - 1)->win != NULL)
        handle = encode(f - 1);
    pthread_mutex_unlock(&table_lock);
    return handle;
}

/* MPICH makes these macros (a handle is its own Fortran integer there,
 * and portrma's int handles are too): nothing to serve then. */
#ifndef MPI_Win_c2f
SHIM_EXPORT MPI_Fint MPI_Win_c2f(MPI_Win win)
{
    return shim_win_to_f(win);
}
#endif

#ifndef MPI_Win_f2c
SHIM_EXPORT MPI_Win MPI_Win_f2c(MPI_Fint win)
{
    return shim_win_from_f(win);
}
#endif
