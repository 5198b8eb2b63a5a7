/*
 * datatype.c - MPI datatypes as put and get move them.
 *
 * One element of a datatype is a list of contiguous byte blocks in type-map
 * order: the order in which MPI pairs the origin's bytes with the target's,
 * so the list is never sorted, only blocks that follow each other in memory
 * are merged. Beside the blocks a layout carries the type signature (the
 * sequence of basic types, run-length encoded) that put and get compare,
 * and, when every basic element is of one prma_type_t, the runs of basic
 * elements that the accumulate family reduces.
 *
 * Predefined types are answered from a table built at MPI_Init (those with
 * a prma_type_t) or, for the few without one (MPI_PACKED, Fortran types of
 * unknown size, ...), from a list built on first use; neither carries an
 * attribute. A derived type is flattened once, through
 * MPI_Type_get_envelope and MPI_Type_get_contents, on its first use by RMA
 * rather than at commit, so that types only ever used for I/O or messages
 * (a file view's darray can be huge) cost nothing. The result is cached as
 * an attribute of the type, which also records that the type was committed:
 *
 *   no attribute     never committed: MPI_ERR_TYPE
 *   &committed_mark  committed (MPI_Type_commit, intercepted), not flattened yet
 *   struct shim_type the flattened layout
 *
 * The attribute's delete callback drops the layout when MPI frees the type;
 * MPI_Type_dup shares it (reference count).
 *
 * NOTE: flattening happens under build_lock; the attribute changes once,
 * from the mark to the layout, and never again, so readers need no lock.
 * A layout is immutable once built.
 */
#include "shim.h"

#include <complex.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* One entry of a type signature: n basic types of one kind in a row. A
 * code is a prma_type_t, or SIG_FOREIGN plus the handle of a predefined
 * type that has none. Pair types appear as their two members, as MPI
 * defines their signature. */
struct shim_sig {
    int64_t code;
    size_t  n;
};

#define SIG_FOREIGN ((int64_t)1 << 62)

/* "No basic element yet" while a type is flattened. */
#define BASIC_NONE (-2)

/* The cached layout of a derived type; blocks, runs and signature follow
 * it in the same allocation. */
struct shim_type {
    int                refs;  /* types sharing it (MPI_Type_dup); atomic */
    struct shim_layout layout;
};

static int             type_keyval = MPI_KEYVAL_INVALID;
static char            committed_mark;
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;    /* flattening */
static pthread_mutex_t foreign_lock = PTHREAD_MUTEX_INITIALIZER;  /* the foreign list */

/* ---- basic types ---- */

#define PAIR_EXTENT(ctype) sizeof(struct { ctype v; int i; })
#define PAIR_INT_OFF(ctype) offsetof(struct { ctype v; int i; }, i)


/* The integer prma_type_t of a size and signedness; -1 for none. */
static int int_basic(size_t size, int is_signed)
{
    switch (size) {
    case 1: return is_signed ? PRMA_TYPE_INT8 : PRMA_TYPE_UINT8;
    case 2: return is_signed ? PRMA_TYPE_INT16 : PRMA_TYPE_UINT16;
    case 4: return is_signed ? PRMA_TYPE_INT32 : PRMA_TYPE_UINT32;
    case 8: return is_signed ? PRMA_TYPE_INT64 : PRMA_TYPE_UINT64;
    }
    return -1;
}

/* A pair type's value: its prma_type_t (for the signature) and bytes. */
static int pair_value(int basic, size_t *len_p)
{
    switch (basic) {
    case PRMA_TYPE_FLOAT_INT:       *len_p = sizeof(float); return PRMA_TYPE_FLOAT;
    case PRMA_TYPE_DOUBLE_INT:      *len_p = sizeof(double); return PRMA_TYPE_DOUBLE;
    case PRMA_TYPE_LONG_INT:        *len_p = sizeof(long); return int_basic(sizeof(long), 1);
    case PRMA_TYPE_2INT:            *len_p = sizeof(int); return int_basic(sizeof(int), 1);
    case PRMA_TYPE_SHORT_INT:       *len_p = sizeof(short); return int_basic(sizeof(short), 1);
    case PRMA_TYPE_LONG_DOUBLE_INT: *len_p = sizeof(long double); return PRMA_TYPE_LONG_DOUBLE;
    }
    return -1;
}

/* Where a pair type's int lies. */
static size_t pair_int_off(int basic)
{
    switch (basic) {
    case PRMA_TYPE_FLOAT_INT:       return PAIR_INT_OFF(float);
    case PRMA_TYPE_DOUBLE_INT:      return PAIR_INT_OFF(double);
    case PRMA_TYPE_LONG_INT:        return PAIR_INT_OFF(long);
    case PRMA_TYPE_2INT:            return PAIR_INT_OFF(int);
    case PRMA_TYPE_SHORT_INT:       return PAIR_INT_OFF(short);
    case PRMA_TYPE_LONG_DOUBLE_INT: return PAIR_INT_OFF(long double);
    }
    return 0;
}

/* ---- predefined types ---- */

/* A predefined type's layout, with the storage it points into. */
struct named {
    MPI_Datatype       type;
    struct shim_layout layout;
    struct shim_piece  blk[2];
    struct shim_piece    run;
    struct shim_sig    sig[2];
    struct named      *next;  /* the list of types without a prma_type_t */
};

#define NAMED_MAX  96
#define NAMED_HASH 256  /* slots of the open-addressing index, a power of two */

struct shim_contig shim_contig[SHIM_CONTIG_SLOTS];

static struct named  named[NAMED_MAX];
static int           nnamed;
static short         named_index[NAMED_HASH];  /* 1 + index into named[], 0 = free */
static struct named *foreign;                  /* guarded by foreign_lock */

