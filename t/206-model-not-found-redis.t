# #13 item 9 across hosts (airouter_redis): a model_not_found block holds
# for the endpoint that failed, on every host.  Host A sees /v1/completions
# of "gone" answer 404 model_not_found; host B then keeps gone-model away
# from completions but still sends chat to it, and Redis' block member says
# which endpoint it is for.  Two hosts and a redis-server per block: see
# t/lib/Airouter/TwoHosts.pm; the mock is t/205's.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::TwoHosts;
use Time::HiRes qw(sleep time);

no_shuffle();
log_level('info');

my $chat_body = '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
    . '"model":"m","choices":[{"index":0,"message":{"role":"assistant",'
    . '"content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":'
    . '10,"completion_tokens":5,"total_tokens":15}}';
my $text_body = '{"id":"cmpl-1","object":"text_completion","created":1,'
    . '"model":"m","choices":[{"text":"Hello!","index":0,"finish_reason":'
    . '"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,'
    . '"total_tokens":5}}';
my $not_found = '{"error":{"message":"The model does not exist",'
    . '"type":"invalid_request_error","code":"model_not_found"}}';

our $Mock = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location ~ ^/(gone|listed)/v1/completions\$ {
            return 404 '$not_found';
        }
        location ~ /v1/chat/completions\$ {
            echo_read_request_body;
            echo '$chat_body';
        }
        location ~ /v1/completions\$ {
            echo_read_request_body;
            echo '$text_body';
        }
        location = /gone/v1/models {
            echo '{"object":"list","data":[{"id":"other-model"}]}';
        }
        location = /listed/v1/models {
            echo '{"object":"list","data":[{"id":"listed-model"}]}';
        }
        location = /up/v1/models {
            echo '{"object":"list","data":[{"id":"up-model"}]}';
        }
    }
_EOC_

# "first" answers gpt-test first (cheaper), "up" after it
sub yaml {
    my ($first, $discovery) = @_;
    my $yaml = "channels:\n";
    my $price = 1;
    for my $id ($first, "up") {
        $yaml .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/$id/v1"
    api_key: "sk-$id-secret"
    configured_models: ["$id-model"]
    model_aliases:
      gpt-test: "$id-model"
    cost_per_token: {input: 0.00000$price, output: 0.00000$price}
_EOY_
        $price++;
    }
    return $yaml . <<"_EOY_";
routing:
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: $discovery
    run_on_startup: false
    interval_hours: 6
_EOY_
}

our $Text = '{"model": "gpt-test", "prompt": "hi"}';

two_hosts(prefix => 't206:', mock => $Mock);

run_tests();

__DATA__

=== TEST 1: a model_not_found on completions reaches the other host for completions only
--- config
    location /v1/ { airouter; }
    location = /health { airouter_health; }
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "false")
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($st, $h) = raw_post($A, '/v1/completions', $Text);
Test::More::is("$st " . ($h->{'x-router-fallbacks'} // ''),
               "200 gone:model_not_found 404", "$name - A saw the 404 on completions");
Test::More::ok(within(2, sub {
    my ($st, $h) = raw_post($BPort, '/v1/completions', $Text);
    $st == 200 && ($h->{'x-router-attempts'} // '') eq '1'
        && ($h->{'x-router-channel'} // '') eq 'up';
}), "$name - B keeps gone-model away from completions");
($st, $h) = chat_on($BPort);
Test::More::is("$st " . ($h->{'x-router-channel'} // '') . " " . ($h->{'x-router-attempts'} // ''),
               "200 gone 1", "$name - and still sends chat to it");
Test::More::like(redis_cli('zrange', "${Prefix}blocks", 0, -1),
                 qr/\["gone","gone-model",-1,8,2\]/,
                 "$name - the shared block names its endpoint (scope 2: completions)");
my $ttl = redis_cli('pttl', "${Prefix}block:gone:gone-model");
Test::More::ok($ttl > 0 && $ttl <= 60_000, "$name - short until discovery confirms ($ttl ms)");
