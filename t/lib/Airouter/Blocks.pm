package Airouter::Blocks;

#
# The block preprocessor the airouter suites share: what a block leaves out
# is filled in from the suite's defaults, so a block says only what it is
# about.
#
#   use Airouter::Blocks;
#   airouter_blocks(
#       mock    => mock_http_config(),     # http-level text after the block's
#                                          # --- extra_http_config: mock servers
#       http    => "    airouter_read_timeout 1s;\n",   # before it (optional)
#       zone    => 'airouter_t 16m',       # optional, see block_zone()
#       config_file => '$TEST_NGINX_HTML_DIR/router_config.yaml',  # default
#       config  => mock_config(),          # --- config when the block has none
#       request => "POST /v1/chat/completions\n{...}",
#       user_files => ..., no_error_log => ..., init => ...,   # any section
#   );
#
# A block without --- http_config gets
#
#     airouter_config <config_file>;
#     airouter_zone   <block_zone() or the suite's zone>;
#     <http> <the block's --- extra_http_config> <mock>
#
# and each other section it lacks (config, request, user_files, init...)
# from the defaults.  A default is a string or a sub, which is called with
# the block.
#
# block_zone($block) is a zone of the block's own ("airouter_b<n> 16m",
# n the block's number in the file).  Without a restart between blocks
# (`make test-hup`: the next block's configuration is loaded by a reload),
# nginx keeps a zone whose name and size stay the same, with everything
# the module keeps in it: cooldowns, blacklists, counters, budgets, the
# switched strategy.  The suites' blocks each start from an empty zone, as
# they do with a restart.  A suite that wants the zone carried over from
# block to block names one (zone => ...): t/200 does, t/001 and t/010 set
# their own.
#
# last_request($block, $idx) is true for the block's last request (the
# response-body checks that look at what a block's requests left behind
# run once, after it).
#

use strict;
use warnings;

use Exporter 'import';
use Test::Nginx::Socket ();

our @EXPORT = qw(airouter_blocks block_zone block_error_log
                 config_error_blocks last_request);

# the API, admin and health locations (the discovery suites' --- config)
our $AdminConfig = <<'_EOC_';
    location /v1/       { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health  { airouter_health; }
_EOC_

sub last_request {
    my ($block, $idx) = @_;
    my $r = $block->request;
    return $idx == (ref $r eq 'ARRAY' ? @$r : 1) - 1;
}

sub block_zone {
    my ($block) = @_;
    return "    airouter_zone   airouter_b" . $block->seq_num . " 16m;\n";
}

# The lines of error.log that this block's nginx wrote: under
# `make test-hup`, without what the workers of the previous configuration
# logged on their way out (the harness knows their pids).
sub block_error_log {
    my $file = Test::Nginx::Socket::server_root() . "/logs/error.log";
    open my $fh, '<', $file or return ();
    my @lines = <$fh>;
    close $fh;
    my $mine = Test::Nginx::Socket->can('_without_old_workers');
    return $mine ? @{ $mine->(\@lines) } : @lines;
}

sub _value {
    my ($v, $block) = @_;
    return ref $v eq 'CODE' ? $v->($block) : $v;
}

# The configuration suites (t/002, t/911): a block without --- http_config
# reads its router_config.yaml (from --- user_files) and nothing else, a
# block without --- config has /health, so a valid file starts a router
# that answers and an invalid one stops nginx (--- must_die).
sub config_error_blocks {
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my ($block) = @_;
        $block->set_value("http_config", "    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n")
            unless defined $block->http_config;
        $block->set_value("config", "    location = /health { airouter_health; }\n")
            unless defined $block->config;
    });
}

sub airouter_blocks {
    my (%d) = @_;

    Test::Nginx::Socket::add_block_preprocessor(sub {
        my ($block) = @_;

        if (!defined $block->http_config) {
            my $zone = defined $d{zone}
                       ? "    airouter_zone   $d{zone};\n" : block_zone($block);
            my $file = $d{config_file}
                       // '$TEST_NGINX_HTML_DIR/router_config.yaml';
            $block->set_value("http_config",
                "    airouter_config $file;\n" . $zone . (_value($d{http}, $block) // '')
                . ($block->extra_http_config // '')
                . (_value($d{mock}, $block) // ''));
        }

        for my $sec (sort keys %d) {
            next if $sec =~ /^(?:zone|http|mock|config_file)$/
                    || !defined $d{$sec}
                    || defined $block->$sec;
            $block->set_value($sec, _value($d{$sec}, $block));
        }
    });
}

1;
