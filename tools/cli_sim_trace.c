/* cli_sim_trace.c — `cutune sim --score-trace`: another tuner's evaluations, one line each
 * (repeat,k,config_key,time_or_failure, as --trace writes them), scored on the recorded
 * space as cutune's own sessions are: each repeat's best-so-far by the recorded times. */
#include "cli_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_score_trace(space_run *sp, const char *path, const char *label, int json)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cutune sim: cannot open trace %s\n", path);
        return EXIT_FAILED;
    }
    size_t K = cutune_baseline_horizon(sp->base);
    size_t width = K > sp->budget ? K : sp->budget;
    double *sum = calloc(width, sizeof *sum), *best = malloc(width * sizeof *best);
    uint32_t *config = malloc(cutune_space_num_params(cutune_cache_space(sp->cache)) * 4 + 4);
    char line[4096];
    long repeat = -1, lineno = 0;
    size_t repeats = 0, k = 0, longest = 0;
    int rc = sum && best && config ? EXIT_OK : EXIT_FAILED;
    double median = cutune_baseline_median(sp->base), run_best = NAN;
    /* closes the current repeat: its best-so-far stays flat to the end */
#define CLOSE_REPEAT()                                                       \
    do {                                                                     \
        if (repeat >= 0) {                                                   \
            for (size_t j = k < width ? k : width; j < width; j++)           \
                best[j] = j ? best[j - 1] : median;                          \
            for (size_t j = 0; j < width; j++)                               \
                sum[j] += best[j];                                           \
            repeats++;                                                       \
            longest = k > longest ? k : longest;                             \
        }                                                                    \
    } while (0)
    while (rc == EXIT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!*line)
            continue;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *last = strrchr(line, ',');
        if (!c1 || !c2 || last == c2) {
            fprintf(stderr, "cutune sim: %s:%ld: expected repeat,k,config_key,time\n", path,
                    lineno);
            rc = EXIT_FAILED;
            break;
        }
        long r = strtol(line, NULL, 10);
        size_t kk = strtoul(c1 + 1, NULL, 10);
        *last = '\0';
        if (r != repeat) {
            CLOSE_REPEAT();
            repeat = r;
            k = 0;
            run_best = NAN;
        }
        if (kk != k + 1) {
            fprintf(stderr, "cutune sim: %s:%ld: evaluation %zu follows %zu\n", path, lineno, kk,
                    k);
            rc = EXIT_FAILED;
            break;
        }
        size_t entry;
        if (cutune_space_parse_key(cutune_cache_space(sp->cache), c2 + 1, config) ||
            cutune_cache_find(sp->cache, config, &entry)) {
            fprintf(stderr, "cutune sim: %s:%ld: '%s' is not a configuration of %s\n", path,
                    lineno, c2 + 1, sp->path);
            rc = EXIT_FAILED;
            break;
        }
        double t = cutune_cache_time(sp->cache, entry, NULL); /* the recorded time */
        if (!isnan(t) && (isnan(run_best) || t < run_best))
            run_best = t;
        if (k < width)
            best[k] = isnan(run_best) ? median : run_best;
        k++;
    }
    if (rc == EXIT_OK)
        CLOSE_REPEAT();
#undef CLOSE_REPEAT
    fclose(f);
    double score = NAN;
    if (rc == EXIT_OK && repeats == 0) {
        fprintf(stderr, "cutune sim: %s holds no evaluation\n", path);
        rc = EXIT_FAILED;
    }
    if (rc == EXIT_OK) {
        for (size_t j = 0; j < width; j++)
            sum[j] /= (double)repeats;
        if (cutune_score(sp->base, sum, width, &score))
            rc = cli_fail("sim", CUTUNE_EINVAL);
    }
    if (rc == EXIT_OK && json)
        cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:I}", "strategy", label,
                                 "space", sp->path, "repeats", (json_int_t)repeats, "budget",
                                 (json_int_t)longest, "score", score, "optimum",
                                 cutune_baseline_optimum(sp->base), "best_mean_at_budget",
                                 sum[(longest ? longest : 1) - 1], "horizon", (json_int_t)K));
    else if (rc == EXIT_OK)
        printf("%-12s %-24s score %6.3f  (%zu repeats of up to %zu evaluations; horizon %zu)\n",
               cli_text(label), cli_text(sp->name), score, repeats, longest, K);
    free(sum);
    free(best);
    free(config);
    return rc;
}
