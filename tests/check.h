/* check.h — the few assertion macros the C tests use, and their named cases. A failed check
 * prints where and why and marks the case failed; the case carries on so one run shows every
 * failure. */
#ifndef CUTUNE_CHECK_H
#define CUTUNE_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int check_failures;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            check_failures++;                                                           \
        }                                                                               \
    } while (0)

#define CHECK_INT(got, want)                                                            \
    do {                                                                                \
        long long g_ = (long long)(got), w_ = (long long)(want);                        \
        if (g_ != w_) {                                                                 \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__,    \
                    #got, g_, w_);                                                      \
            check_failures++;                                                           \
        }                                                                               \
    } while (0)

/* `text` contains `part` */
#define CHECK_HAS(text, part)                                                           \
    do {                                                                                \
        const char *t_ = (text), *p_ = (part);                                          \
        if (!t_ || !strstr(t_, p_)) {                                                   \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                    t_ ? t_ : "(null)", p_);                                            \
            check_failures++;                                                           \
        }                                                                               \
    } while (0)

/* How far `hits` (n cells, each expected `expect` times) are from uniform: the z-score of
 * their chi-square statistic (about normal for many cells); prints it with `what`. */
static inline double chi2_uniform_z(const size_t *hits, size_t n, double expect,
                                    const char *what)
{
    double chi2 = 0;
    for (size_t i = 0; i < n; i++)
        chi2 += (hits[i] - expect) * (hits[i] - expect) / expect;
    double dof = (double)n - 1, z = (chi2 - dof) / sqrt(2 * dof);
    printf("%s: chi2 %.1f with %.0f degrees of freedom (z = %.2f)\n", what, chi2, dof, z);
    return z;
}

/* Makes a test's temporary folder from its mkdtemp template (ending in XXXXXX): 0, or 1
 * having said why. */
static inline int make_test_dir(char *dir)
{
    if (mkdtemp(dir))
        return 0;
    perror(dir);
    return 1;
}

/* NAME inside folder dir, in one of a few buffers that take turns (so that several may be
 * arguments of one call). */
static inline const char *test_path(const char *dir, const char *name)
{
    static char paths[8][1024];
    static unsigned next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

/* Removes a test's temporary folder and everything in it, read-only parts too. */
static inline void remove_test_dir(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* exit code that CTest reports as "skipped" */
#define SKIP_TEST 77

/* ---------------------------------------------------------------------- cases ---- */
/* A test program is a list of named cases, functions `static void NAME(void)`, listed once in
 * the order they run:
 *
 *     TEST_LIST(TEST_CASE(test_parse) TEST_CASE(bad_input));
 *     int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
 *
 * A case's name is its function's less a leading "test_" (parse, bad_input). Without an
 * argument the program runs every case; `PROGRAM NAME` runs that case alone, and
 * `PROGRAM --list` prints the names. tests/CMakeLists.txt reads the TEST_CASE(...) of the
 * source and registers each case as the CTest test PROGRAM/NAME, so a failure names its
 * case; a case therefore stands alone (its files of its own), and the list names each case
 * literally, one TEST_CASE each. A case that fails says "case NAME: N check(s) failed".
 *
 * setup, if not NULL, runs once before the cases (whether one or all): it returns 0, or
 * SKIP_TEST after printing "skipped: why", or anything else to fail the program; teardown,
 * if not NULL, runs after them. A case that cannot run here ends with SKIP_CASE("why"). The
 * exit status is 1 when a check failed, else SKIP_TEST when every case run was skipped, else
 * 0. With TIMES in the environment, each case's time goes to stderr. */
typedef struct check_case {
    const char *name;
    void (*run)(void);
} check_case;

#define TEST_CASE(fn) {#fn, fn},
#define TEST_LIST(...) static const check_case check_cases[] = {__VA_ARGS__}
#define TEST_RUN(argc, argv, setup, teardown)                                           \
    check_run(argc, argv, check_cases, sizeof check_cases / sizeof *check_cases, setup,     \
              teardown)

static int check_skipped;

#define SKIP_CASE(why)                                                                  \
    do {                                                                                \
        printf("skipped: %s\n", why);                                                   \
        check_skipped = 1;                                                              \
        return;                                                                         \
    } while (0)

static inline const char *check_case_name(const check_case *c)
{
    return strncmp(c->name, "test_", 5) == 0 ? c->name + 5 : c->name;
}

static inline int check_run(int argc, char **argv, const check_case *list, size_t n,
                            int (*setup)(void), void (*teardown)(void))
{
    size_t first = 0, end = n;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [--list | CASE]\n", argv[0]);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            puts(check_case_name(&list[i]));
        return 0;
    }
    if (argc == 2) {
        while (first < n && strcmp(check_case_name(&list[first]), argv[1]) != 0)
            first++;
        if (first == n) {
            fprintf(stderr, "%s: no case '%s' (--list names them)\n", argv[0], argv[1]);
            return 2;
        }
        end = first + 1;
    }
    if (setup) {
        int st = setup();
        if (st)
            return st == SKIP_TEST ? SKIP_TEST : 1;
    }
    size_t skipped = 0;
    for (size_t i = first; i < end; i++) {
        const char *name = check_case_name(&list[i]);
        int before = check_failures;
        struct timespec a, b;
        fflush(NULL); /* (what is buffered is not the case's children's to write again) */
        check_skipped = 0;
        clock_gettime(CLOCK_MONOTONIC, &a);
        list[i].run();
        clock_gettime(CLOCK_MONOTONIC, &b);
        fflush(stdout);
        if (getenv("TIMES"))
            fprintf(stderr, "case %s: %.2f s\n", name,
                    (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
        if (check_failures > before)
            fprintf(stderr, "case %s: %d check(s) failed\n", name, check_failures - before);
        skipped += check_skipped != 0;
    }
    if (teardown)
        teardown();
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    return skipped == end - first ? SKIP_TEST : 0;
}

#endif
