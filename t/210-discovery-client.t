# Discovery's HTTP client and per-key discovery: HTTPS with SNI and
# certificate verification, a certificate that does not verify, keys that
# see different models, one refused key of two, a channel that times out
# (and is retried with a doubling backoff), an answer over the size cap, a
# connection refused, a provider's own auth header, Content-Length and
# chunked bodies.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use Airouter::Check;
use Airouter::Blocks;
use Airouter::HTTP;
use IO::Socket::INET;
use Cwd ();

no_shuffle();
log_level('info');

# the test-only certificate for localhost (t/cert/README.md)
$ENV{TEST_NGINX_CERT_DIR} = Cwd::abs_path('t/cert');

# A plain HTTP/1.0 exchange with nginx: (status, body).
sub http_req {
    my ($method, $path) = @_;
    return (http_request($ENV{TEST_NGINX_SERVER_PORT}, $method, $path,
                         body => ''))[0, 2];
}

sub run_discovery {
    my ($status, $body) = http_req('POST', '/v1/admin/discovery');
    die "POST /v1/admin/discovery: $status $body" unless $status == 200;
}

# A DNS server for one name, on UDP 127.0.0.1:$port, in a child process:
# mock.airouter.test A 127.0.0.1; other names NXDOMAIN; AAAA empty.
our @Children;
sub dns_server {
    my ($port) = @_;
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                     Proto => 'udp') or die "dns: $!";
    my $pid = fork // die "fork: $!";
    if ($pid) {
        push @Children, $pid;
        return;
    }
    alarm 30;
    while (1) {
        my $q;
        $sock->recv($q, 512) // next;
        my ($id) = unpack 'n', $q;
        my ($off, @labels) = (12);
        while ((my $len = ord substr $q, $off, 1) > 0) {
            push @labels, substr $q, $off + 1, $len;
            $off += $len + 1;
        }
        my $question = substr $q, 12, $off + 5 - 12;
        my ($qtype) = unpack 'n', substr $q, $off + 1, 2;
        my $name = lc join '.', @labels;
        my ($rcode, $answer) = (3, '');
        if ($name eq 'mock.airouter.test') {
            $rcode = 0;
            $answer = pack('n n n N n C4', 0xc00c, 1, 1, 60, 4, 127, 0, 0, 1)
                if $qtype == 1;
        }
        $sock->send(pack('n n n n n n', $id, 0x8180 | $rcode, 1,
                         $answer ? 1 : 0, 0, 0) . $question . $answer);
    }
}
add_cleanup_handler(sub { kill 'TERM', @Children if @Children; });

# "slow": a listener on $port that never accepts nor answers (the kernel
# completes the handshake and keeps what is sent), so only discovery's own
# timeout ends that fetch; no nginx worker is held.  Open until the next
# call (the block's end does not matter: nobody else uses the port).
our $Silent;
sub silent_server {
    my ($port) = @_;
    $Silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                    LocalPort => $port, Listen => 16,
                                    ReuseAddr => 1)
        or die "silent server on $port: $!";
}

install_checks();

our $Mock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_3 ssl;
        ssl_certificate     $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        # https: the answer says which name SNI asked for
        location = /tls/v1/models {
            echo '{"data":[{"id":"tls-model-$ssl_server_name"}]}';
        }

        # two keys, two views of the catalogue; a third key is refused
        location = /keys/v1/models {
            if ($http_authorization = "Bearer sk-a") {
                echo '{"data":[{"id":"shared-model"},{"id":"only-key-a"}]}';
                break;
            }
            if ($http_authorization = "Bearer sk-b") {
                echo '{"data":[{"id":"shared-model"},{"id":"only-key-b"}]}';
                break;
            }
            return 401;
        }

        # which key served a chat
        location = /keys/v1/chat/completions {
            if ($http_authorization = "Bearer sk-a") {
                echo '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"served by key a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
                break;
            }
            if ($http_authorization = "Bearer sk-b") {
                echo '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"served by key b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
                break;
            }
            return 401;
        }

        # the provider's own header instead of Authorization: Bearer
        location = /hdr/v1/models {
            if ($http_x_api_key != "k-123") { return 401; }
            alias $TEST_NGINX_FIXTURES/providers/deepseek-models.json;
        }

        location = /big/v1/models {
            alias $TEST_NGINX_FIXTURES/openrouter-models.json;
        }

        # OpenRouter's 287 KB answer, chunked (sub_filter drops the length)
        location = /bigchunked/v1/models {
            alias $TEST_NGINX_FIXTURES/openrouter-models.json;
            sub_filter_types application/json;
            sub_filter '"id"' '"id"';
            sub_filter_once off;
        }

        location = /garbage/v1/models {
            echo 'this is not json';
        }
    }
_EOC_

