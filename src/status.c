/*
 * status.c - status strings, expanded from PRMA_STATUS_MAP in portrma.h.
 */
#include "config.h"
#include "portrma.h"

const char *prma_status_string(int status)
{
    switch (status) {
#define PRMA_STATUS_STR_(name, value, msg, mpiclass) case PRMA_##name: return msg;
        PRMA_STATUS_MAP(PRMA_STATUS_STR_)
#undef PRMA_STATUS_STR_
    }
    return "unknown status";
}

const char *prma_version(void)
{
    return PACKAGE_VERSION;
}
