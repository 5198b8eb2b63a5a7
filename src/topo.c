/*
 * topo.c - the node's topology through hwloc: memory placement and the
 * description portrma_info prints.
 */
#include <hwloc.h>
#include <stdio.h>
#include <string.h>
#include "context.h"
#include "log.h"
#include "mem.h"
#include "settings.h"

/* The context's topology, loaded on first use; NULL when hwloc fails. */
static hwloc_topology_t topo_get(struct prma_context *ctx)
{
    hwloc_topology_t topo = NULL;

    pthread_mutex_lock(&ctx->lock);
    if (ctx->topo == NULL && !ctx->topo_failed) {
        if (hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0) {
            ctx->topo = topo;
        } else {
            if (topo != NULL)
                hwloc_topology_destroy(topo);
            ctx->topo_failed = 1;
            prma_warn("hwloc could not load the topology; window memory is not bound");
        }
    }
    topo = ctx->topo;
    pthread_mutex_unlock(&ctx->lock);
    return topo;
}

void prma__topo_bind_area(struct prma_context *ctx, void *addr, size_t len)
{
    hwloc_topology_t topo;
    hwloc_bitmap_t cpus, nodes;

    if (!prma__config.numa_bind || len == 0)
        return;
    topo = topo_get(ctx);
    /* One NUMA node: there is no choice to make (and asking costs more than
     * a window's creation otherwise does). */
    if (topo == NULL || hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) <= 1)
        return;
    cpus  = hwloc_bitmap_alloc();
    nodes = hwloc_bitmap_alloc();
    /* The owner's node: where this thread is bound (the process's binding,
     * as launchers set it; asking for the whole process reads every
     * thread's), else where it runs right now. */
    if (hwloc_get_cpubind(topo, cpus, HWLOC_CPUBIND_THREAD) != 0 ||
        hwloc_bitmap_isincluded(hwloc_topology_get_complete_cpuset(topo), cpus))
        hwloc_get_last_cpu_location(topo, cpus, HWLOC_CPUBIND_THREAD);
    hwloc_cpuset_to_nodeset(topo, cpus, nodes);
    if (!hwloc_bitmap_iszero(nodes) &&
        hwloc_set_area_membind(topo, addr, len, nodes, HWLOC_MEMBIND_BIND,
                               HWLOC_MEMBIND_BYNODESET) != 0)
        prma_debug("binding %zu bytes of window memory failed: %s", len, strerror(errno));
    hwloc_bitmap_free(nodes);
    hwloc_bitmap_free(cpus);
}

int prma_topology_describe(char *buf, size_t len)
{
    static const struct { hwloc_obj_type_t type; const char *name; } kinds[] = {
        { HWLOC_OBJ_PACKAGE, "packages" }, { HWLOC_OBJ_NUMANODE, "NUMA nodes" },
        { HWLOC_OBJ_L3CACHE, "L3 caches" }, { HWLOC_OBJ_CORE, "cores" },
        { HWLOC_OBJ_PU, "hardware threads" },
    };
    hwloc_topology_t topo;
    hwloc_bitmap_t cpus;
    size_t used = 0;
    char *text = NULL;

    if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
        prma_error("hwloc could not load the topology");
        return PRMA_ERR_IO;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "  %-18s %d\n", kinds[i].name,
                                 hwloc_get_nbobjs_by_type(topo, kinds[i].type));
    cpus = hwloc_bitmap_alloc();
    if (used < len && hwloc_get_cpubind(topo, cpus, HWLOC_CPUBIND_PROCESS) == 0 &&
        hwloc_bitmap_list_asprintf(&text, cpus) >= 0) {
        used += (size_t)snprintf(buf + used, len - used, "  %-18s %s\n", "bound to PUs", text);
        free(text);
    }
    hwloc_bitmap_free(cpus);
    hwloc_topology_destroy(topo);
    return PRMA_OK;
}
