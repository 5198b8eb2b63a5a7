/*
 * datatype.c - what the shim needs of MPI datatypes for contiguous transfers:
 * validity (null, uncommitted), size, extent, and the contiguous blocks of
 * one element. Predefined types are answered from the library (PMPI);
 * the pair types of MAXLOC/MINLOC have a gap, so their blocks come from the
 * C layout of the matching struct. Derived types whose data is one
 * contiguous block per element are served; the others wait for portrma's
 * general layouts and get MPI_ERR_UNSUPPORTED_OPERATION until then.
 *
 * "Committed" is recorded as an attribute of the datatype, set when
 * MPI_Type_commit (intercepted) succeeds and copied by MPI_Type_dup; a
 * derived type without it was never committed (MPI_ERR_TYPE).
 */
#include "shim.h"

#include <stddef.h>

static int committed_keyval = MPI_KEYVAL_INVALID;

static int committed_copy(MPI_Datatype type, int keyval, void *extra, void *in, void *out,
                          int *flag)
{
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

int shim_type_setup(void)
{
    if (PMPI_Type_create_keyval(committed_copy, MPI_TYPE_NULL_DELETE_FN, &committed_keyval,
                                NULL) != MPI_SUCCESS)
        return PRMA_ERR_BOOTSTRAP;
    return PRMA_OK;
}

void shim_type_teardown(void)
{
    if (committed_keyval != MPI_KEYVAL_INVALID)
        PMPI_Type_free_keyval(&committed_keyval);
}

SHIM_EXPORT int MPI_Type_commit(MPI_Datatype *type)
{
    int rc = PMPI_Type_commit(type);
    int ni, na, nd, combiner;

    if (rc == MPI_SUCCESS && committed_keyval != MPI_KEYVAL_INVALID &&
        PMPI_Type_get_envelope(*type, &ni, &na, &nd, &combiner) == MPI_SUCCESS &&
        combiner != MPI_COMBINER_NAMED)
        PMPI_Type_set_attr(*type, committed_keyval, (void *)1);
    return rc;
}

/* The pair types: two members with a possible gap between them. */
#define PAIR(mpitype, ctype)                                                        \
    {                                                                               \
        mpitype, sizeof(ctype), offsetof(struct { ctype v; int i; }, i),            \
            sizeof(struct { ctype v; int i; })                                      \
    }

struct pair {
    MPI_Datatype type;
    size_t       first;   /* bytes of the value */
    size_t       second;  /* offset of the int */
    size_t       extent;
};

static int pair_layout(MPI_Datatype type, struct shim_layout *l)
{
    const struct pair pairs[] = {
        PAIR(MPI_FLOAT_INT, float), PAIR(MPI_DOUBLE_INT, double), PAIR(MPI_LONG_INT, long),
        PAIR(MPI_SHORT_INT, short), PAIR(MPI_LONG_DOUBLE_INT, long double),
        PAIR(MPI_2INT, int),
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (pairs[i].type != type)
            continue;
        l->off[0] = 0;
        l->len[0] = pairs[i].first;
        l->off[1] = (MPI_Aint)pairs[i].second;
        l->len[1] = sizeof(int);
        l->nblk   = 2;
        if (pairs[i].second == pairs[i].first) {
            l->len[0] += sizeof(int);
            l->nblk = 1;
        }
        return 1;
    }
    return 0;
}

int shim_type_layout(MPI_Datatype type, struct shim_layout *layout_p)
{
    struct shim_layout l = { 0 };
    int ni, na, nd, combiner, flag = 0, size;
    MPI_Aint lb, extent, tlb, textent;
    void *value;

    if (type == MPI_DATATYPE_NULL ||
        PMPI_Type_get_envelope(type, &ni, &na, &nd, &combiner) != MPI_SUCCESS)
        return MPI_ERR_TYPE;
    if (combiner != MPI_COMBINER_NAMED &&
        (PMPI_Type_get_attr(type, committed_keyval, &value, &flag) != MPI_SUCCESS || !flag))
        return MPI_ERR_TYPE;
    if (PMPI_Type_size(type, &size) != MPI_SUCCESS ||
        PMPI_Type_get_extent(type, &lb, &extent) != MPI_SUCCESS ||
        PMPI_Type_get_true_extent(type, &tlb, &textent) != MPI_SUCCESS)
        return MPI_ERR_TYPE;
    l.size   = (size_t)size;
    l.extent = extent;
    if (size == 0) {
        l.nblk = 0;
    } else if (combiner == MPI_COMBINER_NAMED && pair_layout(type, &l)) {
        if (l.len[0] + (l.nblk > 1 ? l.len[1] : 0) != l.size)
            return MPI_ERR_UNSUPPORTED_OPERATION;
    } else if ((MPI_Aint)size == textent && tlb >= 0 && lb >= 0 && extent >= textent + tlb) {
        l.nblk   = 1;
        l.off[0] = tlb;
        l.len[0] = (size_t)size;
    } else {
        return MPI_ERR_UNSUPPORTED_OPERATION;
    }
    l.contiguous = l.nblk == 0 || (l.nblk == 1 && l.off[0] == 0 && (MPI_Aint)l.len[0] == extent);
    *layout_p = l;
    return MPI_SUCCESS;
}
