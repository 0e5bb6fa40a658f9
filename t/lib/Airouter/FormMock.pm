package Airouter::FormMock;

#
# What the multipart/form-data suites (t/722-724) share: a form as a
# client writes it, and the mock upstream that keeps every body it gets in
# a file (client_body_in_file_only) and answers with that file's name, so
# a block compares what the upstream got with what it should have got,
# byte for byte.
#
#   form($boundary, [name, value], [name, value, filename, type], ...)
#   form_mock()           the mock server on $TEST_NGINX_RAND_PORT_1
#   scope_mock($log, @missing), scope_channels(@models)
#                         the form scope suites' (t/725, t/726) upstream
#                         and configuration (see below)
#   got_exactly($j, $want)    the body the answer $j names is $want
#
# The mock's locations:
#   /echo/   200, JSON: text and data (what a transcription's and an
#            image's answer carry), path, auth (the key cut after its
#            third byte: "Bearer sk-|..."), ct, len, accept (the request's
#            Content-Type, Content-Length, Accept) and file (its body)
#   /text/   200, a transcription as text (response_format=text)
#   /e503/   503, OpenAI's error
# Each request it gets is a line of logs/upstream.log (Airouter::Check's
# --- upstream_hits).
#

use strict;
use warnings;

use Exporter 'import';
use Test::More ();
our @EXPORT = qw(form form_mock got_exactly slurp scope_mock scope_channels);

sub form {
    my ($b, @parts) = @_;
    my $s = '';
    for my $p (@parts) {
        my ($name, $value, $file, $type) = @$p;
        $s .= "--$b\r\nContent-Disposition: form-data; name=\"$name\"";
        $s .= "; filename=\"$file\"" if defined $file;
        $s .= "\r\n";
        $s .= "Content-Type: $type\r\n" if defined $type;
        $s .= "\r\n$value\r\n";
    }
    return "$s--$b--";
}

# The scope suites' upstream (t/725, t/726) on $TEST_NGINX_RAND_PORT_1:
# /v1/images/generations and /v1/audio/transcriptions answer, each of the
# @missing endpoints ("images/edits", ...) is a 404 model_not_found; its
# access_log directive is $log ("off", or "logs/upstream.log" for
# --- upstream_hits).
sub scope_mock {
    my ($log, @missing) = @_;
    my $paths = join '|', @missing;
    my $not_found = '{"error":{"message":"The model does not exist",'
        . '"type":"invalid_request_error","code":"model_not_found"}}';
    return <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log $log;

        location ~ ^/v1/($paths)\$ {
            echo_read_request_body;
            echo_status 404;
            echo '$not_found';
        }
        location = /v1/images/generations {
            echo_read_request_body;
            echo '{"created":1,"data":[{"url":"http://img/1.png"}]}';
        }
        location = /v1/audio/transcriptions {
            echo_read_request_body;
            echo '{"text":"hello"}';
        }
    }
_EOC_
}

# ... and its router_config.yaml: the one channel "openai" serving
# @models, discovery off (a block stays the short model_not_found one)
sub scope_channels {
    my $models = join ', ', map { "\"$_\"" } @_;
    return <<"_EOY_";
channels:
  - id: "openai"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/v1"
    api_key: "sk-openai-secret"
    configured_models: [$models]
routing:
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false
_EOY_
}

our $Mock = <<'_EOC_';
    map $http_authorization $echo_authorization {
        "~^(?<auth_scheme>\S+ )?(?<auth_head>.{3})(?<auth_tail>.*)$"
            "$auth_scheme$auth_head|$auth_tail";
        default  "";
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log logs/upstream.log;
        error_log logs/mock_error.log info;
        client_max_body_size 64m;
        client_body_in_file_only on;

        location /echo/ {
            echo_read_request_body;
            echo '{"text":"ok","created":1,"data":[{"url":"https://img.example/edit.png"}],"path":"$uri","auth":"$echo_authorization","ct":"$http_content_type","len":"$http_content_length","accept":"$http_accept","file":"$request_body_file"}';
        }

        location /text/ {
            default_type text/plain;
            echo_read_request_body;
            echo "the words, as text";
        }

        location /e503/ {
            echo_read_request_body;
            echo_status 503;
            echo '{"error":{"message":"overloaded","type":"server_error"}}';
        }
    }
_EOC_

sub form_mock {
    return $Mock;
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<:raw', $f or return "cannot open $f: $!";
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s;
}

# the upstream got exactly $want
sub got_exactly {
    my ($j, $want) = @_;
    my $got = slurp($j->{file});
    return 1 if $got eq $want;
    Test::More::diag("upstream got " . length($got) . " bytes, want "
                     . length($want) . "; first difference at "
                     . (grep { substr($got, $_, 1) ne substr($want, $_, 1) }
                        0 .. length($want))[0]);
    return 0;
}

1;
