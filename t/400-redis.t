# airouter_redis: several nginx hosts, one brain.  Blacklists, cooldowns,
# counters and the strategy reach the other host; Redis down or frozen
# loses nothing.  Two hosts and a redis-server per block: see
# t/lib/Airouter/TwoHosts.pm.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::TwoHosts;
use Airouter::Check ();
use JSON::PP;
use Time::HiRes qw(sleep time);
use POSIX ();

no_shuffle();
log_level('info');
workers(2);

two_hosts(prefix => 't400:', mock => mock_http_config());

run_tests();

__DATA__

=== TEST 1: both hosts connect; /health shows the Redis link
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "redis":\{[^}]*"address":"127.0.0.1:\d+"
--- scenario
Test::More::ok(both_up(), "$name - both hosts see redis up");
my $h = health($BPort)->{redis};
Test::More::is($h->{address}, "127.0.0.1:$RedisPort", "$name - address");



=== TEST 2: a 401 seen by host A makes host B skip that channel within a second
--- user_files eval: ::chans(["revoked", "e401"], ["up", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($st, $h) = chat_on($A);
Test::More::is("$st $h->{'x-router-channel'}", "200 up", "$name - A falls back");
Test::More::like($h->{'x-router-fallbacks'} // '', qr/revoked:invalid_api_key 401/,
                 "$name - A saw the 401");
my $t0 = time;
# pub/sub is the only way B can learn it without a reconnect; the window
# leaves room for a loaded machine (speed is for the benchmarks)
my $skipped = within(5, sub {
    my ($st, $h) = chat_on($BPort);
    $st == 200 && ($h->{'x-router-attempts'} // '') eq '1'
        && ($h->{'x-router-channel'} // '') eq 'up';
});
Test::More::ok($skipped, sprintf("$name - B skips the channel (%.2f s)", time - $t0));
my $ttl = redis_cli('pttl', "${Prefix}block:revoked");
Test::More::ok($ttl > 590_000 && $ttl <= 600_000, "$name - the block's key has its TTL ($ttl ms)");
Test::More::like(redis_cli('zrange', "${Prefix}blocks", 0, -1), qr/"revoked"/,
                 "$name - listed for hosts that connect later");



=== TEST 3: a model's cooldown (404) is shared too
--- user_files eval: ::chans(["gone", "e404"], ["up", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($st, $h) = chat_on($A);
Test::More::like($h->{'x-router-fallbacks'} // '', qr/gone:model_not_found 404/,
                 "$name - A saw the 404");
Test::More::ok(within(5, sub {
    my ($st, $h) = chat_on($BPort);
    $st == 200 && ($h->{'x-router-attempts'} // '') eq '1';
}), "$name - B skips that model (published)");
Test::More::cmp_ok(redis_cli('pttl', "${Prefix}block:gone:gone-model"), '>', 0,
                   "$name - the cooldown's key, (channel, model)");



=== TEST 4: a host that connects after the block reads it from Redis
--- user_files eval: ::chans(["revoked", "e401"], ["up", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
stop_b();
Test::More::ok(within(5, sub { (health($A)->{redis}{status} // '') eq 'up' }),
               "$name - A connected");
my ($st, $h) = chat_on($A);
Test::More::like($h->{'x-router-fallbacks'} // '', qr/revoked/, "$name - A saw the 401");
start_b();
Test::More::ok(both_up(), "$name - B connected after the block");
($st, $h) = chat_on($BPort);
Test::More::is(($h->{'x-router-attempts'} // '') . " " . ($h->{'x-router-channel'} // ''),
               "1 up", "$name - B read the block when it connected");



=== TEST 5: costs of requests spread over A and B sum in Redis and in both hosts' stats
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my $bad = 0;
for my $i (1 .. 10) {
    my ($st) = chat_on($i % 5 < 3 ? $A : $BPort);   # 6 on A, 4 on B
    $bad++ if $st != 200;
}
Test::More::is($bad, 0, "$name - every request answered");
my $day = "${Prefix}stats:" . today();
my $in_redis = within(3, sub { redis_cli('hget', $day, 'total::requests') eq '10' });
Test::More::ok($in_redis, "$name - Redis counts 10 requests");
Test::More::is(sprintf("%.6f", redis_cli('hget', $day, 'total::cost')), "0.000200",
               "$name - and their cost");
Test::More::is(redis_cli('hget', $day, 'channel:first:prompt_tokens'), "100",
               "$name - tokens per channel");
for my $host ([A => $A], [B => $BPort]) {
    my $ok = within(3, sub { (total($host->[1])->{requests} // 0) == 10 });
    my $t = total($host->[1]);
    Test::More::ok($ok, "$name - host $host->[0]'s /v1/stats/daily: 10 requests");
    Test::More::is(sprintf("%.6f", $t->{cost} // 0), "0.000200",
                   "$name - host $host->[0]'s cost");
}



=== TEST 6: Redis stopped during a burst: no request fails; restarted: the counters match
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($bad, $n, $slow) = (0, 0, 0);
for my $i (1 .. 30) {
    stop_redis('save') if $i == 10;
    my $t0 = time;
    my ($st) = chat_on($i % 2 ? $A : $BPort);
    $slow++ if time - $t0 > 0.5;
    $bad++ if $st != 200;
    $n++;
}
Test::More::is($bad, 0, "$name - no request failed while Redis was down");
Test::More::is($slow, 0, "$name - none waited for Redis");
my $h = health($A)->{redis};
Test::More::is($h->{status}, 'down', "$name - /health says down");
start_redis();
Test::More::ok(within(8, sub { (health($A)->{redis}{status} // '') eq 'up'
                               && (health($BPort)->{redis}{status} // '') eq 'up' }),
               "$name - both reconnected");
my $day = "${Prefix}stats:" . today();
Test::More::ok(within(3, sub { redis_cli('hget', $day, 'total::requests') eq $n }),
               "$name - Redis counts all $n requests")
    or Test::More::diag("redis has " . redis_cli('hget', $day, 'total::requests'));
for my $host ([A => $A], [B => $BPort]) {
    Test::More::ok(within(3, sub { (total($host->[1])->{requests} // 0) == $n }),
                   "$name - host $host->[0] counts $n");
}
my ($count) = `grep -c 'is unreachable' $BDir/logs/error.log` =~ /(\d+)/;
Test::More::is($count, 1, "$name - one warning for the outage (host B)");
$count = a_log_count('is unreachable');
Test::More::is($count, 1, "$name - one warning for the outage (host A)");
# chats go on after it too
my ($st) = chat_on($BPort);
Test::More::is($st, 200, "$name - and requests after it");



=== TEST 7: a silent Redis (SIGSTOP) is given up and reconnected; nothing counted twice
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($pid) = `cat $RedisDir/redis.pid` =~ /(\d+)/;
kill 'STOP', $pid;
my ($bad, $slow, $n) = (0, 0, 10);
for my $i (1 .. $n) {
    my $t0 = time;
    my ($st) = chat_on($i % 2 ? $A : $BPort);
    $slow++ if time - $t0 > 0.5;
    $bad++ if $st != 200;
    sleep 0.1;
}
Test::More::is("$bad $slow", "0 0", "$name - requests neither fail nor wait");
Test::More::ok(within(8, sub { (health($A)->{redis}{status} // '') eq 'down' }),
               "$name - the silent server is given up");
kill 'CONT', $pid;
Test::More::ok(within(10, sub { (health($A)->{redis}{status} // '') eq 'up'
                                && (health($BPort)->{redis}{status} // '') eq 'up' }),
               "$name - both reconnected");
my $day = "${Prefix}stats:" . today();
within(3, sub { redis_cli('hget', $day, 'total::requests') eq $n });
sleep 1;
Test::More::is(redis_cli('hget', $day, 'total::requests'), $n,
               "$name - each request counted once (a batch sent again is not applied twice)");
Test::More::cmp_ok(health($A)->{redis}{failures} // 0, '>=', 1,
                   "$name - a batch lost its answer and went again");
for my $host ([A => $A], [B => $BPort]) {
    Test::More::ok(within(3, sub { (total($host->[1])->{requests} // 0) == $n }),
                   "$name - host $host->[0] counts $n");
}



=== TEST 8: a unix socket, a password and a database number
--- redis_unix: 1
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "redis":\{"address":"unix:
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected (AUTH, SELECT)");
chat_on($_) for $A, $A, $BPort, $BPort;
my $day = "${Prefix}stats:" . today();
Test::More::ok(within(3, sub { redis_cli('hget', $day, 'total::requests') eq '4' }),
               "$name - counted in db 3");



=== TEST 9: the admin's strategy switch reaches the other host
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario
Test::More::ok(both_up(), "$name - both hosts connected");
my ($st) = raw_post_admin($A, '/v1/admin/routing/strategy', '{"strategy":"quality_optimized"}');
Test::More::is($st, 200, "$name - switched on A");
Test::More::ok(within(5, sub { (health($BPort)->{strategy} // '') eq 'quality_optimized' }),
               "$name - B routes by it (published)");
Test::More::is(redis_cli('get', "${Prefix}strategy"), 'quality_optimized', "$name - kept in Redis");
# a host that starts later reads it
stop_b();
start_b();
Test::More::ok(within(3, sub { (health($BPort)->{strategy} // '') eq 'quality_optimized' }),
               "$name - a host that connects later routes by it");



=== TEST 10: a host name is refused: hiredis would resolve it with a blocking getaddrinfo
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_redis localhost:6379;
--- config
--- user_files eval: ::chans(["first", "ok"])
--- must_die
--- error_log
"airouter_redis" needs an IP address (host:port) or "unix:/path", not "localhost:6379"



=== TEST 11: unknown parameters fail nginx -t
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_redis 127.0.0.1:6379 pasword=x;
--- config
--- user_files eval: ::chans(["first", "ok"])
--- must_die
--- error_log
invalid parameter "pasword=x" in "airouter_redis"



=== TEST 12: error_log debug tells the links' story: connecting, up, a flush, a day read back
--- log_level: debug
--- user_files eval: ::chans(["first", "ok"])
--- request eval
"POST /v1/chat/completions\n$::Chat"
--- more_headers
Content-Type: application/json
--- scenario
# the flush and the read-back come on worker 0's timer: wait for them
# rather than a fixed time (a loaded machine)
within(10, sub { a_log_count('airouter redis: counters of 3 nodes sent') >= 1
                 && a_log_count(' read back, 3 nodes merged') >= 1 });
--- error_log eval
[qr/airouter redis command link: connecting to "127\.0\.0\.1:\d+", timeout 500 ms/,
 qr/airouter redis command link: up, fd \d+/,
 qr/airouter redis subscriber link: up, fd \d+/,
 qr/airouter redis: counters of 3 nodes sent, batch 1\b/,
 qr/airouter redis: day \d+ read back, 3 nodes merged/]



=== TEST 13: cached prompt tokens go to Redis and reach the other host's stats
--- extra_http_config eval: Airouter::Check::count_http_config()
--- user_files eval
(my $y = ::chans(["cache", "cached"])) =~ s{RAND_PORT_1/cached/}{RAND_PORT_3/cached/};
$y
--- request eval
"POST /v1/chat/completions\n$::Chat"
--- more_headers
Content-Type: application/json
--- response_body_like: Hello
--- scenario
my $day = "${Prefix}stats:" . today();
Test::More::ok(within(3, sub { redis_cli('hget', $day, 'total::cached_tokens') eq '800' }),
               "$name - Redis counts the cached tokens");
Test::More::is(redis_cli('hget', $day, 'channel:cache:cached_tokens'), '800',
               "$name - per channel");
Test::More::ok(within(3, sub { (total($BPort)->{cached_tokens} // 0) == 800 }),
               "$name - host B's /v1/stats/daily has them");
