# A request outlives the catalogue it was routed with: it is held in flight
# (a raw mock upstream that answers only once the block lets it) while
# three or more catalogues are published, discovery runs or reloads with a
# changed configuration.  The zone holds two retired copies (airouter_grace.h)
# and frees the oldest at once when a third comes within its grace, so the
# request's catalogue is freed (and, in a sanitizer build, overwritten with
# junk: ngx_http_airouter_zone.c) before the answer comes; whatever the
# answer, its headers and its log line need (model, prices, the next
# candidate of a fallback, the hedge) must come from the request's own
# copies.  The proof is meant for `make test-asan`, where a read of the
# freed catalogue reads junk.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(sleep time);
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Mock qw(mock_config chat_answer);
use Airouter::Process;
use Airouter::RawMock;

master_on();
no_shuffle();
log_level('info');

# The upstreams' answers wait for this file, which a block's init writes
# once the publications are done.
sub release_file { Test::Nginx::Socket::server_root() . "/logs/release" }

sub wait_release {
    my $end = time + 60;
    sleep 0.05 until -e release_file() || time > $end;
}

sub chunk {
    my ($content) = @_;
    return sse_event('{"id":"s","object":"chat.completion.chunk","created":1,'
        . '"model":"m","choices":[{"index":0,"delta":{"content":"' . $content
        . '"},"finish_reason":null}]}');
}

our $StreamEnd = chunk("lo")
    . sse_event('{"id":"s","object":"chat.completion.chunk","created":1,'
        . '"model":"m","choices":[],"usage":{"prompt_tokens":7,'
        . '"completion_tokens":2,"total_tokens":9}}')
    . "data: [DONE]\n\n";

# A held channel's raw mock: GET /v1/models is a 404 (discovery keeps its
# configured models), a chat sends $before at once and $after once
# released ($pause seconds later).
sub held {
    my ($before, $after, $pause) = @_;
    return ['read',
        [send => sub {
            return json_answer('{"error":"no models here"}', '404 Not Found')
                if $_[0] =~ /^GET /;
            return $before;
        }],
        [send => sub {
            return '' if $_[0] =~ /^GET /;
            wait_release();
            sleep $pause if $pause;
            return $after;
        }]];
}

raw_mock_blocks();

# The discovered channel: another /models answer at each run (so each run
# publishes a catalogue that differs from the last).
our $Mock = <<'_EOC_';
    log_format airouter_usage escape=json
        '{"status":$status,"channel":"$airouter_channel",'
        '"model":"$airouter_model","attempts":"$airouter_attempts",'
        '"prompt_tokens":"$airouter_prompt_tokens",'
        '"completion_tokens":"$airouter_completion_tokens",'
        '"cost":"$airouter_cost","result":"$airouter_status"}';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location = /disc/v1/models {
            echo '{"object":"list","data":[{"id":"disc-$request_id-a"},{"id":"disc-$request_id-b"}]}';
        }
_EOC_

# The big discovered channel: 3,000 models, other ids at each run, so each
# catalogue it publishes is some hundreds of KB (the echo's lines: nginx
# reads no argument longer than 4 KB).
our $BigModels = 3000;
$Mock .= "        location = /big/v1/models {\n"
    . "            echo -n '{\"object\":\"list\",\"data\":[';\n"
    . join('', map {
          my $l = $_;
          "            echo -n '" . join(',', map {
              '{"id":"big-$request_id-' . ($l * 40 + $_) . '"}'
          } 0 .. 39) . ($l < $BigModels / 40 - 1 ? ',' : '') . "';\n"
      } 0 .. $BigModels / 40 - 1)
    . "            echo ']}';\n"
    . "        }\n"
    . "    }\n";

our $Config = mock_config() . <<'_EOC_';
    location /v1/admin/ { airouter_admin; }
    location = /health  { airouter_health; }
_EOC_

