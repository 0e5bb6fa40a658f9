# Streams: SSE passes through unbuffered, event by event; the status and the
# first event are checked before anything is committed; usage comes from
# the final chunk; an upstream that dies mid-stream leaves the client with
# an SSE error event and a clean end, never a silent 200.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(time);

no_shuffle();
log_level('info');

our $StreamBody = '{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}';

airouter_blocks(mock => mock_http_config(), config => mock_config(),
                request => "POST /v1/chat/completions\n$StreamBody");

# --- arrival: a second request on a raw socket; the first content event
# must reach the client well before the last (the mock pauses 2 x 200 ms)
add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->arrival;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(), Timeout => 3);
    my $req = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\nContent-Type: application/json\r\n"
        . "Content-Length: " . length($StreamBody) . "\r\n\r\n$StreamBody";
    print $s $req;
    my ($buf, $first, $last, $start) = ('', undef, undef, time);
    my $sel = IO::Select->new($s);
    while ($sel->can_read(3)) {
        my $n = sysread $s, my $chunk, 65536;
        last unless $n;
        $buf .= $chunk;
        $first //= time if $buf =~ /"content":"Hel"/;
        $last = time if $buf =~ /\[DONE\]/ && !defined $last;
    }
    my $ok = defined $first && defined $last && $last - $first >= 0.3;
    Test::More::ok($ok, $block->name . " - events arrive as they are sent")
        or Test::More::diag(sprintf "first %s last %s\n%s",
                                    $first // 'never', $last // 'never', $buf);
});

run_tests();

__DATA__

=== TEST 1: SSE passes through with the router's headers, event by event
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "stream"])
--- arrival
--- response_headers
Content-Type: text/event-stream
X-Router-Channel: first
X-Router-Attempts: 1
!X-Router-Cost
!Content-Length
--- response_body eval
qq{data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}

data: [DONE]

}
--- no_error_log
[error]
[warn]



=== TEST 2: a failing first candidate is replaced before the stream starts
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["down", "e503"], ["first", "stream"])
--- response_headers
Content-Type: text/event-stream
X-Router-Channel: first
X-Router-Fallbacks: down:server_error 503
--- response_body_like: ^data: .*"content":"Hel".*data: \[DONE\]\n\n$



=== TEST 3: the upstream dies mid-stream: an SSE error event, [DONE] and a clean end
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["flaky", "cut"], ["unused", "stream"])
--- response_headers
Content-Type: text/event-stream
X-Router-Channel: flaky
--- response_body_like: ^data: \{[^\n]*"content":"Hel"[^\n]*\}\n\ndata: \{"error":\{"message":"The upstream \\"flaky\\" ended the stream early \(server_error\)","type":"upstream_error","code":"stream_interrupted"\}\}\n\ndata: \[DONE\]\n\n$
--- error_log
airouter: "flaky" ended the answer early
--- no_error_log
[alert]



=== TEST 4: usage from the final chunk reaches the access log; the stream's cost too
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "stream"])
--- response_body_like: \[DONE\]
--- access_log
"channel":"first","model":"first-model","attempts":"1","prompt_tokens":"7","completion_tokens":"2","cost":"0.00001100","result":"ok"



=== TEST 5: a client that wants no stream gets JSON and X-Router-Cost
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "ok"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "stream": false, "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
Content-Type: application/json
X-Router-Cost: 0.00002000
--- access_log
"channel":"first","model":"first-model","attempts":"1","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"



=== TEST 6: a read timeout mid-stream ends the same way
--- extra_http_config
    airouter_read_timeout 500ms;
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["stuck", "stall"])
--- response_body_like: ^data: \{[^\n]*"content":"Hel"[^\n]*\}\n\ndata: \{"error":\{"message":"The upstream \\"stuck\\" ended the stream early \(timeout\)".*\n\ndata: \[DONE\]\n\n$
--- error_log
upstream timed out
--- no_error_log
[alert]



=== TEST 7: a client that leaves mid-stream costs the channel nothing
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "stall"])
--- timeout: 1
--- abort
--- wait: 0.8
--- access_log
"channel":"first","model":"first-model","attempts":"1","prompt_tokens":"","completion_tokens":"","cost":"","result":"client_closed"
--- no_error_log
[alert]
ended the answer early
airouter: "first"



=== TEST 8: a 200 stream whose first event is an error is a failure before anything is committed
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["broke", "sseerr"], ["first", "stream"])
--- response_headers
X-Router-Channel: first
X-Router-Fallbacks: broke:quota_exceeded 200
--- response_body_like: ^data: .*"content":"Hel".*data: \[DONE\]\n\n$
--- error_log
airouter: "broke" model "broke-model": quota_exceeded 200 OK, channel cooldown 3600 s
