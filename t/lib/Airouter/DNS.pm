package Airouter::DNS;

#
# A tiny DNS server for tests that use nginx's "resolver": UDP on
# 127.0.0.1, in a child process, answering A queries from a zone file it
# reads again at every query, so a test changes the answer by rewriting
# the file.  The zone file has one "name address [ttl]" per line (IPv4
# only, ttl 1 by default); a name it lacks gets NXDOMAIN, AAAA and other
# types get an empty answer.  A missing file answers NXDOMAIN to all.
#
#   my $port = Airouter::DNS::start($zone_file);   # before nginx starts
#   Airouter::DNS::zone($zone_file, "llm.test 127.0.0.2\n");
#
# The server stops with the test (END) or when its parent is gone.
#

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use POSIX ();

my @Children;

sub start {
    my ($zone) = @_;
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                     Proto => 'udp') or die "dns: $!";
    my $port = $sock->sockport;
    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if ($pid) {
        push @Children, $pid;
        return $port;
    }
    my $sel = IO::Select->new($sock);
    while (getppid() == $parent) {
        next unless $sel->can_read(0.5);
        my $q;
        $sock->recv($q, 512) // next;
        my $a = answer($q, $zone);
        $sock->send($a) if defined $a;
    }
    POSIX::_exit(0);
}

sub answer {
    my ($q, $zone) = @_;
    return undef if length $q < 17;
    my ($id) = unpack 'n', $q;
    my ($off, @labels) = (12);
    while ((my $len = ord substr $q, $off, 1) > 0) {
        push @labels, substr $q, $off + 1, $len;
        $off += $len + 1;
        return undef if $off >= length $q;
    }
    my $question = substr $q, 12, $off + 5 - 12;
    my ($qtype) = unpack 'n', substr $q, $off + 1, 2;
    my $name = lc join '.', @labels;

    my %zone;
    if (open my $fh, '<', $zone) {
        while (<$fh>) {
            my ($n, $addr, $ttl) = my @f = split ' ';
            next unless defined $addr;
            $zone{lc $n} = [$addr, $ttl // 1];
        }
    }

    my ($rcode, $answer) = (3, '');
    if (my $rr = $zone{$name}) {
        $rcode = 0;
        $answer = pack('n n n N n C4', 0xc00c, 1, 1, $rr->[1], 4,
                       split /\./, $rr->[0])
            if $qtype == 1;
    }
    return pack('n n n n n n', $id, 0x8180 | $rcode, 1, $answer ? 1 : 0, 0, 0)
        . $question . $answer;
}

# rewrites the zone file in one step (a query never sees half a file)
sub zone {
    my ($zone, $text) = @_;
    open my $fh, '>', "$zone.tmp" or die "$zone.tmp: $!";
    print $fh $text;
    close $fh;
    rename "$zone.tmp", $zone or die "rename $zone: $!";
}

END {
    kill 'TERM', @Children if @Children;
}

1;
