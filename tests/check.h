/* check.h — the few assertion macros the C tests use. A failed check prints where and why
 * and marks the test failed; the test carries on so one run shows every failure. */
#ifndef CUTUNE_CHECK_H
#define CUTUNE_CHECK_H

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

/* exit code that CTest reports as "skipped" */
#define SKIP_TEST 77

#endif
