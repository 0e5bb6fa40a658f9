# Compressed answers.  The router asks every upstream for
# "Accept-Encoding: identity"; one that compresses anyway (gzip, or
# deflate with or without zlib's header) reaches the client byte for byte
# as it came, and a copy is inflated so that the answer is judged and its
# usage read as if it had come plain.  An encoding the router cannot
# inflate passes on its status alone.  Upstreams: raw-socket mocks
# (t/lib/Airouter/RawMock.pm), "raw3" the compressing one, "raw4" a plain
# healthy one.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::RawMock;
use IO::Compress::Gzip qw(gzip);
use IO::Compress::Deflate qw(deflate);
use IO::Compress::RawDeflate qw(rawdeflate);

no_shuffle();
log_level('info');

our $Ok = $RawOk;

our $Stream = join '', map { "data: $_\n\n" }
    '{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}',
    '{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}',
    '[DONE]';

sub packed {
    my ($how, $data) = @_;
    my $out;
    my $f = { gzip => \&gzip, deflate => \&deflate, raw => \&rawdeflate }->{$how};
    # gzip's header carries a time: 0 keeps the bytes the same whenever
    # they are made (the mock's and the expected copy are made apart)
    $f->(\$data => \$out, $how eq 'gzip' ? (Time => 0) : ())
        or die "compress: $how";
    return $out;
}

# an answer whose body is $data compressed as $how, said as $encoding
sub compressed {
    my ($how, $data, %o) = @_;
    my $body = packed($how, $data);
    my @h = ("Content-Type: " . ($o{type} // "application/json"),
             "Content-Encoding: " . ($o{encoding} // $how));
    return http_head($o{status} // "200 OK", @h,
                     "Content-Length: " . length $body) . $body
        unless $o{chunked};
    my $half = int(length($body) / 2);
    return http_head($o{status} // "200 OK", @h, "Transfer-Encoding: chunked")
        . join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                   substr($body, 0, $half), substr($body, $half))
        . "0\r\n\r\n";
}

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

raw_mock_blocks(4 => [$RawGood]);

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config",
        "    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
        . "    airouter_read_timeout 1s;\n"
        . ($block->extra_http_config // '') . mock_http_config())
        unless defined $block->http_config;
    $block->set_value("config", mock_config()) unless defined $block->config;
    $block->set_value("request", "POST /v1/chat/completions\n$Chat")
        unless defined $block->request;
});

# --- asked_identity: the compressing mock was asked for identity
add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->asked_identity;
    my @r = raw_mock_requests($ENV{TEST_NGINX_RAND_PORT_3});
    Test::More::ok(@r && (grep { /^Accept-Encoding: identity\r?$/mi } @r) == @r,
                   $block->name . " - every request said Accept-Encoding: identity")
        or Test::More::diag(join "\n--\n", @r);
});

run_tests();

__DATA__

=== TEST 1: a gzip answer: the client gets the bytes as they came, the usage is read from an inflated copy
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("gzip", $::Ok)]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"])
--- asked_identity
--- response_headers
Content-Encoding: gzip
X-Router-Channel: zip
X-Router-Cost: 0.00002000
--- response_body eval
main::packed("gzip", $::Ok)
--- access_log
"channel":"zip","model":"zip-model","attempts":"1","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"



=== TEST 2: the same, chunked
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("gzip", $::Ok, chunked => 1)]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"])
--- response_headers
X-Router-Cost: 0.00002000
--- response_body eval
main::packed("gzip", $::Ok)
--- access_log
"prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"



=== TEST 3: deflate, with zlib's header and without it
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("deflate", $::Ok)]],
        ['read', [send => main::compressed("raw", $::Ok, encoding => "deflate")]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"])
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat"]
--- response_headers eval
["X-Router-Cost: 0.00002000", "X-Router-Cost: 0.00002000"]
--- response_body eval
[main::packed("deflate", $::Ok), main::packed("raw", $::Ok)]



=== TEST 4: a gzip stream: relayed as it came; its usage comes from the inflated final chunk
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("gzip", $::Stream, type => "text/event-stream", chunked => 1)]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"])
--- request eval
"POST /v1/chat/completions\n" . '{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
--- response_headers
Content-Encoding: gzip
X-Router-Channel: zip
--- response_body eval
main::packed("gzip", $::Stream)
--- access_log
"channel":"zip","model":"zip-model","attempts":"1","prompt_tokens":"7","completion_tokens":"2","cost":"0.00001100","result":"ok"
--- no_error_log
[error]



