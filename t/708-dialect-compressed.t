# A compressed answer and a client of another dialect.  The router asks
# every upstream for "Accept-Encoding: identity" (t/501); one that
# compresses anyway cannot be translated (the translators read plain
# bytes), so for a Messages, Responses or Gemini client on a chat channel
# that answer counts as a broken one: the next candidate is tried, and the
# client never gets compressed bytes under a translated header.  A chat
# client still gets the compressed answer as it came (t/501).
# Upstreams: raw-socket mocks (t/lib/Airouter/RawMock.pm), "raw3" the
# compressing one, "raw4" a plain healthy one.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Mock;
use Airouter::RawMock;
use IO::Compress::Gzip qw(gzip);

no_shuffle();
log_level('info');

our $Ok = $RawOk;

our $Stream = join '', map { "data: $_\n\n" }
    '{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}',
    '{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}',
    '[DONE]';

sub gzipped {
    my ($data, $type) = @_;
    my $body;
    gzip(\$data => \$body) or die "gzip";
    return http_head("200 OK", "Content-Type: $type", "Content-Encoding: gzip",
                     "Content-Length: " . length $body) . $body;
}

sub plain {
    my ($data, $type) = @_;
    return http_head("200 OK", "Content-Type: $type",
                     "Content-Length: " . length $data) . $data;
}

raw_mock_blocks();

airouter_blocks(mock => mock_http_config(), http => "    airouter_read_timeout 1s;\n",
                config => mock_config() . "    location /v1beta/ { airouter; }\n",
                user_files => raw_channels("", ["zip", "raw3"], ["plain", "raw4"]),
                no_error_log => "[alert]");

run_tests();

__DATA__

=== TEST 1: Messages: a gzip chat answer is not translated; the next candidate answers, in Anthropic's shape
--- raw_mocks eval
{ 3 => [['read', [send => main::gzipped($::Ok, "application/json")]]],
  4 => [['read', [send => main::plain($::Ok, "application/json")]]] }
--- request
POST /v1/messages
{"model":"gpt-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- response_headers
X-Router-Channel: plain
X-Router-Fallbacks: zip:server_error 200
!Content-Encoding
--- response_body_like: ^\{"id":"[^"]+","type":"message","role":"assistant",.*"text":"Hello!"
--- error_log
airouter: the upstream's answer is compressed: it cannot be translated from openai to anthropic



=== TEST 2: Gemini, streaming: a gzip chat stream is not translated either
--- raw_mocks eval
{ 3 => [['read', [send => main::gzipped($::Stream, "text/event-stream")]]],
  4 => [['read', [send => main::plain($::Stream, "text/event-stream")]]] }
--- request
POST /v1beta/models/gpt-test:streamGenerateContent?alt=sse
{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}
--- response_headers
X-Router-Channel: plain
!Content-Encoding
--- response_body_like: ^data: \{"candidates":\[\{"content":\{"parts":\[\{"text":"Hel"\}\],"role":"model"\}
--- error_log
airouter: the upstream's answer is compressed: it cannot be translated from openai to gemini



=== TEST 3: a chat client still gets the gzip answer as it came
--- raw_mocks eval
{ 3 => [['read', [send => main::gzipped($::Ok, "application/json")]]] }
--- request
POST /v1/chat/completions
{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}
--- response_headers
X-Router-Channel: zip
Content-Encoding: gzip
--- no_error_log
cannot be translated
