# Self-test of the harness' HUP mode (TEST_NGINX_USE_HUP=1, `make test-hup`;
# use_hup() here, so it runs in every mode): between blocks the running
# nginx reloads instead of restarting, the new block's log holds what the
# master logged while reading the new configuration, what the old workers
# log on their way out stays out of the new block's --- error_log checks,
# and a --- no_hup block gets an nginx of its own.
#
# Stock nginx plus Debian's echo module only, as t/000-harness.t.

use Test::Nginx::Socket;

# valgrind mode starts nginx afresh for every block (a reload under
# memcheck would outlast the block's timeouts), so there is no HUP to test
plan skip_all => 'HUP mode is off under valgrind (make test-valgrind)'
    if $ENV{TEST_NGINX_USE_VALGRIND};

use_hup();
master_on();     # so that the --- no_hup block has a master to reload too
no_shuffle();

# 5 blocks x (status + body) + TEST 2's no_error_log + TEST 3's error_log
plan tests => blocks() * 2 + 2;

our ($Master, $Worker);

# the worker that answered, from the block's body "pid=N"
add_response_body_check(sub {
    my ($block, $body) = @_;
    $Worker = $1 if defined $body && $body =~ /^pid=(\d+)/;
});

run_tests();

__DATA__

=== TEST 1: the first block starts nginx
--- config
    location = /pid {
        return 200 "pid=$pid\n";
    }
--- init
$main::Master = $Test::Nginx::Socket::NginxPid;
--- request
GET /pid
--- response_body_like: ^pid=\d+$



=== TEST 2: the next one reloads it: same master, the old worker gone first, its goodbye lines not in this block's checks
--- config
    location = /pid {
        return 200 "pid=$pid (reloaded)\n";
    }
--- init
my $pid = $Test::Nginx::Socket::NginxPid;
die "nginx was restarted ($main::Master, now $pid)\n" if $pid != $main::Master;
# (a zombie the master has not reaped yet counts as exited)
die "the old worker $main::Worker is still running\n"
    if Test::Nginx::Socket::_alive($main::Worker);
my $log = do { local (@ARGV, $/) = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log"; <> };
die "no line of the old worker in error.log\n"
    unless $log =~ /\] $main::Worker#\d+: gracefully shutting down/;
--- request
GET /pid
--- response_body_like: ^pid=\d+ \(reloaded\)$
--- no_error_log
gracefully shutting down



=== TEST 3: what the master logs while it reads the new configuration is in the new block's log
--- config
    location = /pid {
        allow 127.0.0.1/8;
        return 200 "pid=$pid\n";
    }
--- request
GET /pid
--- response_body_like: ^pid=\d+$
--- error_log
low address bits of 127.0.0.1/8 are meaningless



=== TEST 4: a --- no_hup block gets an nginx of its own
--- no_hup: this test checks that the harness starts nginx afresh
--- config
    location = /pid {
        return 200 "pid=$pid\n";
    }
--- init
my $pid = $Test::Nginx::Socket::NginxPid;
die "nginx was reloaded, not started ($pid)\n" if $pid == $main::Master;
$main::Master = $pid;
--- request
GET /pid
--- response_body_like: ^pid=\d+$



=== TEST 5: and the block after it reloads that one
--- config
    location = /pid {
        return 200 "pid=$pid\n";
    }
--- init
my $pid = $Test::Nginx::Socket::NginxPid;
die "nginx was restarted ($main::Master, now $pid)\n" if $pid != $main::Master;
--- request
GET /pid
--- response_body_like: ^pid=\d+$