# router_config.yaml: raw_channels() (Airouter::RawMock) of @channels, each
# tagged "held", then the discovered channel, discovery on demand only
sub yaml {
    my ($routing, @channels) = @_;
    my $y = raw_channels($routing,
                         (map { [@$_[0, 1], "    tags: [\"held\"]\n"] } @channels),
                         ["disc", "disc"]);
    $y =~ s/^>>> router_config.yaml\n//;
    return $y . "tasks:\n  model_discovery:\n    run_on_startup: false\n";
}

# one discovered channel alone ("disc" or "big"), discovery on demand only
sub only_yaml {
    my ($kind) = @_;
    my $y = raw_channels("", [$kind, $kind]);
    $y =~ s/^>>> router_config.yaml\n//;
    return $y . "tasks:\n  model_discovery:\n    run_on_startup: false\n";
}

# Resizes the block's zone (a reload: nginx makes a new zone) to hold the
# rest of the zone, the small start-up catalogue and three and a half big
# ones, the big one's size measured by a first publication; returns the
# size in KB.  Measured, not written down, so the block keeps its meaning
# when the catalogue's layout changes.  The rest of the zone grows with its
# size (the request log's ring...), so it is measured again in the zone of
# the first guess, and the zone resized once more.
sub zone_for_three {
    my $before = health()->{zone}{used};
    publish('discovery', 1);
    my $big = health()->{zone}{used} - $before;
    my $kb;
    for (1 .. 2) {
        $kb = int(($before + 3.5 * $big) / 1024);
        my $conf = "$ENV{TEST_NGINX_SERVER_ROOT}/conf/nginx.conf";
        open my $in, '<', $conf or die "$conf: $!";
        (my $c = do { local $/; <$in> })
            =~ s/(airouter_zone\s+\S+)\s+\S+;/$1 ${kb}k;/;
        close $in;
        open my $out, '>', $conf or die "$conf: $!";
        print $out $c;
        close $out;
        hup_and_wait();
        my $zone = health()->{zone};
        die "the zone was not resized to ${kb}k" unless $zone->{size} == $kb * 1024;
        $before = $zone->{used};
    }
    return $kb;
}

sub health {
    my ($status, undef, $body) = http_request(server_port(), 'GET', '/health');
    my $j = $status == 200 ? eval { JSON::PP::decode_json($body) } : undef;
    die "GET /health: $status $body" unless $j;
    return $j;
}

# Until each raw mock on @ports has read a chat (the request is in flight
# there, routed with the catalogue of that moment).
sub wait_in_flight {
    my (@ports) = @_;
    my $end = time + 30;
    while (time < $end) {
        return if !grep { !grep { /^POST / } raw_mock_requests($_) } @ports;
        sleep 0.05;
    }
    die "the request did not reach port(s) @ports within 30 s";
}

