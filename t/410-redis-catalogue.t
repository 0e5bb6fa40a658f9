# airouter_redis + discovery: one host polls the providers (it holds a
# lock with expiry in Redis) and the others serve the catalogue it shares;
# with Redis down every host runs discovery itself.  Two hosts and a
# redis-server per block: see t/lib/Airouter/TwoHosts.pm.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::TwoHosts;
use JSON::PP;
use Time::HiRes qw(sleep time);
use POSIX ();

no_shuffle();
log_level('info');
workers(2);

sub models_on { json_of((http_get($_[0], '/v1/models'))[1]) }

sub has_model {
    my ($port) = @_;
    my $j = models_on($port);
    scalar grep { ($_->{id} // '') =~ /disc-model-/ } @{$j->{data} // []};
}

sub fetches { my ($n) = `cat $ENV{TEST_NGINX_SERVER_ROOT}/logs/models.log 2>/dev/null | wc -l` =~ /(\d+)/; $n // 0 }

our $Mock6 = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_6;
        default_type application/json;
        access_log $TEST_NGINX_SERVER_ROOT/logs/models.log;
        location ~ ^/(?<ch>c[0-9])/v1/models$ {
            return 200 '{"object":"list","data":[{"id":"disc-model-$ch","object":"model"}]}';
        }
    }
_EOC_

our $Yaml = <<'_EOC_';
>>> router_config.yaml
auth:
  admin:
    enabled: true
    admin_token: "adm-secret"
channels:
  - id: c1
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_6/c1/v1"
    api_key: "sk-1"
  - id: c2
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_6/c2/v1"
    api_key: "sk-2"
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: true
    interval_hours: 6
    run_on_startup: true
_EOC_

two_hosts(prefix => 't410:', mock => $Mock6, user_files => $Yaml,
          extra => 'airouter_discovery_delay 0;');

run_tests();

__DATA__

=== TEST 1: two hosts, one Redis: one host polls the providers, both serve the catalogue
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
Test::More::ok(within(5, sub { has_model($A) && has_model($BPort) }),
               "$name - both hosts serve the discovered models");
sleep 1.5;
Test::More::is(fetches(), 2, "$name - one host fetched /models (2 channels, not 4)");
my $k = redis_cli('exists', "${Prefix}discovery:lock");
Test::More::is($k, 1, "$name - the lock is in Redis");
my %src = map { ($_ => health($_)->{discovery}{source} // '') } $A, $BPort;
Test::More::is(join(' ', sort values %src), 'local redis',
               "$name - one host ran it, the other took it from Redis");
my ($other) = grep { $src{$_} eq 'redis' } keys %src;
Test::More::like(health($other)->{discovery}{from} // '', qr/^[0-9a-f]{16}$/,
                 "$name - /health names the host it came from");



=== TEST 2: Redis down: discovery still runs locally
--- init
stop_redis(); start_b()
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(within(8, sub { has_model($BPort) }),
               "$name - host B ran discovery itself while Redis was down");
Test::More::is(health($BPort)->{discovery}{source}, 'local', "$name - source local");
Test::More::cmp_ok(health($BPort)->{discovery}{runs} // 0, '>=', 1, "$name - a run");
