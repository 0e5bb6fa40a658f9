/*
 * A hedge: the second try of a routed request, started beside the first
 * when the first is slow to answer (routing.hedging).  nginx runs one
 * upstream connection per request, so the hedge is a connection of our
 * own: it connects, shakes hands (TLS, SNI, verification), writes the
 * request the proxy built for its candidate, and then only looks at the
 * answer's status line without reading it (MSG_PEEK, SSL_peek).  The
 * proxy hands a hedge it keeps to nginx's upstream as the keepalive
 * cache hands an idle connection (ngx_http_airouter_hedge_take), so the
 * answer is read, judged and relayed by the same code as any try's.
 *
 * Used by the proxy; calls nothing of ours.
 */

#ifndef NGX_HTTP_AIROUTER_HEDGE_H
#define NGX_HTTP_AIROUTER_HEDGE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "airouter_outcome.h"


typedef enum {
    NGX_HTTP_AIROUTER_HEDGE_IDLE = 0,
    NGX_HTTP_AIROUTER_HEDGE_CONNECTING,     /* connect, TLS, request */
    NGX_HTTP_AIROUTER_HEDGE_WAITING,        /* sent; no status line yet */
    NGX_HTTP_AIROUTER_HEDGE_ANSWERED,       /* a 2xx status line is there */
    NGX_HTTP_AIROUTER_HEDGE_REFUSED,        /* another status: left unread,
                                               for the outcome table */
    NGX_HTTP_AIROUTER_HEDGE_FAILED,         /* no answer: closed */
    NGX_HTTP_AIROUTER_HEDGE_TAKEN,          /* handed to nginx */
    NGX_HTTP_AIROUTER_HEDGE_CLOSED
} ngx_http_airouter_hedge_state_e;


typedef struct ngx_http_airouter_hedge_s  ngx_http_airouter_hedge_t;

/* Called once when the state becomes ANSWERED, REFUSED or FAILED. */
typedef void (*ngx_http_airouter_hedge_handler_pt)(
    ngx_http_airouter_hedge_t *h);


struct ngx_http_airouter_hedge_s {
    /* set by the caller before ngx_http_airouter_hedge_start() */
    struct sockaddr                     *sockaddr;
    socklen_t                            socklen;
    ngx_str_t                           *name;      /* the address, shown */
    ngx_chain_t                         *out;       /* the request bytes */
    ngx_msec_t                           connect_timeout;
    ngx_msec_t                           send_timeout;
    ngx_log_t                           *log;
#if (NGX_HTTP_SSL)
    ngx_ssl_t                           *ssl;       /* NULL: plain HTTP */
    ngx_str_t                            ssl_name;  /* SNI and the check */
    ngx_uint_t                           verify;
#endif
    ngx_http_airouter_hedge_handler_pt   handler;
    void                                *data;

    /* the hedge's own */
    ngx_http_airouter_hedge_state_e      state;
    ngx_uint_t                           status;    /* ANSWERED, REFUSED */
    ngx_peer_connection_t                peer;
    const char                          *failure;   /* FAILED: why */
    airouter_fault_e                     fault;     /* FAILED: the upstream's
                                                       (connect_error,
                                                       timeout, server_error
                                                       when it took the
                                                       request), NONE: ours */
};


ngx_int_t ngx_http_airouter_hedge_start(ngx_http_airouter_hedge_t *h);

/* Closes the connection, whatever the state; no handler call follows. */
void ngx_http_airouter_hedge_close(ngx_http_airouter_hedge_t *h);

/*
 * Hands the connection to the caller (for nginx's upstream): the hedge's
 * handlers and timers are gone, the answer's bytes (if any came) are
 * still unread and the read event stays ready.  NULL unless the request
 * went out whole (WAITING, ANSWERED or REFUSED).
 */
ngx_connection_t *ngx_http_airouter_hedge_take(ngx_http_airouter_hedge_t *h);

#endif /* NGX_HTTP_AIROUTER_HEDGE_H */
