/* check.h — the few assertion macros the C tests use. A failed check prints where and why
 * and marks the test failed; the test carries on so one run shows every failure. */
#ifndef CUTUNE_CHECK_H
#define CUTUNE_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

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

#define CHECK_DONE()                                                                    \
    do {                                                                                \
        if (check_failures)                                                             \
            fprintf(stderr, "%d check(s) failed\n", check_failures);                    \
        return check_failures ? 1 : 0;                                                  \
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

/* exit code that CTest reports as "skipped" */
#define SKIP_TEST 77

#endif
