/*
 * settings.h - PORTRMA_* settings, read once from the environment.
 */
#ifndef PRMA_SETTINGS_H
#define PRMA_SETTINGS_H

enum prma_shm_mode {
    PRMA_SHM_MAP = 0,  /* map portrma memory of same-node peers */
    PRMA_SHM_CMA = 1,  /* always process_vm_readv/writev */
};

enum prma_transport_mode {
    PRMA_TRANSPORT_AUTO = 0,  /* shm on this node, ucx to other nodes */
    PRMA_TRANSPORT_UCX  = 1,  /* ucx to every peer but this process */
};

struct prma_config {
    int log_level;  /* enum prma_log_level */
    int shm_mode;   /* enum prma_shm_mode */
    int numa_bind;  /* bind window memory to the owner's NUMA node */
    int transport;  /* enum prma_transport_mode */
    int node_size;  /* > 0: pretend nodes of this many ranks */
    int progress;   /* enum prma_progress_mode */
    int guard;      /* enum prma_guard_mode (guard.h) */
    int agent;      /* serve and use the node agent (agent.c) */
    int stream;     /* large copies past a cache's worth stream (copy.c) */
    int remap;      /* move the program's own window pages into memfds (remap.c) */
};

enum prma_progress_mode {
    PRMA_PROGRESS_OFF    = 0,  /* UCX progresses inside portrma calls only */
    PRMA_PROGRESS_THREAD = 1,  /* and in a thread asleep on the worker's event fd */
};

extern struct prma_config prma__config;

/* Read every PORTRMA_* variable; a bad value is warned about and the default
 * kept. Idempotent. */
void prma__config_load(void);

#endif /* PRMA_SETTINGS_H */
