# Live state across a reload (nginx -s reload inside each block, so that
# both `make test` and `make test-hup` see it): a channel the new
# configuration defines as before keeps its blacklist and its keys' blocks;
# a channel redefined (another base_url, other keys) starts afresh; a key's
# block follows the key, not its place in api_keys.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;
use Airouter::KeyMock;
use Airouter::Process;
use IO::Socket::INET;
use Time::HiRes ();

no_shuffle();
master_on();      # each block reloads its own nginx
log_level('info');
install_checks();

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

# "paid", the only channel (keys @$keys on the mock's $kind location);
# $expand: the ports filled in (for a file the test writes itself, not
# through --- user_files)
sub cfg {
    my ($kind, $keys, $expand) = @_;
    my $list = join ', ', map { "\"$_\"" } @$keys;
    my $y = <<"_EOY_";
channels:
  - id: "paid"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_4/$kind/v1"
    api_keys: [$list]
    configured_models: ["paid-model"]
    model_aliases:
      gpt-test: "paid-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false
_EOY_
    $y =~ s/\$(TEST_NGINX_RAND_PORT_\d)/$ENV{$1}/g if $expand;
    return $y;
}

sub http_chat {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                  Timeout => 10) or die "connect: $!";
    print $s "POST /v1/chat/completions HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($Chat) . "\r\n\r\n$Chat";
    local $/;
    my $raw = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return ($head // '', $body // '');
}

# A chat that must be answered with $status after $attempts attempts
# (none: not tried at all).
sub chat_expect {
    my ($status, $attempts) = @_;
    my ($head, $body) = http_chat();
    my $tried = $head =~ /^X-Router-Attempts: (\d+)\r?$/mi ? $1 : 0;
    $head =~ m{^HTTP/1\.\d $status } && $tried == $attempts
        or die "expected $status after $attempts attempt(s), got:\n$head\n$body";
}

# Writes the configuration file anew and reloads: returns when the workers
# of the old configuration have gone and a new one answers.
sub reload_with {
    my ($yaml) = @_;
    my $file = "$ENV{TEST_NGINX_SERVER_ROOT}/html/router_config.yaml";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $yaml;
    close $fh;
    hup_and_wait();
}

airouter_blocks(mock => key_mock(), config => <<'_EOC_');
    location /v1/ {
        airouter;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: every key dead, the channel blacklisted; a reload gives it a new base_url and new keys: it serves at once
--- user_files eval
">>> router_config.yaml\n" . main::cfg("alldead", ["k1", "k2", "k3"])
--- init
main::chat_expect(401, 3);          # the three keys refused: blacklisted
main::chat_expect(503, 0);          # not tried: cooling down
main::reload_with(main::cfg("keys", ["k7", "k8"], 1));
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: paid
X-Router-Attempts: 1
--- response_body_like: Bearer k7
--- error_log eval
qr/airouter: live: [1-9]\d* entries of channels or keys the new configuration redefines dropped/



=== TEST 2: the same, but only the keys change (same base_url): the channel serves at once too
--- user_files eval
">>> router_config.yaml\n" . main::cfg("k2dead", ["k2"])
--- init
main::chat_expect(401, 1);          # its one key refused: blacklisted
main::chat_expect(503, 0);
main::reload_with(main::cfg("k2dead", ["k3"], 1));
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: paid
X-Router-Attempts: 1
--- response_body_like: Bearer k3



=== TEST 3: a reload that keeps the channel as it was keeps its blacklist
--- user_files eval
">>> router_config.yaml\n" . main::cfg("alldead", ["k1", "k2", "k3"])
--- init
main::chat_expect(401, 3);
main::reload_with(main::cfg("alldead", ["k1", "k2", "k3"], 1));
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 503
--- response_body_like: cooling down
--- upstream_hits: 3
--- no_error_log
entries of channels or keys the new configuration redefines dropped



=== TEST 4: a key's block follows the key: k2 (refused, key#1) moves to key#2 and stays away; k4, the new key#1, serves
--- user_files eval
">>> router_config.yaml\n" . main::cfg("k2dead", ["k1", "k2", "k3"])
--- init
main::chat_expect(200, 1);          # k1
main::chat_expect(200, 2);          # k2 refused (blocked alone), then k3
main::reload_with(main::cfg("k2dead", ["k1", "k4", "k2"], 1));
--- request eval
[ map { "POST /v1/chat/completions\n$main::Chat" } 1 .. 3 ]
--- response_body_like eval
["Bearer k1", "Bearer k4", "Bearer k1"]
--- response_headers eval
[ ("X-Router-Attempts: 1\n!X-Router-Fallbacks") x 3 ]
--- upstream_hits: 6
