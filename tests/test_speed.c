/* test_speed.c — constraints are evaluated at least 10 million times a second on one core
 * (the floor), measured on the convolution space's four constraints. Skipped in
 * sanitizer and debug builds, where the figure means nothing. */
#include "check.h"
#include "cutune.h"
#include "expr.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void)
{
#if defined(CUTUNE_SANITIZED) || !defined(NDEBUG)
    printf("skipped: speed is only measured in an optimised build without sanitizers\n");
    return SKIP_TEST;
#endif
    cutune_space *s;
    if (cutune_space_load_t1(&s, DATA "convolution/spec.json")) {
        fprintf(stderr, "%s\n", cutune_last_error());
        return 1;
    }
    size_t np = cutune_space_num_params(s);
    const char *names[16];
    for (size_t p = 0; p < np; p++)
        names[p] = cutune_space_param_name(s, p);
    static const char *const constraints[] = {
        "use_padding==0 or block_size_x % 32 != 0",
        "block_size_x*block_size_y<=1024",
        "use_padding==0 or use_shmem != 0",
        ("use_shmem == 0 or (((block_size_x*tile_size_x+(filter_width-1)))*((block_size_y*"
         "tile_size_y+(filter_height-1)))) < 12*1024")};
    expr_prog *progs[4];
    char err[256];
    for (int i = 0; i < 4; i++) {
        expr *e;
        CHECK_INT(expr_parse(constraints[i], &e, err, sizeof err), 0);
        CHECK_INT(expr_compile(e, names, np, &progs[i], NULL, err, sizeof err), 0);
        expr_free(e);
    }
    /* the variable values of every raw combination, laid out once */
    uint64_t raw = cutune_space_raw_size(s);
    expr_value *vars = malloc(raw * np * sizeof *vars);
    for (uint64_t id = 0; id < raw; id++) {
        uint32_t c[16];
        cutune_space_config_from_id(s, id, c);
        for (size_t p = 0; p < np; p++) {
            char buf[32];
            cutune_space_format_value(s, p, c[p], buf, sizeof buf);
            vars[id * np + p] = (expr_value){.type = EV_INT, .u.i = strtoll(buf, NULL, 10)};
        }
    }
    uint64_t evals = 0, truthy = 0;
    double start = now(), elapsed;
    do {
        for (uint64_t id = 0; id < raw; id++)
            for (int i = 0; i < 4; i++) {
                expr_value r;
                expr_run(progs[i], vars + id * np, &r);
                truthy += (uint64_t)r.u.i;
                evals++;
            }
    } while ((elapsed = now() - start) < 1.0);
    double rate = evals / elapsed;
    printf("constraint evaluations: %.1f million per second on one core (%llu true)\n",
           rate / 1e6, (unsigned long long)truthy);
    CHECK(rate >= 10e6);
    for (int i = 0; i < 4; i++)
        expr_prog_free(progs[i]);
    free(vars);
    cutune_space_free(s);
    CHECK_DONE();
}
