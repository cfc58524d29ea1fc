/* fuzz_spec.c — libFuzzer target for the T1 spec loader: any bytes must load or fail with a
 * message; a space that loads is then counted (its failing configurations too) and sampled,
 * when small enough to do quickly. */
#include "cutune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cutune_space *s;
    if (cutune_space_load_t1_buffer(&s, (const char *)data, size, "fuzz.json") != CUTUNE_OK)
        return 0;
    if (cutune_space_raw_size(s) <= 100000) {
        uint64_t n;
        cutune_space_count(s, &n);
        cutune_rng rng;
        cutune_rng_seed(&rng, 1);
        uint32_t c[256];
        uint64_t failing;
        char why[256];
        cutune_space_count_failing(s, &failing, c, why, sizeof why);
        if (n > 0 && cutune_space_sample(s, &rng, c) == CUTUNE_OK) {
            char key[4096];
            cutune_space_config_key(s, c, key, sizeof key);
            cutune_space_parse_key(s, key, c);
            size_t found;
            uint32_t nb[8 * 256];
            cutune_space_neighbours(s, c, nb, 8, &found);
        }
    }
    cutune_space_free(s);
    return 0;
}
