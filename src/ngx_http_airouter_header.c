/*
 * Header lookup by name; see ngx_http_airouter_header.h.  Calls only
 * nginx.
 */

#include "ngx_http_airouter_header.h"


ngx_table_elt_t *
ngx_http_airouter_header_find(ngx_list_t *headers, u_char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, name, len) == 0)
        {
            return &h[i];
        }
    }
}