static unsigned named_slot(MPI_Datatype type)
{
    uint64_t key = (uint64_t)(uintptr_t)type;

    return (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 56) & (NAMED_HASH - 1);
}

static const struct named *named_find(MPI_Datatype type)
{
    for (unsigned s = named_slot(type), i = 0; i < NAMED_HASH; i++, s = (s + 1) % NAMED_HASH) {
        if (named_index[s] == 0)
            return NULL;
        if (named[named_index[s] - 1].type == type)
            return &named[named_index[s] - 1];
    }
    return NULL;
}

static void layout_finish(struct shim_layout *l)
{
    l->true_lb = l->true_ub = 0;
    for (int i = 0; i < l->nblk; i++) {
        MPI_Aint lo = l->blk[i].off, hi = lo + (MPI_Aint)l->blk[i].n;

        if (i == 0 || lo < l->true_lb)
            l->true_lb = lo;
        if (i == 0 || hi > l->true_ub)
            l->true_ub = hi;
    }
    l->contiguous = l->nblk == 1 && l->blk[0].off == 0 && (MPI_Aint)l->blk[0].n == l->extent &&
                    l->blk[0].n == l->size;
}

/* Enter a predefined type with a prma_type_t into the table, when the MPI
 * library agrees with C about its size and extent (a Fortran type of
 * another size, or one the library lacks, is left to the foreign list). */
static void named_add(MPI_Datatype type, int basic)
{
    struct named *e;
    MPI_Aint lb, extent;
    size_t vlen = 0, size;
    int psize, vcode;
    unsigned s;

    if (type == MPI_DATATYPE_NULL || basic < 0 || nnamed == NAMED_MAX || named_find(type))
        return;
    if (PMPI_Type_size(type, &psize) != MPI_SUCCESS ||
        PMPI_Type_get_extent(type, &lb, &extent) != MPI_SUCCESS)
        return;
    vcode = pair_value(basic, &vlen);
    size  = vcode >= 0 ? vlen + sizeof(int) : prma_type_extent((prma_type_t)basic);
    if ((size_t)psize != size || lb != 0 || (size_t)extent != prma_type_extent((prma_type_t)basic))
        return;
    e = &named[nnamed];
    *e = (struct named){ .type = type };
    if (vcode >= 0) {
        e->blk[0] = (struct shim_piece){ 0, vlen };
        e->blk[1] = (struct shim_piece){ (MPI_Aint)pair_int_off(basic), sizeof(int) };
        e->sig[0] = (struct shim_sig){ vcode, 1 };
        e->sig[1] = (struct shim_sig){ int_basic(sizeof(int), 1), 1 };
        e->layout.nblk = 2;
        e->layout.nsig = 2;
        if (pair_int_off(basic) == vlen) {
            e->blk[0].n += sizeof(int);
            e->layout.nblk = 1;
        }
        if (vcode == e->sig[1].code) {
            e->sig[0].n = 2;
            e->layout.nsig = 1;
        }
    } else {
        e->blk[0] = (struct shim_piece){ 0, size };
        e->sig[0] = (struct shim_sig){ basic, 1 };
        e->layout.nblk = 1;
        e->layout.nsig = 1;
    }
    e->run                 = (struct shim_piece){ 0, 1 };
    e->layout.blk          = e->blk;
    e->layout.run          = &e->run;
    e->layout.nrun         = 1;
    e->layout.sig          = e->sig;
    e->layout.extent       = extent;
    e->layout.size         = size;
    e->layout.basic        = basic;
    e->layout.basic_extent = prma_type_extent((prma_type_t)basic);
    e->layout.nbasic       = 1;
    layout_finish(&e->layout);
    for (s = named_slot(type); named_index[s] != 0; s = (s + 1) % NAMED_HASH)
        ;
    named_index[s] = (short)(++nnamed);
    /* The in-line table: a contiguous type in the first free slot of the
     * few it is looked for in. */
    for (unsigned i = 0, c = shim_contig_slot(type); e->layout.contiguous && i < SHIM_CONTIG_PROBE;
         i++, c = (c + 1) & (SHIM_CONTIG_SLOTS - 1)) {
        if (shim_contig[c].size == 0) {
            shim_contig[c] = (struct shim_contig){ type, e->layout.size, e->layout.basic };
            break;
        }
    }
}

/* Fortran types have the size the Fortran compiler gave them. */
static int fortran_basic(MPI_Datatype type, char kind)
{
    int size;

    if (type == MPI_DATATYPE_NULL || PMPI_Type_size(type, &size) != MPI_SUCCESS)
        return -1;
    switch (kind) {
    case 'i':
        return int_basic((size_t)size, 1);
    case 'r':
        return (size_t)size == sizeof(float)    ? PRMA_TYPE_FLOAT
               : (size_t)size == sizeof(double) ? PRMA_TYPE_DOUBLE
                                                : -1;
    case 'c':
        return (size_t)size == sizeof(float _Complex)    ? PRMA_TYPE_FLOAT_COMPLEX
               : (size_t)size == sizeof(double _Complex) ? PRMA_TYPE_DOUBLE_COMPLEX
                                                         : -1;
    }
    return -1;
}

