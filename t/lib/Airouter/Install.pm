package Airouter::Install;

#
# Helpers for the installation suites (t/960-install.t, t/961-deb.t) and
# the demo's (t/962-demo.t): run the repository's make targets into a
# scratch root, snapshot the machine's /etc/nginx (which these suites must
# never change), and run Debian's nginx against what landed in a scratch
# root, laid out as Debian's nginx.conf expects (modules-enabled/*.conf,
# sites-enabled/* inside http {}).
#
#   my ($rc, $out) = make_in('install', DESTDIR => $d);
#   my $n = Airouter::Install::Nginx->new($root);   $n->test; $n->start ...
#

use strict;
use warnings;

use Cwd qw(getcwd);
use Exporter 'import';
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep);

our @EXPORT = qw(make_in etc_nginx_snapshot scratch_dir slurp spit
                 files_under free_port http);

our $Top = getcwd();

# Under make test-asan the whole test process inherits LD_PRELOAD of the
# sanitizer runtime, meant for the stock nginx that loads the instrumented
# module.  curl, node and dpkg must not get it (curl hangs under it), so it
# is taken out of the environment here and given back only to the nginx
# processes these suites start: directly (Nginx->cmd) or through make, by a
# wrapper passed as NGINX.
our $Preload = delete $ENV{LD_PRELOAD};

# make TARGET VAR=value...: the module is already built and the packages
# are there (make test saw to both; -o build keeps a sanitizer build as it
# is)
sub make_in {
    my ($target, %vars) = @_;
    my @args = ('make', '-s', '--no-print-directory', '-C', $Top,
                '-o', 'build', '-o', 'deps');
    push @args, "BUILD=$ENV{BUILD}" if $ENV{BUILD};
    push @args, 'NGINX=' . preload_nginx() if $Preload;
    push @args, map { "$_=$vars{$_}" } sort keys %vars;
    push @args, $target;
    my $cmd = join ' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# a script that runs nginx with the sanitizer runtime preloaded
sub preload_nginx {
    my $base = $ENV{BUILD} || "$Top/build";
    my $bin = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $w = "$base/tmp/nginx-preload.$$";
    make_path("$base/tmp");
    spit($w, "#!/bin/sh\nLD_PRELOAD='$Preload' exec '$bin' \"\$@\"\n");
    chmod 0755, $w;
    return $w;
}

# every entry under /etc/nginx with its type, mode, size and mtime
sub etc_nginx_snapshot {
    return `find /etc/nginx -printf '%y %m %s %T@ %p -> %l\\n' 2>/dev/null | sort`;
}

sub scratch_dir {
    my $base = $ENV{BUILD} || "$Top/build";
    make_path("$base/tmp");
    return tempdir("install.XXXXXX", DIR => "$base/tmp", CLEANUP => 1);
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    my $s = <$fh>;
    return $s;
}

sub spit {
    my ($f, $s) = @_;
    open my $fh, '>', $f or die "$f: $!";
    print $fh $s;
    close $fh;
}

# every non-directory under $dir, relative, "path" or "path -> target"
sub files_under {
    my ($dir) = @_;
    my @r;
    for (`cd '$dir' && find . ! -type d | sort`) {
        chomp;
        s{^\./}{};
        my $l = readlink("$dir/$_");
        push @r, defined $l ? "$_ -> $l" : $_;
    }
    return @r;
}

sub free_port {
    for (1 .. 200) {
        my $p = 20000 + int(rand(12000));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Proto => 'tcp',
                                      ReuseAddr => 1, Listen => 1);
        if ($s) { close $s; return $p }
    }
    die "no free port\n";
}

# (status, body) of an HTTP request with curl
sub http {
    my ($port, $path, @headers) = @_;
    my $h = join ' ', map { "-H '$_'" } @headers;
    my $out = `curl -s -m 10 $h -w '\\n%{http_code}' 'http://127.0.0.1:$port$path'`;
    my ($body, $code) = $out =~ /\A(.*)\n(\d+)\z/s;
    return (($code // 0) + 0, $body // '');
}


package Airouter::Install::Nginx;

# nginx with Debian's conventions around a scratch root: the installed
# files stay in $root, nginx's own parts go beside it in "$root.nginx"
# (nginx.conf, sites-enabled/, pid, logs, and the prefix whose "modules"
# leads to $root/usr/lib/nginx/modules, as nginx-common's link does).

sub new {
    my ($class, $root) = @_;
    my $n = "$root.nginx";
    my $self = bless { root => $root, n => $n }, $class;
    File::Path::make_path("$n/prefix", "$n/sites-enabled", "$n/run",
                          "$n/log", "$n/tmp");
    symlink("$root/usr/lib/nginx/modules", "$n/prefix/modules")
        unless -e "$n/prefix/modules";
    return $self->write_conf;
}

# nginx.conf as Debian's: every modules-enabled/*.conf, read as from inside
# the root (an absolute link target is taken under $root)
sub write_conf {
    my ($self) = @_;
    my ($root, $n) = @$self{qw(root n)};
    my $user = $> == 0 ? "user root;\n" : '';
    my $modules = '';
    for my $f (sort glob("$root/etc/nginx/modules-enabled/*.conf")) {
        my $t = readlink($f);
        $t = defined $t && $t =~ m{^/} ? "$root$t" : $f;
        $modules .= "include $t;\n";
    }
    Airouter::Install::spit("$n/nginx.conf", <<"CONF");
${user}worker_processes 1;
pid $n/run/nginx.pid;
lock_file $n/run/nginx.lock;
error_log $n/log/error.log notice;
${modules}events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $n/tmp/body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
    include $n/sites-enabled/*;
}
CONF
    return $self;
}

sub site { "$_[0]{n}/sites-enabled/$_[1]" }

sub cmd {
    my ($self, @args) = @_;
    my $bin = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $n = $self->{n};
    local $ENV{LD_PRELOAD} = $Airouter::Install::Preload
        if $Airouter::Install::Preload;
    my $out = `'$bin' -p '$n/prefix/' -c '$n/nginx.conf' @args 2>&1`;
    return ($? >> 8, $out);
}

sub test { $_[0]->write_conf; $_[0]->cmd('-t') }

sub start {
    my ($self) = @_;
    $self->write_conf;
    my ($rc, $out) = $self->cmd();
    return ($rc, $out) if $rc;
    for (1 .. 100) {
        last if -s "$self->{n}/run/nginx.pid";
        Time::HiRes::sleep(0.05);
    }
    $self->{running} = 1;
    return (0, $out);
}

sub stop {
    my ($self) = @_;
    return unless $self->{running};
    my $pidf = "$self->{n}/run/nginx.pid";
    my $pid = Airouter::Install::slurp($pidf);
    $self->cmd('-s', 'stop');
    if ($pid && $pid =~ /(\d+)/) {
        $pid = $1;
        for (1 .. 100) { last unless kill 0, $pid; Time::HiRes::sleep(0.05) }
        kill 'KILL', $pid if kill 0, $pid;
    }
    $self->{running} = 0;
}

sub error_log { Airouter::Install::slurp("$_[0]{n}/log/error.log") // '' }

sub DESTROY { $_[0]->stop }

1;
