#!/usr/bin/perl
#
# tests/exports.pl -- issue #14's "exports true": every external symbol
# the module's objects define is used by another object of the module, or
# by a unit program, fuzz target or tool (the pure files' interface is
# theirs too).  A function or variable only its own file uses is static.
#
# Reads the objects nginx's build made ($BUILD/addon/*/*.o: src/*.c and
# ngx_http_airouter_module.c) with nm: a defined external symbol (T, D, B,
# R) that no other object names (U), and whose name no file under tests/
# or tools/ holds as a word, is a failure.  nginx's own module symbols
# (ngx_http_airouter_module, the generated module list) are not ours to
# hide.
#
# Usage: perl tests/exports.pl [BUILD]   (default $BUILD or ./build)
# Prints each offending symbol with its object, then "exports: 1 passed,
# 0 failed" (or 0/1) as its last line, the format tests/run-all sums;
# exits 1 on failure.
#

use strict;
use warnings;

my $build = $ARGV[0] // $ENV{BUILD} // 'build';
my @objs = sort grep { !m{/ngx_http_airouter_module_modules\.o$} }
           glob("$build/addon/*/*.o");

if (!@objs) {
    print "exports: no objects under $build/addon (build first)\n";
    print "exports: 0 passed, 1 failed\n";
    exit 1;
}

my (%def, %used);

for my $o (@objs) {
    open my $nm, '-|', 'nm', $o or die "nm $o: $!";
    while (<$nm>) {
        # ASan's one-definition-rule markers (__odr_asan.NAME) are the
        # sanitizer's, not ours: make test-asan failed on them
        next if /__odr_asan/;
        if (/^\S+ [TDBR] (\S+)$/) {
            $def{$1} = $o;
        } elsif (/^\s+U (\S+)$/) {
            $used{$1}{$o} = 1;
        }
    }
    close $nm or die "nm $o failed\n";
}

# every word of the unit programs, fuzz targets and tools
my %outside;
my @files = split /\0/, `find tests tools -type f \\( -name '*.c' -o -name '*.h' \\) -print0 2>/dev/null`;
for my $f (@files) {
    open my $fh, '<', $f or next;
    local $/;
    my $text = <$fh>;
    $outside{$_} = 1 for $text =~ /\b([A-Za-z_]\w*)\b/g;
}

my @bad;
for my $s (sort keys %def) {
    # the .so's module list (ngx_http_airouter_module_modules.c) names
    # every module of `config`: the main one, the error page filter's
    next if $s =~ /^ngx_http_airouter(?:_\w+)?_module$/
            && grep { $_ eq $s } split ' ', `grep -o 'ngx_http_airouter[a-z_]*_module' config`;
    next if grep { $_ ne $def{$s} } keys %{ $used{$s} || {} };
    next if $outside{$s};
    push @bad, $s;
    (my $o = $def{$s}) =~ s{^\Q$build\E/addon/}{};
    print "exports: $s is used only in $o: make it static\n";
}

printf "exports: %d passed, %d failed\n", @bad ? (0, 1) : (1, 0);
exit(@bad ? 1 : 0);
