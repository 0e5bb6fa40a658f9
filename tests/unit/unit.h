/*
 * A minimal unit-test kit for the pure-C files: each tests/unit/test_*.c is
 * one program; UNIT_CHECK records a result, UNIT_DONE prints one line
 * "test_x: N passed, M failed" and exits non-zero on failure.  The Makefile
 * sums those lines into the run's closing summary.
 *
 * unit_fixture() names a file of the repository's test data: under
 * $AIROUTER_FIXTURES, by default tests/fixtures (run from the repository
 * root).
 */

#ifndef AIROUTER_UNIT_H
#define AIROUTER_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int  unit_passed;
static int  unit_failed;

#define UNIT_CHECK(cond, ...)                                                 \
    do {                                                                      \
        if (cond) {                                                           \
            unit_passed++;                                                    \
        } else {                                                              \
            unit_failed++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

#define UNIT_STREQ(a, b)                                                      \
    do {                                                                      \
        const char *unit_a_ = (a), *unit_b_ = (b);                            \
        UNIT_CHECK(unit_a_ != NULL && unit_b_ != NULL                         \
                   && strcmp(unit_a_, unit_b_) == 0,                          \
                   "got \"%s\", want \"%s\"", unit_a_ ? unit_a_ : "(null)",   \
                   unit_b_ ? unit_b_ : "(null)");                             \
    } while (0)

#define UNIT_DONE(name)                                                       \
    do {                                                                      \
        printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed); \
        return unit_failed ? 1 : 0;                                           \
    } while (0)

static inline const char *
unit_fixture(char *buf, size_t size, const char *name)
{
    const char  *dir;

    dir = getenv("AIROUTER_FIXTURES");
    snprintf(buf, size, "%s/%s", dir && dir[0] ? dir : "tests/fixtures",
             name);

    return buf;
}

#endif /* AIROUTER_UNIT_H */
