/* test_propagate.c — enumeration by constraint propagation gives exactly the configurations,
 * in exactly the order, that checking every raw combination gives (random spaces and the
 * shipped specs); spaces with few valid configurations among 10^15 count, list and sample in
 * well under a second; sampling stays uniform whichever way it draws; and the configurations
 * that only a failing evaluation makes invalid are counted and named. */
#include "check.h"
#include "cutune.h"
#include "expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#if defined(__GNUC__)
#define CHECK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CHECK_PRINTF(f, a)
#endif

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"
#define KERNELS CUTUNE_SOURCE_DIR "/kernels/"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------- against brute force ---- */

typedef struct id_list {
    const cutune_space *s;
    uint64_t *ids;
    size_t n, cap;
} id_list;

static int add_id(const uint32_t *config, void *user)
{
    id_list *l = user;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->ids = realloc(l->ids, l->cap * sizeof *l->ids);
    }
    l->ids[l->n++] = cutune_space_config_id(l->s, config);
    return 0;
}

/* Enumeration, count and sampling agree with a check of every raw combination. */
static int same_as_brute_force(const cutune_space *s, const char *what)
{
    uint64_t raw = cutune_space_raw_size(s), count = 0;
    id_list got = {.s = s}, want = {.s = s};
    uint32_t config[64];
    for (uint64_t id = 0; id < raw; id++) {
        cutune_space_config_from_id(s, id, config);
        if (cutune_space_is_valid(s, config) == 1)
            add_id(config, &want);
    }
    int ok = cutune_space_enumerate(s, add_id, &got) == 0 && cutune_space_count(s, &count) == 0;
    ok = ok && got.n == want.n && count == want.n &&
         (want.n == 0 || memcmp(got.ids, want.ids, want.n * sizeof *want.ids) == 0);
    if (!ok)
        fprintf(stderr, "%s: enumeration gives %zu (count %llu), brute force %zu\n", what, got.n,
                (unsigned long long)count, want.n);
    /* samples are valid, and a seed gives the same ones */
    cutune_rng a, b;
    cutune_rng_seed(&a, 5);
    cutune_rng_seed(&b, 5);
    for (int i = 0; ok && i < 20; i++) {
        uint32_t c1[64], c2[64];
        int st = cutune_space_sample(s, &a, c1);
        ok = st == (want.n ? CUTUNE_OK : CUTUNE_EEMPTY) && cutune_space_sample(s, &b, c2) == st;
        ok = ok && (st || (cutune_space_is_valid(s, c1) == 1 &&
                           memcmp(c1, c2, cutune_space_num_params(s) * sizeof *c1) == 0));
        if (!ok)
            fprintf(stderr, "%s: sample %d is wrong (status %d: %s)\n", what, i, st,
                    cutune_last_error());
    }
    free(got.ids);
    free(want.ids);
    return ok;
}

/* (Each case that draws sets the state it starts from: the one it began with when the cases
 * ran one after the other, in one process.) */
