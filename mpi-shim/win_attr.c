/*
 * win_attr.c - what a window says about itself: predefined attributes, user
 * attributes and keyvals, group, name and info.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* User keyvals: our own numbers, far from any predefined attribute key. */
#define KEYVAL_BASE 0x00700000

struct keyval {
    MPI_Win_copy_attr_function   *copy_fn;   /* windows are never duplicated */
    MPI_Win_delete_attr_function *delete_fn;
    void                         *extra;
    shim_delete_proxy            *proxy;     /* calls delete_fn in its language, or NULL */
    int                           refs;      /* the program's + each attribute's */
    int                           freed;     /* the program freed it */
};

struct shim_attr {
    int               keyval;
    void             *value;
    int               kind;   /* how it was set: 0 from C, else from Fortran */
    MPI_Aint          number; /* from Fortran: the integer, where C's pointer points */
    struct shim_attr *next;
};

static struct keyval **keyvals;
static int nkeyvals;
static pthread_mutex_t keyval_lock = PTHREAD_MUTEX_INITIALIZER;

/* The keyval behind a number, or NULL. */
static struct keyval *keyval_get(int keyval)
{
    struct keyval *kv = NULL;

    pthread_mutex_lock(&keyval_lock);
    if (keyval >= KEYVAL_BASE && keyval - KEYVAL_BASE < nkeyvals)
        kv = keyvals[keyval - KEYVAL_BASE];
    if (kv != NULL && kv->freed && kv->refs == 0)
        kv = NULL;
    pthread_mutex_unlock(&keyval_lock);
    return kv;
}

static void keyval_release(int keyval)
{
    struct keyval *kv;

    pthread_mutex_lock(&keyval_lock);
    kv = keyvals[keyval - KEYVAL_BASE];
    if (--kv->refs == 0) {
        keyvals[keyval - KEYVAL_BASE] = NULL;
        free(kv);
    }
    pthread_mutex_unlock(&keyval_lock);
}

SHIM_EXPORT int MPI_Win_create_keyval(MPI_Win_copy_attr_function *copy_fn,
                                      MPI_Win_delete_attr_function *delete_fn,
                                      int *win_keyval, void *extra_state)
{
    struct keyval *kv, **grown;
    int index;

    if (win_keyval == NULL)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_ARG, __func__);
    kv = calloc(1, sizeof(*kv));
    if (kv == NULL)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_NO_MEM, __func__);
    kv->copy_fn   = copy_fn;
    kv->delete_fn = delete_fn;
    kv->extra     = extra_state;
    kv->refs      = 1;
    pthread_mutex_lock(&keyval_lock);
    for (index = 0; index < nkeyvals && keyvals[index] != NULL; index++)
        ;
    if (index == nkeyvals) {
        grown = realloc(keyvals, (size_t)(nkeyvals + 16) * sizeof(*keyvals));
        if (grown == NULL) {
            pthread_mutex_unlock(&keyval_lock);
            free(kv);
            return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_NO_MEM, __func__);
        }
        memset(grown + nkeyvals, 0, 16 * sizeof(*keyvals));
        keyvals = grown;
        nkeyvals += 16;
    }
    keyvals[index] = kv;
    pthread_mutex_unlock(&keyval_lock);
    *win_keyval = KEYVAL_BASE + index;
    return MPI_SUCCESS;
}

/* The delete callback, in its language. */
static int delete_call(const struct keyval *kv, MPI_Win handle, int keyval,
                       const struct shim_attr *a)
{
    if (kv->proxy != NULL)
        return kv->proxy(kv->delete_fn, handle, keyval, a->kind, a->value, kv->extra);
    return kv->delete_fn(handle, keyval, a->value, kv->extra);
}

SHIM_EXPORT int MPI_Win_free_keyval(int *win_keyval)
{
    struct keyval *kv;

    if (win_keyval == NULL || (kv = keyval_get(*win_keyval)) == NULL || kv->freed)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_KEYVAL, __func__);
    pthread_mutex_lock(&keyval_lock);
    kv->freed = 1;
    pthread_mutex_unlock(&keyval_lock);
    keyval_release(*win_keyval);
    *win_keyval = MPI_KEYVAL_INVALID;
    return MPI_SUCCESS;
}

/* Unlink the attribute for keyval from w, running its delete callback. The
 * attribute stays when the callback fails. */
