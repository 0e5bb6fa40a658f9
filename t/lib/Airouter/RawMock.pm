package Airouter::RawMock;

#
# A raw-socket upstream for faults an nginx mock cannot produce: a status
# line or a header cut by a close, 100 KB of headers, a body shorter than
# its Content-Length, a connection accepted and never answered, an SSE
# stream cut inside an event.  Each connection follows a script, step by
# step; the mock listens on 127.0.0.1:$port in a child process of the test
# (bound before raw_mock() returns, so nginx never races it).
#
#   use Airouter::RawMock;
#   raw_mock($port, \@script);              # every connection: this script
#   raw_mock($port, \@first, \@rest);       # 1st connection, then the rest
#   raw_mock_stop();                        # every mock started so far
#   raw_mock_hits($port)                    # requests read so far
#   raw_mock_requests($port)                # their heads ("POST ...\r\n...")
#
# A script is a list of steps:
#
#   'read'              read one request (head + Content-Length body)
#   [send => $bytes]    write bytes; $bytes may be a sub, called with the
#                       request just read, that returns them
#   [sleep => $secs]    wait (fractions allowed)
#   'close'             close the connection (also the end of every script)
#   'reset'             close with a TCP reset (SO_LINGER 0)
#   'hang'              do nothing until the peer closes (60 s at most)
#
# The requests read are appended to $dir/raw_mock_$port.log (the head of
# each, then a line "--"), where $dir is the harness' logs directory, so
# the file goes with the block's servroot.  A block preprocessor calls
# raw_mock_stop() before it starts the block's mocks; the mocks also stop
# with the test (END), and a connection's child when its mock is gone.
#
# Helpers to write a script: http_head($status, @headers) is a status line
# and header lines ending with the blank line; sse_event($json) is one
# "data: ..." event with its blank line; json_answer($body [, $status]) a
# whole JSON answer with its Content-Length.  $RawOk is a chat completion
# (usage 10 + 5) and $RawGood the script that answers every request with
# it.
#
# For the suites whose blocks script their raw mocks (t/500, t/501):
#
#   raw_mock_blocks(4 => [$RawGood]);      # the mocks a block leaves out
#   raw_channels("", ["cut", "raw3"], ["good", "raw4"])
#
# raw_mock_blocks() adds a block preprocessor that stops the mocks of the
# block before and starts the block's own, from its section
# "--- raw_mocks eval" ({ 3 => [\@script, ...], ... }, the port number n
# of $TEST_NGINX_RAND_PORT_n as key), the defaults filling the ports it
# leaves out.  raw_channels() is the user_files text of yaml_channels()
# (Airouter::Mock) where a channel of kind "rawN" is the raw mock on
# $TEST_NGINX_RAND_PORT_N.
#

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET ();
use IO::Select ();
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(sleep time);
use Test::Nginx::Socket ();
use Airouter::Mock ();

our @EXPORT = qw(raw_mock raw_mock_stop raw_mock_hits raw_mock_requests
                 http_head sse_event json_answer raw_mock_blocks
                 raw_channels $RawOk $RawGood);

my %Mocks;      # port => pid of the listener (the leader of its group)
my $Owner = $$;

sub log_file {
    my ($port) = @_;
    return Test::Nginx::Socket::server_root() . "/logs/raw_mock_$port.log";
}

sub raw_mock {
    my ($port, @scripts) = @_;
    die "raw_mock: no script\n" unless @scripts;

    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                    LocalPort => $port, Listen => 64,
                                    ReuseAddr => 1, Proto => 'tcp')
        or die "raw_mock: cannot listen on $port: $!\n";
    my $log = log_file($port);
    unlink $log;

    my $parent = $$;
    my $pid = fork // die "raw_mock: fork: $!\n";
    if ($pid) {
        close $srv;
        POSIX::setpgid($pid, $pid);
        $Mocks{$port} = $pid;
        return $pid;
    }

    # the listener: one child per connection, all in one process group
    POSIX::setpgid(0, 0);
    $SIG{CHLD} = 'IGNORE';
    $SIG{PIPE} = 'IGNORE';
    my $sel = IO::Select->new($srv);
    my $n = 0;
    while (getppid() == $parent) {
        next unless $sel->can_read(0.2);
        my $c = $srv->accept or next;
        my $script = $scripts[$n < $#scripts ? $n : $#scripts];
        $n++;
        my $kid = fork;
        if (defined $kid && $kid == 0) {
            close $srv;
            serve($c, $script, $log, getppid());
            POSIX::_exit(0);
        }
        close $c;
    }
    POSIX::_exit(0);
}