static uint64_t rng_state;
static unsigned pick(unsigned n)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* snprintf for pieces of generated text, where cutting a long one short is harmless */
static void put(char *out, size_t size, const char *fmt, ...) CHECK_PRINTF(3, 4);
static void put(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

/* A random expression over parameters p0.. (ints), f (a float) and s (a string). */
static void gen(char *out, size_t size, int depth, int np)
{
    static const char *const arith[] = {"+", "-", "*", "//", "%", "**", "&", ">>"};
    static const char *const cmps[] = {"<", "<=", ">", ">=", "==", "!="};
    char a[300], b[300], c[300];
    unsigned k = depth <= 0 ? pick(3) : pick(14);
    switch (k) {
    case 0:
        put(out, size, "p%u", pick((unsigned)np));
        return;
    case 1:
        put(out, size, "%d", (int)pick(12) - 3);
        return;
    case 2:
        if (pick(2))
            put(out, size, "f");
        else
            put(out, size, "%d.5", (int)pick(4) - 1);
        return;
    case 3: case 4: case 5:
        gen(a, sizeof a, depth - 1, np), gen(b, sizeof b, depth - 1, np);
        put(out, size, "(%s %s %s)", a, arith[pick(8)], b);
        return;
    case 6: case 7: case 8:
        gen(a, sizeof a, depth - 1, np), gen(b, sizeof b, depth - 1, np);
        put(out, size, "%s %s %s", a, cmps[pick(6)], b);
        return;
    case 9:
        gen(a, sizeof a, depth - 1, np), gen(b, sizeof b, depth - 1, np);
        gen(c, sizeof c, depth - 1, np);
        unsigned first = pick(6), second = pick(6); /* in this order, whatever the compiler */
        put(out, size, "%s %s %s %s %s", a, cmps[first], b, cmps[second], c);
        return;
    case 10:
        gen(a, sizeof a, depth - 1, np), gen(b, sizeof b, depth - 1, np);
        put(out, size, "(%s %s %s)", a, pick(2) ? "and" : "or", b);
        return;
    case 11:
        gen(a, sizeof a, depth - 1, np), gen(b, sizeof b, depth - 1, np);
        put(out, size, "%s(%s, %s)", pick(2) ? "min" : "max", a, b);
        return;
    case 12:
        gen(a, sizeof a, depth - 1, np);
        put(out, size, pick(2) ? "not %s" : "%s in [0, 2, 3.5, 'x', 60]", a);
        return;
    default:
        gen(a, sizeof a, depth - 1, np);
        put(out, size, pick(2) ? "s == 'b' or %s" : "(s < 'c') + abs(%s)", a);
        return;
    }
}

static void test_random_spaces(void)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    int bad = 0, spaces = 0, constraints = 0;
    for (int t = 0; t < 400 && bad < 5; t++) {
        cutune_space *s;
        cutune_space_new(&s);
        int np = 2 + (int)pick(3);
        for (int p = 0; p < np; p++) {
            int64_t v[6];
            size_t n = 1 + pick(5);
            int big = pick(4) == 0; /* exponents that overflow 2 ** p */
            for (size_t i = 0; i < n; i++)
                v[i] = big ? 58 + 2 * (int64_t)i : (int64_t)i * (1 + p) - (int64_t)pick(3);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < i; j++)
                    if (v[j] == v[i])
                        v[i] = v[i] * 3 + 100 + (int64_t)i;
            char name[8];
            snprintf(name, sizeof name, "p%d", p);
            CHECK_INT(cutune_space_add_int(s, name, v, n), 0);
        }
        static const double f[] = {-1.5, 0.0, 2.25};
        static const char *const strs[] = {"a", "b", "cc"};
        CHECK_INT(cutune_space_add_float(s, "f", f, 1 + pick(3)), 0);
        CHECK_INT(cutune_space_add_string(s, "s", strs, 1 + pick(3)), 0);
        int nc = 1 + (int)pick(4);
        for (int c = 0; c < nc; c++) {
            char e[2048];
            gen(e, sizeof e, 3, np);
            constraints += cutune_space_add_constraint(s, e) == CUTUNE_OK;
        }
        char what[64];
        snprintf(what, sizeof what, "random space %d", t);
        bad += !same_as_brute_force(s, what);
        spaces++;
        cutune_space_free(s);
    }
    printf("random spaces: %d spaces, %d constraints, %d disagree with brute force\n", spaces,
           constraints, bad);
    CHECK_INT(bad, 0);
}

/* Parts over seven parameters have more combinations than are tabled: those run over ranges
 * before their last parameter is set. */
static void test_random_wide_spaces(void)
{
    rng_state = 0x5e1a20001fb0ce8bull;
    static const char *const ops[] = {" + ", " - ", " * ", " + 2 * ", " // 2 + "};
    static const char *const cmps[] = {" <= ", " > ", " == ", " != ", " < "};
    int bad = 0;
    uint64_t valid = 0;
    for (int t = 0; t < 12 && bad < 3; t++) {
        cutune_space *s;
        cutune_space_new(&s);
        for (int p = 0; p < 7; p++) {
            int64_t v[6], step = 1 + (int64_t)pick(3);
            for (int i = 0; i < 6; i++)
                v[i] = (int64_t)i * step - (int64_t)(p % 3);
            char name[8];
            snprintf(name, sizeof name, "p%d", p);
            CHECK_INT(cutune_space_add_int(s, name, v, 6), 0);
        }
        for (int c = 0; c < 2; c++) {
            char e[1024] = "", piece[300];
            for (int p = 0; p < 7; p++)
                snprintf(e + strlen(e), sizeof e - strlen(e), "%sp%d", p ? ops[pick(5)] : "", p);
            unsigned cmp = pick(5), bound = pick(40);
            snprintf(e + strlen(e), sizeof e - strlen(e), "%s%u", cmps[cmp], bound);
            gen(piece, sizeof piece, 2, 7);
            if (pick(2))
                snprintf(e + strlen(e), sizeof e - strlen(e), " %s %s", pick(2) ? "and" : "or",
                         piece);
            cutune_space_add_constraint(s, e);
        }
        char what[64];
        snprintf(what, sizeof what, "wide random space %d", t);
        uint64_t n = 0;
        cutune_space_count(s, &n);
        valid += n;
        bad += !same_as_brute_force(s, what);
        cutune_space_free(s);
    }
    printf("wide random spaces: 12 of 6^7 raw, %llu valid in all, %d disagree with brute force\n",
           (unsigned long long)valid, bad);
    CHECK_INT(bad, 0);
}