# Publications while the request waits: discovery runs (each publishes),
# with requests between them that read the catalogue on the same worker;
# or reloads, each with a configuration the master publishes.
sub publish {
    my ($how, $n, $yaml) = @_;
    my $gen = health()->{zone}{generation};
    for my $i (1 .. $n) {
        if ($how eq 'discovery') {
            my ($st, undef, $b) = http_request(server_port(), 'POST',
                                               '/v1/admin/discovery');
            die "POST /v1/admin/discovery: $st $b" unless $st == 200;
            http_request(server_port(), 'GET', '/v1/models');
            http_request(server_port(), 'POST', '/v1/route',
                         body => '{"model":"tag:held","messages":[]}');
        } else {
            my $file = "$ENV{TEST_NGINX_SERVER_ROOT}/html/router_config.yaml";
            (my $y = $yaml) =~ s/\$(TEST_NGINX_RAND_PORT_\d)/$ENV{$1}/g;
            $y =~ s/(configured_models: \["held-model")/$1, "extra-$i"/;
            open my $fh, '>', $file or die "$file: $!";
            print $fh $y;
            close $fh;
            kill 'HUP', master_pid();
            my $end = time + 30;
            sleep 0.1 until time > $end
                || (eval { health()->{zone}{generation} } // 0) >= $gen + $i;
        }
    }
    return health()->{zone}{generation} - $gen;
}

# The block's held request: sent, held in flight on the raw mocks @ports
# while $n publications happen, released, read whole.
our %Held;
sub hold {
    my (%o) = @_;
    %Held = ();
    unlink release_file();
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(), Timeout => 10)
        or die "connect: $!";
    print $s "POST /v1/chat/completions HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($o{body}) . "\r\n\r\n$o{body}";
    wait_in_flight(@{ $o{ports} });
    $Held{published} = publish($o{how} // 'discovery', $o{n} // 3, $o{yaml});
    open my $fh, '>', release_file() or die "release: $!";
    close $fh;
    my ($raw, $sel) = ('', IO::Select->new($s));
    my $end = time + 60;
    while (time < $end && $sel->can_read(1)) {
        last unless sysread $s, $raw, 65536, length $raw;
    }
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    ($Held{status}) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    $Held{headers} = { map { /^([^:]+):\s*(.*)$/ ? (lc $1, $2) : () }
                       split /\r\n/, $head // '' };
    $Held{body} = $body // '';
}

# --- held_status, --- held_headers ("Name: value" lines), --- held_body_like,
# --- published (at least this many publications while it was held)
add_response_body_check(sub {
    my ($block) = @_;
    my $name = $block->name;
    return unless defined $block->held_status;
    Test::More::cmp_ok($Held{published}, '>=', $block->published // 3,
                       "$name - catalogues published while held");
    Test::More::is($Held{status}, $block->held_status,
                   "$name - held request's status");
    for my $line (grep { length } split /\n/, $block->held_headers // '') {
        my ($h, $v) = $line =~ /^([^:]+):\s*(.*)$/;
        Test::More::is($Held{headers}{lc $h}, $v, "$name - held request's $h");
    }
    if (defined(my $re = $block->held_body_like)) {
        chomp $re;
        Test::More::like($Held{body}, qr/$re/s, "$name - held request's body");
    }
});

airouter_blocks(mock => $Mock, config => $Config, request => "GET /health",
                no_error_log => "[alert]\n[crit]\nexited on signal\n");

run_tests();

__DATA__

=== TEST 1: a plain answer held across three discovery publications: its model, channel and cost are the ones it was routed with
--- raw_mocks eval
{ 3 => [main::held('', json_answer($RawOk))] }
--- user_files eval
">>> router_config.yaml\n" . main::yaml("", ["held", "raw3"])
--- init
main::hold(ports => [$ENV{TEST_NGINX_RAND_PORT_3}],
           body => '{"model":"tag:held","messages":[{"role":"user","content":"hi"}]}');
--- held_status: 200
--- held_headers
X-Router-Channel: held
X-Router-Model: held-model
X-Router-Attempts: 1
X-Router-Cost: 0.00002000
--- held_body_like: "content":"Hello!"
--- access_log
{"status":200,"channel":"held","model":"held-model","attempts":"1","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"}



=== TEST 2: a stream whose first event went out before three publications and whose usage came after: the rest relayed, its cost from the prices it was routed with
--- raw_mocks eval
{ 3 => [main::held(http_head("200 OK", "Content-Type: text/event-stream")
                   . main::chunk("Hel"), $main::StreamEnd)] }
--- user_files eval
">>> router_config.yaml\n" . main::yaml("", ["held", "raw3"])
--- init
main::hold(ports => [$ENV{TEST_NGINX_RAND_PORT_3}],
           body => '{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}');
--- held_status: 200
--- held_headers
X-Router-Channel: held
X-Router-Model: held-model
--- held_body_like: "content":"Hel".*"content":"lo".*data: \[DONE\]
--- access_log
{"status":200,"channel":"held","model":"held-model","attempts":"1","prompt_tokens":"7","completion_tokens":"2","cost":"0.00001100","result":"ok"}



=== TEST 3: the first try fails after three publications: the fallback's candidate (model, key, prices) is the one routed before them
--- raw_mocks eval
{ 3 => [main::held('', json_answer('{"error":{"message":"overloaded","type":"server_error"}}',
                                   "503 Service Unavailable"))],
  4 => [main::held('', json_answer($RawOk))] }
--- user_files eval
">>> router_config.yaml\n" . main::yaml("", ["sick", "raw3"], ["spare", "raw4"])
--- init
main::hold(ports => [$ENV{TEST_NGINX_RAND_PORT_3}],
           body => '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}');
--- held_status: 200
--- held_headers
X-Router-Channel: spare
X-Router-Model: spare-model
X-Router-Attempts: 2
X-Router-Fallbacks: sick:server_error 503
X-Router-Cost: 0.00002000
--- held_body_like: "content":"Hello!"
--- access_log
{"status":200,"channel":"spare","model":"spare-model","attempts":"2","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"}



=== TEST 4: a hedged request, both tries in flight across three publications: the hedge wins with its own model and prices
--- raw_mocks eval
{ 3 => [main::held('', json_answer(main::chat_answer("from first")), 2)],
  4 => [main::held('', json_answer(main::chat_answer("from hedge")))] }
--- user_files eval
">>> router_config.yaml\n"
. main::yaml("  hedging: {enabled: true, after: 200ms, bill_loser: none}\n", ["first", "raw3"], ["hedge", "raw4"])
--- init
main::hold(ports => [$ENV{TEST_NGINX_RAND_PORT_3}, $ENV{TEST_NGINX_RAND_PORT_4}],
           body => '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}');
--- held_status: 200
--- held_headers
X-Router-Channel: hedge
X-Router-Model: hedge-model
X-Router-Hedge: won-by=hedge
X-Router-Cost: 0.00002000
--- held_body_like: "content":"from hedge"
--- access_log
{"status":200,"channel":"hedge","model":"hedge-model","attempts":"2","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"}



=== TEST 5: a request held on the old worker across three reloads, each publishing another configuration's catalogue from the master: answered as routed
--- raw_mocks eval
{ 3 => [main::held('', json_answer($RawOk))] }
--- user_files eval
">>> router_config.yaml\n" . main::yaml("", ["held", "raw3"])
--- init
main::hold(ports => [$ENV{TEST_NGINX_RAND_PORT_3}], how => 'reload', n => 3,
           yaml => main::yaml("", ["held", "raw3"]),
           body => '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}');
--- published: 3
--- held_status: 200
--- held_headers
X-Router-Channel: held
X-Router-Model: held-model
X-Router-Attempts: 1
X-Router-Cost: 0.00002000
--- held_body_like: "content":"Hello!"
--- access_log
{"status":200,"channel":"held","model":"held-model","attempts":"1","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"}



=== TEST 6: three publications within the grace: the first two retired catalogues are kept, the third publication frees the oldest at once and says so
--- user_files eval
">>> router_config.yaml\n" . main::only_yaml("disc")
--- init
my $n = main::publish('discovery', 3);
die "published $n, not 3" unless $n == 3;
--- request
GET /health
--- error_code: 200
--- grep_error_log eval
qr/a catalogue retired \d+ s ago freed before its 60 s grace: [^,\n]+/
--- grep_error_log_out eval
qr/\Aa catalogue retired [0-9] s ago freed before its 60 s grace: every holding slot is taken\n\z/
--- no_error_log
too small
[crit]
[alert]



=== TEST 7: a zone with room for three big catalogues but not four: each of four publications fits, the held ones given up first, and nothing says the zone is too small
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_b7 16m;\n" . $main::Mock
--- user_files eval
">>> router_config.yaml\n" . main::only_yaml("big")
--- init
my $kb = main::zone_for_three();
my $n = main::publish('discovery', 4);
die "published $n, not 4 (zone ${kb}k)" unless $n == 4;
my $h = main::health();
die "models $h->{models}" unless $h->{models} == $main::BigModels + 1;
--- request
GET /health
--- error_code: 200
--- error_log
freed before its 60 s grace: the zone has no room for a new catalogue
--- no_error_log
too small
no memory
[crit]
[alert]
