# The stream relay's per-event costs (#16 item 4): a long stream whose
# events the upstream's reads cut in two is relayed whole and in order from
# a few hold blocks that are reused (the request's pool does not grow per
# read or per event); a channel whose streams carry the usage asked for
# (stream_options.include_usage) has its next streams' text left unread
# (no per-event text, no tokenizer), and one that then sends a stream
# without usage gets its completion estimated from the events' size and
# its next streams read again.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;

no_shuffle();
log_level('debug');

# 20 groups of 10 events; each group's last event is cut in two by a flush
# and a pause, so that the next read begins inside it.  The whole answer
# (22 KB) fits in the sockets' buffers: a client that reads late never
# keeps a block on its way.
sub event {
    my ($i) = @_;
    return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
         . "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w$i \"},"
         . "\"finish_reason\":null}]}\n\n";
}

our $Usage = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
           . "\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
           . "\"completion_tokens\":1000,\"total_tokens\":1003}}\n\n";
our $Done = "data: [DONE]\n\n";

sub nginx_str { my ($s) = @_; $s =~ s/\n/\\n/g; return "'$s'"; }

our ($Long, $LongBody) = ('', '');
for my $g (0 .. 19) {
    for my $k (1 .. 10) {
        my $ev = event($g * 10 + $k);
        $LongBody .= $ev;
        if ($k < 10) {
            $Long .= "            echo -n " . nginx_str($ev) . ";\n";
        } else {
            my $cut = index($ev, '"content"') + 12;
            $Long .= "            echo -n " . nginx_str(substr($ev, 0, $cut)) . ";\n"
                   . "            echo_flush;\n            echo_sleep 0.003;\n"
                   . "            echo -n " . nginx_str(substr($ev, $cut)) . ";\n";
        }
    }
}
$Long .= "            echo -n " . nginx_str($Usage) . ";\n"
       . "            echo -n " . nginx_str($Done) . ";\n";
$LongBody .= $Usage . $Done;

# a short stream of 5 events, with or without the usage event
our $Short = join '', map { "            echo -n " . nginx_str(event($_)) . ";\n" } 1 .. 5;
our $ShortData = 0;
$ShortData += length(event($_)) - length("data: ") - 2 for 1 .. 5;

our $Mock = <<"_EOC_";
    log_format usage '\$status source=\$airouter_usage_source '
                     'tokens=\$airouter_prompt_tokens+\$airouter_completion_tokens';

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type text/event-stream;
        access_log off;
        error_log logs/mock_error.log info;

        location = /long/v1/chat/completions {
            echo_read_request_body;
$Long        }
        location = /usage/v1/chat/completions {
            echo_read_request_body;
$Short            echo -n ${\ nginx_str($Usage)};
            echo -n ${\ nginx_str($Done)};
        }
        # usage on the first two answers of a connection, then none
        location = /fickle/v1/chat/completions {
            if (\$connection_requests ~ "^[12]\$") {
                rewrite ^ /usage/v1/chat/completions last;
            }
            echo_read_request_body;
$Short            echo -n ${\ nginx_str($Done)};
        }
    }
_EOC_

our $Config = <<'_EOC_';
channels:
  - id: long
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/long/v1"
    api_key: "sk-up-long"
    configured_models: ["long-model"]
  - id: usage
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/usage/v1"
    api_key: "sk-up-usage"
    configured_models: ["usage-model"]
  - id: fickle
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/fickle/v1"
    api_key: "sk-up-fickle"
    configured_models: ["fickle-model"]
routing:
  model_filters:
    min_context_length: 0
_EOC_