/* expr_never_true is sound: when it says never, no assignment within the ranges is true; and
 * when a run fails, it said one might. Checked on random expressions over small value sets. */
static void test_ranges_sound(void)
{
    rng_state = 0x1635106dc02d9818ull;
    static const char *const names[] = {"p0", "p1", "p2", "f", "s"};
    int nevers = 0, unsound = 0;
    for (int t = 0; t < 3000; t++) {
        char src[2048];
        gen(src, sizeof src, 3, 3);
        expr *e;
        expr_prog *prog;
        char err[256];
        if (expr_parse(src, &e, err, sizeof err))
            continue;
        int st = expr_compile(e, names, 5, &prog, NULL, err, sizeof err);
        expr_free(e);
        if (st)
            continue;
        /* each variable: three values, or one; p2 holds large ones (2 ** p2 overflows) */
        expr_value sets[5][3];
        size_t n[5];
        for (int v = 0; v < 3; v++) {
            n[v] = pick(2) ? 3 : 1;
            for (size_t i = 0; i < n[v]; i++)
                sets[v][i] = (expr_value){.type = EV_INT,
                                          .u.i = v == 2 ? 60 + 2 * (int64_t)i
                                                        : (int64_t)pick(9) - 3};
        }
        n[3] = 2, n[4] = 1;
        sets[3][0] = (expr_value){.type = EV_FLOAT, .u.f = -0.5};
        sets[3][1] = (expr_value){.type = EV_FLOAT, .u.f = 2.5};
        sets[4][0] = (expr_value){.type = EV_STR, .u.s = "b"};
        expr_range ranges[5];
        for (int v = 0; v < 4; v++) {
            ranges[v] = (expr_range){.kind = EXPR_NUMBERS, .num = sets[v][0].type,
                                     .lo = INFINITY, .hi = -INFINITY};
            for (size_t i = 0; i < n[v]; i++) {
                double x = sets[v][i].type == EV_INT ? (double)sets[v][i].u.i : sets[v][i].u.f;
                ranges[v].lo = fmin(ranges[v].lo, x);
                ranges[v].hi = fmax(ranges[v].hi, x);
            }
            if (n[v] == 1)
                ranges[v] = (expr_range){.kind = EXPR_EXACT, .v = sets[v][0]};
        }
        ranges[4] = (expr_range){.kind = EXPR_EXACT, .v = sets[4][0]};
        int may_fail = 0, never = expr_never_true(prog, ranges, &may_fail);
        nevers += never;
        int some_true = 0, some_fail = 0;
        for (size_t a = 0; a < n[0]; a++)
            for (size_t b = 0; b < n[1]; b++)
                for (size_t c = 0; c < n[2]; c++)
                    for (size_t d = 0; d < n[3]; d++) {
                        expr_value vars[5] = {sets[0][a], sets[1][b], sets[2][c], sets[3][d],
                                              sets[4][0]}, r;
                        int rst = expr_run(prog, vars, &r);
                        some_fail |= rst != 0;
                        some_true |= rst == 0 && expr_truthy(r);
                    }
        if ((never && some_true) || (some_fail && !may_fail) ||
            expr_never_true(prog, ranges, NULL) != never) {
            if (unsound++ < 5)
                fprintf(stderr, "'%s': never %d may_fail %d, but some true %d some fail %d\n",
                        src, never, may_fail, some_true, some_fail);
        }
        expr_prog_free(prog);
    }
    printf("ranges: %d of 3000 random expressions never true over their ranges, %d unsound\n",
           nevers, unsound);
    CHECK_INT(unsound, 0);
    CHECK(nevers > 100);
}

