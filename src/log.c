/*
 * log.c - one line per diagnostic on stderr.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int prma__log_level = PRMA_LOG_WARN;
int prma__log_rank  = -1;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void prma__log(int level, const char *file, int line, const char *fmt, ...)
{
    char msg[512];
    const char *base = strrchr(file, '/');
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines of different ranks from mixing. */
    fprintf(stderr, "portrma[%d:%d] %s %s:%d: %s\n", prma__log_rank, (int)getpid(),
            level_names[level < 0 ? 0 : level > 3 ? 3 : level], base ? base + 1 : file,
            line, msg);
}