=== TEST 5: a gzip answer larger than airouter_buffer_size: relayed as it came, its usage read from the end of the inflated copy
--- extra_http_config
    airouter_buffer_size 4k;
--- raw_mocks eval
my $big = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":['
    . join(',', map { sprintf "0.%05d", $_ * 7919 % 100000 } 1 .. 6000)
    . ']}],"model":"e","usage":{"prompt_tokens":6,"total_tokens":6}}';
$::Big = $big;
{ 3 => [['read', [send => main::compressed("gzip", $big)]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"])
--- response_headers
!X-Router-Cost
--- response_body eval
main::packed("gzip", $::Big)
--- access_log
"channel":"zip","model":"zip-model","attempts":"1","prompt_tokens":"6","completion_tokens":"0","cost":"0.00000600","result":"ok"



=== TEST 6: a gzip 200 whose inflated body is not JSON: the next candidate answers
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("gzip", "<html>It works!</html>")]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: zip:server_error 200
--- response_body_like: "content":"Hello!"



=== TEST 7: a body that says gzip and does not inflate: the next candidate answers
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Encoding: gzip", "Content-Length: 12") . "not gzip!!!!"]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: zip:server_error 200
--- error_log
airouter: upstream's answer does not inflate



=== TEST 8: a gzip 429 error body still names its fault (the body is read inflated)
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("gzip", '{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}', status => "429 Too Many Requests")]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: zip:quota_exceeded 429



=== TEST 9: an encoding the router cannot inflate passes on its status; the prompt is counted
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: application/json", "Content-Encoding: br", "Content-Length: 8") . "\x1b\x03\x00\xf8\x25\x82\x82\x01"]]] }
--- user_files eval
raw_channels("", ["br", "raw3"], ["good", "raw4"])
--- response_headers
Content-Encoding: br
X-Router-Channel: br
--- response_body eval
"\x1b\x03\x00\xf8\x25\x82\x82\x01"
--- access_log
"channel":"br","model":"br-model","attempts":"1","prompt_tokens":"5","completion_tokens":"0"



=== TEST 10: each candidate's answer is read in its own encoding: a raw deflate error, then a gzip answer that is counted
--- raw_mocks eval
{ 3 => [['read', [send => main::compressed("raw", '{"error":{"message":"boom","type":"server_error"}}', encoding => "deflate", status => "500 Internal Server Error")]]],
  4 => [['read', [send => main::compressed("gzip", $::Ok)]]] }
--- user_files eval
raw_channels("", ["zip", "raw3"], ["good", "raw4"])
--- response_headers
X-Router-Channel: good
X-Router-Fallbacks: zip:server_error 500
X-Router-Cost: 0.00002000
--- response_body eval
main::packed("gzip", $::Ok)
--- access_log
"channel":"good","model":"good-model","attempts":"2","prompt_tokens":"10","completion_tokens":"5"
--- no_error_log
does not inflate



=== TEST 11: a stream in an encoding the router cannot inflate passes on its status, as it came; the prompt is counted
--- raw_mocks eval
{ 3 => [['read', [send => http_head("200 OK", "Content-Type: text/event-stream", "Content-Encoding: br", "Transfer-Encoding: chunked") . "8\r\n\x1b\x03\x00\xf8\x25\x82\x82\x01\r\n0\r\n\r\n"]]] }
--- user_files eval
raw_channels("", ["br", "raw3"], ["good", "raw4"])
--- request eval
"POST /v1/chat/completions\n" . '{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
--- response_headers
Content-Encoding: br
X-Router-Channel: br
--- response_body eval
"\x1b\x03\x00\xf8\x25\x82\x82\x01"
--- access_log
"channel":"br","model":"br-model","attempts":"1","prompt_tokens":"5","completion_tokens":"0","cost":"0.00000500","result":"ok"
--- no_error_log
[error]