our $Config = <<'_EOC_';
providers:
  headerauth:
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/hdr/v1"
    auth_type: header
    auth_header: X-Api-Key
channels:
  - id: tls
    base_url: "https://localhost:$TEST_NGINX_RAND_PORT_3/tls/v1"
    api_key: "sk-tls"
  - id: keys
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/keys/v1"
    api_keys: ["sk-a", "sk-b", "sk-dead"]
  - id: hdr
    provider: headerauth
    api_key: "k-123"
  - id: slow
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_5/slow/v1"
  - id: refused
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/v1"
    configured_models: ["refused-configured"]
  - id: garbage
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/garbage/v1"
  - id: bigchunked
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/bigchunked/v1"
tasks:
  model_discovery:
    run_on_startup: false
_EOC_

airouter_blocks(http => "    airouter_discovery_timeout 1s;\n", mock => $Mock,
                config => $Airouter::Blocks::AdminConfig,
                user_files => ">>> router_config.yaml\n$Config");

run_tests();

__DATA__

=== TEST 1: HTTPS with SNI and a verified certificate; every key asked; the provider's auth header; a large chunked answer
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- request
POST /v1/admin/discovery
--- timeout: 5
--- check_json
my $c = $j->{discovery}{channels};
$c->{tls}{state} eq 'ok' && $c->{tls}{discovered} == 1
&& $c->{keys}{state} eq 'ok' && $c->{keys}{keys} == 3 && $c->{keys}{keys_invalid} == 1
&& $c->{keys}{discovered} == 4 && $c->{keys}{models} == 3
&& $c->{keys}{last_error} =~ /key 3 refused: 401/
&& $c->{hdr}{state} eq 'ok' && $c->{hdr}{discovered} == 2
&& $c->{bigchunked}{state} eq 'ok' && $c->{bigchunked}{discovered} == 554
--- no_error_log
[alert]
sk-dead
sk-tls



=== TEST 2: the models each key sees are all served
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- init
main::run_discovery();
--- request
GET /v1/models
--- check_json
my %ids = map { ("$_->{airouter}{channel}/$_->{id}" => 1) } @{$j->{data}};
$ids{'keys/shared-model'} && $ids{'keys/only-key-a'} && $ids{'keys/only-key-b'}
&& $ids{'tls/tls-model-localhost'} && $ids{'hdr/deepseek-chat'}



=== TEST 3: GET /v1/admin/channels says how many models each key lists
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- init
main::run_discovery();
--- request
GET /v1/admin/channels
--- check_json
my ($k) = grep { $_->{id} eq 'keys' } @{$j->{data}};
my ($t) = grep { $_->{id} eq 'tls' } @{$j->{data}};
join(',', @{$k->{key_models}}) eq '2,2,0' && !exists $t->{key_models}



=== TEST 4: failures: timeout, refused connection, invalid JSON; retried with backoff, configured models kept
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- init
main::silent_server($ENV{TEST_NGINX_RAND_PORT_5});
main::run_discovery();
--- request
GET /health
--- check_json
# "slow" never answers: the run ends because the fetch timed out (1 s)
# last_attempt is the run's start, next_run counts from its end (last_run):
# both in whole seconds, so only next_run - last_run is exact
my $d = $j->{discovery};
my $c = $d->{channels};
my $s = $c->{slow};
$s->{state} eq 'failed' && $s->{last_error} eq 'timed out' && $s->{failures} == 1
&& $s->{next_run} - $d->{last_run} == 60
&& $s->{last_attempt} <= $d->{last_run}
&& $d->{last_run} - $s->{last_attempt} <= int($d->{last_duration_ms} / 1000) + 1
&& $c->{refused}{state} eq 'failed' && $c->{refused}{models} == 1
&& $c->{refused}{failures} == 1 && $c->{refused}{next_run} - $d->{last_run} == 60
&& $c->{garbage}{state} eq 'failed' && $c->{garbage}{last_error} =~ /^invalid \/models answer/
&& $c->{tls}{state} eq 'ok' && $c->{tls}{failures} == 0
&& $d->{last_duration_ms} >= 1000 && $d->{last_duration_ms} < 5000



=== TEST 5: a certificate that does not verify fails that channel only
--- request
POST /v1/admin/discovery
--- timeout: 5
--- check_json
my $c = $j->{discovery}{channels};
$c->{tls}{state} eq 'failed' && $c->{tls}{last_error} eq 'certificate does not verify'
&& $c->{keys}{state} eq 'ok'
--- error_log
does not verify



=== TEST 6: airouter_ssl_verify off accepts it
--- extra_http_config
    airouter_ssl_verify off;
--- request
POST /v1/admin/discovery
--- timeout: 5
--- check_json
$j->{discovery}{channels}{tls}{state} eq 'ok'



