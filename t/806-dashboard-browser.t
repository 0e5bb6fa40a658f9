# The dashboard in a real browser (#17 item 5): Debian's chromium, headless,
# driven by puppeteer-core (tests/browser/, installed by `make test`) runs
# tests/browser/dashboard.mjs against nginx with two mock channels serving
# the same model.  It signs in with the admin token (a wrong one is refused
# and not kept; the right one stays in sessionStorage only), holds one
# event stream (GET /v1/admin/events) and asks nothing else for 7 idle
# seconds, sees every
# configured channel, sees a chat request appear on the channel that
# answered (its count, the last requests, the hour's chart), disables that
# channel from the page and sees the next request go to the other one (in
# the last requests, newest first; the audit shows enabled -> disabled; the
# channel filter keeps that one request; the explanation of the model lists
# only the other channel; an image model typed in is explained as an image
# request at its price per image, and as chat, chosen beside the query,
# is the wrong kind), enables it again, signs out, and the page had no
# console error, page
# error or failed request but the wrong token's 401.  Each "ok"/"not ok"
# line of the script is one assertion here.  Without chromium the suite is
# skipped, saying so: `make test` installs it (apt-get install chromium).
use Test::Nginx::Socket;
use Airouter::Mock;
use Cwd ();

our $Browser = Cwd::abs_path("tests/browser");
our $Chromium = $ENV{CHROMIUM} || '/usr/bin/chromium';

if (!-x $Chromium) {
    plan(skip_all => "$Chromium is not installed (Debian: apt-get install "
                     . "chromium; make test tries it): the dashboard's "
                     . "browser test t/806 cannot run");
}

plan('no_plan');
no_shuffle();
log_level('info');

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->browser;
    if (!-d "$Browser/node_modules/puppeteer-core") {
        Test::More::fail($block->name . " - puppeteer-core is installed"
                         . " (cd tests/browser && npm install)");
        return;
    }
    my $base = "http://127.0.0.1:" . server_port();
    my @args = split ' ', $block->browser;
    local $ENV{CHROMIUM} = $Chromium;
    # make test-asan preloads the sanitizer runtime into the whole test
    # process for the instrumented module; chromium started under it never
    # prints its endpoint (puppeteer times out), and node needs none of it
    local $ENV{LD_PRELOAD};
    delete $ENV{LD_PRELOAD};
    my $out = `node $Browser/dashboard.mjs $base @args 2>&1`;
    my $status = $?;
    my $n = 0;
    for my $line (split /\n/, $out) {
        if ($line =~ /^(not )?ok - (.*)$/) {
            Test::More::ok(!$1, $block->name . " - browser: $2");
            $n++;
        } else {
            Test::More::diag($line);
        }
    }
    Test::More::ok($n >= 27 && $status == 0,
                   $block->name . " - the browser run ends cleanly ($n checks)")
        or Test::More::diag($out);
});

run_tests();

__DATA__

=== TEST 1: sign in, every channel, a request appears, disable a channel and the next request avoids it, no console error
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n" . mock_http_config()
--- config
    location = /dashboard { airouter_dashboard; }
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health { airouter_health; }
    location = /metrics { airouter_metrics; }
--- user_files
>>> router_config.yaml
auth:
  enabled: true
  api_token: "api-806"
  admin:
    enabled: true
    admin_token: "admin-806"
channels:
  - id: alpha
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-alpha"
    configured_models: ["gpt-test", "dall-e-3"]
    cost_per_unit: {image: 0.04}
  - id: beta
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-beta"
    configured_models: ["gpt-test", "dall-e-3"]
    cost_per_unit: {image: 0.04}
routing:
  model_filters:
    min_context_length: 0
--- request
GET /dashboard
--- browser: admin-806 api-806 gpt-test alpha,beta dall-e-3
--- response_body_like: <title>airouter</title>
--- timeout: 10
--- no_error_log
[alert]
