package Test::Nginx::Socket;

#
# Test::Nginx::Socket -- a small, self-contained re-implementation of the
# subset of OpenResty's Test::Nginx::Socket (https://github.com/openresty/
# test-nginx) that the airouter test suites use.  Debian does not package
# Test::Nginx, so this file lets `prove -I t/lib t/*.t` run with nothing but
# stock Debian Perl modules, while the same .t files keep running unchanged
# under the real Test::Nginx::Socket.
#
# What it does, per test block (=== TEST n: title):
#   1. parses the __DATA__ blocks exactly like Test::Base does (sections,
#      inline "--- name: value" form, default filters "norm trim", the
#      "eval"/"chomp"/... filters, ONLY/SKIP/LAST);
#   2. (re)creates the server root (t/servroot by default), writes
#      --- user_files into html/, renders conf/nginx.conf;
#   3. starts nginx (daemon on; master_process off unless master_on()),
#      with $TEST_NGINX_* variables expanded in the config and exported into
#      nginx's environment, and nginx's stderr captured in logs/stderr.log;
#   4. sends the --- request (raw socket, HTTP/1.1, Connection: close),
#      repeat_each() times, and checks status, headers, body, error log;
#   5. stops nginx (QUIT, then TERM, then KILL of the whole process group),
#      then scans error.log + stderr.log for [alert], [emerg] and
#      sanitizer reports, failing the block if any is found.
#      In HUP mode (TEST_NGINX_USE_HUP=1) the next block reloads it instead
#      (see _reload_nginx).
#
# See t/lib/README.md for the full list of supported sections/functions and
# for the (few, documented) differences from the real Test::Nginx.
#
# Only loopback addresses are used: nginx listens on 127.0.0.1 and every
# $TEST_NGINX_RAND_PORT_n is a free 127.0.0.1 port.
#

use strict;
use warnings;

use Carp qw(croak);
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(WNOHANG);
use Socket qw(SHUT_WR);
use Test::Builder ();
use Test::More ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.1';

# ---------------------------------------------------------------------------
# Global settings (most of them can be changed by the exported functions or
# by TEST_NGINX_* environment variables, as in the real Test::Nginx).
# ---------------------------------------------------------------------------

our $NginxBinary       = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
our $LoadModules       = $ENV{TEST_NGINX_LOAD_MODULES} // '';
our $RepeatEach        = 1;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString      = 0;
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcess     = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Workers           = 1;
our $WorkerConnections = 1024;
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $Sleep             = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoRootLocation    = 0;
our $ConfigPreamble    = '';
our $CheckAccumErrLog  = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG} || 0;
our $Verbose           = $ENV{TEST_NGINX_VERBOSE} || 0;
our $NoClean           = $ENV{TEST_NGINX_NO_CLEAN} || 0;
our $WorkerUser        = $ENV{TEST_NGINX_WORKER_USER};
our $ServerAddr        = '127.0.0.1';
our $ServerName        = 'localhost';
our $StartTimeout      = $ENV{TEST_NGINX_START_TIMEOUT} || 30;
our $StopTimeout       = $ENV{TEST_NGINX_STOP_TIMEOUT} || 5;
our $UseHup            = $ENV{TEST_NGINX_USE_HUP} || 0;
our $ReloadTimeout     = $ENV{TEST_NGINX_RELOAD_TIMEOUT} || 10;
our $ConfMaster;        # the last nginx.conf written has a master process
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND} || 0;
our $ValgrindKeep      = $ENV{TEST_NGINX_VALGRIND_KEEP};
our @ValgrindOpts      = split ' ', $ENV{TEST_NGINX_VALGRIND_OPTS} // '';
our $ValgrindStrict    = $ENV{TEST_NGINX_VALGRIND_STRICT} || 0;
our $TimeoutScale      = 1;    # a block's --- timeout is multiplied by it
if ($UseValgrind) {
    $UseHup = 0;                # one mode at a time, as in Test::Nginx
    # 20 to 50 times slower: longer limits unless they were set
    $StartTimeout = 120 unless $ENV{TEST_NGINX_START_TIMEOUT};
    $StopTimeout  = 60  unless $ENV{TEST_NGINX_STOP_TIMEOUT};
    $Timeout      = 30  unless $ENV{TEST_NGINX_TIMEOUT};
    $Sleep        = 0.1 unless $ENV{TEST_NGINX_SLEEP};
    $TimeoutScale = $ENV{TEST_NGINX_VALGRIND_TIMEOUT_SCALE} || 10;
}
our $NginxMaster;       # ... and so has the running nginx

our @EnvToNginx;            # env_to_nginx() arguments
our @BlockPreprocessors;    # add_block_preprocessor() callbacks
our @CleanupHandlers;       # add_cleanup_handler() callbacks
our @ResponseBodyChecks;    # add_response_body_check() callbacks

# Variables passed through to nginx (and to its workers via "env X;") when
# they are set in the harness' environment: sanitizer and preload knobs.
our @PassThroughEnv = qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
                         TSAN_OPTIONS MSAN_OPTIONS LD_PRELOAD
                         LD_LIBRARY_PATH);

# Lines that make a block fail when found in error.log / stderr.log.
# The key is the literal marker: when a block's own --- error_log or
# --- no_error_log patterns mention it, the block handles it itself.
our @FatalLogMarkers = (
    [ '[alert]'           => qr/\[alert\]/ ],
    [ '[emerg]'           => qr/\[emerg\]/ ],
    [ 'AddressSanitizer'  => qr/ERROR: AddressSanitizer/ ],
    [ 'LeakSanitizer'     => qr/ERROR: LeakSanitizer/ ],
    [ 'ThreadSanitizer'   => qr/WARNING: ThreadSanitizer/ ],
    [ 'runtime error:'    => qr/runtime error:/ ],
    [ 'Assertion'         => qr/\bAssertion .*failed\b/ ],
);

# ---------------------------------------------------------------------------
# Ports and paths.  The main port is chosen once per .t file; the nine
# $TEST_NGINX_RAND_PORT_n ports are chosen afresh for every block.
# ---------------------------------------------------------------------------

sub _port_is_free {
    my ($port) = @_;
    my $sock = IO::Socket::INET->new(
        LocalAddr => $ServerAddr,
        LocalPort => $port,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    );
    return 0 unless $sock;
    close $sock;
    return 1;
}

# A random free loopback port below the usual ephemeral range
# (32768-60999), so that it cannot collide with outgoing connections.
sub _pick_free_port {
    my ($used) = @_;
    $used ||= {};
    for (1 .. 1000) {
        my $port = 20000 + int(rand(12000));
        next if $used->{$port};
        return $port if _port_is_free($port);
    }
    die "cannot find a free port on $ServerAddr\n";
}

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT};
if (!$ServerPort) {
    srand($$ ^ int(time() * 1000));
    $ServerPort = _pick_free_port();
}
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

our $ServRoot = File::Spec->rel2abs(
    $ENV{TEST_NGINX_SERVROOT}
    || ($ENV{TEST_NGINX_RANDOMIZE} ? "t/servroot_$ServerPort" : 't/servroot'));
our $LogDir     = "$ServRoot/logs";
our $ConfDir    = "$ServRoot/conf";
our $HtmlDir    = "$ServRoot/html";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $StderrFile = "$LogDir/stderr.log";

# Exported for the test files and (by inheritance) for nginx itself.
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
$ENV{TEST_NGINX_HTML_DIR}  //= $HtmlDir;
# airouter's test data (tests/run-all sets it; prove from the repository
# root finds it without)
$ENV{TEST_NGINX_FIXTURES} //= File::Spec->rel2abs('tests/fixtures');

# ---------------------------------------------------------------------------
# Exports.  `use Test::Nginx::Socket 'no_plan';`, `... tests => N;` and
# `... skip_all => 'why';` are handed to Test::More's plan, as Test::Base
# does.  Like Test::Base, importing also turns on strict and warnings in the
# test file, so a .t file that is clean here is clean under the real thing.
# ---------------------------------------------------------------------------

our @EXPORT = qw(
    run_tests repeat_each no_shuffle no_long_string log_level
    master_on master_off master_process_enabled workers worker_connections
    env_to_nginx add_block_preprocessor add_cleanup_handler
    add_response_body_check config_preamble no_root_location timeout
    server_port server_port_for_client server_name server_addr server_root
    html_dir bail_out is_str check_accum_error_log blocks filters use_hup
);

our @TEST_MORE_EXPORT = qw(
    ok is isnt like unlike is_deeply cmp_ok skip todo_skip pass fail
    eq_array eq_hash eq_set plan can_ok isa_ok diag note explain
    use_ok require_ok BAIL_OUT done_testing subtest
);

