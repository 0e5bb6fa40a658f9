# The module as a user builds it into an nginx of their own
# (./configure --add-dynamic-module=..., without --with-debug): nginx's
# ngx_log_debug* macros are then empty, and under nginx's -Werror a
# variable that only a debug line reads ("set but not used") stops the
# build.  Debian's nginx is configured --with-debug, so `make` never sees
# it: here every nginx-facing file is compiled (syntax only: the front
# end gives these warnings) against the same headers with NGX_DEBUG 0.
use strict;
use warnings;

use Test::More;
use File::Basename qw(dirname);
use Airouter::Install;

my $top = $Airouter::Install::Top;
my $ngx_src = $ENV{NGX_SRC} // '/usr/share/nginx/src';

# the build directory of the module under test (make test: build/,
# make test-asan: build-asan/), where nginx's configure wrote its Makefile
my ($so) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
my $build = defined $so && -d dirname($so) ? dirname($so) : "$top/build";
my $mk = slurp("$build/Makefile") // '';
my ($incs) = $mk =~ /^ALL_INCS = (.*?)\n\n/ms;
ok(defined $incs, "TEST 1: $build/Makefile has nginx's include list");
$incs //= '';
$incs =~ s/\\\n/ /g;
$incs =~ s/\s+/ /g;

my $tmp = scratch_dir();
my @cc = ('cc', '-fsyntax-only', '-W', '-Wall', '-Wpointer-arith',
          '-Wno-unused-parameter', '-Werror', '-DNGX_DEBUG=0',
          split(' ', $incs));

sub compile {
    my ($file) = @_;
    my $cmd = join(' ', map { "'$_'" } @cc, $file);
    my $out = `cd '$ngx_src' && $cmd 2>&1`;
    return ($? >> 8, $out);
}

# the switch works: with NGX_DEBUG 0 the headers build no debug code
spit("$tmp/probe.c", <<'EOF');
#include <ngx_config.h>
#include <ngx_core.h>
#if (NGX_DEBUG)
#error NGX_DEBUG is on
#endif
EOF
my ($rc, $out) = compile("$tmp/probe.c");
is($rc, 0, 'TEST 1: -DNGX_DEBUG=0 builds without debug code') or diag $out;

# every file nginx compiles for the module
my @files = ("$top/ngx_http_airouter_module.c",
             sort glob("$top/src/ngx_http_airouter_*.c"));
cmp_ok(scalar @files, '>=', 20, 'TEST 2: the nginx-facing files are found');
for my $f (@files) {
    my ($rc, $out) = compile($f);
    (my $name = $f) =~ s{^\Q$top\E/}{};
    ok($rc == 0 && $out eq '', "TEST 2: $name compiles without --with-debug")
        or diag $out;
}

done_testing();