static void named_setup(void)
{
    /* The most used first: they probe the fewest slots. */
    named_add(MPI_BYTE, PRMA_TYPE_BYTE);
    named_add(MPI_INT, int_basic(sizeof(int), 1));
    named_add(MPI_DOUBLE, PRMA_TYPE_DOUBLE);
    named_add(MPI_CHAR, PRMA_TYPE_CHAR);
    named_add(MPI_LONG, int_basic(sizeof(long), 1));
    named_add(MPI_FLOAT, PRMA_TYPE_FLOAT);
    named_add(MPI_UNSIGNED, int_basic(sizeof(unsigned), 0));
    named_add(MPI_UNSIGNED_LONG, int_basic(sizeof(unsigned long), 0));
    named_add(MPI_LONG_LONG, int_basic(sizeof(long long), 1));
    named_add(MPI_LONG_LONG_INT, int_basic(sizeof(long long), 1));
    named_add(MPI_UNSIGNED_LONG_LONG, int_basic(sizeof(unsigned long long), 0));
    named_add(MPI_SHORT, int_basic(sizeof(short), 1));
    named_add(MPI_UNSIGNED_SHORT, int_basic(sizeof(unsigned short), 0));
    named_add(MPI_SIGNED_CHAR, PRMA_TYPE_INT8);
    named_add(MPI_UNSIGNED_CHAR, PRMA_TYPE_UINT8);
    named_add(MPI_INT8_T, PRMA_TYPE_INT8);
    named_add(MPI_INT16_T, PRMA_TYPE_INT16);
    named_add(MPI_INT32_T, PRMA_TYPE_INT32);
    named_add(MPI_INT64_T, PRMA_TYPE_INT64);
    named_add(MPI_UINT8_T, PRMA_TYPE_UINT8);
    named_add(MPI_UINT16_T, PRMA_TYPE_UINT16);
    named_add(MPI_UINT32_T, PRMA_TYPE_UINT32);
    named_add(MPI_UINT64_T, PRMA_TYPE_UINT64);
    named_add(MPI_AINT, int_basic(sizeof(MPI_Aint), 1));
    named_add(MPI_OFFSET, int_basic(sizeof(MPI_Offset), 1));
    named_add(MPI_COUNT, int_basic(sizeof(MPI_Count), 1));
    named_add(MPI_C_BOOL, PRMA_TYPE_BOOL);
    named_add(MPI_WCHAR, int_basic(sizeof(wchar_t), WCHAR_MIN < 0));
    named_add(MPI_LONG_DOUBLE, PRMA_TYPE_LONG_DOUBLE);
    named_add(MPI_C_FLOAT_COMPLEX, PRMA_TYPE_FLOAT_COMPLEX);
    named_add(MPI_C_COMPLEX, PRMA_TYPE_FLOAT_COMPLEX);
    named_add(MPI_C_DOUBLE_COMPLEX, PRMA_TYPE_DOUBLE_COMPLEX);
    named_add(MPI_C_LONG_DOUBLE_COMPLEX, PRMA_TYPE_LONG_DOUBLE_COMPLEX);
    named_add(MPI_FLOAT_INT, PRMA_TYPE_FLOAT_INT);
    named_add(MPI_DOUBLE_INT, PRMA_TYPE_DOUBLE_INT);
    named_add(MPI_LONG_INT, PRMA_TYPE_LONG_INT);
    named_add(MPI_2INT, PRMA_TYPE_2INT);
    named_add(MPI_SHORT_INT, PRMA_TYPE_SHORT_INT);
    named_add(MPI_LONG_DOUBLE_INT, PRMA_TYPE_LONG_DOUBLE_INT);
    named_add(MPI_INTEGER, fortran_basic(MPI_INTEGER, 'i'));
    named_add(MPI_REAL, fortran_basic(MPI_REAL, 'r'));
    named_add(MPI_DOUBLE_PRECISION, fortran_basic(MPI_DOUBLE_PRECISION, 'r'));
    named_add(MPI_COMPLEX, fortran_basic(MPI_COMPLEX, 'c'));
    named_add(MPI_DOUBLE_COMPLEX, fortran_basic(MPI_DOUBLE_COMPLEX, 'c'));
#ifdef MPI_INTEGER1
    named_add(MPI_INTEGER1, fortran_basic(MPI_INTEGER1, 'i'));
#endif
#ifdef MPI_INTEGER2
    named_add(MPI_INTEGER2, fortran_basic(MPI_INTEGER2, 'i'));
#endif
#ifdef MPI_INTEGER4
    named_add(MPI_INTEGER4, fortran_basic(MPI_INTEGER4, 'i'));
#endif
#ifdef MPI_INTEGER8
    named_add(MPI_INTEGER8, fortran_basic(MPI_INTEGER8, 'i'));
#endif
#ifdef MPI_REAL4
    named_add(MPI_REAL4, fortran_basic(MPI_REAL4, 'r'));
#endif
#ifdef MPI_REAL8
    named_add(MPI_REAL8, fortran_basic(MPI_REAL8, 'r'));
#endif
}

/* A predefined type without a prma_type_t (or an MPI_Type_create_f90_*
 * type): one element is its data, contiguous; basic is -1. Entries live
 * until the process ends. MPI_SUCCESS or an error class. */
static int foreign_find(MPI_Datatype type, const struct named **e_p)
{
    struct named *e;
    MPI_Count size;
    MPI_Aint lb, extent, tlb, textent;
    int rc = MPI_SUCCESS;

    pthread_mutex_lock(&foreign_lock);
    for (e = foreign; e != NULL && e->type != type; e = e->next)
        ;
    if (e != NULL)
        goto out;
    if (PMPI_Type_size_x(type, &size) != MPI_SUCCESS ||
        PMPI_Type_get_extent(type, &lb, &extent) != MPI_SUCCESS ||
        PMPI_Type_get_true_extent(type, &tlb, &textent) != MPI_SUCCESS) {
        rc = MPI_ERR_TYPE;
        goto out;
    }
    if (size != 0 && size != textent) {
        /* Data with holes that nothing here describes. */
        rc = MPI_ERR_UNSUPPORTED_OPERATION;
        goto out;
    }
    if ((e = calloc(1, sizeof(*e))) == NULL) {
        rc = MPI_ERR_NO_MEM;
        goto out;
    }
    e->type          = type;
    e->blk[0]        = (struct shim_piece){ tlb, (size_t)size };
    e->sig[0]        = (struct shim_sig){ SIG_FOREIGN + (int64_t)(uintptr_t)type, 1 };
    e->layout.blk    = e->blk;
    e->layout.nblk   = size != 0;
    e->layout.sig    = e->sig;
    e->layout.nsig   = size != 0;
    e->layout.extent = extent;
    e->layout.size   = (size_t)size;
    e->layout.basic  = -1;
    layout_finish(&e->layout);
    e->next = foreign;
    foreign = e;
out:
    pthread_mutex_unlock(&foreign_lock);
    if (rc == MPI_SUCCESS)
        *e_p = e;
    return rc;
}

