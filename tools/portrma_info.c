/*
 * portrma_info - what this portrma build is and how it is configured.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include "portrma.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: portrma_info [-h]\n"
                 "Prints portrma's version, the MPI library its shim was built against,\n"
                 "the port kinds it has, this node's topology and every PORTRMA_* setting.\n");
}

int main(int argc, char **argv)
{
    char topo[2048];
    prma_setting_t s;

    if (argc > 1) {
        int help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;

        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    printf("portrma %s\n", prma_version());
    printf("MPI library (shim built against): %s\n", PRMA_MPI_LIBRARY);
    printf("port kinds: %s\n", prma_port_kinds());
    printf("topology (hwloc):\n");
    if (prma_topology_describe(topo, sizeof(topo)) == PRMA_OK)
        fputs(topo, stdout);
    else
        printf("  unavailable\n");
    printf("settings:\n");
    for (int i = 0; prma_setting_get(i, &s) == PRMA_OK; i++)
        printf("  %s=%s (default %s)\n      %s\n", s.name, s.value, s.deflt, s.meaning);
    return 0;
}
