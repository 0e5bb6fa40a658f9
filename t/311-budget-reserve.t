# Budgets hold under concurrency: each admitted request reserves its worst
# case (prompt as counted + max_tokens, or the model's limit, times the
# dearest candidate's prices) on the day's total and its key until it ends;
# a budget is used up once spent + reserved reaches it, so requests in
# flight together overshoot it by at most one request.  The log phase
# swaps the reservation for the actual cost, and a request that fails gives
# it back.  (Before: daily_budget 0.10, 0.02 a request, 20 at once: 0.40.)
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;
use POSIX ();

no_shuffle();
install_checks();

our $Admin = "Authorization: Bearer adm-secret";

# each answer costs 10 x 1e-6 + 5 x 2e-6 = 2e-5 USD (the mock's usage)
our $Cost = 0.00002;

sub chat {
    my ($model, $max) = @_;
    return qq({"model": "$model", "max_tokens": $max, )
         . qq("messages": [{"role": "user", "content": "hi"}]});
}

# router_config.yaml: keys (yaml), cost_control (yaml)
sub cfg {
    my ($keys, $cost) = @_;
    my $y = "auth:\n  enabled: true\n  api_keys:\n"
        . "    - name: alice\n      key: \"sk-alice\"\n" . ($keys // '')
        . "  admin:\n    enabled: true\n    admin_token: \"adm-secret\"\n";
    $y .= "cost_control:\n$cost" if $cost;
    $y .= <<'_EOY_';
channels:
  - id: slow
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/slow/v1"
    api_key: "sk-up-slow"
    configured_models: ["slow-model"]
    cost_per_token: {input: 0.000001, output: 0.000002}
  - id: fast
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-fast"
    configured_models: ["fast-model"]
    cost_per_token: {input: 0.000001, output: 0.000002}
  - id: dead
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_5/v1"
    api_key: "sk-up-dead"
    configured_models: ["dead-model"]
    cost_per_token: {input: 0.000001, output: 0.000002}
routing:
  model_filters:
    min_context_length: 0
_EOY_
    return ">>> router_config.yaml\n$y";
}

# n requests at once, each on its own connection from its own process;
# %Burst counts the answers: 200, 429 (insufficient_quota) or 'other'
our %Burst;

sub burst {
    my ($n, $token, $body) = @_;
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my @pids;
    %Burst = ();
    for (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my ($status, undef, $content) = Airouter::Check::get_json(
                $port, "/v1/chat/completions", $token, 'POST', $body);
            # never the harness' END blocks in a child
            POSIX::_exit($status == 200 ? 0
                         : $status == 429
                           && $content =~ /"code":"insufficient_quota"/ ? 1
                         : 2);
        }
        push @pids, $pid;
    }
    for my $pid (@pids) {
        waitpid($pid, 0);
        my $rc = $? >> 8;
        $Burst{$rc == 0 ? 200 : $rc == 1 ? 429 : 'other'}++;
    }
}

my $ok = <<'_EOJ_';
            '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}'
_EOJ_
chomp $ok;

airouter_blocks(mock => <<"_EOC_",
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_3;
        default_type application/json;
        access_log logs/upstream.log;

        location /slow/ {
            echo_read_request_body;
            echo_sleep 1;
            echo $ok;
        }

        location /ok/ {
            echo_read_request_body;
            echo $ok;
        }
    }
_EOC_
                config => <<'_EOC_',
    location /v1/ { airouter; }
_EOC_
                user_files => sub { cfg() });

run_tests();

__DATA__

=== TEST 1: a key's daily budget, 20 requests at once against a slow upstream: spent stays within the budget plus one request
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.0001\n")
--- init
main::burst(20, "sk-capped", main::chat("slow-model", 10));
--- request
GET /v1/stats/daily
--- more_headers eval
$::Admin
--- check_json
my $spent = $j->{by_key}{capped}{cost} // 0;
my $n = $::Burst{200} // 0;
diag("200: $n, 429: " . ($::Burst{429} // 0) . ", spent $spent");
!$::Burst{other} && $n + ($::Burst{429} // 0) == 20
&& $spent <= 0.0001 + $::Cost + 1e-12
&& abs($spent - $n * $::Cost) < 1e-12



=== TEST 2: the global daily budget, the same burst from two keys
--- user_files eval
main::cfg("    - name: bob\n      key: \"sk-bob\"\n",
          "  global_daily_budget: 0.0001\n  auto_disable_on_budget_exceeded: true\n")
--- init
main::burst(10, "sk-alice", main::chat("slow-model", 10));
my %first = %::Burst;
main::burst(10, "sk-bob", main::chat("slow-model", 10));
$::Burst{$_} += $first{$_} for keys %first;
--- request
GET /v1/stats/daily
--- more_headers eval
$::Admin
--- check_json
my $spent = $j->{total}{cost} // 0;
my $n = $::Burst{200} // 0;
diag("200: $n, 429: " . ($::Burst{429} // 0) . ", spent $spent");
!$::Burst{other} && $n + ($::Burst{429} // 0) == 20
&& $spent <= 0.0001 + $::Cost + 1e-12
&& abs($spent - $n * $::Cost) < 1e-12



=== TEST 3: the hold is swapped for the actual cost when a request ends: one after another, a worst case of 4 answers' cost does not block the next
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.00009\n")
--- request eval
[ map { "POST /v1/chat/completions\n" . main::chat("fast-model", 40) } 1 .. 6 ]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 200, 200, 200, 200, 429]
--- response_body_like eval
[ ("Hello") x 5, '^\{"error":\{"message":"You exceeded your daily budget of 0\.000090 USD \(0\.000100 USD spent\)","type":"insufficient_quota","code":"insufficient_quota"\}\}$' ]
--- upstream_hits: 5



=== TEST 4: a request that fails gives its hold back: a worst case above the whole budget, then a request that fits
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.0001\n")
--- request eval
[ "POST /v1/chat/completions\n" . main::chat("dead-model", 1000),
  "POST /v1/chat/completions\n" . main::chat("fast-model", 10) ]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[503, 200]
--- response_body_like eval
[ "error", "Hello" ]
--- upstream_hits: 1



=== TEST 5: POST /v1/route explains without holding anything
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.0001\n")
--- request eval
[ "POST /v1/route\n" . main::chat("fast-model", 100000),
  "POST /v1/chat/completions\n" . main::chat("fast-model", 10) ]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 200]
--- response_body_like eval
[ "candidates", "Hello" ]
