# The answer as it came (#16 item 4): a non-stream answer with a
# Content-Length keeps it (no chunked re-encoding), even when a channel key
# in it is masked (byte for byte); a stream whose events the upstream sends
# as one chunk each goes on to the client one buffer per read, not one
# buffer per event, with every event whole and in order.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use IO::Socket::INET;

no_shuffle();
log_level('debug');

# 60 events (each its own chunk: one echo each, no flush between them),
# a usage event and [DONE], all written together.
our $Events = join '', map {
    "            echo 'data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w$_ \"},\"finish_reason\":null}]}\\n';\n"
} 1 .. 60;

our $Mock = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location = /plain/v1/chat/completions {
            return 200 '{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}';
        }
        location = /leak/v1/chat/completions {
            return 200 '{"id":"c2","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"my key is sk-up-leaky-secret"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":6,"total_tokens":9}}';
        }
        location = /burst/v1/chat/completions {
            default_type text/event-stream;
            echo_read_request_body;
$Events            echo 'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":60,"total_tokens":63}}\\n';
            echo 'data: [DONE]\\n';
        }
    }
_EOC_

our $Config = <<'_EOC_';
channels:
  - id: plain
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/plain/v1"
    api_key: "sk-up-plain"
    configured_models: ["plain-model"]
  - id: leak
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/leak/v1"
    api_key: "sk-up-leaky-secret"
    configured_models: ["leak-model"]
  - id: burst
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/burst/v1"
    api_key: "sk-up-burst"
    configured_models: ["burst-model"]
routing:
  model_filters:
    min_context_length: 0
_EOC_

# One HTTP/1.1 request, read to the end as it came on the wire: the
# status line, the headers, and the body's chunks (sizes and data).
sub raw_chunks {
    my ($body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                  Timeout => 10)
        or die "connect: $!";
    print $s "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
           . "Connection: close\r\nContent-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    my @chunks;
    while (defined $rest && $rest =~ s/^([0-9a-fA-F]+)\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        push @chunks, substr($rest, 0, $n, '');
        $rest =~ s/^\r\n//;
    }
    return ($head, @chunks);
}

# --- buffers_at_most N: the block's request made airouter hand nginx's
# write filter at most N new buffers (its debug log: "write new buf"; the
# mock logs elsewhere), and its raw answer, asked again, is every event
# whole and in order.
Test::Nginx::Socket::add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $max = $block->buffers_at_most;
    return unless defined $max;
    chomp $max;
    my $bufs = grep { /write new buf/ } block_error_log();
    Test::More::ok($bufs > 0 && $bufs <= $max,
                   $block->name . " - at most $max buffers written")
        or Test::More::diag("$bufs buffers");
    (my $req = $block->request) =~ s/^[^\n]*\n//;
    $req =~ s/\s+$//;
    my ($head, @chunks) = raw_chunks($req);
    my $all = join '', @chunks;
    my @words = $all =~ /"content":"(w\d+) "/g;
    Test::More::like($head, qr/^HTTP\/1\.1 200.*\r\nTransfer-Encoding: chunked/s,
                     $block->name . " - chunked 200");
    Test::More::is(join(',', @words), join(',', map { "w$_" } 1 .. 60),
                   $block->name . " - every event, in order");
    Test::More::like($all, qr/"completion_tokens":60.*\n\ndata: \[DONE\]\n\n\z/s,
                     $block->name . " - usage, then [DONE]");
});

airouter_blocks(mock => $Mock,
                config => "    location /v1/ { airouter; }\n",
                user_files => ">>> router_config.yaml\n$Config",
                no_error_log => "[error]\n[alert]");

run_tests();

__DATA__

=== TEST 1: a non-stream answer keeps the upstream's Content-Length (not re-chunked)
--- request
POST /v1/chat/completions
{"model":"plain-model","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- response_headers
Content-Length: 222
X-Router-Channel: plain
--- raw_response_headers_unlike: Transfer-Encoding



=== TEST 2: masking the channel's key keeps the length too
--- request
POST /v1/chat/completions
{"model":"leak-model","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- response_headers
Content-Length: 248
--- raw_response_headers_unlike: Transfer-Encoding
--- response_body_like: "my key is \*{18}"



=== TEST 3: a burst of 60 one-chunk events goes on a read at a time, not a buffer per event
The mock writes every event as its own chunk, all at once; airouter hands
the client what each read brought as one buffer (a few reads: a few
buffers, each with its chunk header and end), every event whole and in
order.
--- request
POST /v1/chat/completions
{"model":"burst-model","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- buffers_at_most: 30
