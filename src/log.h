/*
 * log.h - diagnostics. The function that first sees an error logs it, once,
 * in lowercase without '='; callers only pass the status up.
 */
#ifndef PRMA_LOG_H
#define PRMA_LOG_H

#include "portrma.h"

enum prma_log_level {
    PRMA_LOG_ERROR = 0,
    PRMA_LOG_WARN  = 1,
    PRMA_LOG_INFO  = 2,
    PRMA_LOG_DEBUG = 3,
};

extern int prma__log_level;  /* set from PORTRMA_LOG by prma__config_load() */
extern int prma__log_rank;   /* job rank shown in messages, -1 before init */

/* Print one diagnostic line to stderr, prefixed with rank and pid. */
void prma__log(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define prma_log_(level, ...)                                         \
    do {                                                              \
        if ((level) <= prma__log_level)                               \
            prma__log((level), __FILE__, __LINE__, __VA_ARGS__);      \
    } while (0)
#define prma_error(...) prma_log_(PRMA_LOG_ERROR, __VA_ARGS__)
#define prma_warn(...)  prma_log_(PRMA_LOG_WARN, __VA_ARGS__)
#define prma_info(...)  prma_log_(PRMA_LOG_INFO, __VA_ARGS__)
#define prma_debug(...) prma_log_(PRMA_LOG_DEBUG, __VA_ARGS__)

#endif /* PRMA_LOG_H */
