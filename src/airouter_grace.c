/*
 * The holding area of retired catalogues (policy: airouter_grace.h).
 */

#include "airouter_grace.h"


static int airouter_grace_take(airouter_grace_t *g, int i,
    airouter_grace_slot_t *out);
static int airouter_grace_oldest_index(const airouter_grace_t *g);


int
airouter_grace_retire(airouter_grace_t *g, void *blob, size_t len,
    time_t now, airouter_grace_slot_t *early)
{
    int  i, freed;

    freed = 0;

    for (i = 0; i < AIROUTER_GRACE_SLOTS; i++) {
        if (g->slot[i].blob == NULL) {
            break;
        }
    }

    if (i == AIROUTER_GRACE_SLOTS) {
        i = airouter_grace_oldest_index(g);
        freed = airouter_grace_take(g, i, early);
    }

    g->slot[i].blob = blob;
    g->slot[i].len = len;
    g->slot[i].since = now;
    g->slot[i].order = ++g->retired;

    return freed;
}


int
airouter_grace_expired(airouter_grace_t *g, time_t now,
    airouter_grace_slot_t *out)
{
    int  i;

    for (i = 0; i < AIROUTER_GRACE_SLOTS; i++) {
        /* a clock stepped back keeps the blob: only "full" frees it then */
        if (g->slot[i].blob != NULL
            && now >= g->slot[i].since
            && now - g->slot[i].since >= AIROUTER_GRACE_SECONDS)
        {
            return airouter_grace_take(g, i, out);
        }
    }

    return 0;
}


int
airouter_grace_oldest(airouter_grace_t *g, airouter_grace_slot_t *out)
{
    int  i;

    i = airouter_grace_oldest_index(g);

    return i < 0 ? 0 : airouter_grace_take(g, i, out);
}


static int
airouter_grace_take(airouter_grace_t *g, int i, airouter_grace_slot_t *out)
{
    *out = g->slot[i];

    g->slot[i].blob = NULL;
    g->slot[i].len = 0;
    g->slot[i].since = 0;
    g->slot[i].order = 0;

    return 1;
}


/* -1 when empty; by retirement order, which a clock step cannot change */
static int
airouter_grace_oldest_index(const airouter_grace_t *g)
{
    int  i, oldest;

    oldest = -1;

    for (i = 0; i < AIROUTER_GRACE_SLOTS; i++) {
        if (g->slot[i].blob != NULL
            && (oldest < 0 || g->slot[i].order < g->slot[oldest].order))
        {
            oldest = i;
        }
    }

    return oldest;
}
