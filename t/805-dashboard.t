# airouter_dashboard: the status page compiled into the module.  It is
# served whole with its type and a Content-Security-Policy whose script and
# style hashes are those of the page's own inlined code (so the browser runs
# that code and nothing else), stays under 100 KB, carries no secret of the
# configuration, and src/ngx_http_airouter_dashboard_page.h is what
# dashboard/gen.pl makes of dashboard/ (the build needs no generator).  The
# admin tag list it reads, GET /v1/admin/tags, is behind the admin token and
# lists the whole catalogue; its explanation of a query (GET
# /v1/admin/route) leaves out a channel the admin switched off, as routing
# does.  The page in a real browser: t/806.
use Test::Nginx::Socket 'no_plan';
use Airouter::HTTP;
use Digest::SHA ();

no_shuffle();
log_level('info');

# the committed header is what the generator makes of the sources
{
    my $out = `perl dashboard/gen.pl --check 2>&1`;
    ok($? == 0, "src/ngx_http_airouter_dashboard_page.h is up to date "
                . "with dashboard/ (perl dashboard/gen.pl)") or diag($out);
}

sub csp_hash {
    my $h = Digest::SHA::sha256_base64($_[0]);
    $h .= '=' while length($h) % 4;
    return "'sha256-$h'";
}