sub import {
    my ($class, @plan) = @_;
    my $caller = caller;

    strict->import;
    warnings->import;

    no strict 'refs';
    *{"${caller}::$_"} = \&{"Test::Nginx::Socket::$_"} for @EXPORT;
    *{"${caller}::$_"} = \&{"Test::More::$_"}          for @TEST_MORE_EXPORT;

    Test::More->builder->plan(@plan) if @plan;
}

# ---------------------------------------------------------------------------
# Configuration functions (same names and semantics as Test::Nginx).
# ---------------------------------------------------------------------------

sub repeat_each { $RepeatEach = shift if @_; return $RepeatEach }
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub log_level { $LogLevel = shift if @_; return $LogLevel }
sub master_on () { $MasterProcess = 'on' }
sub use_hup () { $UseHup = 1 unless $UseValgrind }
sub master_off () { $MasterProcess = 'off' }
sub master_process_enabled {
    $MasterProcess = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcess;
}
sub workers { $Workers = shift if @_; return $Workers }
sub worker_connections { $WorkerConnections = shift if @_; return $WorkerConnections }
sub config_preamble ($) { $ConfigPreamble = shift }
sub no_root_location () { $NoRootLocation = 1 }
sub timeout { $Timeout = shift if @_; return $Timeout }
sub server_port {
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort = $ServerPortForClient = shift
        if @_;
    return $ServerPort;
}
sub server_port_for_client {
    $ServerPortForClient = shift if @_;
    return $ServerPortForClient;
}
sub server_name { $ServerName = shift if @_; return $ServerName }
sub server_addr { $ServerAddr = shift if @_; return $ServerAddr }
sub server_root () { return $ServRoot }
sub html_dir () { return $HtmlDir }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

# Later preprocessors run first, as in Test::Nginx.
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }

