/*
 * Shared by the fuzz targets in tests/fuzz: each fuzz_<name>.c defines
 * LLVMFuzzerTestOneInput() (and, when it needs fixed state such as a
 * catalogue or a rank file, LLVMFuzzerInitialize()).  The same file links
 * with libFuzzer (clang -fsanitize=fuzzer) or with driver.c (any compiler:
 * corpus replay for `make test`, random mutation for `make fuzz`).
 *
 * FUZZ_CHECK is an oracle: when it fails it says what and aborts, so both
 * libFuzzer and the driver keep the input that broke it.
 */

#ifndef AIROUTER_FUZZ_H
#define AIROUTER_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);


#define FUZZ_CHECK(cond, ...)                                                 \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "ORACLE FAILED %s:%d: %s: ", __FILE__, __LINE__, \
                    #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            abort();                                                          \
        }                                                                     \
    } while (0)


/*
 * A private scratch directory for targets that must go through a path
 * (the YAML loader): under /dev/shm when there is one.  Created once per
 * process, removed at exit.
 */
const char *fuzz_scratch_dir(void);

/* Writes data to path (truncating); returns 0 or -1. */
int fuzz_write_file(const char *path, const void *data, size_t size);


/* A copy of data with a NUL after it, malloc'd (NULL: out of memory). */
char *fuzz_strndup(const uint8_t *data, size_t size);


/*
 * A small fixed configuration (four channels: a free relay, a paid API, a
 * local server, a disabled one, with tags, aliases and prices) loaded from
 * the scratch directory, and a catalogue built from it plus a few
 * discovered models.  Built once; the blob is 8-byte aligned and valid.
 */
const void *fuzz_fixture_blob(size_t *len);
void *fuzz_fixture_config(void);


#endif /* AIROUTER_FUZZ_H */