/* An infinity (a constant such as 1e999, or a parameter's value) makes NaN without failing
 * (inf % 3.0, inf - inf), and NaN compares false to everything: "f % 3.0 <= 5" is false at
 * f = inf, which no bounds say. Such runs are not decided over ranges (before, these were
 * "never true", and enumeration dropped every valid configuration). */
static void test_ranges_nonfinite(void)
{
    static const char *const names[] = {"x", "f"};
    static const char *const srcs[] = {"not ((x * 1e999) % 3.0 <= 5)",
                                       "not (min(x, 1e999 - 1e999) >= 0)",
                                       "not (f % 3.0 <= 5)", "not (f // 2.0 <= 5)"};
    expr_range ranges[2] = {{.kind = EXPR_NUMBERS, .num = EV_INT, .lo = 1, .hi = 2},
                            {.kind = EXPR_NUMBERS, .num = EV_FLOAT, .lo = 0.5, .hi = INFINITY}};
    for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
        expr *e;
        expr_prog *prog;
        char err[256];
        CHECK_INT(expr_parse(srcs[i], &e, err, sizeof err), 0);
        CHECK_INT(expr_compile(e, names, 2, &prog, NULL, err, sizeof err), 0);
        expr_free(e);
        /* true at x = 1, f = inf */
        expr_value vars[2] = {{.type = EV_INT, .u.i = 1}, {.type = EV_FLOAT, .u.f = INFINITY}}, r;
        CHECK(expr_run(prog, vars, &r) == 0 && expr_truthy(r));
        int may_fail = 0;
        if (expr_never_true(prog, ranges, &may_fail) || expr_never_true(prog, ranges, NULL)) {
            fprintf(stderr, "'%s' is never true over its ranges, but is at x = 1, f = inf\n",
                    srcs[i]);
            check_failures++;
        }
        expr_prog_free(prog);
    }
    /* the same in spaces whose part is run over ranges (more combinations than are tabled) */
    static const char *const cons[] = {"not (f % 3.0 <= 5) or y < 0",
                                       "not (min(f, 1e999 - 1e999) >= 0) or y < 0"};
    for (size_t i = 0; i < 2; i++) {
        cutune_space *s;
        cutune_space_new(&s);
        int64_t y[300];
        double f[300];
        for (int k = 0; k < 300; k++)
            y[k] = k, f[k] = k + 0.5;
        f[299] = i == 0 ? INFINITY : f[299];
        CHECK_INT(cutune_space_add_int(s, "y", y, 300), 0);
        CHECK_INT(cutune_space_add_float(s, "f", f, 300), 0);
        CHECK_INT(cutune_space_add_constraint(s, cons[i]), 0);
        uint64_t n = 0;
        CHECK_INT(cutune_space_count(s, &n), 0);
        CHECK_INT(n, i == 0 ? 300 : 90000);
        CHECK(same_as_brute_force(s, cons[i]));
        cutune_space_free(s);
    }
}

static void test_shipped_specs(void)
{
    static const struct {
        const char *path;
        uint64_t valid;
    } specs[] = {{DATA "convolution/spec.json", 4362}, {DATA "pnpoly/spec.json", 4092},
                 {KERNELS "sgemm.json", 0},           {KERNELS "oscillators.json", 0},
                 {KERNELS "max.json", 0},             {DATA "cutune/sgemm_subspace.json", 0}};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        cutune_space *s;
        if (cutune_space_load_t1(&s, specs[i].path)) {
            fprintf(stderr, "%s\n", cutune_last_error());
            check_failures++;
            continue;
        }
        CHECK(same_as_brute_force(s, specs[i].path));
        uint64_t n;
        CHECK_INT(cutune_space_count(s, &n), 0);
        if (specs[i].valid)
            CHECK_INT(n, specs[i].valid);
        cutune_space_free(s);
    }
}

/* ------------------------------------------------------- few valid among 10^15 ---- */

/* 15 parameters of ten values each: 10^15 raw combinations. */
static cutune_space *fifteen(void)
{
    cutune_space *s;
    cutune_space_new(&s);
    int64_t v[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int p = 0; p < 15; p++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", p);
        CHECK_INT(cutune_space_add_int(s, name, v, 10), 0);
    }
    return s;
}

/* "p0 SEP p1 SEP ... p14" and then `tail` into text. */
static void joined(char *text, size_t size, const char *sep, const char *tail)
{
    text[0] = '\0';
    for (int p = 0; p < 15; p++)
        snprintf(text + strlen(text), size - strlen(text), "%sp%d%s", p ? sep : "", p,
                 p == 14 ? tail : "");
}