static int attr_delete(struct shim_win *w, int keyval)
{
    struct shim_attr **pa, *a;
    struct keyval *kv = keyval_get(keyval);
    MPI_Win handle = shim_win_handle(w);
    int rc;

    for (pa = &w->attrs; *pa != NULL && (*pa)->keyval != keyval; pa = &(*pa)->next)
        ;
    if ((a = *pa) == NULL)
        return MPI_ERR_KEYVAL;
    if (kv != NULL && kv->delete_fn != NULL) {
        rc = delete_call(kv, handle, keyval, a);
        if (rc != MPI_SUCCESS)
            return rc;
    }
    *pa = a->next;
    free(a);
    keyval_release(keyval);
    return MPI_SUCCESS;
}

int shim_attrs_delete_all(struct shim_win *w)
{
    int rc;

    while (w->attrs != NULL)
        if ((rc = attr_delete(w, w->attrs->keyval)) != MPI_SUCCESS)
            return rc;
    return MPI_SUCCESS;
}

/* An attribute set from C (kind 0: a pointer) or from Fortran (an integer;
 * kind 1 from fortran.c, the MPI library's kind from its own bindings,
 * mpich.c). */
int shim_attr_set(MPI_Win win, int win_keyval, void *attribute_val, int kind)
{
    static const char func[] = "MPI_Win_set_attr";
    struct shim_win *w = shim_win_lookup(win);
    struct keyval *kv;
    struct shim_attr *a;
    int rc;

    if (w == NULL)
        return shim_bad_win(win, func);
    kv = keyval_get(win_keyval);
    if (kv == NULL || kv->freed)
        return shim_win_raise(w, MPI_ERR_KEYVAL, func);
    for (a = w->attrs; a != NULL && a->keyval != win_keyval; a = a->next)
        ;
    if (a != NULL && (rc = attr_delete(w, win_keyval)) != MPI_SUCCESS)
        return shim_win_raise(w, rc, func);
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return shim_win_raise(w, MPI_ERR_NO_MEM, func);
    a->keyval = win_keyval;
    a->value  = attribute_val;
    a->kind   = kind;
    a->number = (MPI_Aint)attribute_val;
    a->next   = w->attrs;
    w->attrs  = a;
    pthread_mutex_lock(&keyval_lock);
    kv->refs++;
    pthread_mutex_unlock(&keyval_lock);
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_set_attr(MPI_Win win, int win_keyval, void *attribute_val)
{
    return shim_attr_set(win, win_keyval, attribute_val, 0);
}

/* A keyval of the shim's whose delete callback is not C's gets the proxy
 * that calls it (fortran.c; MPICH's own, mpich.c): 0, or -1 when the
 * keyval is not the shim's. */
int shim_keyval_set_proxy(int keyval, shim_delete_proxy *proxy)
{
    struct keyval *kv = keyval_get(keyval);

    if (kv == NULL)
        return -1;
    pthread_mutex_lock(&keyval_lock);
    kv->proxy = proxy;
    pthread_mutex_unlock(&keyval_lock);
    return 0;
}

/* An attribute's value for C (a pointer: to the value, for the predefined
 * attributes but MPI_WIN_BASE and for an integer set from Fortran, MPI-3.1
 * 17.2.7) or, raw, the value itself for Fortran (an address-sized integer:
 * the address C would get, or the integer set from Fortran). */
static int get_attr(MPI_Win win, int win_keyval, void *attribute_val, int *flag, int raw)
{
    static const char func[] = "MPI_Win_get_attr";
    struct shim_win *w = shim_win_lookup(win);
    void *value = NULL;

    if (w == NULL)
        return shim_bad_win(win, func);
    if (attribute_val == NULL || flag == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, func);
    *flag = 1;
    if (win_keyval == MPI_WIN_BASE)
        value = w->base;
    else if (win_keyval == MPI_WIN_SIZE)
        value = raw ? (void *)w->size : &w->size;
    else if (win_keyval == MPI_WIN_DISP_UNIT)
        value = raw ? (void *)(MPI_Aint)w->disp_unit : &w->disp_unit;
    else if (win_keyval == MPI_WIN_CREATE_FLAVOR)
        value = raw ? (void *)(MPI_Aint)w->flavor : &w->flavor;
    else if (win_keyval == MPI_WIN_MODEL)
        value = raw ? (void *)(MPI_Aint)w->model : &w->model;
    else {
        struct shim_attr *a;

        if (keyval_get(win_keyval) == NULL)
            return shim_win_raise(w, MPI_ERR_KEYVAL, func);
        for (a = w->attrs; a != NULL && a->keyval != win_keyval; a = a->next)
            ;
        if (a == NULL) {
            *flag = 0;
            return MPI_SUCCESS;
        }
        value = (a->kind != 0 && !raw) ? (void *)&a->number : a->value;
    }
    memcpy(attribute_val, &value, sizeof(value));
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_get_attr(MPI_Win win, int win_keyval, void *attribute_val, int *flag)
{
    return get_attr(win, win_keyval, attribute_val, flag, 0);
}

/* The attribute as Fortran gets it (an address-sized integer). */
int shim_attr_value(MPI_Win win, int win_keyval, MPI_Aint *value, int *flag)
{
    void *v = NULL;
    int rc = get_attr(win, win_keyval, &v, flag, 1);

    if (rc == MPI_SUCCESS && *flag)
        *value = (MPI_Aint)v;
    return rc;
}

SHIM_EXPORT int MPI_Win_delete_attr(MPI_Win win, int win_keyval)
{
    struct shim_win *w = shim_win_lookup(win);
    int rc;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (keyval_get(win_keyval) == NULL)
        return shim_win_raise(w, MPI_ERR_KEYVAL, __func__);
    rc = attr_delete(w, win_keyval);
    return rc == MPI_SUCCESS ? rc : shim_win_raise(w, rc, __func__);
}

SHIM_EXPORT int MPI_Win_get_group(MPI_Win win, MPI_Group *group)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (group == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    return shim_win_raise(w, PMPI_Comm_group(w->comm, group), __func__);
}

SHIM_EXPORT int MPI_Win_set_name(MPI_Win win, const char *win_name)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (win_name == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    /* MPI: longer names are truncated. */
    snprintf(w->name, sizeof(w->name), "%s", win_name);
    prma_win_set_name(w->core, w->name);
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_get_name(MPI_Win win, char *win_name, int *resultlen)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (win_name == NULL || resultlen == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    strcpy(win_name, w->name);
    *resultlen = (int)strlen(w->name);
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_set_info(MPI_Win win, MPI_Info info)
{
    struct shim_win *w = shim_win_lookup(win);
    MPI_Info copy;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (info == MPI_INFO_NULL)
        return shim_win_raise(w, MPI_ERR_INFO, __func__);
    if (PMPI_Info_dup(info, &copy) != MPI_SUCCESS)
        return shim_win_raise(w, MPI_ERR_INFO, __func__);
    if (w->info != MPI_INFO_NULL)
        PMPI_Info_free(&w->info);
    w->info = copy;
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_get_info(MPI_Win win, MPI_Info *info_used)
{
    struct shim_win *w = shim_win_lookup(win);
    static const char *const kinds[] = { "self", "shm", "shm-cma", "ucx", "none" };
    enum { NKINDS = sizeof(kinds) / sizeof(kinds[0]) };
    int counts[NKINDS] = { 0 };
    char ports[160];
    size_t used = 0;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (info_used == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    if (PMPI_Info_create(info_used) != MPI_SUCCESS)
        return shim_win_raise(w, MPI_ERR_NO_MEM, __func__);
    /* Which port kind serves how many targets, e.g. "self:1,shm:3". */
    for (int t = 0; t < w->coll.size; t++) {
        const char *kind = prma_win_port_kind(w->core, t);

        for (int k = 0; k < NKINDS; k++)
            if (kind != NULL && strcmp(kind, kinds[k]) == 0)
                counts[k]++;
    }
    ports[0] = '\0';
    for (int k = 0; k < NKINDS; k++)
        if (counts[k] > 0)
            used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%s:%d",
                                     used ? "," : "", kinds[k], counts[k]);
    PMPI_Info_set(*info_used, "portrma_ports", ports);
    PMPI_Info_set(*info_used, "no_locks", prma_win_no_locks(w->core) ? "true" : "false");
    PMPI_Info_set(*info_used, "accumulate_ordering",
                  (w->acc_hints & PRMA_ACC_ORDER_NONE) ? "none" : "rar,raw,war,waw");
    PMPI_Info_set(*info_used, "accumulate_ops",
                  (w->acc_hints & PRMA_ACC_SAME_OP) ? "same_op" : "same_op_no_op");
    PMPI_Info_set(*info_used, "same_size", "false");
    PMPI_Info_set(*info_used, "same_disp_unit", "false");
    return MPI_SUCCESS;
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Win_create_keyval);
SHIM_PMPI(MPI_Win_free_keyval);
SHIM_PMPI(MPI_Win_set_attr);
SHIM_PMPI(MPI_Win_get_attr);
SHIM_PMPI(MPI_Win_delete_attr);
SHIM_PMPI(MPI_Win_get_group);
SHIM_PMPI(MPI_Win_set_name);
SHIM_PMPI(MPI_Win_get_name);
SHIM_PMPI(MPI_Win_set_info);
SHIM_PMPI(MPI_Win_get_info);
