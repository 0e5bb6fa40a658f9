/*
 * Helpers the unit programs share (declared in unit.h): allocations
 * released together, reading a file whole, a configuration of plain
 * channels and a model looked up in a catalogue.  Linked into every
 * tests/unit/test_*.c program by the Makefile.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AIROUTER_UNIT_LIB
#include "unit.h"


/* The test's own allocations, released together by unit_free_all(). */
static void   **unit_allocs;
static size_t   unit_nallocs;
static size_t   unit_nalloc;


void *
unit_keep(void *p)
{
    void  **a;

    if (p == NULL) {
        return NULL;
    }

    if (unit_nallocs == unit_nalloc) {
        unit_nalloc = unit_nalloc ? unit_nalloc * 2 : 1024;
        a = realloc(unit_allocs, unit_nalloc * sizeof(void *));
        if (a == NULL) {
            fprintf(stderr, "unit_keep: out of memory\n");
            exit(2);
        }
        unit_allocs = a;
    }

    unit_allocs[unit_nallocs++] = p;

    return p;
}


void *
unit_alloc(size_t n)
{
    void  *p;

    p = calloc(1, n);
    if (p == NULL) {
        fprintf(stderr, "unit_alloc: out of memory\n");
        exit(2);
    }

    return unit_keep(p);
}


void
unit_free_all(void)
{
    while (unit_nallocs > 0) {
        free(unit_allocs[--unit_nallocs]);
    }

    free(unit_allocs);
    unit_allocs = NULL;
    unit_nalloc = 0;
}


char *
unit_read_file(const char *path, size_t *len)
{
    FILE         *f;
    char         *buf;
    long          n;
    struct stat   st;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    /*
     * fopen() opens a directory too, and ftell() at its end gives
     * LONG_MAX on ext4: the malloc below would then ask for 8 EB, which
     * ASan aborts on instead of returning NULL.
     */

    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    buf = malloc((size_t) n + 1);
    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);
    buf[n] = '\0';
    *len = (size_t) n;

    return buf;
}


airouter_config_t *
unit_config(size_t n)
{
    size_t              i;
    char               *id;
    airouter_config_t  *cf;

    cf = unit_alloc(sizeof(airouter_config_t));
    cf->channels = unit_alloc((n + 1) * sizeof(airouter_channel_t));
    cf->nchannels = n;

    for (i = 0; i < n; i++) {
        id = unit_alloc(32);
        snprintf(id, 32, "ch%u", (unsigned) i);
        cf->channels[i].id = id;
        cf->channels[i].enabled = 1;
        cf->channels[i].weight = 100;
        cf->channels[i].cost_cache_read = -1;
        cf->channels[i].cost_cache_write = -1;
    }

    return cf;
}


/* every model is looked at: its channel field is what is checked */
const airouter_catalog_model_t *
unit_find_model(const airouter_catalog_t *cat, uint32_t channel,
    const char *id)
{
    uint32_t                         i;
    const airouter_catalog_model_t  *m;

    for (i = 0; i < cat->nmodels; i++) {
        m = airouter_catalog_model(cat, i);

        if (m->channel == channel
            && strcmp(airouter_catalog_model_id(cat, m), id) == 0)
        {
            return m;
        }
    }

    return NULL;
}
