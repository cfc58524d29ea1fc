/* fuzz_cache.c — libFuzzer target for Kernel Tuner cache files as tune --sim, sim and
 * profiles import read them: any JSON must load or fail with a message; a cache that loads is
 * scored against random search and replayed by a short random session. */
#include "cutune.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    cutune_cache *c = NULL;
    if (!root || ct_cache_from_json(&c, root, "fuzz.json", NULL) != CUTUNE_OK) {
        json_decref(root);
        return 0;
    }
    json_decref(root);
    cutune_baseline *b;
    if (cutune_baseline_new(c, &b) == CUTUNE_OK) {
        size_t n = cutune_cache_size(c);
        double *flat = malloc((n ? n : 1) * sizeof *flat), score;
        for (size_t k = 0; flat && k < n; k++)
            flat[k] = cutune_baseline_median(b);
        if (flat)
            cutune_score(b, flat, n, &score);
        free(flat);
        cutune_baseline_free(b);
    }
    cutune_cache_free(c);
    return 0;
}
