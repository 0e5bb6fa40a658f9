/*
 * A minimal unit-test kit for the pure-C files: each tests/unit/test_*.c is
 * one program; UNIT_CHECK records a result, UNIT_DONE prints one line
 * "test_x: N passed, M failed" and exits non-zero on failure.  The Makefile
 * sums those lines into the run's closing summary.
 *
 * unit_fixture() names a file of the repository's test data: under
 * $AIROUTER_FIXTURES, by default tests/fixtures (run from the repository
 * root).  The helpers several programs need are in unit.c, linked into
 * every one.
 */

#ifndef AIROUTER_UNIT_H
#define AIROUTER_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_catalog.h"
#include "airouter_config.h"


/* zeroed memory, freed with everything else by unit_free_all() */
void *unit_alloc(size_t n);
/* p (malloc'd, may be NULL) is freed by unit_free_all(); returns p */
void *unit_keep(void *p);
void unit_free_all(void);

/* the whole file, malloc'd and NUL-terminated; NULL if it cannot be read */
char *unit_read_file(const char *path, size_t *len);

/* n enabled channels "ch0".."ch<n-1>", weight 100, no cache prices
 * (unit_alloc'd) */
airouter_config_t *unit_config(size_t n);

/* the model id of that channel in the catalogue, or NULL */
const airouter_catalog_model_t *unit_find_model(const airouter_catalog_t *cat,
    uint32_t channel, const char *id);

#ifndef AIROUTER_UNIT_LIB              /* unit.c has no results of its own */
static int  unit_passed;
static int  unit_failed;
#endif

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