# env_to_nginx('NAME') or env_to_nginx('NAME=value'): writes an "env"
# directive (what Test::Nginx does) and also puts the variable into the
# environment nginx is started with, so it is visible at config time.
sub env_to_nginx {
    croak "env_to_nginx: no arguments specified" unless @_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    _cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

sub is_str {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::like($got, $expected, $desc)
        if ref $expected && ref $expected eq 'Regexp';
    return _is_string($got, $expected, $desc);
}

# ---------------------------------------------------------------------------
# __DATA__ parsing, compatible with Test::Base (which the real Test::Nginx
# inherits from).  A block is "=== name\n" followed by sections
# "--- type [filters]\nvalue" or "--- type [filters]: inline value".
# Default filters are "norm" (CRLF -> LF) and "trim" (drop leading blank
# lines and trailing whitespace after the last newline).
# ---------------------------------------------------------------------------

our @DefaultFilters = qw(norm trim);
our %FilterMap;        # filters({ section => 'f1 f2' })
our $BlockList;        # parsed blocks, cached

sub filters {
    if (ref $_[0] eq 'HASH') {
        %FilterMap = %{ $_[0] };
    } else {
        push @DefaultFilters, @_;
    }
}

sub _read_spec {
    require Scalar::Util;
    no warnings 'once';
    my $fh = Scalar::Util::openhandle(\*main::DATA) or return undef;
    local $/;
    my $spec = <$fh>;
    return $spec;
}

sub _block_list {
    return $BlockList if $BlockList;
    my $spec = _read_spec();
    $BlockList = [];
    return $BlockList unless defined $spec;

    # Test::Base's optional "<<< perl code >>>" prologue.
    if ($spec =~ s/\A\s*<<<(.*?)>>>\s*$//sm) {
        my $code = $1;
        eval "package main; $code";
        croak $@ if $@;
    }

    my @hunks = ($spec =~ /^(===.*?(?=^===|\z))/msg);
    my $seq = 1;
    for my $hunk (@hunks) {
        my $block = _make_block($hunk);
        if (exists $block->{ONLY}) {
            Test::More::diag("I found ONLY: maybe you're debugging?");
            $BlockList = [$block];
            last;
        }
        next if exists $block->{SKIP};
        push @$BlockList, $block;
        last if exists $block->{LAST};
    }
    $_->{_seq_num} = $seq++ for @$BlockList;
    return $BlockList;
}

sub _make_block {
    my ($hunk) = @_;
    my $block = Test::Nginx::Socket::Block->new;

    $hunk =~ s/\A===[ \t]*(.*)\s+// or die "bad block: $hunk";
    my $name = $1;
    my @parts = split /^--- +\(?(\w+)\)? *(.*)?\n/m, $hunk;

    my $description = shift @parts;
    $description = $name unless defined $description && $description =~ /\S/;
    $description =~ s/\s*\z//;
    $block->set_value(description => $description);

    while (@parts) {
        my ($type, $filters, $value) = splice @parts, 0, 3;
        croak "'$type' is a reserved name. Use something else.\n"
            if $type =~ /^_/ || Test::Nginx::Socket::Block->can($type);
        $value   = '' unless defined $value;
        $filters = '' unless defined $filters;
        if ($filters =~ /:(\s|\z)/) {
            croak "Extra lines not allowed in '$type' section"
                if $value =~ /\S/;
            ($filters, $value) = split /\s*:(?:\s+|\z)/, $filters, 2;
            $value = '' unless defined $value;
            $value =~ s/^\s*(.*?)\s*$/$1/;
        }
        $block->{_filters}{$type} = $filters;
        push @{ $block->{_order} }, $type;
        $block->set_value($type, $value);
    }
    $block->set_value(name => $name);
    return $block;
}

# Same rules as Test::Base: defaults + per-section map + the section's own
# filters; "-name" removes a filter, "+name" appends it at the end.
sub _filters_for {
    my ($type, $string) = @_;
    my $map = $FilterMap{$type} || [];
    $map = [ split ' ', $map ] unless ref $map;
    my (@filters, @append);
    for my $f (@DefaultFilters, @$map, split(/\s+/, $string // '')) {
        last unless length $f;
        if ($f =~ s/^-//) {
            @filters = grep { $_ ne $f } @filters;
        } elsif ($f =~ s/^\+//) {
            push @append, $f;
        } else {
            push @filters, $f;
        }
    }
    return (@filters, @append);
}

# Built-in filters, applied to the list of values of a section.
our %Filters = (
    norm => sub {
        map { my $t = $_ // ''; $t =~ s/\015\012/\n/g; $t =~ s/\r/\n/g; $t } @_;
    },
    trim => sub {
        map { my $t = $_; if (defined $t) { $t =~ s/\A([ \t]*\n)+//;
              $t =~ s/(?<=\n)\s*\z//g } $t } @_;
    },
    chomp   => sub { map { my $t = $_; chomp $t; $t } @_ },
    chop    => sub { map { my $t = $_; chop $t; $t } @_ },
    eval    => sub { _eval_section(join '', @_) },
);

our ($CurrentBlock, $CurrentSection);   # for error messages from eval

sub _eval_section {
    my ($code) = @_;
    my @ret = _eval_in_main($code);
    if ($@) {
        my $err = $@;
        my $where = $CurrentBlock ? $CurrentBlock->name : '?';
        Test::More::diag("$where - eval of --- $CurrentSection failed: $err");
        return $err;    # Test::Base returns $@ as the value
    }
    return @ret;
}

sub _eval_in_main {
    package main;
    no strict;
    no warnings;
    return eval $_[0];
}

sub _run_filters {
    my ($block) = @_;
    return if $block->{_filtered}++;
    local $CurrentBlock = $block;
    for my $type (@{ $block->{_order} || [] }) {
        local $CurrentSection = $type;
        my @value = @{ $block->{$type} };
        $block->{_original}{$type} = $value[0];
        for my $spec (_filters_for($type, $block->{_filters}{$type})) {
            my $filter = $spec;
            my $arg = $filter =~ s/=(.*)$// ? $1 : undef;
            no strict 'refs';
            if (defined &{"main::$filter"}) {
                # user-defined filter function, Test::Base style
                local $_ = (@value == 1 && !defined $value[0]) ? undef
                         : join '', @value;
                my $old = $_;
                @value = &{"main::$filter"}(@value);
                if (!@value || (@value == 1 && defined $value[0]
                                && $value[0] =~ /\A(\d+|)\z/)) {
                    @value = ($_);
                }
            } elsif ($Filters{$filter}) {
                @value = $Filters{$filter}->(@value);
            } elsif (eval { require Test::Base::Filter; 1 }
                     && Test::Base::Filter->can($filter)) {
                # any other Test::Base filter (base64_decode, split, ...)
                no warnings 'once';
                local $Test::Base::Filter::arguments = $arg;
                my $obj = Test::Base::Filter->new;
                @value = $obj->$filter(@value);
            } else {
                die "Can't find a function or method for '$filter' filter\n";
            }
            $block->{$type} = [@value];
        }
    }
}

# blocks(): in scalar context the number of blocks (used in plans); in
# list context the filtered block objects.
sub blocks {
    my $list = _block_list();
    return scalar @$list unless wantarray;
    _run_filters($_) for @$list;
    return @$list;
}

# ---------------------------------------------------------------------------
# $TEST_NGINX_* expansion (same regex as Test::Nginx: "$TEST_NGINX_FOO";
# "${TEST_NGINX_FOO}" is left alone, for the module's own ${ENV} syntax).
# ---------------------------------------------------------------------------

our %RandPorts;    # TEST_NGINX_RAND_PORT_n => port, for the current block

sub _assign_rand_ports {
    %RandPorts = ();
    my %used = ($ServerPort => 1);
    for my $i (1 .. 9) {
        my $p = _pick_free_port(\%used);
        $used{$p} = 1;
        $RandPorts{"TEST_NGINX_RAND_PORT_$i"} = $p;
        $ENV{"TEST_NGINX_RAND_PORT_$i"} = $p;
    }
}

sub _expand_env {
    my ($text, $name) = @_;
    return $text unless defined $text && !ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/ && !defined $RandPorts{$var}) {
            my %used = ($ServerPort => 1, map { $_ => 1 } values %RandPorts);
            $RandPorts{$var} = $ENV{$var} = _pick_free_port(\%used);
        }
        my $val = $var =~ /^TEST_NGINX_RAND_PORT_/ ? $RandPorts{$var} : $ENV{$var};
        die "$name - No environment $var defined.\n" unless defined $val;
        $val;
    }ge;
    return $text;
}

# ---------------------------------------------------------------------------
# nginx binary information
# ---------------------------------------------------------------------------

our ($NginxVersion, $NginxV);    # canonical "1.022001", `nginx -V` output

sub _canon_version { sprintf "%d.%03d%03d", @_ }

sub _nginx_info {
    return if defined $NginxV;
    $NginxV = `'$NginxBinary' -V 2>&1`;
    if ($? != 0 || $NginxV !~ m{nginx version: \S+/(\d+)\.(\d+)\.(\d+)}) {
        bail_out("cannot run the nginx binary '$NginxBinary' "
                 . "(set TEST_NGINX_BINARY): " . ($NginxV // $!));
    }
    $NginxVersion = _canon_version($1, $2, $3);
}

# ---------------------------------------------------------------------------
# Server root and nginx.conf
# ---------------------------------------------------------------------------

sub _setup_server_root {
    my ($reload) = @_;
    # Only remove what we create, in case TEST_NGINX_SERVROOT is mis-set.
    # Before a reload, the running nginx keeps its pid file; the log files
    # go, and _reload_nginx() has nginx open them again.
    my @logs = $reload ? grep { $_ ne $PidFile } glob("$LogDir/*") : ($LogDir);
    remove_tree($ConfDir, @logs, $HtmlDir, "$ServRoot/cache",
                glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
    make_path($ServRoot, $LogDir, $HtmlDir, $ConfDir);
    _write_file("$HtmlDir/index.html",
        '<html><head><title>It works!</title></head><body>It works!</body></html>');
}

sub _write_file {
    my ($path, $body) = @_;
    if ($path =~ m{(.*)/} && !-d $1) {
        make_path($1) or die "cannot create directory $1: $!\n";
    }
    open my $out, '>', $path or die "cannot open $path for writing: $!\n";
    binmode $out;
    print $out $body;
    close $out or die "cannot write $path: $!\n";
}

sub _write_user_files {
    my ($block, $files) = @_;
    my $name = $block->name;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/m, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        die "$name - --- user_files: only a string or an ARRAY ref is accepted\n";
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = _expand_env($body // '', $name);
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        _write_file($path, $body);
        if ($date) {
            system('touch', '-d', $date, $path) == 0
                or die "$name - cannot set the date of $path to '$date'\n";
        }
    }
}

sub _write_config {
    my ($block, $cfg) = @_;
    my $name = $block->name;

    my $main_config  = _expand_env($cfg->{main_config} // '', $name);
    my $http_config  = _expand_env($cfg->{http_config} // '', $name);
    my $config       = _expand_env($cfg->{config} // '', $name);
    my $post_main    = _expand_env($cfg->{post_main_config} // '', $name);
    my $level        = $block->log_level || $LogLevel;

    my $top = "# generated by t/lib/Test/Nginx/Socket.pm for:\n# $name\n";
    $top .= "load_module $_;\n" for grep { length } split /\s+/, $LoadModules;

    if (defined $WorkerUser) {
        $top .= "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $top .= "user root;\n";     # workers must read/write the servroot
    }

    # a reload needs a master process (as in Test::Nginx); a --- no_hup
    # block runs as without HUP mode
    my $master = $UseHup && !defined $block->no_hup ? 'on' : $MasterProcess;
    $ConfMaster = $master eq 'on';

    # under valgrind the launcher is nginx itself (daemon off): a daemon's
    # launcher would run memcheck's leak check for nothing on its way out
    my $daemon = $UseValgrind ? 'off' : 'on';

    $top .= <<"_EOC_";
worker_processes  $Workers;
daemon $daemon;
master_process $master;
error_log $ErrLogFile $level;
pid       $PidFile;
lock_file $LogDir/nginx.lock;
_EOC_

    for my $v (grep { defined $ENV{$_} } @PassThroughEnv) {
        $top .= "env $v;\n";
    }
    for my $v (@EnvToNginx) {
        $top .= $v =~ /\s/ ? "env '$v';\n" : "env $v;\n";
    }

    # temp paths inside the servroot, unless the test sets them itself
    my @temp;
    for my $t (qw(client_body proxy fastcgi uwsgi scgi)) {
        next if $http_config =~ /\b${t}_temp_path\b/;
        next if $t =~ /^(fastcgi|uwsgi|scgi)$/
                && $NginxV =~ /--without-http_${t}_module/;
        push @temp, "    ${t}_temp_path $ServRoot/${t}_temp;\n";
    }
    my $temp = join '', @temp;

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $conf = <<"_EOC_";
$top
# --- main_config
$main_config

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}

http {
    access_log $AccLogFile;
$temp
    default_type text/plain;
    keepalive_timeout  68;

    # --- http_config
$http_config

    server {
        listen          $ServerAddr:$ServerPort;
        server_name     '$ServerName';
        client_max_body_size 30M;

$ConfigPreamble
        # --- config
$config
        # --- end of config

$root_location    }
}

# --- post_main_config
$post_main
_EOC_

    _write_file($ConfFile, $conf);
    Test::More::diag("nginx.conf:\n$conf") if $Verbose;
}

# ---------------------------------------------------------------------------
# nginx process management.  nginx is started with "daemon on": the launcher
# process exits once the configuration is loaded and the listening sockets
# are open, so its exit status tells whether nginx started.  When possible
# the harness makes itself a "child subreaper" so the daemonized master is
# re-parented to it and can be reaped (and its exit status seen); otherwise
# zombies are recognised through /proc.  In valgrind mode nginx runs with
# "daemon off" as the harness' child, which has started once its pid is in
# the pid file.
# ---------------------------------------------------------------------------

our $NginxPid;          # master (or single) process of the running nginx
our $NginxExit;         # wait status of $NginxPid once reaped by us
our $HarnessPid = $$;
our $Subreaper = 0;

if ($^O eq 'linux') {
    $Subreaper = eval {
        no warnings;
        require 'syscall.ph';
        syscall(&SYS_prctl(), 36, 1, 0, 0, 0) == 0;   # PR_SET_CHILD_SUBREAPER
    } || 0;
}

sub _proc_stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $line = <$fh>;
    close $fh;
    return unless defined $line && $line =~ /\)\s+(\S)\s+(-?\d+)\s+(-?\d+)/;
    return { state => $1, ppid => $2, pgrp => $3 };
}

sub _reap {
    my ($pid) = @_;
    my $r = waitpid($pid, WNOHANG);
    $NginxExit = $? if $r == $pid && defined $NginxPid && $pid == $NginxPid;
    return $r;
}

sub _alive {
    my ($pid) = @_;
    return 0 unless $pid && $pid > 1;
    _reap($pid);
    return 0 unless kill 0, $pid;
    my $st = _proc_stat($pid);
    return 0 if $st && $st->{state} =~ /^[ZX]$/;
    return 1;
}

sub _wait_gone {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (_alive($pid)) {
        return 0 if time > $deadline;
        sleep 0.01;
    }
    return 1;
}

# Live members of a process group (nginx's daemon() calls setsid(), so the
# master's pid is the group id of the master and all its workers).
sub _group_members {
    my ($pgid) = @_;
    my @pids;
    opendir my $dh, '/proc' or return;
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        next if $pid == $$;
        my $st = _proc_stat($pid) or next;
        push @pids, $pid if $st->{pgrp} == $pgid && $st->{state} !~ /^[ZX]$/;
    }
    closedir $dh;
    return @pids;
}

sub _read_pid_file {
    open my $in, '<', $PidFile or return;
    my $pid = <$in>;
    close $in;
    return unless defined $pid && $pid =~ /^\s*(\d+)\s*$/;
    return $1;
}

sub _is_nginx_process {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return 1;   # can't tell: assume
    local $/;
    my $cmd = <$fh> // '';
    close $fh;
    return $cmd =~ /nginx/;
}

# Runs the nginx launcher; returns its wait status (or undef on timeout).
sub _run_nginx_launcher {
    my ($name) = @_;
    unlink $PidFile if $UseValgrind;    # its pid in it says it started
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    push @cmd, '-e', $ErrLogFile if $NginxVersion >= _canon_version(1, 19, 5);
    unshift @cmd, _valgrind_command() if $UseValgrind;

    my %env = (%RandPorts, TEST_NGINX_SERVER_PORT => $ServerPort,
               TEST_NGINX_SERVER_ROOT => $ServRoot);
    for my $v (@EnvToNginx) {
        $env{$1} = $2 if $v =~ /^([^=]+)=(.*)$/s;
    }

    my $pid = fork;
    die "$name - fork() failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        open STDIN,  '<',  '/dev/null';
        open STDOUT, '>',  '/dev/null';
        open STDERR, '>>', $StderrFile;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }

    my $deadline = time + $StartTimeout;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return $? if $r == $pid;
        # valgrind mode (daemon off): nginx writes its pid file once its
        # configuration is read and its sockets listen
        return 0 if $UseValgrind && (_read_pid_file() // 0) == $pid;
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            return undef;
        }
        sleep 0.005;
    }
}

# Starts nginx for a block.  Returns (1) or (0, reason).
sub _start_nginx {
    my ($name) = @_;
    undef $NginxExit;
    my $status = _run_nginx_launcher($name);
    return (0, "nginx did not start within ${StartTimeout}s")
        unless defined $status;
    return (0, "nginx exited with status " . ($status >> 8)
               . (($status & 127) ? " (signal " . ($status & 127) . ")" : ''))
        if $status != 0;

    # The daemon writes its pid file right after fork()ing away.
    my $deadline = time + 5;
    my $pid;
    until ($pid = _read_pid_file()) {
        return (0, "nginx did not write $PidFile") if time > $deadline;
        sleep 0.005;
    }
    $NginxPid = $pid;
    $NginxMaster = $ConfMaster;
    return (1);
}

# Stops the running nginx (if any); returns 1 if it had to be killed.
sub _stop_nginx {
    my ($name) = @_;
    my $pid = $NginxPid // _read_pid_file();
    return 0 unless $pid;
    my $killed = 0;

    if (_alive($pid)) {
        kill 'QUIT', $pid;
        if (!_wait_gone($pid, $StopTimeout)) {
            Test::More::diag("$name - nginx ($pid) did not exit on QUIT, "
                             . "sending TERM");
            kill 'TERM', $pid;
            if (!_wait_gone($pid, 3)) {
                Test::More::diag("$name - killing nginx ($pid) with force");
                kill 'KILL', -$pid;
                kill 'KILL', $pid;
                _wait_gone($pid, 3);
                $killed = 1;
            }
        }
    }

    # Workers orphaned by a dead master, if any.
    if (my @left = _group_members($pid)) {
        kill 'KILL', @left;
        _wait_gone($_, 3) for @left;
        $killed = 1;
    }

    undef $NginxPid;
    return $killed;
}

# HUP mode (TEST_NGINX_USE_HUP=1, or use_hup()): the nginx of the previous
# block takes the next block's configuration with a reload, as with
# `nginx -s reload`, instead of a stop and a start, so whatever outlives a
# reload (the shared zone, which nginx reuses when its name and size match,
# files, the workers of the old configuration while they finish) meets the
# next block.  _setup_server_root() has removed the log files; USR1 makes
# the master open them again, so that what it logs while it reads the new
# configuration goes to the new block's error.log; then HUP.  The reload is
# done when every worker of the old configuration has exited and the new
# ones run.  What the old workers log on their way out is in the new
# error.log, tagged by their pids (%OldWorkers): it counts for the new
# block's [alert]/sanitizer check, not for its --- error_log patterns.
# Returns (1), (1, complaint) when old workers outlive $ReloadTimeout, or
# (0, reason) when the reload failed.
our %OldWorkers;

sub _worker_pids {
    my ($master) = @_;
    return grep { $_ != $master } _group_members($master);
}

sub _reload_nginx {
    my ($name) = @_;
    my $master = $NginxPid;
    my @old = _worker_pids($master);
    %OldWorkers = map { $_ => 1 } @old;

    kill 'USR1', $master or return (0, "cannot signal nginx ($master): $!");
    my $deadline = time + 5;
    until (-e $ErrLogFile) {
        return (0, "nginx did not reopen its log files within 5s")
            if time > $deadline;
        sleep 0.005;
    }
    kill 'HUP', $master or return (0, "cannot signal nginx ($master): $!");

    my $start = time;
    $deadline = $start + $ReloadTimeout;
    while (1) {
        return (0, "nginx exited during the reload") unless _alive($master);
        my @now  = _worker_pids($master);
        my @left = grep { $OldWorkers{$_} } @now;
        my $new  = grep { !$OldWorkers{$_} } @now;
        return (1) if !@left && $new >= $Workers;

        # a configuration the master refused: the old workers keep serving
        if (!$new && time > $start + 0.5) {
            my ($lines) = _read_lines($ErrLogFile, 0);
            my ($emerg) = grep { /\[emerg\]/ } @$lines;
            return (0, "nginx refused the configuration: $emerg") if $emerg;
        }
        if (time > $deadline) {
            return (0, "no new worker ${ReloadTimeout}s after the reload")
                if $new < $Workers;
            return (1, "worker(s) @left of the previous configuration still "
                       . "running ${ReloadTimeout}s after the reload");
        }
        sleep 0.01;
    }
}

# error.log lines without those of the old workers (see _reload_nginx).
# An entry's continuation lines (no timestamp) go with the entry.
sub _without_old_workers {
    my ($lines) = @_;
    return $lines unless %OldWorkers;
    my @out;
    my $old = 0;
    for my $line (@$lines) {
        if ($line =~ m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] (\d+)#}) {
            $old = $OldWorkers{$1} ? 1 : 0;
        }
        push @out, $line unless $old;
    }
    return \@out;
}

sub _cleanup {
    return unless $$ == $HarnessPid;
    $_->() for @CleanupHandlers;
    @CleanupHandlers = ();
    _stop_nginx('cleanup') unless $NoClean;
}

END {
    local $?;
    _cleanup();
}

# ---------------------------------------------------------------------------
# Log files
# ---------------------------------------------------------------------------

our $ErrLogPos = 0;

sub _read_lines {
    my ($file, $pos) = @_;
    open my $in, '<', $file or return ([], 0);
    seek $in, $pos, 0 if $pos;
    my @lines = <$in>;
    my $end = tell $in;
    close $in;
    return (\@lines, $end);
}

# New error.log lines since the last call (the whole file with
# check_accum_error_log()), after a short pause for log-phase writes.
sub _error_log_data {
    sleep $Sleep * 3;
    my ($lines, $end) = _read_lines($ErrLogFile,
                                    $CheckAccumErrLog ? 0 : $ErrLogPos);
    $ErrLogPos = $end unless $CheckAccumErrLog;
    return _without_old_workers($lines);
}

sub _access_log_data {
    sleep $Sleep * 3;
    return (_read_lines($AccLogFile, 0))[0];
}

# The last $max lines of stderr.log + error.log that are not part of a
# debug/info/notice entry (entries can span lines, e.g. header dumps).
sub _tail_interesting {
    my ($max) = @_;
    my @out;
    for my $file ($StderrFile, $ErrLogFile) {
        my ($lines) = _read_lines($file, 0);
        my $quiet = 0;
        for my $line (@$lines) {
            if ($line =~ m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\]}) {
                $quiet = $1 =~ /^(debug|info|notice)$/;
            }
            push @out, $line unless $quiet;
        }
    }
    @out = @out[-$max .. -1] if @out > $max;
    return join '', @out;
}

# ---------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------

sub _parse_time {
    my ($t) = @_;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $t =~ /^([\d.]+)ms$/;
    return $1 if $t =~ /^([\d.]+)s?$/;
    return $t;
}

# "Name: value" lines -> ("Name: value\r\n..." , is_chunked)
sub _parse_more_headers {
    my ($in) = @_;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $in // '') {
        next if $line =~ /^\s*#/ || $line !~ /\S/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $chunked = 1 if lc $key eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Turns a --- request value ("METHOD [URI [VERSION]]\n[body]") into raw
# HTTP: adds Host, Connection and Content-Length (the body is trimmed of
# surrounding whitespace, as in Test::Nginx) unless more_headers has them.
sub _build_request {
    my ($name, $request, $more_headers, $conn) = @_;
    utf8::encode($request) if utf8::is_utf8($request);

    my ($first, $content) = split /\n/, $request, 2;
    $first //= '';
    $first =~ /^\s*(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(\S+))?\s*$/
        or die "$name - Request line is not valid. Should be "
             . "'meth [url [version]]' but got \"$first\".\n";
    my ($method, $url, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');
    $content //= '';

    my ($hdrs, $chunked) = _parse_more_headers($more_headers);
    my $len = '';
    if (!$chunked && $content ne '' && $hdrs !~ /(?:^|\n)Content-Length:/) {
        $content =~ s/^\s+|\s+$//gs;
        $len = "Content-Length: " . length($content) . "\r\n";
    }

    my $std = '';
    $std .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/msi;
    $std .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/msi;

    return "$method $url $ver\r\n$std$hdrs$len\r\n$content";
}

# Returns a list of requests; each request is a list of packets
# { value => bytes, delay_before => secs }.
sub _requests_from_block {
    my ($block) = @_;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        my @bits = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        return [ map { ref $_ ? $_ : { value => $_ } } @bits ];
    }

    my $more = $block->more_headers // '';
    my $hdr_for = sub {
        my ($i) = @_;
        return _expand_env($more, $name) unless ref $more eq 'ARRAY';
        die "$name - --- more_headers lacks data for request $i\n"
            unless defined $more->[$i];
        return _expand_env($more->[$i], $name);
    };

    if (my $reqs = $block->pipelined_requests) {
        die "$name - --- pipelined_requests must be an ARRAY (use eval)\n"
            unless ref $reqs eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            $all .= _build_request($name, _expand_env($reqs->[$i], $name),
                                   $hdr_for->($i),
                                   $i == $#$reqs ? 'close' : 'keep-alive');
        }
        return [ { value => $all } ];
    }

    my $request = $block->request;
    die "$name - no --- request section\n" unless defined $request;

    if (!ref $request) {
        1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;   # leading comments
        return [ { value => _build_request($name, _expand_env($request, $name),
                                           $hdr_for->(0), 'close') } ];
    }

    die "$name - --- request must be a string or an ARRAY of requests\n"
        unless ref $request eq 'ARRAY';

    my @list;
    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        if (ref $one eq 'ARRAY') {
            # A request given as packets: sent in one piece here (see README).
            $one = join '', map { ref $_ ? $_->{value} : $_ } @$one;
        }
        push @list, [ { value => _build_request($name, _expand_env($one, $name),
                                                $hdr_for->($i), 'close') } ];
    }
    return @list;
}

# Sends one request; returns (raw response, timed_out, error).
sub _send_request {
    my ($block, $packets, $timeout) = @_;
    local $SIG{PIPE} = 'IGNORE';

    my ($sock, $err);
    for my $try (1 .. 20) {
        $sock = IO::Socket::INET->new(
            PeerAddr => $ServerAddr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        last if $sock;
        $err = "$!";
        sleep 0.05;
    }
    return (undef, 0, "cannot connect to $ServerAddr:$ServerPortForClient: $err")
        unless $sock;

    binmode $sock;
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my $middle_delay = $block->raw_request_middle_delay;

    my $resp = '';
    my $timed_out = 0;
  WRITE:
    for my $i (0 .. $#$packets) {
        my $p = $packets->[$i];
        my $delay = $p->{delay_before} // ($i > 0 ? $middle_delay : undef);
        sleep $delay if $delay;
        my $buf = $p->{value};
        my $off = 0;
        while ($off < length $buf) {
            if (!$sel->can_write($timeout)) {
                $timed_out = 1;
                last WRITE;
            }
            my $n = syswrite($sock, $buf, length($buf) - $off, $off);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                last WRITE;     # e.g. nginx answered early and closed
            }
            $off += $n;
        }
    }

    if (defined(my $sd = $block->shutdown)) {
        shutdown($sock, $sd =~ /^\s*$/ ? SHUT_WR : $sd);
    }

    while (!$timed_out) {
        if (!$sel->can_read($timeout)) {
            $timed_out = 1;
            last;
        }
        my $n = sysread($sock, my $chunk, 65536);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            last;               # ECONNRESET and friends: keep what we have
        }
        last if $n == 0;
        $resp .= $chunk;
    }
    close $sock;
    return ($resp, $timed_out, undef);
}

