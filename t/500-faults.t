# Faults, one block per kind: what the client gets, whether the next
# candidate stepped in, and which block live state set and for how long.
# The faulty upstream is a raw-socket mock (t/lib/Airouter/RawMock.pm) on
# $TEST_NGINX_RAND_PORT_3 ("raw3" in a channel list), scripted per
# connection; the healthy one on $TEST_NGINX_RAND_PORT_4 ("raw4") answers
# every request with a chat completion (usage 10 + 5) unless the block
# says otherwise.  Nothing listens on $TEST_NGINX_RAND_PORT_2 ("refused").
#
# Block sections of this file:
#   --- raw_mocks eval   { 3 => [\@script, ...], 4 => [...] }
#   --- hits             "3 1" lines: requests each raw mock read
#   --- metrics          lines GET /metrics must have, as they are
#   --- blocked          what GET /metrics says after the block's requests:
#                          model <channel> <model> <fault> <seconds>
#                          channel <channel> <fault> <seconds>
#                          open <channel>   (neither it nor a model of it)
#                        seconds: the block's length, give or take 5 s
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::RawMock;
use Airouter::HTTP;

no_shuffle();
log_level('info');

our $Ok = $RawOk;
our $Good = $RawGood;

our $Chunk = '{"id":"c","object":"chat.completion.chunk","created":1,'
    . '"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},'
    . '"finish_reason":null}]}';
our $UsageChunk = '{"id":"c","object":"chat.completion.chunk","created":1,'
    . '"model":"m","choices":[],"usage":{"prompt_tokens":7,'
    . '"completion_tokens":2,"total_tokens":9}}';

sub chunked {
    my ($data) = @_;
    return sprintf("%x\r\n%s\r\n", length $data, $data);
}

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Stream = '{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}';

airouter_blocks(http => "    airouter_read_timeout 1s;\n",
                mock => mock_http_config(),
                config => mock_config()
                          . "    location = /metrics { airouter_metrics; }\n",
                request => "POST /v1/chat/completions\n$Chat");

raw_mock_blocks(4 => [$RawGood]);

# the body of a GET
sub http_get { (http_request(server_port(), 'GET', $_[0]))[2] }

add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    return unless last_request($block, $idx);
    my $name = $block->name;

    for my $line (grep { /\S/ } split /\n/, $block->hits // '') {
        my ($mock, $want) = split ' ', $line;
        Test::More::is(raw_mock_hits($ENV{"TEST_NGINX_RAND_PORT_$mock"}),
                       $want, "$name - raw mock $mock read $want request(s)");
    }

    return unless defined $block->blocked || defined $block->metrics;
    my $m = http_get("/metrics");

    for my $line (grep { /\S/ } split /\n/, $block->metrics // '') {
        my ($family) = split /[{ ]/, $line;
        Test::More::ok(index("\n$m", "\n$line\n") >= 0, "$name - metrics: $line")
            or Test::More::diag(join "\n", grep { index($_, $family) == 0 }
                                           split /\n/, $m);
    }

    for my $line (grep { /\S/ } split /\n/, $block->blocked // '') {
        my ($scope, @f) = split ' ', $line;
        if ($scope eq 'open') {
            my $ch = quotemeta $f[0];
            my @hit = $m =~ /^(airouter_(?:channel|model)_blocked\{channel="$ch"[^}]*\} 1)$/mg;
            Test::More::ok(!@hit, "$name - $f[0] is not blocked")
                or Test::More::diag(join "\n", @hit);
            next;
        }
        my ($labels, $fault, $secs) = $scope eq 'model'
            ? ("channel=\"$f[0]\",model=\"$f[1]\"", $f[2], $f[3])
            : ("channel=\"$f[0]\"", $f[1], $f[2]);
        my $l = quotemeta $labels;
        my ($left) = $m =~ /^airouter_${scope}_blocked_seconds\{$l\} (\d+)$/m;
        my $ok = $m =~ /^airouter_${scope}_blocked\{$l,reason="\Q$fault\E"\} 1$/m
                 && defined $left && $left <= $secs && $left >= $secs - 5;
        Test::More::ok($ok, "$name - $scope $labels blocked: $fault, ${secs} s")
            or Test::More::diag(join "\n", grep { /_blocked/ && /\Q$f[0]\E/ }
                                           split /\n/, $m);
    }
});

run_tests();

__DATA__

