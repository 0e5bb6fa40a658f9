/*
 * A minimal unit-test kit for the pure-C files: each tests/unit/test_*.c is
 * one program; UNIT_CHECK records a result, UNIT_DONE prints one line
 * "test_x: N passed, M failed" and exits non-zero on failure.  The Makefile
 * sums those lines into the run's closing summary.
 */

#ifndef AIROUTER_UNIT_H
#define AIROUTER_UNIT_H

#include <stdio.h>
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

#endif /* AIROUTER_UNIT_H */
