# #13 item 9 across hosts (airouter_redis): a model_not_found block holds
# for the endpoint that failed, on every host.  Host A sees /v1/completions
# of "gone" answer 404 model_not_found; host B then keeps gone-model away
# from completions but still sends chat to it, and Redis' block member says
# which endpoint it is for.  Two hosts and a redis-server per block: see
# t/lib/Airouter/TwoHosts.pm; the mock is t/205's (Airouter::ModelNotFound).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::TwoHosts;
use Airouter::ModelNotFound;
use Time::HiRes qw(sleep time);

no_shuffle();
log_level('info');

# the mock and yaml(): t/lib/Airouter/ModelNotFound.pm

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