/* ---- flattening ---- */

/* A layout being built: growable arrays and the running summary. */
struct flat {
    struct shim_piece *blk;
    size_t             nblk, cblk;
    struct shim_piece   *run;
    size_t             nrun, crun;
    struct shim_sig   *sig;
    size_t             nsig, csig;
    int                basic;   /* BASIC_NONE, -1 (mixed or none), or a prma_type_t */
    size_t             size;    /* data bytes */
    int                status;  /* MPI_SUCCESS or the first error class */
};

#define FLAT_INIT { .basic = BASIC_NONE }

static void flat_free(struct flat *f)
{
    free(f->blk);
    free(f->run);
    free(f->sig);
}

/* Make room for one more item in a growable array; 0 when out of memory. */
static int grow(struct flat *f, void **a, size_t n, size_t *cap, size_t item)
{
    void *p;
    size_t c;

    if (n < *cap)
        return 1;
    c = *cap ? 2 * *cap : 4;
    if (c > SIZE_MAX / item || (p = realloc(*a, c * item)) == NULL) {
        f->status = MPI_ERR_NO_MEM;
        return 0;
    }
    *a   = p;
    *cap = c;
    return 1;
}

static MPI_Aint aint_mul(struct flat *f, MPI_Aint a, MPI_Aint b)
{
    MPI_Aint r;

    if (__builtin_mul_overflow(a, b, &r)) {
        f->status = MPI_ERR_TYPE;
        return 0;
    }
    return r;
}

static MPI_Aint aint_add(struct flat *f, MPI_Aint a, MPI_Aint b)
{
    MPI_Aint r;

    if (__builtin_add_overflow(a, b, &r)) {
        f->status = MPI_ERR_TYPE;
        return 0;
    }
    return r;
}

static void push_block(struct flat *f, MPI_Aint off, size_t len)
{
    struct shim_piece *last = f->nblk ? &f->blk[f->nblk - 1] : NULL;

    if (len == 0 || f->status != MPI_SUCCESS)
        return;
    if (last && last->off + (MPI_Aint)last->n == off) {
        last->n += len;
        return;
    }
    if (grow(f, (void **)&f->blk, f->nblk, &f->cblk, sizeof(*f->blk)))
        f->blk[f->nblk++] = (struct shim_piece){ off, len };
}

static void push_run(struct flat *f, MPI_Aint off, size_t n)
{
    struct shim_piece *last = f->nrun ? &f->run[f->nrun - 1] : NULL;
    MPI_Aint bext = (MPI_Aint)prma_type_extent((prma_type_t)f->basic);

    if (n == 0 || f->status != MPI_SUCCESS)
        return;
    if (last && last->off + (MPI_Aint)last->n * bext == off) {
        last->n += n;
        return;
    }
    if (grow(f, (void **)&f->run, f->nrun, &f->crun, sizeof(*f->run)))
        f->run[f->nrun++] = (struct shim_piece){ off, n };
}

static void push_sig(struct flat *f, int64_t code, size_t n)
{
    if (n == 0 || f->status != MPI_SUCCESS)
        return;
    if (f->nsig && f->sig[f->nsig - 1].code == code) {
        f->sig[f->nsig - 1].n += n;
        return;
    }
    if (grow(f, (void **)&f->sig, f->nsig, &f->csig, sizeof(*f->sig)))
        f->sig[f->nsig++] = (struct shim_sig){ code, n };
}

/* Append count copies of the element c, the first at disp bytes and each
 * next one stride bytes further, in that order. */
static void flat_append(struct flat *f, const struct flat *c, MPI_Aint disp, MPI_Aint count,
                        MPI_Aint stride)
{
    size_t n = (size_t)count;

    if (count <= 0 || c->size == 0 || f->status != MPI_SUCCESS)
        return;
    if (c->size > SIZE_MAX / n) {
        f->status = MPI_ERR_TYPE;
        return;
    }
    f->size += c->size * n;
    if (f->basic == BASIC_NONE)
        f->basic = c->basic;
    else if (f->basic != c->basic)
        f->basic = -1;
    if (f->basic < 0 && f->nrun) {
        free(f->run);
        f->run  = NULL;
        f->nrun = f->crun = 0;
    }

    /* Blocks: copies that abut make one block (a contiguous run of a
     * dense element), otherwise each copy's blocks in turn. */
    if (c->nblk == 1 && (MPI_Aint)c->blk[0].n == stride) {
        push_block(f, aint_add(f, disp, c->blk[0].off), c->blk[0].n * n);
    } else {
        for (MPI_Aint k = 0; k < count && f->status == MPI_SUCCESS; k++) {
            MPI_Aint at = aint_add(f, disp, aint_mul(f, k, stride));

            for (size_t b = 0; b < c->nblk; b++)
                push_block(f, aint_add(f, at, c->blk[b].off), c->blk[b].n);
        }
    }
    if (f->basic >= 0) {
        MPI_Aint bext = (MPI_Aint)prma_type_extent((prma_type_t)f->basic);

        if (c->nrun == 1 && (MPI_Aint)c->run[0].n * bext == stride) {
            push_run(f, aint_add(f, disp, c->run[0].off), c->run[0].n * n);
        } else {
            for (MPI_Aint k = 0; k < count && f->status == MPI_SUCCESS; k++) {
                MPI_Aint at = aint_add(f, disp, aint_mul(f, k, stride));

                for (size_t r = 0; r < c->nrun; r++)
                    push_run(f, aint_add(f, at, c->run[r].off), c->run[r].n);
            }
        }
    }
    if (c->nsig == 1) {
        push_sig(f, c->sig[0].code, c->sig[0].n * n);
    } else {
        for (MPI_Aint k = 0; k < count && f->status == MPI_SUCCESS; k++)
            for (size_t s = 0; s < c->nsig; s++)
                push_sig(f, c->sig[s].code, c->sig[s].n);
    }
}