# Parses one HTTP response from the front of $raw.  Returns
# (response object, bytes left over after it, error message or undef).
sub _parse_response {
    my ($raw, $head_req) = @_;
    my $res = Test::Nginx::Socket::Response->new;

    my $end = index $raw, "\r\n\r\n";
    if ($end < 0) {
        $res->{content} = '';
        return ($res, undef, length $raw ? "incomplete response headers" : undef);
    }
    my $head = substr $raw, 0, $end + 2;
    my $rest = substr $raw, $end + 4;
    $res->{raw_headers} = $head;

    my ($status, @lines) = split /\r\n/, $head;
    if ($status =~ m{^HTTP/\d+\.\d+\s+(\d{3})(?:\s+(.*))?$}) {
        ($res->{code}, $res->{message}) = ($1, $2 // '');
    }
    for my $line (@lines) {
        next unless $line =~ /^([^:]+?)\s*:\s*(.*?)\s*$/;
        push @{ $res->{headers} }, [$1, $2];
    }

    my $code = $res->{code} // 0;
    my $te   = $res->header('Transfer-Encoding');
    my $len  = $res->header('Content-Length');

    if ($head_req || $code == 204 || $code == 304 || $code =~ /^1/) {
        $res->{content} = '';
        return ($res, length $rest ? $rest : undef, undef);
    }

    if (defined $te && $te =~ /\bchunked\b/i) {
        my ($body, $pos) = ('', 0);
        while (1) {
            pos($rest) = $pos;
            if ($rest !~ /\G[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n/gc) {
                $res->{content} = $body;
                return ($res, undef, "invalid chunked body: no chunk size"
                                     . " at offset $pos");
            }
            my $size = hex $1;
            $pos = pos $rest;
            if ($size == 0) {
                # skip trailers up to the final empty line
                my $t = index $rest, "\r\n", $pos;
                while ($t >= 0 && $t != $pos) {
                    $pos = $t + 2;
                    $t = index $rest, "\r\n", $pos;
                }
                $res->{content} = $body;
                return ($res, undef, "invalid chunked body: no final CRLF")
                    if $t < 0;
                my $left = substr $rest, $t + 2;
                return ($res, length $left ? $left : undef, undef);
            }
            if (length($rest) < $pos + $size + 2
                || substr($rest, $pos + $size, 2) ne "\r\n") {
                $res->{content} = $body . substr($rest, $pos);
                return ($res, undef, "invalid chunked body: truncated chunk");
            }
            $body .= substr $rest, $pos, $size;
            $pos += $size + 2;
        }
    }

    if (defined $len && $len =~ /^\d+$/) {
        $res->{content} = substr $rest, 0, $len;
        my $left = length($rest) > $len ? substr($rest, $len) : undef;
        return ($res, $left, length($rest) < $len
                ? "response body truncated: $len expected, got " . length($rest)
                : undef);
    }

    $res->{content} = $rest;
    return ($res, undef, undef);
}

# ---------------------------------------------------------------------------
# Checks.  Test names follow Test::Nginx ("<name> - status code ok", ...) and
# so does the number of assertions, so that plans written for the real
# Test::Nginx hold here too; failures of the harness itself add extra
# failing assertions, exactly like Test::Nginx does.
# ---------------------------------------------------------------------------

sub _indexed {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        die "$name - You asked for many requests, the expected results "
            . "should be arrays as well.\n";
    }
    return ref $value eq 'ARRAY' ? $value->[0] : $value;
}

sub _is_string {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok;
    if ($NoLongString || !eval { require Test::LongString; 1 }) {
        $ok = Test::More::is($got, $expected, $desc);
    } else {
        $ok = Test::LongString::is_string($got, $expected, $desc);
    }
    if (!$ok && defined $got && defined $expected && $expected =~ /\n./s
        && eval { require Text::Diff; 1 }) {
        Test::More::diag("diff (- expected, + got):\n"
            . Text::Diff::diff(\$expected, \$got, { STYLE => 'Unified' }));
    }
    return $ok;
}

sub _check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $pat = _indexed($name, scalar $block->error_code_like, $idx, $need_array);
        Test::More::like($got, qr/$pat/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        my $want = _indexed($name, scalar $block->error_code, $idx, $need_array);
        Test::More::is($got, $want, "$name - status code ok")
            or ($want // '') =~ /\n\z/ and Test::More::diag(
                "hint: use the inline form '--- error_code: $got' "
                . "(the block form keeps a trailing newline)");
    } else {
        Test::More::is($got, 200, "$name - status code ok");
    }
}

