/*
 * The parameter table (airouter_params.h) over a jansson tree: a value's
 * kind as the table sees it, and the check of a whole request body, every
 * top-level member and, for chat, every item of "messages".  The one
 * reading of jansson values for the API handler (ngx_http_airouter_api.c)
 * and the params fuzz target, so the target checks what requests meet.
 *
 * Pure C (jansson).
 */

#ifndef AIROUTER_PARAMS_JSON_H
#define AIROUTER_PARAMS_JSON_H

#include <jansson.h>

#include "airouter_params.h"


/* v as the table sees it; kind 0 when v is NULL (absent). */
void airouter_params_json_value(const json_t *v, airouter_json_value_t *out);

/* Item i of "messages": 0, or -1 with err filled. */
int airouter_params_json_message(size_t i, json_t *msg,
    airouter_params_error_t *err);

/*
 * A body (a JSON object) for endpoint (AIROUTER_PARAMS_*): 0, or -1 with
 * err filled for the first member (in jansson's order), then the first
 * message, that the table refuses.
 */
int airouter_params_json_body(unsigned endpoint, json_t *body,
    airouter_params_error_t *err);

#endif /* AIROUTER_PARAMS_JSON_H */