/* Copy a finished layout (a predefined type's) into a flat. */
static void flat_from_layout(struct flat *f, const struct shim_layout *l)
{
    f->basic = l->size == 0 ? BASIC_NONE : l->basic;
    f->size  = l->size;
    for (int b = 0; b < l->nblk; b++)
        push_block(f, l->blk[b].off, l->blk[b].n);
    for (int r = 0; r < l->nrun; r++)
        push_run(f, l->run[r].off, l->run[r].n);
    for (int s = 0; s < l->nsig; s++)
        push_sig(f, l->sig[s].code, l->sig[s].n);
}

static int is_predefined(int combiner)
{
    return combiner == MPI_COMBINER_NAMED || combiner == MPI_COMBINER_F90_REAL ||
           combiner == MPI_COMBINER_F90_COMPLEX || combiner == MPI_COMBINER_F90_INTEGER;
}

static int flatten(MPI_Datatype type, struct flat *f);

/* Append the elements of an ndims-dimensional array of c (extent ext,
 * sizes[d] elements along d) whose indices along each d are idx[d][0 ..
 * nidx[d]), increasing: in C order the last dimension varies fastest, in
 * Fortran order the first. This is the type map of a subarray and of a
 * darray. */
static void grid_append(struct flat *f, const struct flat *c, MPI_Aint ext, int ndims,
                        const int *sizes, MPI_Aint **idx, const MPI_Aint *nidx, int order)
{
    MPI_Aint stride[ndims], pos[ndims];
    int perm[ndims], fast;

    if (ndims <= 0)
        return;
    for (int k = 0; k < ndims; k++) {
        perm[k] = order == MPI_ORDER_C ? k : ndims - 1 - k;  /* slowest first */
        pos[k]  = 0;
        if (nidx[k] == 0)
            return;
    }
    fast = perm[ndims - 1];
    stride[fast] = 1;
    for (int k = ndims - 2; k >= 0; k--)
        stride[perm[k]] = aint_mul(f, stride[perm[k + 1]], sizes[perm[k + 1]]);
    for (;;) {
        MPI_Aint base = 0, n = nidx[fast], j, s;
        const MPI_Aint *x = idx[fast];
        int k;

        for (k = 0; k < ndims - 1; k++)
            base = aint_add(f, base, aint_mul(f, idx[perm[k]][pos[perm[k]]], stride[perm[k]]));
        /* Along the fastest dimension, consecutive indices are one run. */
        for (j = 0; j < n; j++) {
            for (s = j; j + 1 < n && x[j + 1] == x[j] + 1; j++)
                ;
            flat_append(f, c, aint_mul(f, aint_add(f, base, x[s]), ext), j - s + 1, ext);
        }
        for (k = ndims - 2; k >= 0; k--) {
            if (++pos[perm[k]] < nidx[perm[k]])
                break;
            pos[perm[k]] = 0;
        }
        if (k < 0 || f->status != MPI_SUCCESS)
            return;
    }
}

/* The indices along one dimension of a darray that a process owns. */
static MPI_Aint darray_indices(int gsize, int distrib, int darg, int psize, int coord,
                               MPI_Aint *out)
{
    MPI_Aint n = 0;

    switch (distrib) {
    case MPI_DISTRIBUTE_NONE:
        for (int i = 0; i < gsize; i++)
            out[n++] = i;
        break;
    case MPI_DISTRIBUTE_BLOCK: {
        MPI_Aint b = darg == MPI_DISTRIBUTE_DFLT_DARG ? (gsize + psize - 1) / psize : darg;

        for (MPI_Aint i = coord * b; i < (coord + 1) * b && i < gsize; i++)
            out[n++] = i;
        break;
    }
    case MPI_DISTRIBUTE_CYCLIC: {
        MPI_Aint k = darg == MPI_DISTRIBUTE_DFLT_DARG ? 1 : darg;

        for (MPI_Aint start = coord * k; start < gsize; start += (MPI_Aint)psize * k)
            for (MPI_Aint i = start; i < start + k && i < gsize; i++)
                out[n++] = i;
        break;
    }
    }
    return n;
}

/* Subarray and darray: the indices each dimension contributes, then the
 * grid of them. */
