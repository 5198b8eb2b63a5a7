/*
 * mpich.c - what MPICH's Fortran bindings call besides the MPI_ names.
 *
 * MPICH's Fortran bindings pass their handles straight to C (a window's
 * integer is the same in both languages, portrma's included) and call the
 * C entry points by their MPI_ names (mpif.h and `use mpi`) or PMPI_ names
 * (`use mpi_f08`), which the shim serves, with three exceptions of MPICH's
 * own: attributes are set and read through MPII_Win_set_attr and
 * MPII_Win_get_attr, which say whether the value is a pointer (C) or an
 * address-sized or default integer (Fortran; the predefined attributes'
 * keyvals are then C's + 1), and a Fortran keyval gets,
 * through MPII_Keyval_set_proxy, the function that calls its delete
 * callback in Fortran's convention. The shim serves those three for its
 * windows and keyvals, and passes MPII_Keyval_set_proxy on to MPICH for
 * the keyvals of communicators and datatypes. So this file is empty unless
 * the MPI library is MPICH.
 */
#include "shim.h"

#ifdef MPICH

#include <dlfcn.h>
#include <string.h>

/* MPICH's kinds of attribute value (MPIR_Attr_type). */
enum { KIND_PTR = 0, KIND_AINT = 1, KIND_INT = 3 };

SHIM_EXPORT int MPII_Win_get_attr(MPI_Win win, int win_keyval, void *attribute_val, int *flag,
                                  int kind);
SHIM_EXPORT int MPII_Win_set_attr(MPI_Win win, int win_keyval, void *attribute_val, int kind);
SHIM_EXPORT void MPII_Keyval_set_proxy(int keyval, void (*copy_proxy)(void),
                                       shim_delete_proxy *delete_proxy);

/* Fortran's names of the predefined window attributes are C's + 1 in
 * MPICH. */
static int c_keyval(int keyval)
{
    static const int predefined[] = { MPI_WIN_BASE, MPI_WIN_SIZE, MPI_WIN_DISP_UNIT,
                                      MPI_WIN_CREATE_FLAVOR, MPI_WIN_MODEL };

    for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
        if (keyval == predefined[i] + 1)
            return predefined[i];
    return keyval;
}

int MPII_Win_get_attr(MPI_Win win, int win_keyval, void *attribute_val, int *flag, int kind)
{
    MPI_Aint value = 0;
    int rc;

    if (kind == KIND_PTR)
        return MPI_Win_get_attr(win, win_keyval, attribute_val, flag);
    win_keyval = c_keyval(win_keyval);
    if (attribute_val == NULL || flag == NULL)
        return MPI_Win_get_attr(win, win_keyval, attribute_val, flag);  /* its error */
    rc = shim_attr_value(win, win_keyval, &value, flag);
    if (rc == MPI_SUCCESS && *flag) {
        if (kind == KIND_INT) {
            MPI_Fint v = (MPI_Fint)value;

            memcpy(attribute_val, &v, sizeof(v));
        } else {
            memcpy(attribute_val, &value, sizeof(value));
        }
    }
    return rc;
}

int MPII_Win_set_attr(MPI_Win win, int win_keyval, void *attribute_val, int kind)
{
    return shim_attr_set(win, win_keyval, attribute_val, kind);
}

void MPII_Keyval_set_proxy(int keyval, void (*copy_proxy)(void), shim_delete_proxy *delete_proxy)
{
    void (*next)(int, void (*)(void), shim_delete_proxy *);
    void *sym;

    if (shim_keyval_set_proxy(keyval, delete_proxy) == 0)
        return;
    /* A keyval of MPICH's: MPICH's own function (rare: once a keyval). */
    sym = dlsym(RTLD_NEXT, "MPII_Keyval_set_proxy");
    memcpy(&next, &sym, sizeof(next));
    if (next != NULL)
        next(keyval, copy_proxy, delete_proxy);
}

#endif /* MPICH */
