package Airouter::Check;

#
# Checks for the keys, money and stats suites (t/300-320), on top of
# Airouter::Mock:
#
#   --- check_json      Perl code, run with $j = the decoded body of the
#                       block's last request; it must be true
#   --- upstream_hits   how many requests reached the counting upstream
#                       (count_http_config(), logs/upstream.log)
#   --- error_log_once  each line must be in error.log exactly once, and
#   --- error_log_all   at least once, after the block's last request
#                       (for request arrays, where --- error_log would be
#                       checked after every request)
#
# count_http_config() is one more mock upstream on $TEST_NGINX_RAND_PORT_3
# that logs every request it gets: /ok/v1 answers with usage 10 + 5
# tokens, /stream/v1 streams usage 7 + 2 in its last chunk, /nousage/v1
# answers without any usage.  Prompt caches: /cached/v1 answers 1000 + 10
# tokens of which 800 were read from the cache (OpenAI's names),
# /cachewrite/v1 900 + 3 with 800 written to it (OpenRouter's), and
# /dsstream/v1 streams 120 + 4 with 64 cache hits (DeepSeek's).
#

use strict;
use warnings;

use Exporter 'import';
use JSON::PP ();
use Test::Nginx::Socket ();
use Airouter::Blocks qw(block_error_log);
use Airouter::HTTP;

our @EXPORT = qw(install_checks count_http_config get_json);

sub nreq {
    my ($block) = @_;
    my $r = $block->request;
    return ref $r eq 'ARRAY' ? scalar @$r : 1;
}

sub install_checks {
    Test::Nginx::Socket::add_response_body_check(sub {
        my ($block, $body, $idx) = @_;
        return if $idx != nreq($block) - 1;

        if (defined(my $code = $block->check_json)) {
            my $j = eval { JSON::PP::decode_json($body) };
            local $main::j = $j;
            my $ok = $j && eval "package main; no strict 'vars'; $code";
            Test::More::ok($ok, $block->name . " - check_json")
                or Test::More::diag("check failed: " . ($@ || $code)
                                    . "\nbody: " . substr($body // '', 0, 3000));
        }

        for my $sec (qw(error_log_once error_log_all)) {
            my $pats = $block->$sec;
            next unless defined $pats;
            my $text = join '', block_error_log();
            for my $pat (grep { length } split /\n/, $pats) {
                my $n = () = $text =~ /\Q$pat\E/g;
                my $ok = $sec eq 'error_log_once' ? $n == 1 : $n >= 1;
                Test::More::ok($ok, $block->name . " - $sec \"$pat\"")
                    or Test::More::diag("found $n times");
            }
        }

        if (defined(my $want = $block->upstream_hits)) {
            $want =~ s/\s+//g;
            my $log = Test::Nginx::Socket::server_root() . "/logs/upstream.log";
            my $n = 0;
            if (open my $fh, '<', $log) {
                $n++ while <$fh>;
                close $fh;
            }
            Test::More::is($n, $want, $block->name . " - upstream hits");
        }
    });
}

# A GET (or $method) with a JSON body on a fresh connection; returns
# (status, { header => value }, body).
sub get_json {
    my ($port, $path, $token, $method, $body) = @_;
    return (http_request($port, $method // 'GET', $path, token => $token,
                         type => 'application/json', body => $body // ''))
           [0 .. 2];
}

sub count_http_config {
    my $ok = '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
        . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
        . '"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":'
        . '{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
    my $nousage = '{"id":"chatcmpl-2","object":"chat.completion","created":1,'
        . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
        . '"assistant","content":"Hello there, friend!"},"finish_reason":"stop"}]}';
    my $answer = sub {
        my ($usage) = @_;
        return '{"id":"chatcmpl-3","object":"chat.completion","created":1,'
            . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
            . '"assistant","content":"Hello!"},"finish_reason":"stop"}],'
            . "\"usage\":$usage}";
    };
    my $cached = $answer->('{"prompt_tokens":1000,"completion_tokens":10,'
        . '"total_tokens":1010,"prompt_tokens_details":{"cached_tokens":800}}');
    my $cachewrite = $answer->('{"prompt_tokens":900,"completion_tokens":3,'
        . '"total_tokens":903,"prompt_tokens_details":{"cached_tokens":0,'
        . '"cache_write_tokens":800}}');
    my $chunk = sub {
        my ($json) = @_;
        return "            echo 'data: $json';\n            echo '';\n";
    };
    my $stream = $chunk->('{"id":"s","object":"chat.completion.chunk","created":1,'
                         . '"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},'
                         . '"finish_reason":null}]}')
        . $chunk->('{"id":"s","object":"chat.completion.chunk","created":1,'
                   . '"model":"m","choices":[],"usage":{"prompt_tokens":7,'
                   . '"completion_tokens":2,"total_tokens":9}}')
        . "            echo 'data: [DONE]';\n            echo '';\n";
    my $dsstream = $chunk->('{"id":"d","object":"chat.completion.chunk","created":1,'
                           . '"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},'
                           . '"finish_reason":null}]}')
        . $chunk->('{"id":"d","object":"chat.completion.chunk","created":1,'
                   . '"model":"m","choices":[],"usage":{"prompt_tokens":120,'
                   . '"completion_tokens":4,"total_tokens":124,'
                   . '"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":56}}')
        . "            echo 'data: [DONE]';\n            echo '';\n";

    return <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_3;
        default_type application/json;
        access_log logs/upstream.log;
        error_log logs/mock_error.log info;

        location /ok/ {
            echo_read_request_body;
            echo '$ok';
        }

        location /nousage/ {
            echo_read_request_body;
            echo '$nousage';
        }

        location /stream/ {
            default_type text/event-stream;
            echo_read_request_body;
$stream        }

        location /cached/ {
            echo_read_request_body;
            echo '$cached';
        }

        location /cachewrite/ {
            echo_read_request_body;
            echo '$cachewrite';
        }

        location /dsstream/ {
            default_type text/event-stream;
            echo_read_request_body;
$dsstream        }
    }
_EOC_
}

1;
