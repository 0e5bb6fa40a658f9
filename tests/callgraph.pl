#!/usr/bin/perl
#
# tests/callgraph.pl -- the layer check of issue #14: calls go down only.
#
# Builds the cross-file call graph of src/*.c and ngx_http_airouter_module.c:
# a function defined without `static` in file A and named (called, or its
# address taken) in file B is an edge B -> A.  A strongly connected component
# of more than one file is a call circle, and a circle is a design bug.  It
# also checks that no pure src/airouter_* file includes an nginx header (or
# an nginx-side airouter header) or names an nginx-side function.
#
# It also reads the layer table of docs/architecture.md: every file of src/
# is in it, and no edge goes from a layer to a higher one.
#
# Circles that existed when the check was written are listed in
# tests/callgraph.allow while the refactor that cuts them is under way.  The
# check fails on a circle edge missing from that list and on a listed edge
# that is no longer a circle edge, so the list can only shrink; when it is
# empty the file is deleted.
#
# Usage: perl tests/callgraph.pl [-v] [--edges] [--defs] [--dot]
#                                [--allow FILE] [--arch FILE] [ROOT]
#   -v       list the circles (and their edges) even when all are allowed
#   --edges  print every cross-file edge with the functions behind it
#   --defs   print every exported function with its file and line, and exit
#   --dot    print the file graph in Graphviz format and exit
#   --arch   the layer table (default docs/architecture.md)
# Prints "callgraph: 1 passed, 0 failed" (or 0/1) as its last line, the
# format tests/run-all sums; exits 1 on failure.
#
# File names are shortened: src/ngx_http_airouter_zone.c is "zone",
# ngx_http_airouter_module.c is "module", src/airouter_tags.c stays
# "airouter_tags".  Only .c files are read: a header is the interface of the
# .c file that implements it, and its prototypes are not calls.
#

use strict;
use warnings;

$| = 1;

my ($opt_dot, $opt_edges, $opt_defs, $opt_verbose, $allow_file, $arch_file)
    = (0, 0, 0, 0, undef, undef);
my @args;
while (@ARGV) {
    my $a = shift @ARGV;
    if    ($a eq '--dot')   { $opt_dot = 1 }
    elsif ($a eq '--edges') { $opt_edges = 1 }
    elsif ($a eq "--defs")  { $opt_defs = 1 }
    elsif ($a eq '-v')      { $opt_verbose = 1 }
    elsif ($a eq '--allow') { $allow_file = shift @ARGV }
    elsif ($a eq '--arch')  { $arch_file = shift @ARGV }
    else                    { push @args, $a }
}
my $root = $args[0] // do {
    my $d = $0;
    $d =~ s{[^/]*$}{};
    ($d eq '' ? '.' : $d) . '/..';
};
chdir $root or die "$root: $!\n";
$allow_file //= "tests/callgraph.allow";
$arch_file  //= "docs/architecture.md";

my @files = (sort(glob("src/*.c")), "ngx_http_airouter_module.c");

sub unit_name {
    my ($path) = @_;
    my ($base) = $path =~ m{([^/]+)\.[ch]$};
    $base =~ s/^ngx_http_airouter_//;
    return $base;
}

sub is_pure { $_[0] =~ /^airouter_/ }

# Comments, string and character literals blanked out (newlines kept, so
# line numbers stay right).
sub strip_c {
    my ($text) = @_;
    $text =~ s{
        ( /\* .*? \*/ )                  # block comment
      | ( // [^\n]* )                    # line comment
      | ( " (?: [^"\\\n] | \\. )* " )    # string
      | ( ' (?: [^'\\\n] | \\. )* ' )    # character
    }{
        my $m = $&;
        (my $keep = $m) =~ s/[^\n]//g;
        defined $3 ? "\"\"$keep" : defined $4 ? "' '$keep" : " $keep";
    }gsex;
    return $text;
}

# Preprocessor lines (with their continuations) blanked out, for the
# definition scan; macro bodies are still read for references.
sub strip_cpp {
    my ($text) = @_;
    $text =~ s{^[ \t]*\#(?:[^\n]*\\\n)*[^\n]*}{
        (my $keep = $&) =~ s/[^\n]//g; $keep
    }gme;
    return $text;
}

# Top-level function definitions: at brace depth 0, a declarator ending in
# "name ( params )" followed by "{", with no "=" (an initializer) before it.
# Returns name => { static => 0|1, line => n }.
my $PARENS = qr/(\((?:[^()]++|(?-1))*\))/;