=== TEST 1: refused: the next candidate answers; the channel is kept away for the timeout period
--- user_files eval
raw_channels("", ["down", "refused"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Attempts: 2
X-Router-Fallbacks: down:connect_error
--- response_body_like: "content":"Hello!"
--- hits
4 1
--- blocked
channel down connect_error 30
open good



=== TEST 2: accepted and never answered: a read timeout, the next candidate answers; the model cools down
--- raw_mocks eval
{ 3 => [['hang']] }
--- user_files eval
raw_channels("", ["hung", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: hung:timeout
--- response_body_like: "content":"Hello!"
--- hits
4 1
--- blocked
model hung hung-model timeout 30
open good



=== TEST 3: a close inside the status line does not poison the next candidate's answer
--- raw_mocks eval
{ 3 => [['read', [send => "HTTP/1.1 20"], 'close']] }
--- user_files eval
raw_channels("", ["cut", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: cut:server_error
--- response_body_like: "content":"Hello!"
--- hits
3 1
4 1
--- blocked
model cut cut-model server_error 120
open good



=== TEST 4: a close inside a header line does not poison the next candidate's answer
--- raw_mocks eval
{ 3 => [['read', [send => "HTTP/1.1 200 OK\r\nContent-Type: applica"], 'close']] }
--- user_files eval
raw_channels("", ["cut", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: cut:server_error 200
--- response_body_like: "content":"Hello!"
--- blocked
model cut cut-model server_error 120
open good



=== TEST 5: 100 KB of headers (more than airouter_buffer_size) do not poison the next candidate's answer
--- raw_mocks eval
{ 3 => [['read', [send => "HTTP/1.1 200 OK\r\n" . join('', map { "X-Pad-$_: " . ('x' x 1000) . "\r\n" } 1 .. 100) . "\r\n"], 'hang']] }
--- user_files eval
raw_channels("", ["huge", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: huge:server_error 200
--- response_body_like: "content":"Hello!"
--- error_log
upstream sent too big header
--- blocked
model huge huge-model server_error 120
open good



=== TEST 6: 100 KB of headers on the only channel: the client gets a 502, never a 200
--- raw_mocks eval
{ 3 => [['read', [send => "HTTP/1.1 200 OK\r\n" . join('', map { "X-Pad-$_: " . ('x' x 1000) . "\r\n" } 1 .. 100) . "\r\n"], 'hang']] }
--- user_files eval
raw_channels("", ["huge", "raw3"])
--- error_code: 502
--- response_body_like: ^\{"error":\{"message":"All 1 attempted candidates failed: huge \(huge-model\): server_error 200","type":"upstream_error","code":"all_candidates_failed"
--- blocked
model huge huge-model server_error 120



=== TEST 7: a body that stalls half way, on the only channel: 504, never a 200
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Length: " . length $::Ok) . substr($::Ok, 0, 60)], 'hang']] }
--- user_files eval
raw_channels("", ["stall", "raw3"])
--- error_code: 504
--- response_body_like: "code":"all_candidates_failed"
--- blocked
model stall stall-model timeout 30



=== TEST 8: a body that stalls half way: the next candidate answers
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Length: " . length $::Ok) . substr($::Ok, 0, 60)], 'hang']] }
--- user_files eval
raw_channels("", ["stall", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: stall:timeout 200
--- response_body_like: "content":"Hello!"
--- blocked
model stall stall-model timeout 30
open good



=== TEST 9: a body shorter than its Content-Length, on the only channel: 502, never a 200
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Length: " . length $::Ok) . substr($::Ok, 0, 60)], 'close']] }
--- user_files eval
raw_channels("", ["short", "raw3"])
--- error_code: 502
--- response_body_like: "code":"all_candidates_failed"
--- blocked
model short short-model server_error 120



=== TEST 10: a body shorter than its Content-Length: the next candidate answers
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Length: " . length $::Ok) . substr($::Ok, 0, 60)], 'close']] }
--- user_files eval
raw_channels("", ["short", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: short:server_error 200
--- response_body_like: "content":"Hello!"
--- blocked
model short short-model server_error 120
open good



=== TEST 11: a stream cut between two events: the events so far, then the stream_interrupted event and [DONE]
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/event-stream", "Connection: close") . sse_event($::Chunk)], [sleep => 0.2], 'close']] }
--- user_files eval
raw_channels("", ["cut", "raw3"], ["good", "raw4"])
--- request eval
"POST /v1/chat/completions\n$::Stream"
--- response_headers
X-Router-Channel: cut
--- response_body eval
"data: $::Chunk\n\n"
. qq{data: {"error":{"message":"The upstream \\"cut\\" ended the stream early (server_error)","type":"upstream_error","code":"stream_interrupted"}}\n\ndata: [DONE]\n\n}
--- hits
4 0
--- blocked
model cut cut-model server_error 120



=== TEST 12: a stream cut inside an event: the partial event never reaches the client
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/event-stream", "Connection: close") . sse_event($::Chunk)], [sleep => 0.2], [send => 'data: {"id":"c","object":"chat.compl'], [sleep => 0.2], 'close']] }
--- user_files eval
raw_channels("", ["cut", "raw3"], ["good", "raw4"])
--- request eval
"POST /v1/chat/completions\n$::Stream"
--- response_body eval
"data: $::Chunk\n\n"
. qq{data: {"error":{"message":"The upstream \\"cut\\" ended the stream early (server_error)","type":"upstream_error","code":"stream_interrupted"}}\n\ndata: [DONE]\n\n}
--- hits
4 0
--- blocked
model cut cut-model server_error 120



=== TEST 13: a chunked stream cut inside an event (no last chunk): the partial event never reaches the client
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/event-stream", "Transfer-Encoding: chunked") . main::chunked(sse_event($::Chunk))], [sleep => 0.2], [send => main::chunked('data: {"id":"c","object":"chat.compl')], [sleep => 0.2], 'close']] }
--- user_files eval
raw_channels("", ["cut", "raw3"], ["good", "raw4"])
--- request eval
"POST /v1/chat/completions\n$::Stream"
--- response_body eval
"data: $::Chunk\n\n"
. qq{data: {"error":{"message":"The upstream \\"cut\\" ended the stream early (server_error)","type":"upstream_error","code":"stream_interrupted"}}\n\ndata: [DONE]\n\n}
--- error_log
airouter: "cut" ended the answer early
--- blocked
model cut cut-model server_error 120



=== TEST 14: an event split over two reads reaches the client whole, and the stream ends as it should
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/event-stream", "Connection: close") . "data: " . substr($::Chunk, 0, 30)], [sleep => 0.2], [send => substr($::Chunk, 30) . "\n\n" . sse_event($::UsageChunk) . "data: [DONE]\n\n"], 'close']] }
--- user_files eval
raw_channels("", ["split", "raw3"])
--- request eval
"POST /v1/chat/completions\n$::Stream"
--- response_body eval
"data: $::Chunk\n\ndata: $::UsageChunk\n\ndata: [DONE]\n\n"
--- access_log
"channel":"split","model":"split-model","attempts":"1","prompt_tokens":"7","completion_tokens":"2","cost":"0.00001100","result":"ok"
--- no_error_log
[warn]
[error]
--- blocked
open split



=== TEST 15: a 400 that echoes the request's Authorization reaches the client with the key masked
--- raw_mocks eval
{ 3 => [['read', [send => sub { my ($auth) = $_[0] =~ /^Authorization: (.*?)\r$/mi; main::json_answer(qq{{"error":{"message":"Invalid request with header $auth","type":"invalid_request_error","code":null}}}, "400 Bad Request") }]]] }
--- user_files eval
raw_channels("", ["echo", "raw3"], ["good", "raw4"])
--- error_code: 400
--- response_headers
X-Router-Channel: echo
--- response_body chomp
{"error":{"message":"Invalid request with header Bearer **************","type":"invalid_request_error","code":null}}
--- hits
4 0



=== TEST 16: a 200 that echoes the key, in its body and in a header: masked in both
--- raw_mocks eval
{ 3 => [['read', [send => sub { my ($key) = $_[0] =~ /^Authorization: Bearer (.*?)\r$/mi; my $b = qq{{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"$key and $key"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}}; http_head("200 OK", "Content-Type: application/json", "X-Echo: key=$key", "Content-Length: " . length $b) . $b }]]] }
--- user_files eval
raw_channels("", ["echo", "raw3"])
--- response_headers
X-Echo: key=**************
--- response_body chomp
{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"************** and **************"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}



=== TEST 17: a key split over two reads of a stream event is masked whole
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/event-stream", "Connection: close") . 'data: {"choices":[{"index":0,"delta":{"content":"sk-echo-'], [sleep => 0.2], [send => qq|secret"}}]}\n\ndata: [DONE]\n\n|], 'close']] }
--- user_files eval
raw_channels("", ["echo", "raw3"])
--- request eval
"POST /v1/chat/completions\n$::Stream"
--- response_body eval
qq|data: {"choices":[{"index":0,"delta":{"content":"**************"}}]}\n\ndata: [DONE]\n\n|



=== TEST 18: a key split over two reads of a large answer (past airouter_buffer_size) is masked whole
--- extra_http_config
    airouter_buffer_size 4k;
--- raw_mocks eval
my $pad = 'x' x 6000;
my $b = qq{{"id":"x","pad":"$pad","key":"sk-echo-secret","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}};
my $i = index($b, 'sk-echo-') + 8;
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Length: " . length $b) . substr($b, 0, $i)], [sleep => 0.2], [send => substr($b, $i)], 'close']] }
--- user_files eval
raw_channels("", ["echo", "raw3"])
--- response_body_like: "pad":"x{6000}","key":"\*{14}","usage"



=== TEST 19: a 200 whose body is not JSON (cut short, its length right): the next candidate answers; the model cools down; nothing billed to it
--- raw_mocks eval
{ 3 => [['read', [send => main::json_answer('{"id":"x","choices":[{"message":{"content":"Hel')]]] }
--- user_files eval
raw_channels("", ["bad", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: bad:server_error 200
--- response_body_like: "content":"Hello!"
--- error_log
airouter: upstream answered 200 with a body that is not JSON
--- blocked
model bad bad-model server_error 120
open good
--- metrics
airouter_channel_tokens_total{channel="bad",type="prompt"} 0
airouter_channel_cost_usd_total{channel="bad"} 0.000000000000
airouter_channel_tokens_total{channel="good",type="prompt"} 10



=== TEST 20: a 200 whose body is an HTML page, on the only channel: 502, nothing billed
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/html", "Content-Length: 38") . "<html><body>It works!</body></html>\r\n\r\n"]]] }
--- user_files eval
raw_channels("", ["bad", "raw3"])
--- error_code: 502
--- response_body_like: "All 1 attempted candidates failed: bad \(bad-model\): server_error 200"
--- blocked
model bad bad-model server_error 120
--- metrics
airouter_tokens_total{type="prompt"} 0
airouter_cost_usd_total 0.000000000000



=== TEST 21: a 500 with an HTML page: the next candidate answers; the model cools down
--- raw_mocks eval
{ 3 => [['read', [send => http_head("500 Internal Server Error", "Content-Type: text/html", "Content-Length: 44") . "<html><body>Internal Server Error</body></html>"]]] }
--- user_files eval
raw_channels("", ["bad", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: bad:server_error 500
--- blocked
model bad bad-model server_error 120
open good



=== TEST 22: 429 with Retry-After: the next candidate answers; the model cools down for what the upstream said
--- raw_mocks eval
{ 3 => [['read', [send => main::json_answer('{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}', "429 Too Many Requests") =~ s/\r\n/\r\nRetry-After: 17\r\n/r]]] }
--- user_files eval
raw_channels("", ["busy", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: busy:rate_limit_exceeded 429
--- blocked
model busy busy-model rate_limit_exceeded 17
open good



=== TEST 23: a 200 past airouter_buffer_size whose start is not JSON: judged by its start, the next candidate answers
--- extra_http_config
    airouter_buffer_size 4k;
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Length: 8013") . "<html>" . ("x" x 8000) . "</html>\n"]]] }
--- user_files eval
raw_channels("", ["bad", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: bad:server_error 200
--- blocked
model bad bad-model server_error 120



=== TEST 24: a 200 past airouter_buffer_size that begins as JSON and does not end as JSON: relayed (committed), then the model cools down and nothing is billed
--- extra_http_config
    airouter_buffer_size 4k;
--- raw_mocks eval
my $b = '{"id":"x","data":[' . ("0.5," x 3000) . '0.5],"usage":{"prompt_tokens":3,"total_tokens":3}';
{ 3 => [['read', [send => main::json_answer($b)]]] }
--- user_files eval
raw_channels("", ["bad", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: bad
--- response_body_like: "prompt_tokens":3,"total_tokens":3\}$
--- error_log
airouter: "bad" sent an answer that is not JSON
--- blocked
model bad bad-model server_error 120
--- metrics
airouter_tokens_total{type="prompt"} 0
