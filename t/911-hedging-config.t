# routing.hedging in router_config.yaml: each invalid value stops nginx
# (nginx -t, a start) with file:line:column and a reason; a valid one
# starts the router.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;

no_shuffle();

config_error_blocks();

# --- hedging: routing.hedging in a file with one channel (line 5), a flow
# map on its line or, on lines of their own, its keys (from line 6)
add_block_preprocessor(sub {
    my ($block) = @_;
    my $h = $block->hedging;
    return unless defined $h && !defined $block->user_files;
    $block->set_value("user_files", ">>> router_config.yaml\nchannels:\n"
        . "  - id: a\n    base_url: \"http://127.0.0.1:9/v1\"\n"
        . "routing:\n  hedging:"
        . ($h =~ /\n/ ? "\n" . join("", map { "    $_\n" } split /\n/, $h)
                      : " $h\n"));
});

run_tests();

__DATA__

=== TEST 1: "after" that is neither p95 nor a duration
--- hedging
enabled: true
after: soonish
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:7:12: "routing\.hedging\.after" must be "p95" or a duration \("250ms", "1\.5s"\), got "soonish"/



=== TEST 2: "after" out of range
--- hedging: {enabled: true, after: 900s}
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:5:35: "routing\.hedging\.after" must be from 1ms to 600s, got "900s"/



=== TEST 3: more than one hedge
--- hedging
max_hedges: 3
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:6:17: "routing\.hedging\.max_hedges" must be between 0 and 1, got 3/



=== TEST 4: an unknown bill_loser
--- hedging
bill_loser: half
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:6:17: "routing\.hedging\.bill_loser" must be "prompt" or "none", got "half"/



=== TEST 5: a key's "hedge" must be a boolean
--- user_files
>>> router_config.yaml
auth:
  enabled: true
  api_keys:
    - name: k
      key: sk-k
      hedge: often
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:6:14: "auth\.api_keys\[0\]\.hedge" must be /



=== TEST 6: a valid hedging block starts the router
--- hedging
enabled: true
after: p95
max_hedges: 1
bill_loser: none
--- request
GET /health
--- error_code: 200
--- no_error_log
[emerg]
[warn]