sub definitions {
    my ($code) = @_;
    my %defs;
    my $depth = 0;
    my $chunk = '';
    my $chunk_line = 1;
    my $line = 1;

    for my $c (split //, $code) {
        if ($depth == 0) {
            if ($c eq '{') {
                if ($chunk !~ /=/
                    && $chunk =~ /\b([A-Za-z_]\w*)\s*$PARENS\s*$/s)
                {
                    my $name = $1;
                    my $pre = substr($chunk, 0, $-[1]);
                    my $static = $chunk =~ /\bstatic\b/ ? 1 : 0;
                    my $at = $chunk_line + ($pre =~ tr/\n//);
                    $defs{$name} = { static => $static, line => $at };
                }
                $depth = 1;
                $chunk = '';
            } elsif ($c eq ';') {
                $chunk = '';
            } else {
                $chunk_line = $line if $chunk !~ /\S/;
                $chunk .= $c;
            }
        } elsif ($c eq '{') {
            $depth++;
        } elsif ($c eq '}') {
            $depth--;
            $chunk = '' if $depth == 0;
        }
        $line++ if $c eq "\n";
    }
    return \%defs;
}

my (%code, %defs, %owner, @problems);

for my $f (@files) {
    open my $fh, '<', $f or die "$f: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    my $u = unit_name($f);
    $code{$u} = strip_c($text);
    $defs{$u} = definitions(strip_cpp($code{$u}));
    for my $name (keys %{ $defs{$u} }) {
        next if $defs{$u}{$name}{static};
        if (exists $owner{$name}) {
            push @problems, "$name is defined in both $owner{$name} and $u";
            next;
        }
        $owner{$name} = $u;
    }
}

# edges{B}{A}{function} = first line in B that names it
my %edges;
for my $b (sort keys %code) {
    my $n = 1;
    for my $l (split /\n/, $code{$b}, -1) {
        next if $l =~ /^\s*#\s*include\b/;
        while ($l =~ /\b([A-Za-z_]\w*)\b/g) {
            my $a = $owner{$1};
            next unless defined $a && $a ne $b;
            next if $defs{$b}{$1};      # a static of the same name
            $edges{$b}{$a}{$1} //= $n;
        }
    } continue {
        $n++;
    }
}

if ($opt_defs) {
    for my $name (sort { $owner{$a} cmp $owner{$b} || $a cmp $b } keys %owner) {
        my $u = $owner{$name};
        print "$u:$defs{$u}{$name}{line}: $name\n";
    }
    exit 0;
}

if ($opt_dot) {
    print "digraph airouter {\n    rankdir=BT;\n";
    for my $b (sort keys %edges) {
        print "    \"$b\" -> \"$_\";\n" for sort keys %{ $edges{$b} };
    }
    print "}\n";
    exit 0;
}

sub edge_text {
    my ($b, $a) = @_;
    my $fns = $edges{$b}{$a};
    return "$b -> $a  (" . join(', ', sort keys %$fns) . ")";
}

if ($opt_edges) {
    for my $b (sort keys %edges) {
        print edge_text($b, $_), "\n" for sort keys %{ $edges{$b} };
    }
}

# Tarjan's strongly connected components over the file graph.
my (%index, %low, %on_stack, @stack, @sccs);
my $next_index = 0;

sub strongconnect {
    my ($v) = @_;
    $index{$v} = $low{$v} = $next_index++;
    push @stack, $v;
    $on_stack{$v} = 1;
    for my $w (sort keys %{ $edges{$v} || {} }) {
        if (!exists $index{$w}) {
            strongconnect($w);
            $low{$v} = $low{$w} if $low{$w} < $low{$v};
        } elsif ($on_stack{$w}) {
            $low{$v} = $index{$w} if $index{$w} < $low{$v};
        }
    }
    if ($low{$v} == $index{$v}) {
        my @scc;
        my $w;
        do {
            $w = pop @stack;
            $on_stack{$w} = 0;
            push @scc, $w;
        } while ($w ne $v);
        push @sccs, [sort @scc] if @scc > 1;
    }
}

for my $v (sort keys %code) {
    strongconnect($v) unless exists $index{$v};
}

my %circle_edge;    # "b -> a" => 1
my @circle_text;
for my $scc (@sccs) {
    my %in = map { $_ => 1 } @$scc;
    push @circle_text, "# circle of " . scalar(@$scc) . " files: @$scc";
    for my $b (@$scc) {
        for my $a (sort keys %{ $edges{$b} || {} }) {
            next unless $in{$a};
            $circle_edge{"$b -> $a"} = 1;
            push @circle_text, "#     " . edge_text($b, $a);
        }
    }
}

# The allowlist: one "b -> a" per line, '#' comments.
my %allowed;
if (-e $allow_file) {
    open my $fh, '<', $allow_file or die "$allow_file: $!\n";
    while (my $l = <$fh>) {
        $l =~ s/#.*//;
        next unless $l =~ /\S/;
        if ($l =~ /^\s*([\w]+)\s*->\s*([\w]+)\s*$/) {
            $allowed{"$1 -> $2"} = $.;
        } else {
            push @problems, "$allow_file:$.: not a \"file -> file\" line";
        }
    }
    close $fh;
    if (!%allowed) {
        push @problems, "$allow_file is empty: delete it";
    }
}

for my $e (sort keys %circle_edge) {
    next if $allowed{$e};
    my ($b, $a) = split / -> /, $e;
    push @problems, "new circle edge " . edge_text($b, $a)
        . ": calls go down only; use a slot (see docs/architecture.md)";
}
for my $e (sort { $allowed{$a} <=> $allowed{$b} } keys %allowed) {
    next if $circle_edge{$e};
    my ($b, $a) = split / -> /, $e;
    my $why = $edges{$b} && $edges{$b}{$a} ? 'is no longer in a circle'
                                           : 'no longer exists';
    push @problems, "$allow_file:$allowed{$e}: edge $e $why: delete the line"
        . (keys %allowed == 1 ? " (it is the last: delete the file)" : '');
}

# The layer table of docs/architecture.md (between "<!-- layers" and
# "<!-- /layers -->"): rows "| N name | `unit` `unit` ... | ... |".  Every
# file of src/ and the module file is in it, it names no other, and every
# cross-file edge goes to the caller's own layer or a lower one.
my (%layer, %layer_line);
if (open my $fh, '<', $arch_file) {
    my $in = 0;
    while (my $l = <$fh>) {
        if ($l =~ /^<!-- layers\b/) { $in = 1; next }
        last if $l =~ m{^<!-- /layers};
        next unless $in && $l =~ /^\|\s*(\d+)\b[^|]*\|([^|]*)\|/;
        my $n = $1;
        for my $u ($2 =~ /`(\w+)`/g) {
            if (exists $layer{$u}) {
                push @problems, "$arch_file:$.: `$u` is also in the row of "
                    . "line $layer_line{$u}";
                next;
            }
            ($layer{$u}, $layer_line{$u}) = ($n, $.);
        }
    }
    close $fh;
    push @problems, "$arch_file: no layer table (<!-- layers --> ... "
        . "<!-- /layers -->)" unless %layer;
} else {
    push @problems, "$arch_file: $!";
}
if (%layer) {
    my %unit_file;
    for my $f (sort(glob("src/*.[ch]")), "ngx_http_airouter_module.c") {
        $unit_file{ unit_name($f) } //= $f;
    }
    for my $u (sort keys %unit_file) {
        if (!exists $layer{$u}) {
            push @problems, "$unit_file{$u} is not in ${arch_file}'s layer "
                . "table: add `$u` to the row of its layer";
        } elsif (is_pure($u) != ($layer{$u} == 0)) {
            push @problems, "$arch_file:$layer_line{$u}: `$u` is in layer "
                . "$layer{$u}: pure files (and only they) are layer 0";
        }
    }
    for my $u (sort { $layer_line{$a} <=> $layer_line{$b} } keys %layer) {
        push @problems, "$arch_file:$layer_line{$u}: `$u` names no file "
            . "in src/: remove it" unless $unit_file{$u};
    }
    for my $b (sort keys %edges) {
        for my $a (sort keys %{ $edges{$b} }) {
            next unless exists $layer{$a} && exists $layer{$b};
            next if $layer{$b} >= $layer{$a};
            push @problems, "edge goes up, from layer $layer{$b} to "
                . "$layer{$a}: " . edge_text($b, $a) . ": calls go down "
                . "only; use a slot ($arch_file)";
        }
    }
}

# Pure files: no nginx header, no nginx-side function.
for my $f (sort(glob("src/airouter_*.[ch]"))) {
    open my $fh, '<', $f or die "$f: $!\n";
    while (my $l = <$fh>) {
        if ($l =~ /^\s*#\s*include\s*[<"]([^>"]*ngx_[^>"]*)[>"]/) {
            push @problems, "$f:$.: a pure file includes $1";
        }
    }
    close $fh;
}
for my $b (sort grep { is_pure($_) } keys %edges) {
    for my $a (sort grep { !is_pure($_) } keys %{ $edges{$b} }) {
        push @problems, "pure file calls the nginx side: "
            . edge_text($b, $a);
    }
}

print "# callgraph: ", scalar(keys %code), " files, ",
    scalar(map { keys %$_ } values %edges), " cross-file edges, ",
    scalar(@sccs), " circle(s), ", scalar(keys %circle_edge),
    " circle edge(s), ", scalar(keys %allowed), " allowed\n";

if (@problems || $opt_verbose) {
    print "$_\n" for @circle_text;
}
if (@problems) {
    print "callgraph: $_\n" for @problems;
    print "callgraph: 0 passed, 1 failed\n";
    exit 1;
}
print "callgraph: 1 passed, 0 failed\n";
exit 0;
