package Airouter::Process;

#
# The running nginx's processes, for blocks that reload it themselves
# (t/200, t/207):
#
#   master_pid()     the pid in logs/nginx.pid
#   worker_pids()    the master's children, from /proc (no pgrep: it hangs
#                    under the sanitizer run's LD_PRELOAD)
#   hup_and_wait()   HUP, then returns once every worker of the old
#                    configuration has gone and a new one runs; dies after
#                    10 s
#

use strict;
use warnings;

use Exporter 'import';
use Time::HiRes ();

our @EXPORT = qw(master_pid worker_pids hup_and_wait);

sub master_pid {
    open my $fh, '<', "$ENV{TEST_NGINX_SERVER_ROOT}/logs/nginx.pid" or die $!;
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

sub worker_pids {
    my $master = master_pid();
    my @pids;
    for my $stat (glob "/proc/[0-9]*/stat") {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S+ (\d+)/ or next;
        push @pids, $pid if $ppid == $master;
    }
    return @pids;
}

sub hup_and_wait {
    my %old = map { ($_ => 1) } worker_pids();
    kill 'HUP', master_pid();
    for (1 .. 200) {
        Time::HiRes::sleep(0.05);
        my @now = worker_pids();
        next if grep { $old{$_} } @now;
        return if @now;
    }
    die "no reload within 10 s";
}

1;