typedef struct listing {
    const cutune_space *s;
    uint64_t n, last_id, sum_bits;
    int ascending;
} listing;

static int list_one(const uint32_t *config, void *user)
{
    listing *l = user;
    uint64_t id = cutune_space_config_id(l->s, config);
    l->ascending &= l->n == 0 || id > l->last_id;
    l->last_id = id;
    l->n++;
    l->sum_bits += config[3];
    return 0;
}

/* Counts, lists and samples the space; checks the count and that every sample is valid. Returns
 * the seconds it all took. */
static double count_list_sample(cutune_space *s, uint64_t want, const char *what)
{
    double t0 = now();
    uint64_t count = 0;
    CHECK_INT(cutune_space_count(s, &count), 0);
    listing l = {.s = s, .ascending = 1};
    CHECK_INT(cutune_space_enumerate(s, list_one, &l), 0);
    cutune_rng rng;
    cutune_rng_seed(&rng, 3);
    uint32_t c[15];
    int sampled = 0;
    for (int i = 0; i < 1000; i++)
        sampled += cutune_space_sample(s, &rng, c) == 0 && cutune_space_is_valid(s, c) == 1;
    double seconds = now() - t0;
    printf("%-44s %llu valid, counted, listed and sampled 1000 times in %.3f s\n", what,
           (unsigned long long)count, seconds);
    if (count != want || l.n != want || !l.ascending || sampled != 1000) {
        fprintf(stderr, "%s: count %llu, listed %llu (ascending %d), %d good samples; want %llu\n",
                what, (unsigned long long)count, (unsigned long long)l.n, l.ascending, sampled,
                (unsigned long long)want);
        check_failures++;
    }
    return seconds;
}

/* Generous: well under a second in an optimised build, a few times that under ASan. */
#define HOSTILE_SECONDS 5.0

static void test_few_valid(void)
{
    char text[1024] = "";
    cutune_space *s = fifteen();
    for (int p = 0; p < 15; p++) {
        snprintf(text, sizeof text, "p%d < 2", p);
        CHECK_INT(cutune_space_add_constraint(s, text), 0);
    }
    CHECK(count_list_sample(s, 32768, "15 constraints p_i < 2") < HOSTILE_SECONDS);
    cutune_space_free(s);

    s = fifteen();
    text[0] = '\0';
    for (int p = 0; p < 15; p++) /* p0 < 2 and p1 < 2 and ... */
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sp%d < 2", p ? " and " : "", p);
    CHECK_INT(cutune_space_add_constraint(s, text), 0);
    CHECK_INT(cutune_space_num_constraints(s), 1);
    CHECK(count_list_sample(s, 32768, "one conjunction of p_i < 2") < HOSTILE_SECONDS);
    cutune_space_free(s);

    /* p0 == p1 == ... == p14 and p0 < 2: two valid configurations, and both get sampled */
    s = fifteen();
    joined(text, sizeof text, " == ", " and p0 < 2");
    CHECK_INT(cutune_space_add_constraint(s, text), 0);
    CHECK(count_list_sample(s, 2, "chained equality, p0 < 2") < HOSTILE_SECONDS);
    cutune_rng rng;
    cutune_rng_seed(&rng, 11);
    uint32_t c[15];
    int ones = 0;
    for (int i = 0; i < 400; i++) {
        CHECK_INT(cutune_space_sample(s, &rng, c), 0);
        ones += c[14] == 1;
    }
    CHECK(ones > 140 && ones < 260); /* each of the two about half the time */
    cutune_space_free(s);

    /* a sum: 1 + 15 configurations */
    s = fifteen();
    joined(text, sizeof text, " + ", " <= 1");
    CHECK_INT(cutune_space_add_constraint(s, text), 0);
    CHECK(count_list_sample(s, 16, "p0 + ... + p14 <= 1") < HOSTILE_SECONDS);
    cutune_space_free(s);

    /* Kernel Tuner's usual thread-count limit over large value lists, and products */
    cutune_space *k;
    cutune_space_new(&k);
    int64_t sizes[64];
    for (int i = 0; i < 64; i++)
        sizes[i] = 32 * (i + 1);
    CHECK_INT(cutune_space_add_int(k, "block_size_x", sizes, 64), 0);
    CHECK_INT(cutune_space_add_int(k, "block_size_y", sizes, 64), 0);
    for (int p = 0; p < 8; p++) {
        int64_t v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        char name[16];
        snprintf(name, sizeof name, "t%d", p);
        CHECK_INT(cutune_space_add_int(k, name, v, 10), 0);
    }
    CHECK_INT(cutune_space_add_constraint(k, "block_size_x * block_size_y <= 1024"), 0);
    CHECK_INT(cutune_space_add_constraint(k, "t0 * t1 * t2 * t3 * t4 * t5 * t6 * t7 <= 2"), 0);
    /* pairs with x * y <= 1024, x and y multiples of 32: x/32 * y/32 <= 1; and the t's: all 1
     * but at most one 2 */
    CHECK(count_list_sample(k, 1 * 9, "block_size_x * block_size_y <= 1024") < HOSTILE_SECONDS);
    cutune_space_free(k);
}