=== TEST 7: an answer over the size cap is refused, not truncated
--- user_files eval
(my $c = $main::Config) =~ s{/garbage/v1}{/big/v1};
">>> router_config.yaml\n$c"
--- extra_http_config
    airouter_discovery_max_size 64k;
    airouter_ssl_verify off;
--- request
POST /v1/admin/discovery
--- timeout: 5
--- check_json
my $g = $j->{discovery}{channels}{garbage};
$g->{state} eq 'failed' && $g->{last_error} eq 'answer too large'



=== TEST 8: the admin token guards POST /v1/admin/discovery
--- user_files eval
">>> router_config.yaml\n$main::Config"
. "auth:\n  admin:\n    enabled: true\n    admin_token: \"adm-1\"\n"
--- request
POST /v1/admin/discovery
--- error_code: 401
--- no_error_log
airouter: discovery:



=== TEST 9: with nginx's resolver, names are resolved at every run; a name that does not resolve fails its channel only
--- extra_http_config
    resolver 127.0.0.1:$TEST_NGINX_RAND_PORT_4 ipv6=off;
    resolver_timeout 2s;
    airouter_ssl_verify off;
--- user_files eval
my $more = "  - id: byname\n    base_url: \"http://mock.airouter.test:\$TEST_NGINX_RAND_PORT_1/keys/v1\"\n    api_key: \"sk-a\"\n"
         . "  - id: noname\n    base_url: \"http://nxdomain.airouter.test:\$TEST_NGINX_RAND_PORT_1/keys/v1\"\n    api_key: \"sk-a\"\n";
(my $c = $main::Config) =~ s/^tasks:/${more}tasks:/m;
">>> router_config.yaml\n$c"
--- init
main::dns_server($ENV{TEST_NGINX_RAND_PORT_4});
--- request
POST /v1/admin/discovery
--- timeout: 5
--- check_json
my $c = $j->{discovery}{channels};
$c->{byname}{state} eq 'ok' && $c->{byname}{discovered} == 2
&& $c->{noname}{state} eq 'failed' && $c->{noname}{last_error} eq 'the host did not resolve'
--- error_log
"nxdomain.airouter.test" could not be resolved (3: Host not found)



=== TEST 10: a model only one key lists is always asked for with that key; a model both list takes them in turn (the turn is the channel's, shared by all its models)
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- init
main::run_discovery();
--- request eval
[ map({ "POST /v1/chat/completions\n{\"model\": \"only-key-b\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" } 1 .. 3),
  map({ "POST /v1/chat/completions\n{\"model\": \"only-key-a\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" } 1 .. 2),
  map({ "POST /v1/chat/completions\n{\"model\": \"shared-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" } 1 .. 2) ]
--- error_code eval
[ (200) x 7 ]
--- response_body_like eval
[ ("served by key b") x 3, ("served by key a") x 2, "served by key b", "served by key a" ]
--- response_headers eval
[ ("X-Router-Attempts: 1") x 7 ]



=== TEST 11: a second failure in a row doubles the wait (60 s, then 120 s, from the run's end); a success resets it
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- init
main::silent_server($ENV{TEST_NGINX_RAND_PORT_5});
main::run_discovery();
main::run_discovery();
--- request
GET /health
--- check_json
my $d = $j->{discovery};
my $c = $d->{channels};
$d->{runs} == 2
&& $c->{slow}{failures} == 2 && $c->{slow}{next_run} - $d->{last_run} == 120
&& $c->{refused}{failures} == 2 && $c->{refused}{next_run} - $d->{last_run} == 120
&& $c->{tls}{failures} == 0 && $c->{tls}{state} eq 'ok'



=== TEST 12: with error_log at debug, each fetch tells its story (the path without the query, the connect, TLS verified, the answer's status and framing, the outcome, a refused connection) and never a key
--- log_level: debug
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- request
POST /v1/admin/discovery
--- timeout: 5
--- error_code: 200
--- wait: 1.5
--- error_log eval
[qr{airouter: fetch GET /keys/v1/models from "127\.0\.0\.1:\d+", 1000 ms},
 qr{airouter: fetch: connect to 127\.0\.0\.1:\d+: -2},
 qr{airouter: fetch: TLS with "localhost" established, certificate verified},
 qr{airouter: fetch: request sent \(\d+ bytes\)},
 qr{airouter: fetch: answer 200, content length \d+$}m,
 qr{airouter: fetch: answer 200, content length -1, chunked},
 qr{airouter: fetch: answer 401},
 qr{airouter: fetch done: answered, status 200, \d+ body bytes},
 qr{airouter: fetch done: answered, status 401},
 qr{airouter: fetch done: connect failed, status 0, 0 body bytes}]
--- no_error_log
sk-a"
sk-b"
sk-dead
sk-tls
k-123
[alert]
