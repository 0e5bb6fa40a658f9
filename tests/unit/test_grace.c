/*
 * The holding area of retired catalogues: nothing is given back before its
 * grace unless every slot is taken, then the oldest goes first.
 */

#include "unit.h"
#include "airouter_grace.h"


static char  blob[4];


static int
expired_count(airouter_grace_t *g, time_t now)
{
    int                    n;
    airouter_grace_slot_t  out;

    n = 0;

    while (airouter_grace_expired(g, now, &out)) {
        n++;
    }

    return n;
}


static void
test_grace_kept(void)
{
    airouter_grace_t       g;
    airouter_grace_slot_t  out;

    memset(&g, 0, sizeof(g));

    UNIT_CHECK(!airouter_grace_expired(&g, 1000, &out), "empty");
    UNIT_CHECK(!airouter_grace_oldest(&g, &out), "empty: no oldest");

    UNIT_CHECK(!airouter_grace_retire(&g, &blob[0], 10, 1000, &out),
               "first retired: nothing freed");

    UNIT_CHECK(!airouter_grace_expired(&g, 1000, &out), "at once");
    UNIT_CHECK(!airouter_grace_expired(&g,
                                       1000 + AIROUTER_GRACE_SECONDS - 1,
                                       &out), "a second before the grace");
    UNIT_CHECK(!airouter_grace_expired(&g, 999, &out), "clock stepped back");

    UNIT_CHECK(airouter_grace_expired(&g, 1000 + AIROUTER_GRACE_SECONDS,
                                      &out), "at the grace");
    UNIT_CHECK(out.blob == &blob[0] && out.len == 10, "the blob and length");
    UNIT_CHECK(!airouter_grace_expired(&g, 5000, &out), "taken once");
}


static void
test_grace_full(void)
{
    int                    i;
    airouter_grace_t       g;
    airouter_grace_slot_t  out;

    memset(&g, 0, sizeof(g));

    /* a burst in one second: every slot kept, then the oldest first */
    for (i = 0; i < AIROUTER_GRACE_SLOTS; i++) {
        UNIT_CHECK(!airouter_grace_retire(&g, &blob[i], i + 1, 1000, &out),
                   "slot %d free", i);
    }

    UNIT_CHECK(expired_count(&g, 1000 + AIROUTER_GRACE_SECONDS - 1) == 0,
               "nothing before the grace");

    UNIT_CHECK(airouter_grace_retire(&g, &blob[3], 4, 1000, &out),
               "full: one freed early");
    UNIT_CHECK(out.blob == &blob[0] && out.len == 1 && out.since == 1000,
               "the oldest, retired first");

    UNIT_CHECK(airouter_grace_retire(&g, &blob[0], 1, 1000, &out),
               "full again");
    UNIT_CHECK(out.blob == &blob[1], "then the next oldest, not the "
               "newest whose slot came first");

    UNIT_CHECK(airouter_grace_oldest(&g, &out) && out.blob == &blob[3],
               "oldest on demand (no room in the zone)");
    UNIT_CHECK(airouter_grace_oldest(&g, &out) && out.blob == &blob[0],
               "then the newest");
    UNIT_CHECK(!airouter_grace_oldest(&g, &out), "then none");
}


static void
test_grace_mixed(void)
{
    airouter_grace_t       g;
    airouter_grace_slot_t  out;

    memset(&g, 0, sizeof(g));

    (void) airouter_grace_retire(&g, &blob[0], 1, 1000, &out);
    (void) airouter_grace_retire(&g, &blob[1], 2, 1030, &out);

    UNIT_CHECK(expired_count(&g, 1000 + AIROUTER_GRACE_SECONDS) == 1,
               "only the one past its grace");
    UNIT_CHECK(!airouter_grace_retire(&g, &blob[2], 3, 1061, &out),
               "its slot is free again");
    UNIT_CHECK(expired_count(&g, 1030 + AIROUTER_GRACE_SECONDS) == 1,
               "the second at its own grace");
    UNIT_CHECK(expired_count(&g, 1061 + AIROUTER_GRACE_SECONDS) == 1,
               "the third at its own");
    UNIT_CHECK(!airouter_grace_oldest(&g, &out), "all given back");
}


int
main(void)
{
    test_grace_kept();
    test_grace_full();
    test_grace_mixed();

    UNIT_DONE("test_grace");
}