/* ---------------------------------------------------------------------- uniformity ---- */

static void test_uniform_table(void)
{
    /* at most 3 of the 15 set: 1 + 15 + 105 + 455 = 576 valid of 2^15 live, 10^15 raw */
    cutune_space *s = fifteen();
    char text[1024] = "";
    for (int p = 0; p < 15; p++) {
        snprintf(text, sizeof text, "p%d < 2", p);
        CHECK_INT(cutune_space_add_constraint(s, text), 0);
    }
    joined(text, sizeof text, " + ", " <= 3");
    CHECK_INT(cutune_space_add_constraint(s, text), 0);
    id_list all = {.s = s};
    CHECK_INT(cutune_space_enumerate(s, add_id, &all), 0);
    CHECK_INT(all.n, 576);
    size_t *hits = calloc(all.n, sizeof *hits);
    cutune_rng rng;
    cutune_rng_seed(&rng, 99);
    const size_t per_cell = 50;
    uint32_t c[15];
    for (size_t i = 0; i < per_cell * all.n; i++) {
        CHECK_INT(cutune_space_sample(s, &rng, c), 0);
        uint64_t id = cutune_space_config_id(s, c);
        size_t lo = 0, hi = all.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (all.ids[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        CHECK(lo < all.n && all.ids[lo] == id);
        if (lo < all.n)
            hits[lo]++;
    }
    CHECK(fabs(chi2_uniform_z(hits, all.n, per_cell, "sampling from a table")) < 4.0);
    free(hits);
    free(all.ids);
    cutune_space_free(s);
}

/* 24 parameters of 5 values below 2 and p0 + p1 <= 1: 3 * 2^22 valid, too many to list, too
 * few for plain draws (0.4^24 of them valid): drawn over the live values. (p0, p1) is uniform
 * over its three pairs and p23 is a fair coin. */
static void test_uniform_live(void)
{
    cutune_space *s;
    cutune_space_new(&s);
    int64_t v[5] = {0, 1, 2, 3, 4};
    char text[64];
    for (int p = 0; p < 24; p++) {
        snprintf(text, sizeof text, "p%d", p);
        CHECK_INT(cutune_space_add_int(s, text, v, 5), 0);
        snprintf(text, sizeof text, "p%d < 2", p);
        CHECK_INT(cutune_space_add_constraint(s, text), 0);
    }
    CHECK_INT(cutune_space_add_constraint(s, "p0 + p1 <= 1"), 0);
    cutune_rng rng;
    cutune_rng_seed(&rng, 4);
    double pairs[3] = {0}, heads = 0;
    const int draws = 60000;
    uint32_t c[24];
    double t0 = now();
    for (int i = 0; i < draws; i++) {
        CHECK_INT(cutune_space_sample(s, &rng, c), 0);
        CHECK(c[0] + c[1] <= 1);
        pairs[c[0] * 2 + c[1] < 3 ? c[0] * 2 + c[1] : 0]++;
        heads += c[23];
    }
    double chi2 = 0;
    for (int k = 0; k < 3; k++)
        chi2 += (pairs[k] - draws / 3.0) * (pairs[k] - draws / 3.0) / (draws / 3.0);
    double z = (heads - draws / 2.0) / sqrt(draws / 4.0);
    printf("sampling over live values: (p0, p1) chi2 %.2f (2 degrees of freedom), p23 z = %.2f, "
           "%.2f s\n", chi2, z, now() - t0);
    CHECK(chi2 < 18.4); /* 99.99th percentile */
    CHECK(fabs(z) < 4.0);
    cutune_space_free(s);
}

/* -------------------------------------------------------- failing evaluations ---- */

static void test_failing(void)
{
    /* 2**x overflows 64 bits from x = 63 on, where Python's integers go on: those are
     * invalid here, and counted and named as such */
    cutune_space *s;
    cutune_space_new(&s);
    int64_t x[100], y[2] = {1, 2};
    for (int i = 0; i < 100; i++)
        x[i] = i;
    CHECK_INT(cutune_space_add_int(s, "x", x, 100), 0);
    CHECK_INT(cutune_space_add_int(s, "y", y, 2), 0);
    CHECK_INT(cutune_space_add_constraint(s, "y > 0 and 2**x > 10"), 0);
    uint64_t valid, failing;
    CHECK_INT(cutune_space_count(s, &valid), 0);
    CHECK_INT(valid, (62 - 4 + 1) * 2);
    uint32_t first[2];
    char why[256];
    CHECK_INT(cutune_space_count_failing(s, &failing, first, why, sizeof why), 0);
    CHECK_INT(failing, (99 - 63 + 1) * 2);
    CHECK_INT(first[0], 63);
    CHECK_INT(first[1], 0);
    CHECK_HAS(why, "constraint 1: column 12: '**' overflows 64-bit integers");
    CHECK_HAS(why, "(in \"y > 0 and 2**x > 10\")");
    /* where another constraint is false they are not counted (from x = 70 on) */
    CHECK_INT(cutune_space_add_constraint(s, "x < 70 or y // (x - 80) > 5"), 0);
    CHECK_INT(cutune_space_count_failing(s, &failing, NULL, why, sizeof why), 0);
    CHECK_INT(failing, (69 - 63 + 1 + 1) * 2); /* and x = 80, where y // (x - 80) fails too */
    cutune_space_free(s);

    /* a division by zero on its own */
    cutune_space_new(&s);
    CHECK_INT(cutune_space_add_int(s, "x", x, 10), 0);
    CHECK_INT(cutune_space_add_constraint(s, "100 // (x - 3) != 7"), 0);
    CHECK_INT(cutune_space_count_failing(s, &failing, first, why, sizeof why), 0);
    CHECK_INT(failing, 1);
    CHECK_INT(first[0], 3);
    CHECK_HAS(why, "'//' divides by zero");
    /* INT64_MIN % -1 overflows as INT64_MIN // -1 does, though its value (0) is in range: the
     * run over ranges must say it may fail (it said not, and none was counted) */
    cutune_space_free(s);
    cutune_space_new(&s);
    int64_t big[2] = {INT64_MIN, 5}, minus[2] = {-2, -1};
    CHECK_INT(cutune_space_add_int(s, "x", big, 2), 0);
    CHECK_INT(cutune_space_add_int(s, "y", minus, 2), 0);
    CHECK_INT(cutune_space_add_constraint(s, "x % y == 0"), 0);
    CHECK_INT(cutune_space_count(s, &valid), 0);
    CHECK_INT(valid, 2); /* (INT64_MIN, -2) and (5, -1) */
    CHECK_INT(cutune_space_count_failing(s, &failing, first, why, sizeof why), 0);
    CHECK_INT(failing, 1);
    CHECK_INT(first[0], 0);
    CHECK_INT(first[1], 1);
    CHECK_HAS(why, "'%' overflows 64-bit integers");
    /* none that can fail: found without enumerating (this space has 10^15 raw) */
    cutune_space_free(s);
    s = fifteen();
    char text[256];
    joined(text, sizeof text, " + ", " <= 1");
    CHECK_INT(cutune_space_add_constraint(s, text), 0);
    double t0 = now();
    CHECK_INT(cutune_space_count_failing(s, &failing, first, why, sizeof why), 0);
    CHECK_INT(failing, 0);
    CHECK_HAS(why, "");
    CHECK(now() - t0 < HOSTILE_SECONDS);
    cutune_space_free(s);
}

TEST_LIST(TEST_CASE(test_random_spaces) TEST_CASE(test_random_wide_spaces)
          TEST_CASE(test_ranges_sound) TEST_CASE(test_ranges_nonfinite)
          TEST_CASE(test_shipped_specs) TEST_CASE(test_few_valid) TEST_CASE(test_uniform_table)
          TEST_CASE(test_uniform_live) TEST_CASE(test_failing));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
