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

no_shuffle();
log_level('info');

our $B = '----airouterScopeRedis5Qe';
our $Edit = "--$B\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
    . "dall-e-3\r\n--$B\r\nContent-Disposition: form-data; name=\"image\"; "
    . "filename=\"in.png\"\r\nContent-Type: image/png\r\n\r\nPNGxxxx\r\n"
    . "--$B--";
our $Generate = '{"model": "dall-e-3", "prompt": "a fox"}';

sub edit_on {
    my ($port) = @_;
    return (http_request($port, 'POST', '/v1/images/edits',
                         type => "multipart/form-data; boundary=$B",
                         body => $Edit))[0 .. 2];
}

my $not_found = '{"error":{"message":"The model does not exist",'
    . '"type":"invalid_request_error","code":"model_not_found"}}';

our $Mock = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location = /v1/images/edits {
            echo_read_request_body;
            echo_status 404;
            echo '$not_found';
        }
        location = /v1/images/generations {
            echo_read_request_body;
            echo '{"created":1,"data":[{"url":"http://img/1.png"}]}';
        }
    }
_EOC_

our $Channels = <<'_EOC_';
channels:
  - id: "openai"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/v1"
    api_key: "sk-openai-secret"
    configured_models: ["dall-e-3"]
routing:
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false
_EOC_

two_hosts(prefix => 't726:', mock => $Mock,
          user_files => ">>> router_config.yaml\n$Channels");

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
