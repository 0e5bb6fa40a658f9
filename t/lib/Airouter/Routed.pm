package Airouter::Routed;

#
# The checks the hedging suites (t/910, t/913, t/914) make after the
# routed request their response-body check sends itself:
#
#   read_log($name)            logs/$name of the server root ('' if none)
#   wait_log($name, @qr)       that log once it matches every pattern (a
#                              log phase or a dropped connection is
#                              logged after the client read its answer;
#                              2 s at most)
#   check_headers($name, $h, $spec)
#                              --- routed_headers: one "Name: value" a
#                              line, is($h->{lc name}); an empty value
#                              means the header is absent
#   check_metrics($name, $spec)
#                              --- metrics_like: each line a whole line
#                              of /metrics, once /metrics holds them all
#   check_error_log($name, $spec)
#                              --- error_log_like: each line a regex the
#                              block's error.log lines match
#
# Each check makes one assertion per line of $spec (none when undef).
#

use strict;
use warnings;

use Exporter 'import';
use Test::More ();
use Test::Nginx::Socket ();
use Time::HiRes ();
use Airouter::Blocks qw(block_error_log);
use Airouter::HTTP;

our @EXPORT = qw(read_log wait_log check_headers check_metrics
                 check_error_log);

sub read_log {
    my ($name) = @_;
    open my $fh, '<', Test::Nginx::Socket::server_root() . "/logs/$name"
        or return '';
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

sub wait_log {
    my ($name, @want) = @_;
    my $text = '';
    for (1 .. 40) {
        $text = read_log($name);
        last unless grep { $text !~ $_ } @want;
        Time::HiRes::sleep(0.05);
    }
    return $text;
}

sub lines { return grep { length } split /\n/, $_[0] // '' }

sub check_headers {
    my ($name, $h, $spec) = @_;
    for my $line (lines($spec)) {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/;
        Test::More::is($h->{lc $k}, $v eq '' ? undef : $v,
                       "$name - header $k");
    }
}

sub check_metrics {
    my ($name, $spec) = @_;
    return unless defined $spec;
    my @want = map { qr/^\Q$_\E$/m } lines($spec);
    my $text = '';
    for (1 .. 40) {
        (undef, undef, $text) = http_request(
            Test::Nginx::Socket::server_port(), 'GET', '/metrics');
        last unless grep { $text !~ $_ } @want;
        Time::HiRes::sleep(0.05);
    }
    Test::More::like($text, $_, "$name - metrics") for @want;
}

sub check_error_log {
    my ($name, $spec) = @_;
    return unless defined $spec;
    my $log = join '', block_error_log();
    Test::More::like($log, qr/$_/, "$name - error log") for lines($spec);
}

1;
