/* cache_file.h — writes small Kernel Tuner cache files for tests: a grid of integer
 * parameters p0, p1, ... (values 1..size), every combination an entry whose time a function
 * gives (NaN: the entry failed with "RuntimeFailedConfig"). */
#ifndef CUTUNE_TEST_CACHE_FILE_H
#define CUTUNE_TEST_CACHE_FILE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef double (*cache_time_fn)(const int *values, int nparams);

static void put_list(FILE *f, int nparams, const char *fmt)
{
    for (int p = 0; p < nparams; p++)
        fprintf(f, fmt, p ? ", " : "", p);
}

/* Returns 0 when the file was written. */
static int write_cache_file(const char *path, int nparams, const int *sizes, cache_time_fn time)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\"device_name\": \"test device\", \"kernel_name\": \"test_kernel\",\n"
               "\"tune_params_keys\": [");
    put_list(f, nparams, "%s\"p%d\"");
    fprintf(f, "],\n\"tune_params\": {");
    for (int p = 0; p < nparams; p++) {
        fprintf(f, "%s\"p%d\": [", p ? ", " : "", p);
        for (int v = 1; v <= sizes[p]; v++)
            fprintf(f, "%s%d", v > 1 ? ", " : "", v);
        fprintf(f, "]");
    }
    fprintf(f, "},\n\"objective\": \"time\",\n\"cache\": {");
    int values[16], total = 1;
    for (int p = 0; p < nparams; p++)
        total *= sizes[p];
    for (int e = 0; e < total; e++) {
        for (int p = nparams - 1, rest = e; p >= 0; p--) {
            values[p] = rest % sizes[p] + 1;
            rest /= sizes[p];
        }
        fprintf(f, "%s\n\"", e ? "," : "");
        for (int p = 0; p < nparams; p++)
            fprintf(f, "%s%d", p ? "," : "", values[p]);
        fprintf(f, "\": {");
        for (int p = 0; p < nparams; p++)
            fprintf(f, "\"p%d\": %d, ", p, values[p]);
        double t = time(values, nparams);
        if (isnan(t))
            fprintf(f, "\"time\": \"RuntimeFailedConfig\"}");
        else
            fprintf(f, "\"time\": %.17g}", t);
    }
    fprintf(f, "}}\n");
    return fclose(f);
}

#endif
