# A 20 MB upload to /v1/audio/transcriptions (issue #20): nginx keeps the
# body in its temporary file (client_body_buffer_size 16k), the router
# scans it in bounded reads and sends each try slices of that file with
# the served model's id spliced in, so the worker's memory does not grow
# by the file's size, and the upstream gets the form byte for byte, on a
# fallback too.
#
# The worker's peak resident size (VmHWM, /proc) is read after a warm-up
# form of 256 KB (--- init: the upstream counts it too) and
# after the 20 MB; nginx runs without a master, so the
# process in the pid file is the worker (the mock upstream runs in it too,
# keeping the bodies it gets in files).
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;
use Airouter::FormMock;
use Airouter::HTTP ();
use Digest::MD5 qw(md5_hex);

no_shuffle();
install_checks();     # --- check_json, --- upstream_hits

our $B = '----airouterBig3kqY1nGzXw';
our $MB = 20;

# 20 MB of audio-like bytes: every byte value, no line of the boundary
our $Audio = join('', map { chr(($_ * 37 + 11) % 256) } 0 .. 65535)
             x ($MB * 16);

sub peak_kb {
    my $pidf = Test::Nginx::Socket::server_root() . "/logs/nginx.pid";
    open my $fh, '<', $pidf or return -1;
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    open my $st, '<', "/proc/$pid/status" or return -1;
    while (<$st>) {
        return $1 if /^VmHWM:\s+(\d+)\s+kB/;
    }
    return -1;
}

our $Before;

# one form of 256 KB through the same path first (temporary file, file
# slices; straight to the working channel: the failing one must not cool
# down before the blocks' own fallback), so the first request's own allocations (pools, caches,
# and under ASan its quarantine) are in the peak before it is read
sub warm {
    my ($status) = Airouter::HTTP::http_request(
        Test::Nginx::Socket::server_port(), 'POST',
        '/v1/audio/transcriptions',
        type => "multipart/form-data; boundary=$B",
        body => form($B, ['model', 'warmup'],
                     ['file', substr($Audio, 0, 256 * 1024), 'w.wav']));
    die "the warm-up form got $status\n" unless $status == 200;
}

# the upstream got exactly $want, and the worker's peak grew by less
# than a quarter of the upload
sub checked {
    my ($j, $want) = @_;
    my $got = slurp($j->{file});
    my $grew = peak_kb() - $Before;
    Test::More::diag("upstream got " . length($got) . " bytes (want "
                     . length($want) . "), md5 " . md5_hex($got) . " (want "
                     . md5_hex($want) . "); the worker's peak grew by "
                     . "$grew kB (from $Before kB)");
    return $got eq $want && $Before > 0 && $grew < $MB * 1024 / 4;
}

our $Mock = form_mock();

our $Channels = <<'_EOC_';
channels:
  - id: "down"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e503/v1"
    api_key: "sk-down-secret"
    priority: 1
    configured_models: ["gpt-4o-transcribe"]
    model_aliases:
      listener: "gpt-4o-transcribe"
  - id: "up"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-up-secret"
    priority: 2
    configured_models: ["whisper-1"]
    model_aliases:
      listener: "whisper-1"
      warmup: "whisper-1"
routing:
  max_retry_attempts: 3
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false      # the mock counts only the tries
_EOC_

airouter_blocks(
    mock       => $Mock,
    config     => <<'_EOC_',
    location /v1/ {
        client_body_buffer_size 16k;
        client_max_body_size 30m;
        airouter;
    }
_EOC_
    user_files => ">>> router_config.yaml\n$Channels",
    more_headers => "Content-Type: multipart/form-data; boundary=$B",
    init       => 'main::warm(); $main::Before = main::peak_kb();',
    timeout    => 60,
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: 20 MB, the model after the file: the first channel answers 503, the second gets the same 20 MB with its own model id; the worker's peak memory does not grow by the upload
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['file', $main::Audio, 'long.wav', 'audio/wav'],
             ['model', 'listener'], ['response_format', 'json'])
--- error_code: 200
--- response_headers
X-Router-Channel: up
X-Router-Model: whisper-1
X-Router-Attempts: 2
--- check_json
main::checked($j, main::form($main::B,
    ['file', $main::Audio, 'long.wav', 'audio/wav'],
    ['model', 'whisper-1'], ['response_format', 'json']))
--- upstream_hits: 3



=== TEST 2: 20 MB, the model before the file (the file's slice starts after the spliced id)
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'listener'], ['language', 'en'],
             ['file', $main::Audio, 'long.wav', 'audio/wav'])
--- error_code: 200
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 2
--- check_json
main::checked($j, main::form($main::B, ['model', 'whisper-1'],
    ['language', 'en'], ['file', $main::Audio, 'long.wav', 'audio/wav']))
--- upstream_hits: 3
