/* cli_profiles.h — `cutune profiles` in two files: cli_profiles.c (the options, and the
 * actions that change the store) and cli_profiles_show.c (list, show and select). */
#ifndef CUTUNE_CLI_PROFILES_H
#define CUTUNE_CLI_PROFILES_H

#include "cli.h"

/* The options, as given (NULL, -1 or 0: not given). */
typedef struct profiles_opts {
    const char *db, *kernel, *source_hash, *user_key, *device_name, *out, *format;
    const char *problem, *cc, *source, *spec;
    long device;
    unsigned long long sms, driver, runtime;
    double older_days;
    int json, all, recover, have_older;
} profiles_opts;

/* `list` (id 0) or `show ID`, and `select`, as lines or JSON; the exit status. */
int profiles_list(cutune_store *s, const profiles_opts *o, int64_t id);
int profiles_select(cutune_store *s, const profiles_opts *o);

#endif