# --- page_checks: the answer's headers, the CSP against the inlined code,
# the size, and no secret (the values listed in the section) anywhere
add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->page_checks;
    my $name = $block->name;
    my ($status, $h, $body, $raw) =
        http_request(server_port(), 'GET', '/dashboard');

    is($status, 200, "$name - the page answers 200");
    is($h->{'content-type'}, 'text/html; charset=utf-8',
       "$name - Content-Type");
    is($h->{'content-length'}, length($body),
       "$name - Content-Length is the page's length");
    cmp_ok(length($body), '<', 100 * 1024,
           "$name - the page with its CSS and JS is under 100 KB");
    is($h->{'x-content-type-options'}, 'nosniff', "$name - nosniff");
    is($h->{'x-frame-options'}, 'DENY', "$name - no framing");

    my ($script) = $body =~ m{<script>(.*?)</script>}s;
    my ($style) = $body =~ m{<style>(.*?)</style>}s;
    my @scripts = $body =~ m{<script}g;
    is(scalar(@scripts), 1, "$name - one script element, inline");
    unlike($body, qr{<script[^>]*\ssrc=|<link[^>]*stylesheet|\@import
                     |(?:src|href|action)\s*=\s*["']?(?:https?:)?//
                     |url\(\s*["']?(?:https?:)?//
                     |(?:fetch|open)\(\s*["'](?:https?:)?//}x,
           "$name - nothing loaded from elsewhere (no src, no CDN)");
    unlike($body, qr{\sstyle=|\son[a-z]+=}i,
           "$name - no inline style or event attributes (the CSP forbids them)");
    my $csp = $h->{'content-security-policy'} // '';
    is($csp, join('; ', "default-src 'none'",
                  "script-src " . csp_hash($script // 'none'),
                  "style-src " . csp_hash($style // 'none'),
                  "connect-src 'self'", "img-src 'self' data:",
                  "base-uri 'none'", "form-action 'none'",
                  "frame-ancestors 'none'"),
       "$name - the CSP allows exactly the inlined script and style");

    for my $secret (split /\n/, $block->page_checks) {
        next unless length $secret;
        unlike($raw, qr/\Q$secret\E/, "$name - \"$secret\" is not in the answer");
    }
    like($body, qr/sessionStorage/, "$name - the token goes to sessionStorage");
    unlike($body, qr/localStorage|document\.cookie/,
           "$name - and nowhere that outlives the tab");
});

run_tests();

__DATA__

=== TEST 1: the page, its headers and its CSP; no key or token of the configuration in it
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /dashboard { airouter_dashboard; }
--- user_files
>>> router_config.yaml
auth:
  enabled: true
  api_token: "api-token-805-secret"
  admin:
    enabled: true
    admin_token: "admin-token-805-secret"
channels:
  - id: paid
    base_url: "http://127.0.0.1:1/v1"
    api_key: "sk-channel-805-secret"
    configured_models: ["gpt-4o-mini"]
--- request
GET /dashboard
--- response_headers
Content-Type: text/html; charset=utf-8
Cache-Control: no-cache
Referrer-Policy: no-referrer
--- response_body_like: ^<!doctype html>\n.*<meta name="airouter-admin" content="token">\n.*<title>airouter</title>.*</html>\n$
--- page_checks
api-token-805-secret
admin-token-805-secret
sk-channel-805-secret
--- no_error_log
[error]



=== TEST 2: HEAD gives the headers and no body
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /dashboard { airouter_dashboard; }
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["m"]
--- request
HEAD /dashboard
--- response_headers_like
Content-Type: text/html; charset=utf-8
Content-Length: [1-9][0-9]{3,4}
Content-Security-Policy: default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]{43}='; .*
--- response_body
--- no_error_log
[error]



=== TEST 3: the page takes no other method
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /dashboard { airouter_dashboard; }
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["m"]
--- request
POST /dashboard
x=1
--- error_code: 405
--- no_error_log
[error]



=== TEST 4: airouter_dashboard needs airouter_config
--- http_config
--- config
    location = /dashboard { airouter_dashboard; }
--- request
GET /dashboard
--- must_die
--- error_log
"airouter_dashboard" needs "airouter_config" earlier in the http block



=== TEST 5: GET /v1/admin/tags: every tag of the catalogue, for the admin token only
An API key limited to free models sees the free models' tags in /v1/tags;
the admin's list counts every model, and without the admin token it is 401.
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
--- user_files
>>> router_config.yaml
auth:
  enabled: true
  api_keys:
    - name: free-only
      key: "key-free"
      allowed_tags: [free]
  admin:
    enabled: true
    admin_token: "adm-805"
channels:
  - id: relay
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["qwen/qwen3-8b:free", "gpt-4o-mini"]
--- request eval
["GET /v1/tags", "GET /v1/admin/tags", "GET /v1/admin/tags", "GET /v1/admin/tags"]
--- more_headers eval
["Authorization: Bearer key-free", "Authorization: Bearer adm-805", "Authorization: Bearer key-free", ""]
--- error_code eval
[200, 200, 401, 401]
--- response_body_like eval
[qr/^\{"object":"list","data":\[(?!.*"gpt")(?=.*\{"tag":"free","models":1\})(?=.*\{"tag":"qwen3","models":1\}).*\]\}$/,
 qr/^\{"object":"list","data":\[(?=.*\{"tag":"4o","models":1\})(?=.*\{"tag":"free","models":1\})(?=.*\{"tag":"gpt","models":1\}).*\]\}$/,
 qr/"code":"invalid_api_key".*"A valid admin token is required"|"A valid admin token is required".*"code":"invalid_api_key"/,
 qr/"code":"invalid_api_key".*"A valid admin token is required"|"A valid admin token is required".*"code":"invalid_api_key"/]
--- no_error_log
[error]



=== TEST 6: the page is told the admin API is open (auth off): it asks for no token
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /dashboard { airouter_dashboard; }
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["m"]
--- request
GET /dashboard
--- response_body_like: ^<!doctype html>\n<html lang="en">\n<head>\n(?:<meta [^\n]*\n)*<meta name="airouter-admin" content="open">\n<title>
--- no_error_log
[error]



=== TEST 7: ... or closed (auth on, admin API off): the page says so instead of a sign-in
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /dashboard { airouter_dashboard; }
    location /v1/admin/ { airouter_admin; }
--- user_files
>>> router_config.yaml
auth:
  enabled: true
  api_token: "t"
channels:
  - id: a
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["m"]
--- request eval
["GET /dashboard", "GET /v1/admin/channels"]
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/^<!doctype html>\n<html lang="en">\n<head>\n(?:<meta [^\n]*\n)*<meta name="airouter-admin" content="closed">\n<title>/,
 qr/"code":"admin_disabled"/]
--- no_error_log
[error]



=== TEST 8: the explanation the dashboard shows follows the admin's switch, as routing does
A channel disabled from the admin API leaves GET /v1/admin/route's
candidates (reason "unavailable"), and comes back when enabled.
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location /v1/admin/ { airouter_admin; }
--- user_files
>>> router_config.yaml
channels:
  - id: one
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["gpt-test"]
  - id: two
    base_url: "http://127.0.0.1:1/v1"
    configured_models: ["gpt-test"]
--- request eval
["GET /v1/admin/route?model=gpt-test", "POST /v1/admin/channels/one/disable",
 "GET /v1/admin/route?model=gpt-test", "POST /v1/admin/channels/one/enable",
 "GET /v1/admin/route?model=gpt-test"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[qr/"available":2,"candidates":\[\{"rank":1,"channel":"(one|two)".*\{"rank":2,"channel":"(one|two)"/,
 qr/"enabled":false/,
 qr/"available":1,"candidates":\[\{"rank":1,"channel":"two"(?!.*"rank":2).*"removed":\[\{"channel":"one","model":"gpt-test","reason":"unavailable"\}\]/,
 qr/"enabled":true/,
 qr/"available":2,"candidates":\[\{"rank":1,"channel":"(one|two)".*\{"rank":2,"channel":"(one|two)"/]
--- no_error_log
[error]
