/*
 * The holding area of retired catalogues: the rule that says when a
 * catalogue replaced by a publication may be freed.  Pure C; the zone
 * (ngx_http_airouter_zone.c) keeps one in its header and calls it under
 * the zone's lock.
 *
 * A handler reads the current catalogue without a lock or a pin, so a
 * catalogue must outlive every handler call that began while it was
 * current, whatever publications other processes make meanwhile (a reload
 * and a discovery run at once).  A retired catalogue is therefore kept
 * AIROUTER_GRACE_SECONDS, a bound no handler call reaches, in one of
 * AIROUTER_GRACE_SLOTS slots.  The grace is shortened in one case only:
 * the slots are full (a burst of publications) or the zone has no room
 * for a new catalogue; then the oldest goes first.
 */

#ifndef AIROUTER_GRACE_H
#define AIROUTER_GRACE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>


#define AIROUTER_GRACE_SLOTS    2
#define AIROUTER_GRACE_SECONDS  60


typedef struct {
    void                        *blob;       /* NULL: a free slot */
    size_t                       len;
    time_t                       since;      /* retired at */
    uint64_t                     order;      /* retired as the n-th */
} airouter_grace_slot_t;

typedef struct {
    airouter_grace_slot_t        slot[AIROUTER_GRACE_SLOTS];
    uint64_t                     retired;    /* blobs held so far */
} airouter_grace_t;


/*
 * Holds blob, retired at now.  Returns 1 and the slot it emptied in *early
 * when every slot was taken (the oldest, its grace cut short), else 0.
 */
int airouter_grace_retire(airouter_grace_t *g, void *blob, size_t len,
    time_t now, airouter_grace_slot_t *early);

/* Takes out one blob whose grace has passed at now: 1, or 0 when none. */
int airouter_grace_expired(airouter_grace_t *g, time_t now,
    airouter_grace_slot_t *out);

/* Takes out the oldest blob, whatever its age: 1, or 0 when none. */
int airouter_grace_oldest(airouter_grace_t *g, airouter_grace_slot_t *out);

#endif /* AIROUTER_GRACE_H */