# --- text_log: after a block's last request, what its requests logged,
# in order, about reading the streams' text (and the warning of a stream
# without usage); --- usage_log: a pattern per access.log line, in order
# (the last line is waited for: it is written after the answer is sent).
Test::Nginx::Socket::add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->text_log;
    return unless defined $want;
    my $req = $block->request;
    return unless $idx == (ref $req eq 'ARRAY' ? $#$req : 0);
    my $pat = qr/the stream's text is (?:not read: usage expected|read)|"\w+" sent a stream without the usage asked for/;
    my $got = join '', map { /$pat/ ? "$&\n" : () } block_error_log();
    Test::More::is($got, $want, $block->name . " - what was read, in order");
    my @lines = @{ $block->usage_log };
    my $file = Test::Nginx::Socket::server_root() . "/logs/access.log";
    my @log;
    for (1 .. 100) {
        open my $fh, '<', $file or last;
        @log = <$fh>;
        close $fh;
        last if @log >= @lines;
        select undef, undef, undef, 0.05;
    }
    Test::More::is(scalar @log, scalar @lines, $block->name . " - access.log lines");
    for my $i (0 .. $#lines) {
        Test::More::like($log[$i] // '', $lines[$i],
                         $block->name . " - access.log line " . ($i + 1));
    }
});

sub stream_req {
    my ($model) = @_;
    return "POST /v1/chat/completions\n"
         . "{\"model\":\"$model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
}

airouter_blocks(mock => $Mock,
                config => "    location /v1/ { airouter; access_log logs/access.log usage; }\n",
                user_files => ">>> router_config.yaml\n$Config");

run_tests();

__DATA__

=== TEST 1: a long stream whose reads cut events in two: every byte in order, from a few reused hold blocks
200 events in 20 reads or more, each read beginning inside an event:
the client gets exactly what the upstream sent, and the partial events
are held in at most 4 blocks of the request's pool, reused from read to
read (not one per read, not one per event).
--- request eval
::stream_req("long-model")
--- response_body eval
$::LongBody
--- grep_error_log eval
qr/hold block of \d+ bytes(?:, for this time)?/
--- grep_error_log_out eval
qr/\A(?:hold block of 4096 bytes\n){1,4}\z/
--- no_error_log
[error]
[warn]



=== TEST 2: a channel whose stream carried the usage asked for: its next streams' text is not read
The first stream is read for its text (nothing is known of the channel
yet); it carries usage, so the next two are not: their usage is the
upstream's all the same.
--- request eval
[::stream_req("usage-model"), ::stream_req("usage-model"), ::stream_req("usage-model")]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/"completion_tokens":1000.*\[DONE\]/s, qr/"completion_tokens":1000.*\[DONE\]/s, qr/"completion_tokens":1000.*\[DONE\]/s]
--- text_log
the stream's text is read
the stream's text is not read: usage expected
the stream's text is not read: usage expected
--- usage_log eval
[qr/^200 source=upstream tokens=3\+1000$/, qr/^200 source=upstream tokens=3\+1000$/,
 qr/^200 source=upstream tokens=3\+1000$/]
--- no_error_log
[error]
[warn]



=== TEST 3: usage twice, then a stream without: its completion estimated from its size (a warning), the next one read again
The third stream was not read (the channel had sent usage); it comes
without usage: a quarter token per byte of its events' data.  The
fourth is read for its text again and counted from it.
--- request eval
[::stream_req("fickle-model"), ::stream_req("fickle-model"), ::stream_req("fickle-model"), ::stream_req("fickle-model")]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/\[DONE\]/, qr/\[DONE\]/, qr/\[DONE\]/, qr/\[DONE\]/]
--- text_log
the stream's text is read
the stream's text is not read: usage expected
the stream's text is not read: usage expected
"fickle" sent a stream without the usage asked for
the stream's text is read
--- usage_log eval
my $est = int(($::ShortData + 3) / 4);
[qr/^200 source=upstream tokens=3\+1000$/, qr/^200 source=upstream tokens=3\+1000$/,
 qr/^200 source=counted tokens=\d+\+$est$/, qr/^200 source=counted tokens=\d+\+(?!$est\b)\d+$/]
--- no_error_log
[error]
