/* fuzz_spec.c — libFuzzer target for the T1 spec loaders: any bytes must load or fail with a
 * message; a space that loads is then counted (its failing configurations too) and sampled,
 * when small enough to do quickly, and its warnings read; the spec's Search, Budget and
 * ignored fields are read, and its KernelSpecification loaded (from a file: the kernel loader
 * reads one) with a sampled configuration's launch geometry. */
#include "cutune.h"
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input as a file, for the kernel loader: one per process, removed at exit. */
static char spec_path[64];
static void remove_spec(void) { unlink(spec_path); }
static const char *as_file(const uint8_t *data, size_t size)
{
    if (!spec_path[0]) {
        snprintf(spec_path, sizeof spec_path, "/tmp/fuzz_spec_%d.json", (int)getpid());
        atexit(remove_spec);
    }
    FILE *f = fopen(spec_path, "wb");
    if (!f)
        return NULL;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? spec_path : NULL;
}

static void search_and_fields(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return;
    cutune_spec_search ss;
    ct_spec_search_json(root, "fuzz.json", &ss);
    char *fields;
    size_t n;
    if (ct_spec_ignored_json(root, &fields, &n) == CUTUNE_OK) {
        for (const char *f = fields; *f; f += strlen(f) + 1)
            n--;
        if (n != 0)
            abort(); /* the count and the list disagree */
        free(fields);
    }
    json_decref(root);
}

static void kernel(const cutune_space *s, const uint8_t *data, size_t size, const uint32_t *c)
{
    const char *path = as_file(data, size);
    cutune_kernel *k;
    if (!path || cutune_kernel_load_t1(path, s, &k) != CUTUNE_OK)
        return;
    int64_t problem[3];
    cutune_kernel_problem(k, problem);
    if (c) {
        unsigned grid[3], block[3];
        size_t smem;
        int coop;
        cutune_kernel_geometry(k, c, grid, block, &smem);
        cutune_kernel_geometry_at(k, c, (int64_t[3]){7, 0, 3}, grid, block, &smem);
        cutune_kernel_cooperative_at(k, c, problem, &coop);
    }
    cutune_kernel_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    search_and_fields(data, size);
    cutune_space *s;
    if (cutune_space_load_t1_buffer(&s, (const char *)data, size, "fuzz.json") != CUTUNE_OK)
        return 0;
    for (size_t i = 0; i < cutune_space_num_warnings(s); i++)
        if (!cutune_space_warning(s, i))
            abort();
    uint32_t c[256];
    int have = cutune_space_get_default(s, c) == 1;
    if (have && cutune_space_is_valid(s, c) != 1)
        abort(); /* a default configuration is always a valid one */
    if (cutune_space_raw_size(s) <= 100000) {
        uint64_t n;
        cutune_space_count(s, &n);
        cutune_rng rng;
        cutune_rng_seed(&rng, 1);
        uint64_t failing;
        char why[256];
        cutune_space_count_failing(s, &failing, c, why, sizeof why);
        have = 0;
        if (n > 0 && cutune_space_sample(s, &rng, c) == CUTUNE_OK) {
            have = 1;
            char key[4096];
            cutune_space_config_key(s, c, key, sizeof key);
            cutune_space_parse_key(s, key, c);
            size_t found;
            uint32_t nb[8 * 256];
            cutune_space_neighbours(s, c, nb, 8, &found);
        }
        kernel(s, data, size, have ? c : NULL);
    }
    cutune_space_free(s);
    return 0;
}
