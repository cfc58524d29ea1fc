/* space_bench.c — how fast the space machinery runs on one core: enumeration of the shipped
 * specs, sampling, and validity checks. Prints one line per measurement. */
#include "cutune.h"

#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench_spec(const char *path)
{
    cutune_space *s;
    if (cutune_space_load_t1(&s, path)) {
        fprintf(stderr, "%s\n", cutune_last_error());
        return 1;
    }
    uint64_t count = 0;
    int reps = 0;
    double t0 = now(), t;
    do {
        cutune_space_count(s, &count);
        reps++;
    } while ((t = now() - t0) < 0.5);
    printf("%-40s enumerate: %llu valid of %llu raw in %.1f us\n", path,
           (unsigned long long)count, (unsigned long long)cutune_space_raw_size(s),
           t / reps * 1e6);
    cutune_rng rng;
    cutune_rng_seed(&rng, 1);
    uint32_t c[256];
    long n = 0;
    t0 = now();
    do {
        for (int i = 0; i < 10000; i++, n++)
            cutune_space_sample(s, &rng, c);
    } while ((t = now() - t0) < 0.5);
    printf("%-40s sample: %.2f million valid samples per second\n", path, n / t / 1e6);
    cutune_space_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= bench_spec(argv[i]);
    if (argc < 2)
        fprintf(stderr, "usage: space_bench SPEC.json...\n");
    return rc;
}