sub serve {
    my ($c, $script, $log, $listener) = @_;
    my $req = '';
    $c->autoflush(1);
    binmode $c;
    for my $step (@$script) {
        my ($op, $arg) = ref $step ? @$step : ($step);
        if ($op eq 'read') {
            $req = read_request($c);
            return unless defined $req;
            if (open my $fh, '>>', $log) {
                my ($head) = split /\r\n\r\n/, $req, 2;
                print $fh "$head\r\n--\n";
                close $fh;
            }
        } elsif ($op eq 'send') {
            my $bytes = ref $arg eq 'CODE' ? $arg->($req) : $arg;
            my $off = 0;
            while ($off < length $bytes) {
                my $w = syswrite $c, $bytes, 65536, $off;
                return unless $w;
                $off += $w;
            }
        } elsif ($op eq 'sleep') {
            sleep $arg;
        } elsif ($op eq 'hang') {
            my $sel = IO::Select->new($c);
            my $end = time + 60;
            while (time < $end && kill 0, $listener) {
                next unless $sel->can_read(0.2);
                last unless sysread $c, my $buf, 65536;
            }
            return;
        } elsif ($op eq 'reset') {
            setsockopt $c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0);
            close $c;
            return;
        } elsif ($op eq 'close') {
            last;
        } else {
            die "raw_mock: unknown step $op\n";
        }
    }
    shutdown $c, 1;
    close $c;
}

# One request: its head and a Content-Length body; undef when the peer
# closes first.
sub read_request {
    my ($c) = @_;
    my $buf = '';
    my $sel = IO::Select->new($c);
    my $end = time + 10;
    my $need;
    while (time < $end) {
        if (!defined $need && (my $i = index $buf, "\r\n\r\n") >= 0) {
            my ($len) = substr($buf, 0, $i) =~ /^Content-Length:\s*(\d+)/mi;
            $need = $i + 4 + ($len // 0);
        }
        return $buf if defined $need && length $buf >= $need;
        next unless $sel->can_read(0.2);
        my $n = sysread $c, $buf, 65536, length $buf;
        return undef unless $n;
    }
    return undef;
}

sub raw_mock_stop {
    return unless $$ == $Owner;
    for my $pid (values %Mocks) {
        kill 'KILL', -$pid;
        waitpid $pid, 0;
    }
    %Mocks = ();
}

sub raw_mock_requests {
    my ($port) = @_;
    open my $fh, '<', log_file($port) or return ();
    local $/ = "--\n";
    my @r = <$fh>;
    close $fh;
    s/\r\n--\n\z// for @r;
    return @r;
}

sub raw_mock_hits {
    my ($port) = @_;
    return scalar(my @r = raw_mock_requests($port));
}

sub http_head {
    my ($status, @headers) = @_;
    return "HTTP/1.1 $status\r\n" . join('', map { "$_\r\n" } @headers)
        . "\r\n";
}

sub sse_event {
    my ($json) = @_;
    return "data: $json\n\n";
}

sub json_answer {
    my ($body, $status) = @_;
    return http_head($status // "200 OK", "Content-Type: application/json",
                     "Content-Length: " . length $body) . $body;
}

our $RawOk = '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
    . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
    . '"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":'
    . '{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';

our $RawGood = ['read', [send => json_answer($RawOk)]];

sub raw_mock_blocks {
    my (%default) = @_;
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my ($block) = @_;
        raw_mock_stop();
        my %mocks = (%default, %{ $block->raw_mocks // {} });
        for my $n (sort keys %mocks) {
            raw_mock($ENV{"TEST_NGINX_RAND_PORT_$n"}, @{ $mocks{$n} });
        }
    });
}

sub raw_channels {
    my $yaml = Airouter::Mock::yaml_channels(@_);
    $yaml =~ s{\$TEST_NGINX_RAND_PORT_1/raw(\d)/v1}{\$TEST_NGINX_RAND_PORT_$1/v1}g;
    return ">>> router_config.yaml\n$yaml";
}

END { local $?; raw_mock_stop() }

1;
