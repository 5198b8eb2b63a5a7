/*
 * handle.c - MPI_Win handles that belong to portrma.
 *
 * Windows live in slots, allocated in chunks that never move. A handle names
 * a slot: its address when MPI_Win is a pointer type (Open MPI), a tagged
 * index when it is an integer (MPICH). Decoding checks that the value really
 * is one of our slots before touching it, so a freed, garbage or foreign
 * handle is refused (MPI_ERR_WIN) instead of dereferenced. Which encoding is
 * used follows from the type alone (_Generic), never from the library's name.
 * The table and the lookup, which every call makes, are in shim.h (in line);
 * making and finding slots for new windows is here.
 */
#include "shim.h"

#include <stdint.h>
#include <stdlib.h>

struct shim_win_slot shim_win_first[SHIM_WIN_CHUNK];
struct shim_win_slot *shim_win_chunks[SHIM_WIN_MAXCHUNKS] = { shim_win_first };
int shim_win_nchunks = 1;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static struct shim_win_slot *slot_at(int index)
{
    return &shim_win_chunks[index / SHIM_WIN_CHUNK][index % SHIM_WIN_CHUNK];
}

static MPI_Win encode(int index)
{
    if (SHIM_WIN_IS_POINTER)
        return (MPI_Win)(uintptr_t)slot_at(index);
    return (MPI_Win)(uintptr_t)(SHIM_WIN_INT_TAG | (unsigned)index);
}

MPI_Win shim_win_register(struct shim_win *w)
{
    MPI_Win handle = MPI_WIN_NULL;

    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < shim_win_nchunks * SHIM_WIN_CHUNK; i++) {
        if (slot_at(i)->win == NULL) {
            w->index = i;
            goto found;
        }
    }
    if (shim_win_nchunks == SHIM_WIN_MAXCHUNKS ||
        (shim_win_chunks[shim_win_nchunks] =
             calloc(SHIM_WIN_CHUNK, sizeof(struct shim_win_slot))) == NULL)
        goto out;
    w->index = shim_win_nchunks * SHIM_WIN_CHUNK;
    __atomic_store_n(&shim_win_nchunks, shim_win_nchunks + 1, __ATOMIC_RELEASE);
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

/* No lock, as for shim_win_lookup(): every Fortran RMA call comes here
 * (fortran.c). */
MPI_Win shim_win_from_f(MPI_Fint f)
{
    int n = __atomic_load_n(&shim_win_nchunks, __ATOMIC_ACQUIRE);

    if (f <= 0 || f > n * SHIM_WIN_CHUNK ||
        __atomic_load_n(&slot_at(f - 1)->win, __ATOMIC_ACQUIRE) == NULL)
        return MPI_WIN_NULL;
    return encode(f - 1);
}

/* MPICH makes these macros (a handle is its own Fortran integer there,
 * and portrma's int handles are too): nothing to serve then. */
#ifndef MPI_Win_c2f
SHIM_EXPORT MPI_Fint MPI_Win_c2f(MPI_Win win)
{
    return shim_win_to_f(win);
}
SHIM_PMPI(MPI_Win_c2f);
#endif

#ifndef MPI_Win_f2c
SHIM_EXPORT MPI_Win MPI_Win_f2c(MPI_Fint win)
{
    return shim_win_from_f(win);
}
SHIM_PMPI(MPI_Win_f2c);
#endif
