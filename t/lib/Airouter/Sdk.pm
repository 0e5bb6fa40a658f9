package Airouter::Sdk;

#
# The official SDKs' scripts of tests/sdk, run from a block's response
# body check once the block's request is answered: each "ok"/"not ok" line
# a script prints is one assertion, and one more says that it ran its
# checks and exited cleanly.  The openai SDK suites (t/160, t/721, t/724,
# t/906) call sdk_check; Airouter::DialectSdk runs the dialect SDKs'
# scripts through sdk_run.
#
#   sdk_check('sdk.mjs');                    node sdk.mjs http://...:PORT/v1
#   sdk_check('routing.mjs', origin => 1);   node routing.mjs http://...:PORT
#   sdk_check('forms.mjs', checks => 6);     and exactly 6 checks printed
#
# A block runs the script when it has a `--- sdk` section.
#

use strict;
use warnings;

use Cwd ();
use Test::More ();
use Test::Nginx::Socket;

use Exporter 'import';
our @EXPORT = qw(sdk_check sdk_run);

our $Sdk = Cwd::abs_path("tests/sdk");

# One script's run for $block: $a{package} must be installed under
# tests/sdk/node_modules ($a{installed} names it in the failure), then
# `node $a{run}`; $a{checks}: how many lines it must print (default: at
# least one); $a{done}: the name of the last assertion.
sub sdk_run {
    my ($block, %a) = @_;
    if (!-d "$Sdk/node_modules/$a{package}") {
        Test::More::fail($block->name . " - "
                         . ($a{installed} // $a{package}) . " is installed"
                         . " (cd tests/sdk && npm install)");
        return;
    }
    my $out = `node $Sdk/$a{run} 2>&1`;
    my $status = $?;
    my $n = 0;
    for my $line (split /\n/, $out) {
        if ($line =~ /^(not )?ok - (.*)$/) {
            Test::More::ok(!$1, $block->name . " - sdk: $2");
            $n++;
        } else {
            Test::More::diag($line);
        }
    }
    my $ran = defined $a{checks} ? $n == $a{checks} : $n > 0;
    Test::More::ok($ran && $status == 0, $block->name . " - $a{done}")
        or Test::More::diag($out);
}

# The openai SDK's $script against this nginx, for every block with
# `--- sdk`: given airouter's base URL (.../v1), or its origin.
sub sdk_check {
    my ($script, %opt) = @_;
    add_response_body_check(sub {
        my ($block) = @_;
        return unless defined $block->sdk;
        my $url = "http://127.0.0.1:" . server_port()
                  . ($opt{origin} ? "" : "/v1");
        sdk_run($block, package => 'openai', installed => 'the openai SDK',
                run => "$script $url", checks => $opt{checks},
                done => defined $opt{checks}
                        ? "sdk ran every check and exits cleanly"
                        : "sdk exits cleanly");
    });
}

1;
