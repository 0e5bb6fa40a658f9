# The routing strategy an admin switches to (POST /v1/admin/routing/strategy)
# is in the shared zone: with two workers, every request after the switch
# is routed by it, whichever worker takes it.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;

no_shuffle();
workers(2);
master_on();
log_level('info');
install_checks();

our $Admin = "Authorization: Bearer adm-secret";
our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

sub chat { my $m = shift // 'gpt-test';
           "POST /v1/chat/completions\n{\"model\": \"$m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" }

# channels: [id, base (kind on the counting upstream, or "mock:kind"),
# price in and out per token, extra yaml]
sub cfg {
    my ($top, @channels) = @_;
    my $y = "auth:\n  admin:\n    enabled: true\n    admin_token: \"adm-secret\"\n"
        . ($top // '') . "channels:\n";
    my $prio = 1;
    for my $c (@channels) {
        my ($id, $kind, $in, $out, $extra) = @$c;
        my $port = $kind =~ s/^mock:// ? 1 : 3;
        $y .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_$port/$kind/v1"
    api_key: "sk-up-$id"
    priority: $prio
_EOY_
        $y .= "    cost_per_token: {input: $in, output: $out}\n" if defined $in;
        $y .= $extra // "    configured_models: [\"$id-model\"]\n    model_aliases:\n      gpt-test: \"$id-model\"\n";
        $prio++;
    }
    return ">>> router_config.yaml\n$y"
        . "routing:\n  default_strategy: cost_first\n  model_filters:\n    min_context_length: 0\n";
}

our @Two = (["first", "ok", 0.000001, 0.000002], ["second", "ok", 0.000002, 0.000004]);

# --- workers_see: after the block's requests, 40 requests on fresh
# connections to the reuseport listener: every one must carry the
# strategy, and at least two workers must have answered
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->workers_see;
    return unless defined $want;
    my $n = ref $block->request eq 'ARRAY' ? @{$block->request} : 1;
    return if $idx != $n - 1;
    $want =~ s/\s+//g;
    my (%pids, @bad);
    for (1 .. 40) {
        my ($st, $h) = raw_post($ENV{TEST_NGINX_RAND_PORT_5},
                                '/v1/chat/completions', $Chat);
        $pids{$h->{'x-worker'} // '?'}++;
        push @bad, "$st " . ($h->{'x-router-strategy'} // 'none')
            if $st != 200 || ($h->{'x-router-strategy'} // '') ne $want;
    }
    Test::More::ok(!@bad, $block->name . " - every request routed by $want")
        or Test::More::diag(join ", ", @bad);
    Test::More::ok(keys %pids >= 2, $block->name . " - by more than one worker")
        or Test::More::diag(join ", ", keys %pids);
});

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", "    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
                      . ($block->extra_http_config // '')
                      . mock_http_config() . count_http_config())
        unless defined $block->http_config;
    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
_EOC_
    $block->set_value("user_files", cfg(undef, @Two))
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: the strategy switch reaches every worker from the next request
--- extra_http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_5 reuseport;
        location /v1/ {
            airouter;
            add_header X-Worker $pid always;
        }
    }
--- request eval
[main::chat(), "POST /v1/admin/routing/strategy\n{\"strategy\": \"quality_optimized\"}",
 "GET /v1/admin/routing/strategy"]
--- more_headers eval
["", $::Admin, $::Admin]
--- response_headers_like eval
["X-Router-Strategy: cost_first", "Content-Type: application/json", "Content-Type: application/json"]
--- response_body_like eval
["Hello", '^\{"strategy":"quality_optimized","source":"admin","default":"cost_first","available":\[.*"quality_optimized".*\],"previous":"cost_first"\}$',
 '^\{"strategy":"quality_optimized","source":"admin","default":"cost_first",']
--- workers_see: quality_optimized
--- error_log_once
routing strategy switched to "quality_optimized" by the admin API



=== TEST 2: an unknown strategy is refused with the list; null goes back to the config's
--- request eval
["POST /v1/admin/routing/strategy\n{\"strategy\": \"fastest_please\"}",
 "POST /v1/admin/routing/strategy\n{\"strategy\": \"free_first\"}",
 main::chat(),
 "POST /v1/admin/routing/strategy\n{\"strategy\": null}",
 main::chat()]
--- more_headers eval
[$::Admin, $::Admin, "", $::Admin, ""]
--- error_code eval
[400, 200, 200, 200, 200]
--- response_headers_like eval
["Content-Type: application/json", "Content-Type: application/json",
 "X-Router-Strategy: free_first", "Content-Type: application/json",
 "X-Router-Strategy: cost_first"]
--- response_body_like eval
['"code":"invalid_strategy","available":\["cost_first",', '"strategy":"free_first","source":"admin"',
 "Hello", '"strategy":"cost_first","source":"config"', "Hello"]



=== TEST 3: a client's X-Router-Strategy header still wins over the switched one
--- request eval
["POST /v1/admin/routing/strategy\n{\"strategy\": \"free_first\"}", main::chat()]
--- more_headers eval
[$::Admin, "X-Router-Strategy: quality_optimized"]
--- response_headers_like eval
["Content-Type: application/json", "X-Router-Strategy: quality_optimized"]



=== TEST 4: the strategy endpoint needs the admin token
--- request
POST /v1/admin/routing/strategy
{"strategy": "free_first"}
--- error_code: 401



=== TEST 4: /health reports the strategy in force after a switch
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health { airouter_health; }
--- request eval
["GET /health", "POST /v1/admin/routing/strategy\n{\"strategy\": \"speed_optimized\"}",
 "GET /health"]
--- more_headers eval
["", $::Admin, ""]
--- response_body_like eval
['"strategy":"cost_first"', '"strategy":"speed_optimized","source":"admin"',
 '"strategy":"speed_optimized"']
