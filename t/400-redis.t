# airouter_redis: several nginx hosts, one brain.  Every block starts its
# own redis-server on a loopback port ($TEST_NGINX_RAND_PORT_4); the
# harness' nginx is host A, and the block's `--- init` starts host B (same
# module, same router_config.yaml, its own prefix, port
# $TEST_NGINX_RAND_PORT_5).  A block's `--- scenario` names the sub below
# that drives both hosts once A has answered the block's request; host B's
# error log is then checked as the harness checks A's.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use JSON::PP;
use Time::HiRes qw(sleep time);
use POSIX ();

no_shuffle();
log_level('info');
workers(2);

our $Admin = "adm-secret";
our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Prefix = 't400:';
our ($RedisDir, $RedisPort, $BDir, $BPort);
our ($RedisArgs, $CliArgs, $RedisLine) = ('', '', '');

# --- redis-server of the block ---------------------------------------------

sub redis_cli { my $out = `redis-cli -p $RedisPort $CliArgs @_ 2>&1`; chomp $out; $out }

sub start_redis {
    system("redis-server --port $RedisPort --bind 127.0.0.1 --save '' "
           . "--appendonly no --daemonize yes --dir $RedisDir "
           . "--pidfile $RedisDir/redis.pid --logfile $RedisDir/redis.log $RedisArgs") == 0
        or die "redis-server did not start\n";
    for (1 .. 200) { return if redis_cli('ping') eq 'PONG'; sleep 0.02 }
    die "redis-server does not answer on $RedisPort\n";
}

# SHUTDOWN SAVE: its data comes back when it restarts, as a persistent
# Redis' would
sub stop_redis {
    my ($how) = @_;
    return unless $RedisPort;
    redis_cli('shutdown', $how // 'nosave');
    for (1 .. 200) { last if redis_cli('ping') ne 'PONG'; sleep 0.02 }
}

# --- host B ------------------------------------------------------------------

sub b_pid { open my $f, '<', "$BDir/logs/nginx.pid" or return; my $p = <$f>; chomp $p if $p; $p }

sub start_b {
    my $extra = shift // "";
    system("mkdir -p $BDir/logs $BDir/conf $BDir/tmp");
    my $mods = join '', map { "load_module $_;\n" }
                        grep { length } split /\s+/, $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $user = $> == 0 ? "user root;\n" : '';
    my $html = Test::Nginx::Socket::html_dir();
    open my $f, '>', "$BDir/conf/nginx.conf" or die;
    print $f <<"_EOC_";
$mods$user
worker_processes 2;
daemon on;
master_process on;
error_log $BDir/logs/error.log info;
pid $BDir/logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $BDir/tmp;
    proxy_temp_path $BDir/tmp;
    airouter_config $html/router_config.yaml;
    airouter_redis $RedisLine;
    $extra
    server {
        listen 127.0.0.1:$BPort;
        location /v1/ { airouter; }
        location /v1/admin/ { airouter_admin; }
        location = /health { airouter_health; }
    }
}
_EOC_
    close $f;
    system($ENV{TEST_NGINX_BINARY} // 'nginx', '-p', "$BDir/", '-c',
           "$BDir/conf/nginx.conf", '-e', "$BDir/logs/error.log") == 0
        or die "host B did not start: " . `tail -5 $BDir/logs/error.log`;
    for (1 .. 200) { last if b_pid(); sleep 0.02 }
}

sub stop_b {
    my $pid = $BDir && b_pid() or return;
    kill 'QUIT', $pid;
    for (1 .. 250) { last unless kill 0, $pid; sleep 0.02 }
    kill 'KILL', $pid if kill 0, $pid;
    unlink "$BDir/logs/nginx.pid";
}

sub stop_all { stop_b(); stop_redis(); undef $RedisPort }

END { stop_all() }

# --- HTTP --------------------------------------------------------------------

sub http_get {
    my ($port, $path) = @_;
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5) or return (0, '');
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n"
        . "Authorization: Bearer $Admin\r\n\r\n";
    local $/;
    my $raw = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($st) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    return ($st // 0, $body // '');
}