static void grid_flatten(struct flat *f, int combiner, const int *iv, const struct flat *c,
                         MPI_Aint ext)
{
    int ndims = combiner == MPI_COMBINER_SUBARRAY ? iv[0] : iv[2];
    const int *sizes = combiner == MPI_COMBINER_SUBARRAY ? &iv[1] : &iv[3];
    int order = combiner == MPI_COMBINER_SUBARRAY ? iv[3 * ndims + 1] : iv[4 * ndims + 3];
    MPI_Aint *idx[ndims], nidx[ndims];
    int rank = 0, coord;

    if (combiner == MPI_COMBINER_DARRAY)
        rank = iv[1];
    /* The process grid of a darray is row-major whatever the order. */
    for (int d = ndims - 1; d >= 0; d--) {
        idx[d] = malloc(((size_t)sizes[d] + 1) * sizeof(MPI_Aint));
        if (idx[d] == NULL) {
            f->status = MPI_ERR_NO_MEM;
            nidx[d]   = 0;
            continue;
        }
        if (combiner == MPI_COMBINER_SUBARRAY) {
            const int sub = iv[ndims + 1 + d], start = iv[2 * ndims + 1 + d];

            for (nidx[d] = 0; nidx[d] < sub; nidx[d]++)
                idx[d][nidx[d]] = start + nidx[d];
        } else {
            const int psize = iv[3 * ndims + 3 + d];

            coord = rank % psize;
            rank /= psize;
            nidx[d] = darray_indices(sizes[d], iv[ndims + 3 + d], iv[2 * ndims + 3 + d], psize,
                                     coord, idx[d]);
        }
    }
    if (f->status == MPI_SUCCESS)
        grid_append(f, c, ext, ndims, sizes, idx, nidx, order);
    for (int d = 0; d < ndims; d++)
        free(idx[d]);
}

/* Flatten a derived type from its constructor's arguments. */
static int flatten_derived(MPI_Datatype type, int ni, int na, int nd, int combiner,
                           struct flat *f)
{
    int *iv = malloc(((size_t)ni + 1) * sizeof(int));
    MPI_Aint *av = malloc(((size_t)na + 1) * sizeof(MPI_Aint));
    MPI_Datatype *dv = malloc(((size_t)nd + 1) * sizeof(MPI_Datatype));
    struct flat c = FLAT_INIT;
    MPI_Aint lb, ext = 0;
    int got = 0, rc = MPI_SUCCESS;

    if (iv == NULL || av == NULL || dv == NULL) {
        rc = MPI_ERR_NO_MEM;
        goto out;
    }
    if (PMPI_Type_get_contents(type, ni, na, nd, iv, av, dv) != MPI_SUCCESS) {
        rc = MPI_ERR_TYPE;
        goto out;
    }
    got = 1;
    /* Every constructor but struct has one old type. */
    if (combiner != MPI_COMBINER_STRUCT && (rc = flatten(dv[0], &c)) == MPI_SUCCESS &&
        PMPI_Type_get_extent(dv[0], &lb, &ext) != MPI_SUCCESS)
        rc = MPI_ERR_TYPE;
    if (rc != MPI_SUCCESS)
        goto out;
    switch (combiner) {
    case MPI_COMBINER_DUP:
    case MPI_COMBINER_RESIZED:
        flat_append(f, &c, 0, 1, 0);
        break;
    case MPI_COMBINER_CONTIGUOUS:
        flat_append(f, &c, 0, iv[0], ext);
        break;
    case MPI_COMBINER_VECTOR:
        for (int k = 0; k < iv[0]; k++)
            flat_append(f, &c, aint_mul(f, aint_mul(f, k, iv[2]), ext), iv[1], ext);
        break;
    case MPI_COMBINER_HVECTOR:
        for (int k = 0; k < iv[0]; k++)
            flat_append(f, &c, aint_mul(f, k, av[0]), iv[1], ext);
        break;
    case MPI_COMBINER_INDEXED:
        for (int k = 0; k < iv[0]; k++)
            flat_append(f, &c, aint_mul(f, iv[1 + iv[0] + k], ext), iv[1 + k], ext);
        break;
    case MPI_COMBINER_HINDEXED:
        for (int k = 0; k < iv[0]; k++)
            flat_append(f, &c, av[k], iv[1 + k], ext);
        break;
    case MPI_COMBINER_INDEXED_BLOCK:
        for (int k = 0; k < iv[0]; k++)
            flat_append(f, &c, aint_mul(f, iv[2 + k], ext), iv[1], ext);
        break;
    case MPI_COMBINER_HINDEXED_BLOCK:
        for (int k = 0; k < iv[0]; k++)
            flat_append(f, &c, av[k], iv[1], ext);
        break;
    case MPI_COMBINER_STRUCT:
        for (int k = 0; k < iv[0] && f->status == MPI_SUCCESS; k++) {
            struct flat m = FLAT_INIT;

            rc = flatten(dv[k], &m);
            if (rc == MPI_SUCCESS && PMPI_Type_get_extent(dv[k], &lb, &ext) != MPI_SUCCESS)
                rc = MPI_ERR_TYPE;
            if (rc == MPI_SUCCESS)
                flat_append(f, &m, av[k], iv[1 + k], ext);
            flat_free(&m);
            if (rc != MPI_SUCCESS)
                goto out;
        }
        break;
    case MPI_COMBINER_SUBARRAY:
    case MPI_COMBINER_DARRAY:
        grid_flatten(f, combiner, iv, &c, ext);
        break;
    default:
        /* The MPI-1 Fortran constructors (*_INTEGER), gone since MPI-3. */
        rc = MPI_ERR_UNSUPPORTED_OPERATION;
        goto out;
    }
    rc = f->status;
out:
    flat_free(&c);
    for (int k = 0; got && k < nd; k++) {
        int ni2, na2, nd2, comb2;

        if (PMPI_Type_get_envelope(dv[k], &ni2, &na2, &nd2, &comb2) == MPI_SUCCESS &&
            !is_predefined(comb2))
            PMPI_Type_free(&dv[k]);
    }
    free(iv);
    free(av);
    free(dv);
    return rc;
}

/* Flatten one element of any type into f (empty). MPI_SUCCESS or an error
 * class. */
