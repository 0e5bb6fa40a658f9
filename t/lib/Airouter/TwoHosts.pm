package Airouter::TwoHosts;

#
# Two nginx hosts and one redis-server, for the airouter_redis suites
# (t/400, t/410).  The harness' nginx is host A; every block gets its own
# redis-server on $TEST_NGINX_RAND_PORT_4 and, by default (`--- init`
# start_b()), host B: the same module and router_config.yaml, on
# $TEST_NGINX_RAND_PORT_5.  A block's `--- scenario` is Perl code that
# drives both hosts once A has answered the block's request, with $name
# (the block's name) and $A (host A's port) set; host B's error log is
# then checked as the harness checks A's.  `--- redis_unix` runs Redis on
# a unix socket with a password and db 3.
#
#   use Airouter::TwoHosts;
#   two_hosts(prefix => 't400:',         # the Redis key prefix of the suite
#             mock   => mock_http_config(),   # host A's mock upstreams
#             extra  => 'airouter_discovery_delay 0;',  # both hosts, optional
#             user_files => ...);        # optional default
#
# A block without --- http_config gets airouter_config, a zone of its own
# (Airouter::Blocks), airouter_redis and the mock; without --- config the
# API, admin and health locations.
#

use strict;
use warnings;

use Exporter 'import';
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use Test::Nginx::Socket ();
use Airouter::Mock;
use Airouter::HTTP;
use Airouter::Blocks;

our $Admin = "adm-secret";
our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Prefix = 'airouter:';
our $Extra = '';            # http-level lines of both hosts
our ($RedisDir, $RedisPort, $BDir, $BPort);
our ($RedisArgs, $CliArgs, $RedisLine) = ('', '', '');

our @EXPORT = qw($Admin $Chat $Prefix $RedisDir $RedisPort $BDir
                 $BPort $RedisArgs $CliArgs $RedisLine
                 two_hosts redis_cli start_redis stop_redis b_pid start_b
                 stop_b stop_all http_get json_of health within both_up
                 today total chat_on raw_post_admin chans a_log_count);

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
    my $extra = shift // $Extra;
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

END { local $?; stop_all() }

# --- HTTP --------------------------------------------------------------------

# (status, body) of an admin GET
sub http_get {
    my ($port, $path) = @_;
    return (http_request($port, 'GET', $path, token => $Admin))[0, 2];
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

# (status, whole answer) of an admin POST
sub raw_post_admin {
    my ($port, $path, $body) = @_;
    return (http_request($port, 'POST', $path, token => $Admin,
                         type => 'application/json', body => $body))[0, 3];
}

# The airouter_redis parameters of a block: host A's (with
# $TEST_NGINX_RAND_PORT_4 as text, for the harness to expand) or, with
# $port, host B's.
sub redis_line {
    my ($block, $port) = @_;
    return "unix:" . Test::Nginx::Socket::server_root()
           . "_redis/redis.sock password=s3cret db=3 prefix=$Prefix"
        if defined $block->redis_unix;
    return "127.0.0.1:" . ($port // '$TEST_NGINX_RAND_PORT_4')
           . " prefix=$Prefix connect_timeout=500ms";
}

# How many lines of host A's error.log (this block's nginx, not the
# workers of the previous configuration under `make test-hup`) hold $text.
sub a_log_count {
    my ($text) = @_;
    return scalar grep { index($_, $text) >= 0 } block_error_log();
}

# The block's --- scenario as a sub of ($name, $A), compiled in package
# main with the file's line numbers.
sub scenario_sub {
    my ($block, $code) = @_;
    die $block->name . " - --- scenario is the code itself now, not the name"
        . " of a %Scenario entry (t/lib/Airouter/TwoHosts.pm)\n"
        if $code =~ /^\s*\w+\s*$/;
    (my $title = $block->name) =~ s/^\Q$0\E //;
    my $line = 0;
    if (open my $fh, '<', $0) {
        my $in = 0;
        while (my $l = <$fh>) {
            $in = 1 if $l eq "=== $title\n";
            if ($in && $l =~ /^--- scenario\s*$/) {
                $line = $. + 1;
                last;
            }
        }
        close $fh;
    }
    # the .t file's own "our" variables are not in scope here
    my $sub = eval "package main; no strict 'vars';\n"
                   . "sub { my (\$name, \$A) = \@_;\n"
                   . "#line $line \"$0\"\n$code\n}";
    die $block->name . " - --- scenario does not compile: $@" unless $sub;
    return $sub;
}

sub two_hosts {
    my (%o) = @_ == 1 ? (prefix => $_[0]) : @_;
    $Prefix = $o{prefix};
    $Extra = $o{extra} // '';

airouter_blocks(
    http => sub { "    airouter_redis " . redis_line($_[0]) . ";\n"
                  . ($Extra ne '' ? "    $Extra\n" : '') },
    mock => $o{mock}, user_files => $o{user_files}, config => <<'_EOC_');
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health { airouter_health; }
_EOC_

Test::Nginx::Socket::add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $code = $block->scenario or return;
    scenario_sub($block, $code)->($block->name,
                                  Test::Nginx::Socket::server_port());
    # the harness reads host A's error log; B's is read here
    my @bad = grep { /\[(alert|emerg)\]|AddressSanitizer|runtime error/ }
              `cat $BDir/logs/error.log 2>/dev/null`;
    Test::More::ok(!@bad, $block->name . " - no [alert], [emerg] or sanitizer report from host B")
        or Test::More::diag(join '', @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
});

Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;
    stop_all();
    return if defined $block->must_die;
    $RedisPort = $ENV{TEST_NGINX_RAND_PORT_4};
    $BPort = $ENV{TEST_NGINX_RAND_PORT_5};
    $RedisDir = Test::Nginx::Socket::server_root() . "_redis";
    $BDir = Test::Nginx::Socket::server_root() . "_b";
    ($RedisArgs, $CliArgs) = ('', '');
    $RedisLine = redis_line($block, $RedisPort);
    if (defined $block->redis_unix) {
        $RedisArgs = "--unixsocket $RedisDir/redis.sock --unixsocketperm 777 --requirepass s3cret";
        $CliArgs = "-a s3cret -n 3 --no-auth-warning";
    }
    system("rm -rf $RedisDir $BDir; mkdir -p $RedisDir");
    start_redis();
    $block->set_value("init", "start_b()") unless defined $block->init;
});
}


sub chans {
    my $routing = "  default_strategy: cost_first\n"
        . "  error_handling:\n    blacklist_period: 600\n";
    return ">>> router_config.yaml\nauth:\n  admin:\n    enabled: true\n"
        . "    admin_token: \"$Admin\"\n" . yaml_channels($routing, @_);
}

1;
