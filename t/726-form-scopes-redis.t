# The form endpoints' own block scopes across hosts (airouter_redis):
# host A sees /v1/images/edits answer 404 model_not_found; host B then
# keeps dall-e-3 away from edits (no try: 503) but still generates with
# it, and Redis' block member carries the edits scope (11, after the
# dialects' 9 and 10: numbers Redis keeps must not move).  Two hosts and a
# redis-server: t/lib/Airouter/TwoHosts.pm.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::HTTP;
use Airouter::TwoHosts;
use Airouter::FormMock qw(form scope_mock scope_channels);

no_shuffle();
log_level('info');

our $B = '----airouterScopeRedis5Qe';
our $Edit = form($B, ['model', 'dall-e-3'],
                 ['image', 'PNGxxxx', 'in.png', 'image/png']);
our $Generate = '{"model": "dall-e-3", "prompt": "a fox"}';

sub edit_on {
    my ($port) = @_;
    return (http_request($port, 'POST', '/v1/images/edits',
                         type => "multipart/form-data; boundary=$B",
                         body => $Edit))[0 .. 2];
}

two_hosts(prefix => 't726:', mock => scope_mock("off", "images/edits"),
          user_files => ">>> router_config.yaml\n"
                        . scope_channels("dall-e-3"));

run_tests();

__DATA__

=== TEST 1: an edits 404 reaches the other host for edits only: it still generates with the model
--- config
    location /v1/ { airouter; }
    location = /health { airouter_health; }
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($st) = edit_on($A);
Test::More::is($st, 404, "$name - A saw the 404 on edits");
Test::More::ok(within(2, sub { (edit_on($BPort))[0] == 503 }),
               "$name - B keeps dall-e-3 away from edits (no try)");
($st) = raw_post($BPort, '/v1/images/generations', $Generate);
Test::More::is($st, 200, "$name - and still generates with it");
Test::More::like(redis_cli('zrange', "${Prefix}blocks", 0, -1),
                 qr/\["openai","dall-e-3",-1,8,11\]/,
                 "$name - the shared block names the edits scope (11)");