static int flatten(MPI_Datatype type, struct flat *f)
{
    const struct named *e = named_find(type);
    int ni, na, nd, combiner, rc;

    if (e == NULL) {
        if (PMPI_Type_get_envelope(type, &ni, &na, &nd, &combiner) != MPI_SUCCESS)
            return MPI_ERR_TYPE;
        if (!is_predefined(combiner))
            return flatten_derived(type, ni, na, nd, combiner, f);
        if ((rc = foreign_find(type, &e)) != MPI_SUCCESS)
            return rc;
    }
    flat_from_layout(f, &e->layout);
    return f->status;
}

/* One part of a layout copied in: n bytes from from (NULL when n is 0,
 * which memcpy does not take) to to. */
static void *part_copy(char *to, const void *from, size_t n)
{
    return n > 0 ? memcpy(to, from, n) : to;
}

/* Flatten a committed derived type into one allocation. MPI_SUCCESS or an
 * error class. */
static int type_build(MPI_Datatype type, struct shim_type **t_p)
{
    struct flat f = FLAT_INIT;
    struct shim_type *t;
    struct shim_layout *l;
    MPI_Count size;
    MPI_Aint lb, extent;
    size_t bytes;
    char *p;
    int rc;

    rc = flatten(type, &f);
    if (rc == MPI_SUCCESS && (PMPI_Type_size_x(type, &size) != MPI_SUCCESS ||
                              PMPI_Type_get_extent(type, &lb, &extent) != MPI_SUCCESS))
        rc = MPI_ERR_TYPE;
    if (rc == MPI_SUCCESS && (size < 0 || (size_t)size != f.size)) {
        fprintf(stderr, "portrma: datatype flattened to %zu bytes, MPI says %lld\n", f.size,
                (long long)size);
        rc = MPI_ERR_INTERN;
    }
    if (rc == MPI_SUCCESS && (f.nblk > INT_MAX || f.nrun > INT_MAX || f.nsig > INT_MAX))
        rc = MPI_ERR_UNSUPPORTED_OPERATION;
    if (rc != MPI_SUCCESS)
        goto out;
    bytes = sizeof(*t) + f.nblk * sizeof(*f.blk) + f.nrun * sizeof(*f.run) +
            f.nsig * sizeof(*f.sig);
    if ((t = malloc(bytes)) == NULL) {
        rc = MPI_ERR_NO_MEM;
        goto out;
    }
    p = (char *)(t + 1);
    t->refs = 1;
    l       = &t->layout;
    *l      = (struct shim_layout){ .nblk = (int)f.nblk, .nrun = (int)f.nrun,
                                    .nsig = (int)f.nsig, .extent = extent,
                                    .size = f.size, .basic = f.basic < 0 ? -1 : f.basic };
    l->blk = part_copy(p, f.blk, f.nblk * sizeof(*f.blk));
    p += f.nblk * sizeof(*f.blk);
    l->run = part_copy(p, f.run, f.nrun * sizeof(*f.run));
    p += f.nrun * sizeof(*f.run);
    l->sig = part_copy(p, f.sig, f.nsig * sizeof(*f.sig));
    if (l->basic >= 0) {
        l->basic_extent = prma_type_extent((prma_type_t)l->basic);
        for (int r = 0; r < l->nrun; r++)
            l->nbasic += l->run[r].n;
    }
    layout_finish(l);
    *t_p = t;
out:
    flat_free(&f);
    return rc;
}

/* ---- the cache attribute ---- */

static int type_copy(MPI_Datatype type, int keyval, void *extra, void *in, void *out,
                     int *flag)
{
    if (in != &committed_mark)
        __atomic_add_fetch(&((struct shim_type *)in)->refs, 1, __ATOMIC_RELAXED);
    *(void **)out = in;
    *flag         = 1;
    return MPI_SUCCESS;
}