sub _check_raw_headers {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $raw = $res ? $res->{raw_headers} // '' : '';
    if (defined $block->raw_response_headers_like) {
        my $p = _indexed($name, scalar $block->raw_response_headers_like, $idx, $need_array);
        Test::More::like($raw, qr/$p/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $p = _indexed($name, scalar $block->raw_response_headers_unlike, $idx, $need_array);
        Test::More::unlike($raw, qr/$p/s, "$name - raw resp headers unlike");
    }
}

# "Name: value" lines; "!Name" (or a bare "Name") means "must be absent".
sub _parse_header_spec {
    my ($s) = @_;
    my @out;
    # a hash or an array here is a mistake in the test, not a header name
    die "header spec must be a string, got " . ref($s) . "\n" if ref $s;
    for my $line (split /\n/, $s // '') {
        $line =~ s/^\s+|\s+$//g;
        next unless length $line;
        if ($line =~ s/^!\s*//) {
            push @out, [$line, undef];
        } else {
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            push @out, [$key, $val];
        }
    }
    return @out;
}

sub _check_headers {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $raw = $res ? $res->{raw_headers} // '' : '';

    if (defined $block->response_headers) {
        Test::More::diag("$name - --- response_headers_like is ignored when "
                         . "--- response_headers is present (as in Test::Nginx)")
            if defined $block->response_headers_like;
        my $spec = _indexed($name, scalar $block->response_headers, $idx, $need_array);
        for my $h (_parse_header_spec($spec)) {
            my ($key, $val) = @$h;
            if (!defined $val) {
                Test::More::unlike($raw, qr/^\s*\Q$key\E\s*:/ms,
                    "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $got = $res ? $res->header($key) : undef;
            Test::More::is($got // '', $val, "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $spec = _indexed($name, scalar $block->response_headers_like, $idx, $need_array);
        for my $h (_parse_header_spec($spec)) {
            my ($key, $val) = @$h;
            my $got = $res ? $res->header($key) : undef;
            Test::More::like($got // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
}

my %BodyFilters = (
    uc      => sub { uc $_[0] },
    lc      => sub { lc $_[0] },
    ucfirst => sub { ucfirst $_[0] },
    lcfirst => sub { lcfirst $_[0] },
    length  => sub { length $_[0] },
    md5_hex => sub { require Digest::MD5; Digest::MD5::md5_hex($_[0]) },
    sha1_hex => sub { require Digest::SHA; Digest::SHA::sha1_hex($_[0]) },
);

sub _transform_body {
    my ($block, $res, $idx) = @_;
    my $filters = $block->response_body_filters;
    return unless defined $filters && $res;
    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [ split /\s+/, $filters ];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    $filters = $filters->[$idx] if ref $filters->[0] eq 'ARRAY';
    my $body = $res->{content};
    for my $f (@{ $filters || [] }) {
        my $code = ref $f eq 'CODE' ? $f : $BodyFilters{$f}
            or die $block->name . " - unknown response_body_filters filter \"$f\"\n";
        $body = $code->($body);
    }
    $res->{content} = $body;
}

sub _summary {
    my ($s) = @_;
    return '' unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\s+/ /g;
    $s = substr($s, 0, 60) . '...' if length $s > 63;
    return $s;
}

sub _check_body {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->{content} : undef;

    if (defined $block->response_body) {
        if (defined $block->response_body_like || defined $block->response_body_unlike) {
            Test::More::diag("$name - --- response_body_like/unlike are ignored when "
                             . "--- response_body is present (as in Test::Nginx)");
        }
        if (defined $block->response_body_json_sort && defined $content) {
            require JSON::PP;
            my $js = JSON::PP->new->canonical(1);
            my $obj = eval { $js->loose(1)->decode($content) };
            $content = $js->encode($obj) . "\n" if defined $obj;
        }
        my $expected = _indexed($name, scalar $block->response_body, $idx, $need_array);
        my $desc = "$name - response_body - response is expected "
                   . "(repeated req $rep, req $idx)";
        if (ref $expected) {
            Test::More::like($content, $expected,
                "$name - response_body - like (repeated req $rep, req $idx)");
        } else {
            if (defined $expected) {
                $expected =~ s/\$ServerPort\b/$ServerPort/g;
                $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
                $expected = _expand_env($expected, $name);
            }
            _is_string($content, $expected, $desc);
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my ($type, $pats) = defined $block->response_body_like
            ? ('like', $block->response_body_like)
            : ('unlike', $block->response_body_unlike);
        if ($type eq 'like' && defined $block->response_body_unlike) {
            Test::More::diag("$name - --- response_body_unlike is ignored when "
                             . "--- response_body_like is present (as in Test::Nginx)");
        }
        my $pat = _indexed($name, $pats, $idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $desc = "$name - response_body_$type - response is expected ("
                   . _summary($content) . ")";
        if ($type eq 'like') {
            Test::More::like($content, qr/$pat/s, $desc);
        } else {
            Test::More::unlike($content, qr/$pat/s, $desc);
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $idx, $rep, 0);
    }
}

sub _fmt {
    my ($s) = @_;
    $s = "$s";
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# Patterns of --- error_log and friends: a string (one substring per line),
# a qr// or an ARRAY of both (with "eval").
sub _patterns {
    my ($pats) = @_;
    return () unless defined $pats;
    if (!ref $pats) {
        chomp $pats;
        return grep { length } split /\n+/, $pats;
    }
    return ($pats) if ref $pats eq 'Regexp';
    return grep { defined } @$pats;
}

sub _matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub _check_log_patterns {
    my ($name, $what, $file, $lines, $want, $dont, $rep) = @_;

    my @want = _patterns($want);
    for my $pat (@want) {
        if (grep { _matches($_, $pat) } @$lines) {
            Test::More::pass("$name - pattern \"" . _fmt($pat)
                . "\" matches a line in $file (req $rep)");
        } else {
            Test::More::fail("$name - pattern \"" . _fmt($pat)
                . "\" should match a line in $file (req $rep)");
        }
    }

    for my $pat (_patterns($dont)) {
        my ($line) = grep { _matches($_, $pat) } @$lines;
        if (defined $line) {
            Test::More::fail("$name - pattern \"" . _fmt($pat)
                . "\" should not match any line in $file but matches line \""
                . _fmt($line) . "\" (req $rep)");
        } else {
            Test::More::pass("$name - pattern \"" . _fmt($pat)
                . "\" does not match a line in $file (req $rep)");
        }
    }
}

sub _check_error_log {
    my ($block, $rep, $extra_lines) = @_;
    my $name = $block->name;
    my $need = defined $block->error_log || defined $block->no_error_log
               || defined $block->grep_error_log;
    return unless $need;

    my $lines = _error_log_data();
    push @$lines, @$extra_lines if $extra_lines;

    if (defined(my $gpats = $block->grep_error_log)) {
        my $gpat = ref $gpats eq 'ARRAY' ? $gpats->[$rep] : $gpats;
        my $expected = $block->grep_error_log_out;
        die "$name - --- grep_error_log needs --- grep_error_log_out\n"
            unless defined $expected;
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        $expected = _expand_env($expected, $name);
        my $out = '';
        for my $line (@$lines) {
            if (ref $gpat ? $line =~ $gpat : $line =~ /\Q$gpat\E/) {
                $out .= "$&\n" unless $& =~ /\n/;
            }
        }
        if (ref $expected eq 'Regexp') {
            Test::More::like($out, $expected, "$name - grep_error_log_out (req $rep)");
        } else {
            _is_string($out, $expected, "$name - grep_error_log_out (req $rep)");
        }
    }

    _check_log_patterns($name, 'error_log', 'error.log', $lines,
                        scalar $block->error_log, scalar $block->no_error_log, $rep);
}

sub _check_access_log {
    my ($block, $rep) = @_;
    return unless defined $block->access_log || defined $block->no_access_log;

    # nginx writes a request's line in its log phase, which a loaded machine
    # may run after the harness has read the answer: while a wanted line is
    # missing, read the log again, for up to 2 s.  Nothing is asserted
    # differently; no_access_log patterns see the last (fullest) read.
    my @want = _patterns(scalar $block->access_log);
    my $lines = _access_log_data();
    my $until = Time::HiRes::time() + 2;
    while (Time::HiRes::time() < $until
           && grep { my $p = $_; !grep { _matches($_, $p) } @$lines } @want)
    {
        Time::HiRes::sleep(0.05);
        $lines = (_read_lines($AccLogFile, 0))[0];
    }

    _check_log_patterns($block->name, 'access_log', 'access.log',
                        $lines, scalar $block->access_log,
                        scalar $block->no_access_log, $rep);
}

# After nginx has stopped: any [alert]/[emerg]/sanitizer report in
# error.log or stderr.log fails the block (one failing assertion).  A block
# whose own error_log/no_error_log patterns mention a marker is exempt from
# that marker, and must_die blocks are exempt from [emerg].
#
# In HUP mode a block whose nginx keeps running for the next one is checked
# up to the end of its logs so far ($from, a hash of file => offset, is
# then filled in); if the next block stops that nginx instead of reloading
# it, the lines logged by the stop are checked from there, with $when set.
sub _sanity_check_logs {
    my ($block, $must_die, $from, $when) = @_;
    my $name = $block->name;
    $from //= {};

    my $own = join "\n", map { "$_" } _patterns(scalar $block->error_log),
                                     _patterns(scalar $block->no_error_log),
                                     _patterns(scalar $block->grep_error_log);
    my @markers = grep {
        (my $key = $_->[0]) =~ s/\]$//;    # "[alert" counts, as in Test::Nginx
        !($must_die && $_->[0] eq '[emerg]') && index($own, $key) < 0;
    } @FatalLogMarkers;

    my @bad;
    for my $file ($ErrLogFile, $StderrFile) {
        my ($lines, $end) = _read_lines($file, $from->{$file} // 0);
        $from->{$file} = $end;
        for my $line (@$lines) {
            next unless grep { $line =~ $_->[1] } @markers;
            push @bad, $line =~ m{^\S+ \S+ \[\w+\] (\d+)#}
                       && $OldWorkers{$1}
                ? "(a worker of the previous block, exiting) $line" : $line;
        }
    }
    return 0 unless @bad;
    my $n = @bad;
    splice @bad, 10 if @bad > 10;
    Test::More::fail("$name - no [alert], [emerg] or sanitizer reports "
                     . "in error.log/stderr.log" . ($when ? " $when" : ''));
    Test::More::diag("$n offending line(s), first ones:\n" . join '', @bad);
    return 1;
}

# ---------------------------------------------------------------------------
# Running the blocks
# ---------------------------------------------------------------------------

# --- skip_nginx: "N: < 1.19.0[: reason]", --- skip_eval: "N: perl expr",
# --- todo: "N: reason".  Returns (count, reason, is_todo) or ().
sub _skip_spec {
    my ($block) = @_;
    my $name = $block->name;
    if (defined(my $s = $block->skip_nginx)) {
        $s =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)(?:\s*:\s*(.*?))?\s*$/s
            or die "$name - Invalid --- skip_nginx spec: $s\n";
        my ($n, $op, $reason) = ($1, $2, $6);
        my $ver = _canon_version($3, $4, $5);
        my $skip = eval "$NginxVersion $op $ver";
        return ($n, $reason || "nginx version $op $3.$4.$5", 0) if $skip;
    }
    if (defined(my $s = $block->skip_eval)) {
        $s =~ /^\s*(\d+)\s*:\s*(.*)$/s
            or die "$name - Invalid --- skip_eval spec: $s\n";
        my ($n, $code) = ($1, $2);
        my $skip = _eval_in_main($code);
        die "$name - skip_eval - failed to eval \"$code\": $@\n" if $@;
        return ($n, 'skip_eval', 0) if $skip;
    }
    if (defined(my $s = $block->todo)) {
        $s =~ /^\s*(\d+)\s*:\s*(.*)$/s
            or die "$name - Invalid --- todo spec: $s\n";
        return ($1, $2, 1);
    }
    return;
}

our $PrevCfg;       # config sections of the last block that had --- config
our $RunningBlock;  # HUP mode: the block whose nginx is still running
our %RunningLogPos; # ... and how far its logs were checked

sub run_tests () {
    _nginx_info();

    # A previous run that died without cleaning up?
    if (my $stale = _read_pid_file()) {
        if (_alive($stale) && _is_nginx_process($stale)) {
            Test::More::diag("stopping a stale nginx ($stale) left in $ServRoot");
            local $NginxPid = $stale;
            _stop_nginx('startup');
        }
    }

    # END blocks do not run when perl dies of a signal: stop nginx first.
    # (SIGPIPE: e.g. `perl t/x.t | head`; the HTTP client ignores it locally.)
    # The run is aborted: skip Test::Builder's ending (POSIX::_exit).
    local $SIG{INT}  = sub { _cleanup(); POSIX::_exit(130) };
    local $SIG{TERM} = sub { _cleanup(); POSIX::_exit(143) };
    local $SIG{HUP}  = sub { _cleanup(); POSIX::_exit(129) };
    local $SIG{PIPE} = sub { _cleanup(); POSIX::_exit(141) };

    my @blocks = blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $i (0 .. $#blocks) {
        my $block = $blocks[$i];
        _assign_rand_ports();
        $_->($block) for @BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        my $last = $i == $#blocks;
        _run_block($block, $last);
    }

    _cleanup() unless $NoClean;
}

sub _run_block {
    my ($block, $last) = @_;
    my $name = $block->name;
    my $tb = Test::More->builder;
    my $failed_before = grep { !$_ } $tb->summary;

    my @skip = eval { _skip_spec($block) };
    if ($@) {
        Test::More::fail($@);
        return;
    }
    if (@skip) {
        my ($n, $reason, $todo) = @skip;
        for (1 .. $RepeatEach) {
            for (1 .. $n) {
                $todo ? $tb->todo_skip("$name - $reason")
                      : $tb->skip("$name - $reason");
            }
        }
        return;
    }

    my $must_die = $block->must_die;
    my $started = 0;
    my $start_failed = 0;   # already reported, with nginx's output

    # HUP mode: reload the previous block's nginx, unless this block must
    # start one of its own (--- must_die, --- no_hup)
    my $reload = $UseHup && $NginxPid && $NginxMaster && _alive($NginxPid)
                 && !defined $must_die && !defined $block->no_hup;
    if ($UseHup && $NginxPid && !$reload) {
        _stop_nginx($name);
        _sanity_check_logs($RunningBlock, 0, \%RunningLogPos,
                           "(when it was stopped)")
            if $RunningBlock;
    }
    undef $RunningBlock;
    %OldWorkers = ();

    # valgrind mode: what the block asserts still runs, as TODO tests
    # (20-50 times slower, timing-bound checks may miss); memcheck's
    # verdict below is what counts
    my $todo = $UseValgrind && !$ValgrindStrict;
    $tb->todo_start("under valgrind: only memcheck's verdict counts")
        if $todo;
    my $ok = eval {
        my $cfg;
        if (defined $block->config) {
            $cfg = { map { $_ => scalar $block->$_ }
                     qw(main_config http_config config post_main_config) };
            $PrevCfg = $cfg;
        } else {
            # Test::Nginx keeps the previous block's nginx running then.
            $cfg = $PrevCfg or bail_out("$name - No '--- config' section "
                . "specified and could not get previous one.");
        }

        $ErrLogPos = 0;
        _setup_server_root($reload);
        _write_user_files($block, scalar $block->user_files);
        _write_config($block, $cfg);

        if (defined $must_die) {
            _run_must_die($block, $must_die);
            return 1;
        }

        my ($up, $why);
        if ($reload) {
            ($up, $why) = _reload_nginx($name);
            if (!$up) {
                Test::More::fail("$name - nginx reloaded ($why)");
                Test::More::diag("nginx output:\n" . _tail_interesting(30));
                _stop_nginx($name);
                %OldWorkers = ();
            } elsif (defined $why) {
                Test::More::fail("$name - $why");
            }
        }
        ($up, $why) = _start_nginx($name) unless $up;
        if (!$up) {
            Test::More::fail("$name - nginx started ($why)");
            Test::More::diag("nginx output:\n" . _tail_interesting(30));
            $start_failed = 1;
            return 1;
        }
        $started = 1;

        if (defined(my $init = $block->init)) {
            _eval_in_main($init);
            die "$name - --- init failed: $@" if $@;
        }

        for my $rep (0 .. $RepeatEach - 1) {
            _write_user_files($block, scalar $block->user_files) if $rep > 0;
            _run_requests($block, $rep);
        }
        1;
    };
    my $err = $ok ? undef : ($@ || 'unknown error');
    $tb->todo_end if $todo;

    my $keep = 0;
    if ($started) {
        my $alive = _alive($NginxPid);
        if ($NoClean && $last) {
            Test::More::diag("TEST_NGINX_NO_CLEAN: leaving nginx ($NginxPid) "
                             . "running in $ServRoot");
        } elsif ($UseHup && !$last && $alive) {
            $keep = 1;          # the next block reloads it
        } else {
            _stop_nginx($name);
        }
        if (!$alive) {
            my $how = '';
            if (defined $NginxExit) {
                $how = ($NginxExit & 127) ? " (signal " . ($NginxExit & 127) . ")"
                     : " (exit status " . ($NginxExit >> 8) . ")";
            }
            Test::More::fail("$name - nginx exited unexpectedly during the test$how");
        }
    }

    if (defined $err) {
        chomp $err;
        $tb->todo_start("under valgrind: only memcheck's verdict counts")
            if $todo;
        Test::More::fail("$name - harness error: $err");
        $tb->todo_end if $todo;
    }

    _valgrind_check($block) if $UseValgrind && !($NoClean && $last);

    return if $start_failed;
    my $reported = 0;
    %RunningLogPos = ();
    $reported = _sanity_check_logs($block, defined $must_die, \%RunningLogPos)
        unless $NoClean && $last;
    $RunningBlock = $block if $keep;

    if (!$reported && (grep { !$_ } $tb->summary) > $failed_before) {
        my $tail = _tail_interesting(20);
        Test::More::diag("$name - nginx warnings/errors (servroot $ServRoot):\n$tail")
            if length $tail;
    }
}

# Valgrind mode (TEST_NGINX_USE_VALGRIND=1, `make test-valgrind`): nginx
# runs under memcheck as the suite configures it (one process, or a master
# and its workers: valgrind follows fork() by itself; nginx never exec()s),
# one report per process in logs/valgrind.<pid>.log.  Once the block's
# nginx has stopped, each report is read: an invalid read, write or free,
# a use of an uninitialised value, a crash, or a definite leak with an
# airouter frame in its stack fails the block once, with the records
# (definite leaks of nginx's own are not ours to fix).  The suppressions
# in $TEST_NGINX_VALGRIND_SUPPRESSIONS (tests/valgrind.supp) take nginx's
# and its libraries' known noise out first.  Reports that failed a block
# are copied to $TEST_NGINX_VALGRIND_KEEP when it is set.
sub _valgrind_command {
    my @cmd = ('valgrind', '--tool=memcheck', '-q', '--leak-check=full',
               '--show-leak-kinds=definite',
               '--errors-for-leak-kinds=definite', '--num-callers=40',
               '--gen-suppressions=all', '--keep-debuginfo=yes',
               "--log-file=$LogDir/valgrind.%p.log");
    if (my $supp = $ENV{TEST_NGINX_VALGRIND_SUPPRESSIONS}) {
        push @cmd, "--suppressions=$_" for split ' ', $supp;
    }
    return (@cmd, @ValgrindOpts);
}

# The error records of one valgrind report: [first line, whole text].
sub _valgrind_records {
    my ($file) = @_;
    my ($lines) = _read_lines($file, 0);
    my (@records, $cur);
    for my $line (@$lines) {
        next unless $line =~ /^==\d+== ?(.*)$/;    # not a suppression text
        my $text = $1;
        if ($text !~ /\S/) {
            push @records, $cur if $cur;
            undef $cur;
            next;
        }
        $cur ? ($cur->[1] .= "$line") : ($cur = [$text, $line]);
    }
    push @records, $cur if $cur;
    return @records;
}

sub _valgrind_check {
    my ($block) = @_;
    my $name = $block->name;
    my (@bad, @files);

    for my $file (sort glob "$LogDir/valgrind.*.log") {
        my $n = @bad;
        for my $r (_valgrind_records($file)) {
            my ($first, $text) = @$r;
            if ($first =~ /are definitely lost/) {
                push @bad, $text if $text =~ /airouter/;
            } elsif ($first =~ /^(?:Invalid (?:read|write|free)|Mismatched free|
                                   .*uninitialised|Source and destination overlap|
                                   Process terminating|Argument .* fishy|
                                   Jump to the invalid address)/x)
            {
                push @bad, $text;
            }
        }
        push @files, $file if @bad > $n;
    }
    return unless @bad;

    if ($ValgrindKeep) {
        make_path($ValgrindKeep);
        (my $tag = $name) =~ s/[^\w.-]+/_/g;
        for my $file (@files) {
            (my $base = $file) =~ s{.*/}{};
            system('cp', $file, "$ValgrindKeep/" . substr($tag, 0, 120)
                                . "-$base");
        }
    }
    my $n = @bad;
    splice @bad, 5 if @bad > 5;
    Test::More::fail("$name - valgrind: $n error(s) (memcheck)");
    Test::More::diag("valgrind, first records:\n" . join "\n", @bad);
}

sub _run_must_die {
    my ($block, $must_die) = @_;
    my $name = $block->name;
    my $want_code = $must_die =~ /^\s*(\d+)\s*$/ ? $1 : undef;

    for my $rep (0 .. $RepeatEach - 1) {
        my $stderr_pos = -s $StderrFile || 0;
        my $status = _run_nginx_launcher($name);
        if (!defined $status) {
            Test::More::fail("$name - nginx did not exit within ${StartTimeout}s");
        } elsif ($status & 127) {
            Test::More::fail("$name - nginx killed by signal " . ($status & 127));
        } elsif (defined $want_code) {
            Test::More::is($status >> 8, $want_code,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        my ($stderr) = _read_lines($StderrFile, $stderr_pos);
        _check_error_log($block, $rep, $stderr);

        if (defined $status && $status == 0) {
            Test::More::diag("WARNING: $name - nginx must die but it does not; "
                             . "killing it");
            if (my ($up) = _wait_pid_file()) {
                $NginxPid = $up;
                _stop_nginx($name);
            }
        }
    }
}

sub _wait_pid_file {
    my $deadline = time + 5;
    while (time < $deadline) {
        my $pid = _read_pid_file();
        return $pid if $pid;
        sleep 0.01;
    }
    return;
}

sub _run_requests {
    my ($block, $rep) = @_;
    my $name = $block->name;

    my @reqs = _requests_from_block($block);
    my $timeout = _parse_time(scalar $block->timeout);
    $timeout = defined $timeout ? $timeout * $TimeoutScale : $Timeout;
    my $wait = _parse_time(scalar $block->wait);
    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined ? 1 : @reqs > 1;
    my $ignore = defined $block->ignore_response;

    my $idx = 0;
    for my $r (0 .. $#reqs) {
        my $packets = $reqs[$r];
        my $head_req = $packets->[0]{value} =~ /^\s*HEAD\s+/ ? 1 : 0;
        Test::More::diag("request:\n" . join '', map { $_->{value} } @$packets)
            if $Verbose;

        my ($raw, $timed_out, $err) = _send_request($block, $packets, $timeout);
        if (defined $err) {
            Test::More::fail("$name - $err");
        } elsif ($timed_out && !defined $block->abort) {
            Test::More::fail("ERROR: client socket timed out - $name");
        }
        $raw //= '';
        Test::More::diag("response:\n$raw") if $Verbose;

        my $n = $pipelined ? scalar @$pipelined : 1;
        for my $k (1 .. $n) {
            my ($res, $left, $perr);
            if (!$ignore) {
                ($res, $left, $perr) = _parse_response($raw, $head_req);
                if ($perr && !($timed_out && defined $block->abort)) {
                    Test::More::diag("$name - $perr");
                }
                _check_error_code($block, $res, $idx, $need_array);
                _check_raw_headers($block, $res, $idx, $need_array);
                _check_headers($block, $res, $idx, $need_array);
                _transform_body($block, $res, $idx);
                _check_body($block, $res, $idx, $rep, $need_array);
                $raw = $left // '';
            }
            if ($k < $n || $r < $#reqs) {
                sleep $wait if $wait;
                _check_error_log($block, $rep);
                _check_access_log($block, $rep) unless $ignore;
            }
            $idx++;
        }
    }

    sleep $wait if $wait;
    _check_error_log($block, $rep);
    _check_access_log($block, $rep) unless $ignore;
}

# ---------------------------------------------------------------------------
# Block objects: one accessor per section, returning the (filtered) value,
# or undef when the block has no such section.
# ---------------------------------------------------------------------------

package Test::Nginx::Socket::Block;

our $AUTOLOAD;

sub new { bless { _order => [], _filters => {} }, shift }

sub set_value {
    my ($self, $key, @values) = @_;
    $self->{$key} = [@values];
}

sub seq_num { $_[0]{_seq_num} }
sub original_values { $_[0]{_original} || {} }

sub AUTOLOAD {
    my $self = shift;
    (my $key = $AUTOLOAD) =~ s/.*:://;
    return if $key eq 'DESTROY';
    Carp::croak("Not allowed to set values for '$key'") if @_;
    return unless ref $self && exists $self->{$key} && $key !~ /^_/;
    my @list = @{ $self->{$key} };
    return wantarray ? @list : $list[0];
}

# ---------------------------------------------------------------------------
# Minimal HTTP response object (the parts of HTTP::Response the checks use).
# ---------------------------------------------------------------------------

package Test::Nginx::Socket::Response;

sub new { bless { code => undef, message => '', headers => [],
                  content => '', raw_headers => '' }, shift }

sub code    { $_[0]{code} }
sub message { $_[0]{message} }
sub content { $_[0]{content} }

# All values of a header joined with ", " (like HTTP::Headers), or undef.
sub header {
    my ($self, $name) = @_;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $self->{headers} };
    return @v ? join(', ', @v) : undef;
}

1;
