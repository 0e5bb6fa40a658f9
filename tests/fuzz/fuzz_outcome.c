/*
 * Error-body classification (airouter_outcome.c).  The first bytes pick
 * how the attempt ended and the status; the rest is the response body.
 * Oracles: the fault is a known one with a name; airouter_outcome_fault()
 * (which parses the body itself) agrees with airouter_outcome_fault_parsed()
 * given jansson's tree or NULL; the fault of a success status without an
 * error body is NONE; the verdict for it is well formed; and
 * airouter_outcome_retry_after() agrees with a plain reading of
 * delta-seconds (space/tab trimmed, 1 to 9 digits).
 */

#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "airouter_outcome.h"


static long retry_after_ref(const char *p, size_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                        status;
    long                       ra, ref;
    size_t                     cut;
    json_t                    *root;
    const char                *body;
    airouter_end_e             end;
    airouter_fault_e           f1, f2, f3;
    airouter_verdict_t         v;
    airouter_outcome_table_t   t;

    static const int  statuses[] = {
        200, 201, 204, 301, 400, 401, 402, 403, 404, 408, 409, 413, 422,
        429, 500, 502, 503, 504, 529, 599, 0, 99, 600, 1000, -1
    };

    if (size < 3) {
        return 0;
    }

    end = (airouter_end_e) (data[0] % 5 == 4 ? 0 : data[0] % 4);
    status = data[1] < 200 ? statuses[data[1] % (sizeof(statuses)
                                                 / sizeof(statuses[0]))]
                           : 100 + data[1] * 2;
    cut = data[2];
    body = (const char *) data + 3;
    size -= 3;

    f1 = airouter_outcome_fault(end, status, body, size);
    FUZZ_CHECK(f1 >= AIROUTER_FAULT_NONE && f1 < AIROUTER_FAULT_N
               && airouter_fault_name(f1) != NULL, "fault %d", (int) f1);

    root = json_loadb(body, size, 0, NULL);
    f2 = airouter_outcome_fault_parsed(end, status, body, size, root);
    json_decref(root);

    FUZZ_CHECK(f1 == f2, "fault %s, parsed %s (status %d)",
               airouter_fault_name(f1), airouter_fault_name(f2), status);

    /* a prefix of the body: what the proxy may have kept */
    f3 = airouter_outcome_fault(end, status, body, cut < size ? cut : size);
    FUZZ_CHECK(f3 >= AIROUTER_FAULT_NONE && f3 < AIROUTER_FAULT_N,
               "prefix fault %d", (int) f3);

    FUZZ_CHECK(airouter_outcome_fault(end, status, NULL, 0)
               == airouter_outcome_fault(end, status, body, 0),
               "NULL and empty bodies differ");

    airouter_outcome_table_init(&t, NULL, 60);

    ra = airouter_outcome_retry_after(body, size);
    ref = retry_after_ref(body, size);
    FUZZ_CHECK(ra == ref, "retry_after %ld, reference %ld", ra, ref);

    v = airouter_outcome_verdict(&t, f1, ra);
    FUZZ_CHECK(v.cooldown >= 0 && airouter_scope_name(v.scope) != NULL
               && (v.retry == 0 || v.retry == 1),
               "verdict retry %d scope %d cooldown %ld", v.retry,
               (int) v.scope, v.cooldown);

    return 0;
}


static long
retry_after_ref(const char *p, size_t n)
{
    long    v;
    size_t  i, a, b;

    a = 0;
    b = n;

    while (a < b && (p[a] == ' ' || p[a] == '\t')) {
        a++;
    }

    while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) {
        b--;
    }

    if (b == a || b - a > 9) {
        return -1;
    }

    v = 0;

    for (i = a; i < b; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }

    return v;
}