static int type_delete(MPI_Datatype type, int keyval, void *value, void *extra)
{
    struct shim_type *t = value;

    if (value != &committed_mark && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(t);
    return MPI_SUCCESS;
}

int shim_type_setup(void)
{
    if (PMPI_Type_create_keyval(type_copy, type_delete, &type_keyval, NULL) != MPI_SUCCESS)
        return PRMA_ERR_BOOTSTRAP;
    if (nnamed == 0)
        named_setup();
    return PRMA_OK;
}

void shim_type_teardown(void)
{
    if (type_keyval != MPI_KEYVAL_INVALID)
        PMPI_Type_free_keyval(&type_keyval);
}

SHIM_EXPORT int MPI_Type_commit(MPI_Datatype *type)
{
    int rc = PMPI_Type_commit(type);
    int ni, na, nd, combiner, flag = 0;
    void *value;

    /* Committing twice is allowed: keep a layout already built. */
    if (rc == MPI_SUCCESS && type_keyval != MPI_KEYVAL_INVALID &&
        PMPI_Type_get_envelope(*type, &ni, &na, &nd, &combiner) == MPI_SUCCESS &&
        !is_predefined(combiner) &&
        PMPI_Type_get_attr(*type, type_keyval, &value, &flag) == MPI_SUCCESS && !flag)
        PMPI_Type_set_attr(*type, type_keyval, &committed_mark);
    return rc;
}

/* ---- the interface ---- */

/* Is type a dup of a predefined type (through any chain of dups)? Such a
 * type is committed without MPI_Type_commit, and has no attribute to say
 * so: a predefined type had none to copy. */
static int dup_of_predefined(MPI_Datatype type)
{
    MPI_Datatype old;
    int ni, na, nd, combiner, yes;

    if (PMPI_Type_get_envelope(type, &ni, &na, &nd, &combiner) != MPI_SUCCESS)
        return 0;
    if (combiner != MPI_COMBINER_DUP)
        return is_predefined(combiner);
    if (PMPI_Type_get_contents(type, 0, 0, 1, NULL, NULL, &old) != MPI_SUCCESS)
        return 0;
    yes = dup_of_predefined(old);
    if (PMPI_Type_get_envelope(old, &ni, &na, &nd, &combiner) == MPI_SUCCESS &&
        !is_predefined(combiner))
        PMPI_Type_free(&old);
    return yes;
}


int shim_type_layout(MPI_Datatype type, struct shim_layout *layout_p)
{
    const struct named *e;
    struct shim_type *t;
    int ni, na, nd, combiner, flag = 0, rc = MPI_SUCCESS;
    void *value;

    if (type == MPI_DATATYPE_NULL)
        return MPI_ERR_TYPE;
    if ((e = named_find(type)) != NULL) {
        *layout_p = e->layout;
        return MPI_SUCCESS;
    }
    if (PMPI_Type_get_envelope(type, &ni, &na, &nd, &combiner) != MPI_SUCCESS)
        return MPI_ERR_TYPE;
    if (is_predefined(combiner)) {
        if ((rc = foreign_find(type, &e)) != MPI_SUCCESS)
            return rc;
        *layout_p = e->layout;
        return MPI_SUCCESS;
    }
    if (type_keyval == MPI_KEYVAL_INVALID ||
        PMPI_Type_get_attr(type, type_keyval, &value, &flag) != MPI_SUCCESS)
        return MPI_ERR_TYPE;
    if (!flag) {
        if (combiner != MPI_COMBINER_DUP || !dup_of_predefined(type))
            return MPI_ERR_TYPE;
        value = &committed_mark;
    }
    if (value == &committed_mark) {
        /* Builds take turns; whoever comes second finds the layout. */
        pthread_mutex_lock(&build_lock);
        if (PMPI_Type_get_attr(type, type_keyval, &value, &flag) != MPI_SUCCESS)
            rc = MPI_ERR_TYPE;
        else if (!flag)
            value = &committed_mark;
        if (rc == MPI_SUCCESS && value == &committed_mark &&
            (rc = type_build(type, &t)) == MPI_SUCCESS) {
            if (PMPI_Type_set_attr(type, type_keyval, t) == MPI_SUCCESS) {
                value = t;
            } else {
                free(t);
                rc = MPI_ERR_INTERN;
            }
        }
        pthread_mutex_unlock(&build_lock);
        if (rc != MPI_SUCCESS)
            return rc;
    }
    *layout_p = ((struct shim_type *)value)->layout;
    return MPI_SUCCESS;
}

/* A walk over count elements' signatures, one entry at a time. */
struct sig_cursor {
    const struct shim_sig *sig;
    int                    nsig, i;
    MPI_Aint               elems;  /* elements not started yet */
    int64_t                code;
    size_t                 left;   /* of the current entry */
};

static int sig_next(struct sig_cursor *c)
{
    while (c->left == 0) {
        if (c->i == c->nsig) {
            if (c->elems == 0 || c->nsig == 0)
                return 0;
            c->elems--;
            c->i = 0;
        }
        c->code = c->sig[c->i].code;
        c->left = c->sig[c->i].n;
        c->i++;
    }
    return 1;
}

int shim_type_match(const struct shim_layout *a, MPI_Aint acount, const struct shim_layout *b,
                     MPI_Aint bcount)
{
    struct sig_cursor ca = { a->sig, a->nsig, a->nsig, acount, 0, 0 };
    struct sig_cursor cb = { b->sig, b->nsig, b->nsig, bcount, 0, 0 };

    if (acount < 0 || bcount < 0)
        return MPI_ERR_TYPE;
    /* The same signature as many times: nothing to walk. */
    if (acount == bcount && a->nsig == b->nsig &&
        (a->sig == b->sig || a->nsig == 0 || memcmp(a->sig, b->sig, (size_t)a->nsig * sizeof(*a->sig)) == 0))
        return MPI_SUCCESS;
    /* One kind of basic type on each side: compare how many. */
    if (a->nsig <= 1 && b->nsig <= 1) {
        unsigned __int128 na = a->nsig ? (unsigned __int128)a->sig[0].n * (uint64_t)acount : 0;
        unsigned __int128 nb = b->nsig ? (unsigned __int128)b->sig[0].n * (uint64_t)bcount : 0;

        if (na == 0 || nb == 0)
            return na == nb ? MPI_SUCCESS : MPI_ERR_TYPE;
        return na == nb && a->sig[0].code == b->sig[0].code ? MPI_SUCCESS : MPI_ERR_TYPE;
    }
    for (;;) {
        int ha = sig_next(&ca), hb = sig_next(&cb);
        size_t n;

        if (!ha || !hb)
            return ha == hb ? MPI_SUCCESS : MPI_ERR_TYPE;
        if (ca.code != cb.code)
            return MPI_ERR_TYPE;
        n = ca.left < cb.left ? ca.left : cb.left;
        ca.left -= n;
        cb.left -= n;
    }
}

size_t shim_type_contig_size(MPI_Datatype type)
{
    const struct named *e = type == MPI_DATATYPE_NULL ? NULL : named_find(type);

    return e != NULL && e->layout.contiguous ? e->layout.size : 0;
}

int shim_type_basic(MPI_Datatype predefined, prma_type_t *type_p)
{
    const struct named *e = predefined == MPI_DATATYPE_NULL ? NULL : named_find(predefined);

    if (e == NULL || e->layout.basic < 0)
        return MPI_ERR_TYPE;
    *type_p = (prma_type_t)e->layout.basic;
    return MPI_SUCCESS;
}