sub json_of { my $j = eval { decode_json($_[0]) }; $j // {} }

sub health { json_of((http_get($_[0], '/health'))[1]) }

# waits until cond() holds (true) or the time is up (false)
sub within {
    my ($seconds, $cond) = @_;
    my $end = time + $seconds;
    while (1) {
        return 1 if $cond->();
        return 0 if time > $end;
        sleep 0.05;
    }
}

sub both_up {
    within(5, sub { (health(Test::Nginx::Socket::server_port())->{redis}{status} // '') eq 'up'
                    && (health($BPort)->{redis}{status} // '') eq 'up' });
}

sub today { POSIX::strftime('%Y-%m-%d', gmtime) }

sub total { json_of((http_get($_[0], '/v1/stats/daily'))[1])->{total} // {} }

sub chat_on { raw_post($_[0], '/v1/chat/completions', $Chat) }

# --- scenarios ---------------------------------------------------------------

our %Scenario = (

    health => sub {
        my ($name) = @_;
        Test::More::ok(both_up(), "$name - both hosts see redis up");
        my $h = health($BPort)->{redis};
        Test::More::is($h->{address}, "127.0.0.1:$RedisPort", "$name - address");
    },

    blacklist => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
        Test::More::ok(both_up(), "$name - both hosts connected");
        my ($st, $h) = chat_on($A);
        Test::More::is("$st $h->{'x-router-channel'}", "200 up", "$name - A falls back");
        Test::More::like($h->{'x-router-fallbacks'} // '', qr/revoked:invalid_api_key 401/,
                         "$name - A saw the 401");
        my $t0 = time;
        my $skipped = within(1, sub {
            my ($st, $h) = chat_on($BPort);
            $st == 200 && ($h->{'x-router-attempts'} // '') eq '1'
                && ($h->{'x-router-channel'} // '') eq 'up';
        });
        Test::More::ok($skipped, sprintf("$name - B skips the channel (%.2f s)", time - $t0));
        my $ttl = redis_cli('pttl', "${Prefix}block:revoked");
        Test::More::ok($ttl > 590_000 && $ttl <= 600_000, "$name - the block's key has its TTL ($ttl ms)");
        Test::More::like(redis_cli('zrange', "${Prefix}blocks", 0, -1), qr/"revoked"/,
                         "$name - listed for hosts that connect later");
    },

    cooldown => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
        Test::More::ok(both_up(), "$name - both hosts connected");
        my ($st, $h) = chat_on($A);
        Test::More::like($h->{'x-router-fallbacks'} // '', qr/gone:model_not_found 404/,
                         "$name - A saw the 404");
        Test::More::ok(within(1, sub {
            my ($st, $h) = chat_on($BPort);
            $st == 200 && ($h->{'x-router-attempts'} // '') eq '1';
        }), "$name - B skips that model within a second");
        Test::More::cmp_ok(redis_cli('pttl', "${Prefix}block:gone:gone-model"), '>', 0,
                           "$name - the cooldown's key, (channel, model)");
    },

    blacklist_late => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
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
    },

    counters => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
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
    },

    outage => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
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
        ($count) = `grep -c 'is unreachable' @{[Test::Nginx::Socket::server_root()]}/logs/error.log` =~ /(\d+)/;
        Test::More::is($count, 1, "$name - one warning for the outage (host A)");
        # chats go on after it too
        my ($st) = chat_on($BPort);
        Test::More::is($st, 200, "$name - and requests after it");
    },

    silent => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
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
    },

    unix => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
        Test::More::ok(both_up(), "$name - both hosts connected (AUTH, SELECT)");
        chat_on($_) for $A, $A, $BPort, $BPort;
        my $day = "${Prefix}stats:" . today();
        Test::More::ok(within(3, sub { redis_cli('hget', $day, 'total::requests') eq '4' }),
                       "$name - counted in db 3");
    },

    strategy => sub {
        my ($name) = @_;
        my $A = Test::Nginx::Socket::server_port();
        Test::More::ok(both_up(), "$name - both hosts connected");
        my ($st) = raw_post_admin($A, '/v1/admin/routing/strategy', '{"strategy":"quality_optimized"}');
        Test::More::is($st, 200, "$name - switched on A");
        Test::More::ok(within(1, sub { (health($BPort)->{strategy} // '') eq 'quality_optimized' }),
                       "$name - B routes by it within a second");
        Test::More::is(redis_cli('get', "${Prefix}strategy"), 'quality_optimized', "$name - kept in Redis");
        # a host that starts later reads it
        stop_b();
        start_b();
        Test::More::ok(within(3, sub { (health($BPort)->{strategy} // '') eq 'quality_optimized' }),
                       "$name - a host that connects later routes by it");
    },
);

sub raw_post_admin {
    my ($port, $path, $body) = @_;
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5) or return (0, '');
    print $s "POST $path HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer $Admin\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    my ($st) = $raw =~ m{^HTTP/\S+ (\d+)};
    return ($st // 0, $raw);
}

add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $s = $block->scenario or return;
    chomp $s;
    $Scenario{$s}->($block->name);
    # the harness reads host A's error log; B's is read here
    my @bad = grep { /\[(alert|emerg)\]|AddressSanitizer|runtime error/ }
              `cat $BDir/logs/error.log 2>/dev/null`;
    Test::More::ok(!@bad, $block->name . " - no [alert], [emerg] or sanitizer report from host B")
        or Test::More::diag(join '', @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
});

add_block_preprocessor(sub {
    my $block = shift;
    stop_all();
    return if defined $block->must_die;
    $RedisPort = $ENV{TEST_NGINX_RAND_PORT_4};
    $BPort = $ENV{TEST_NGINX_RAND_PORT_5};
    $RedisDir = Test::Nginx::Socket::server_root() . "_redis";
    $BDir = Test::Nginx::Socket::server_root() . "_b";
    ($RedisArgs, $CliArgs) = ('', '');
    $RedisLine = "127.0.0.1:$RedisPort prefix=$Prefix connect_timeout=500ms";
    if (defined $block->redis_unix) {
        $RedisArgs = "--unixsocket $RedisDir/redis.sock --unixsocketperm 777 --requirepass s3cret";
        $CliArgs = "-a s3cret -n 3 --no-auth-warning";
        $RedisLine = "unix:$RedisDir/redis.sock password=s3cret db=3 prefix=$Prefix";
        $block->set_value("http_config", "    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
                          . "    airouter_redis $RedisLine;\n" . mock_http_config());
    }
    system("rm -rf $RedisDir $BDir; mkdir -p $RedisDir");
    start_redis();
    $block->set_value("init", "start_b()") unless defined $block->init;
});

sub chans {
    my $routing = "  default_strategy: cost_first\n"
        . "  error_handling:\n    blacklist_period: 600\n";
    return ">>> router_config.yaml\nauth:\n  admin:\n    enabled: true\n"
        . "    admin_token: \"$Admin\"\n" . yaml_channels($routing, @_);
}

our $HttpConfig = "    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
    . "    airouter_redis 127.0.0.1:\$TEST_NGINX_RAND_PORT_4 prefix=t400: connect_timeout=500ms;\n"
    . mock_http_config();

our $Config = <<'_EOC_';
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health { airouter_health; }
_EOC_

run_tests();

__DATA__

=== TEST 1: both hosts connect; /health shows the Redis link
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "redis":\{[^}]*"address":"127.0.0.1:\d+"
--- scenario: health



=== TEST 2: a 401 seen by host A makes host B skip that channel within a second
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["revoked", "e401"], ["up", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: blacklist



=== TEST 3: a model's cooldown (404) is shared too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["gone", "e404"], ["up", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: cooldown



=== TEST 4: a host that connects after the block reads it from Redis
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["revoked", "e401"], ["up", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: blacklist_late



=== TEST 5: costs of requests spread over A and B sum in Redis and in both hosts' stats
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: counters



=== TEST 6: Redis stopped during a burst: no request fails; restarted: the counters match
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: outage



=== TEST 7: a silent Redis (SIGSTOP) is given up and reconnected; nothing counted twice
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: silent



=== TEST 8: a unix socket, a password and a database number
--- redis_unix: 1
--- config eval: $::Config
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "redis":\{"address":"unix:
--- scenario: unix



=== TEST 9: the admin's strategy switch reaches the other host
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: ::chans(["first", "ok"])
--- request
GET /health
--- response_body_like: "status":"ok"
--- scenario: strategy



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
