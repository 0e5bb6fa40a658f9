package Airouter::HTTP;

#
# One HTTP/1.0 exchange on a fresh connection to 127.0.0.1, for the checks
# a suite makes beside its blocks' own requests (a second host, a /health
# look, an admin call between two requests).  The one copy of what the
# suites and helpers used to write out each time.
#
#   my ($status, $headers, $body, $raw) =
#       http_request($port, $method, $path, %opt);
#
# %opt: body (sent with Content-Length; without it, none unless length =>
# 1), token (Authorization: Bearer), type (Content-Type), headers (more
# "Name: value" lines), timeout (connect, s; 10).  $status is 0 when
# nothing answered; $headers has lowercased names; $raw is the whole
# answer as read.
#

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET ();

our @EXPORT = qw(http_request);

sub http_request {
    my ($port, $method, $path, %opt) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => $opt{timeout} // 10)
        or return (0, {}, '', '');
    my $req = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
    $req .= "Authorization: Bearer $opt{token}\r\n" if $opt{token};
    $req .= "Content-Type: $opt{type}\r\n" if defined $opt{type};
    $req .= "$_\r\n" for @{ $opt{headers} || [] };
    if (defined $opt{body} || $opt{length}) {
        my $body = $opt{body} // '';
        $req .= "Content-Length: " . length($body) . "\r\n\r\n$body";
    } else {
        $req .= "\r\n";
    }
    print $s $req;
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1, $2) : () }
            split /\r\n/, $head // '';
    return ($status // 0, \%h, $content // '', $raw);
}

1;
