# Discovery: GET /models of every enabled channel from a timer (or POST
# /v1/admin/discovery), concurrently, into a new catalogue generation in the
# zone.  Mock channels are nginx locations on $TEST_NGINX_RAND_PORT_1
# serving the real-shape fixtures: OpenRouter's 554 models, Ollama, LM
# Studio, SiliconFlow, Groq, DeepSeek and Zhipu; a Doubao-like channel with
# no /models (configured_models serve) and a channel whose key is refused.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use Airouter::Check;
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Process;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

master_on();
no_shuffle();
log_level('info');

# A plain HTTP/1.0 exchange with nginx: (status, body).
sub http_req {
    my ($method, $path, $body) = @_;
    return (http_request($ENV{TEST_NGINX_SERVER_PORT}, $method, $path,
                         body => $body // ''))[0, 2];
}

# Runs discovery now and waits for its end (the admin call answers then).
sub run_discovery {
    my ($status, $body) = http_req('POST', '/v1/admin/discovery');
    die "POST /v1/admin/discovery: $status $body" unless $status == 200;
}

# Waits until worker 0's own run (the start-up one) has ended.
sub wait_startup_run {
    for (1 .. 100) {
        my ($status, $body) = http_req('GET', '/health');
        my $j = eval { JSON::PP::decode_json($body) };
        return if $j && $j->{discovery} && $j->{discovery}{last_run};
        Time::HiRes::sleep(0.1);
    }
    die "no discovery run within 10 s";
}

sub chan { $_[0]{discovery}{channels}{$_[1]} }

# Reloads nginx (HUP) and waits until the workers of the old configuration
# have gone and a new one runs.  (Not by error.log's "reconfiguring": under
# make test-hup the harness's own reload before the block wrote it too.)
sub reload {
    hup_and_wait();
}

# Sends POST /v1/admin/discovery and leaves it running (the socket is kept
# open until the block ends).
our $Pending;
sub start_discovery {
    $Pending = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
        or die "connect: $!";
    print $Pending "POST /v1/admin/discovery HTTP/1.0\r\nHost: localhost\r\n"
                 . "Content-Length: 0\r\n\r\n";
}

# Waits until a run is in progress (the lease is taken), so that what
# follows happens during it.
sub wait_running {
    for (1 .. 200) {
        my ($status, $body) = http_req('GET', '/health');
        my $j = eval { JSON::PP::decode_json($body) };
        return if $j && $j->{discovery} && $j->{discovery}{running};
        Time::HiRes::sleep(0.02);
    }
    die "no discovery run in progress within 4 s";
}

# A listener that never accepts nor answers (the kernel completes the
# handshake and keeps what is sent): a fetch to it waits for its timeout.
# Open for the whole file, from before any nginx starts (a start-up run
# must not find it missing); the kernel picks its port.
our $Silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                    Listen => 64)
    or die "silent listener: $!";
our $SilentPort = $Silent->sockport;

# Kills the only worker mid-run and waits for the master's new one.
sub kill_worker {
    my @old = worker_pids();
    die "expected one worker, got @old" unless @old == 1;
    kill 'KILL', @old;
    for (1 .. 100) {
        Time::HiRes::sleep(0.1);
        my @now = grep { $_ != $old[0] } worker_pids();
        my ($status) = http_req('GET', '/health');
        return if @now && $status == 200;
    }
    die "no new worker within 10 s";
}

# 38 channels whose /models answers after 2 s: 6 OpenRouter-sized ones
# (554 models each), the others cycling through the providers' fixtures.
our @Small = qw(ollama-v1-models lmstudio-v1-models siliconflow-v1-models
                groq-openai-v1-models deepseek-models openai-v1-models
                zhipu-v4-models);

our $SlowMock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location ~ ^/slow/(?<fixture>[a-z0-9-]+)/\d+/v1/models$ {
            echo_sleep 2;
            echo_exec /fixture/$fixture.json;
        }
        location = /fixture/openrouter-models.json {
            alias $TEST_NGINX_FIXTURES/openrouter-models.json;
        }
        location /fixture/ {
            alias $TEST_NGINX_FIXTURES/providers/;
        }
    }
_EOC_

sub slow_channels {
    my ($n) = @_;
    my $yaml = "channels:\n";
    for my $i (1 .. $n) {
        my $f = $i <= 6 ? 'openrouter-models' : $Small[$i % @Small];
        $yaml .= "  - id: slow$i\n"
               . "    base_url: \"http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/slow/$f/$i/v1\"\n"
               . "    api_key: \"sk-$i\"\n";
    }
    return $yaml . "tasks:\n  model_discovery:\n    run_on_startup: false\n";
}


# One channel whose /models lists $BigModels models (a 3 MB answer): its
# parse and build take long enough for requests to arrive meanwhile.
our $BigModels = 30000;

sub big_models_json {
    my @m = map {
        sprintf('{"id":"big/model-%05d","object":"model","context_length":8192,'
                . '"pricing":{"prompt":"0.000001","completion":"0.000002"}}', $_)
    } 1 .. $BigModels;
    return '{"object":"list","data":[' . join(',', @m) . "]}\n";
}

our $BigMock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location = /big/v1/models {
            echo_sleep 0.3;
            echo_exec /big-models.json;
        }
        location = /big-models.json {
            root $TEST_NGINX_HTML_DIR;
        }
    }
_EOC_

our $BigConfig = <<'_EOC_';
channels:
  - id: big
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/big/v1"
    api_key: "sk-big"
    configured_models: ["big-configured"]
tasks:
  model_discovery:
    run_on_startup: false
_EOC_

# /health as (models, generation, running).
# /proc/<pid>/stat's fields after "(comm) ": [1] is the parent (field 4),
# [38] the scheduling policy (field 41; 5: SCHED_IDLE)
sub proc_stat {
    open(my $fh, '<', "$_[0]/stat") or return ();    # it ended
    my $stat = <$fh>;
    $stat =~ s/^.*\) //s;
    return split / /, $stat;
}

# Whether a worker may lower a thread to SCHED_IDLE and bring it back, as
# ngx_http_airouter_discovery_may_restore() decides: probed with chrt in a
# bash of this user (the workers' here: "user root" or this user), after
# the raise of RLIMIT_NICE the master attempts (20, else the soft limit up
# to the hard one).  Not root with CAP_SYS_NICE, or no RLIMIT_NICE: the
# jobs run at the thread's own priority.
sub may_idle {
    my $probe = 'ulimit -e 20 2>/dev/null'
              . ' || { h=$(ulimit -He); [ "$h" = unlimited ] && h=20;'
              . ' [ "$h" -gt 20 ] && h=20; ulimit -Se "$h"; } 2>/dev/null;'
              . ' chrt --idle 0 chrt --other 0 true';
    return system('bash', '-c', "($probe) >/dev/null 2>&1") == 0;
}

sub thread_policy {
    return (proc_stat($_[0]))[38] // -1;
}

sub health_now {
    my ($status, $body) = http_req("GET", $_[0] // "/health");
    my $j = eval { JSON::PP::decode_json($body) };
    die "GET /health: $status $body" unless $status == 200 && $j;
    return ($j->{models}, $j->{zone}{generation}, $j->{discovery}{running});
}

# Runs discovery (start_discovery) and, until its answer comes, asks
# /health (marked "poll=<token>-<n>") and routes big/model-00042, both on
# the worker that runs it.  Returns the run's answer, the /health samples
# [models, generation] and the route answers [status, channel or code].
our $PollToken;
sub poll_during_run {
    $PollToken = sprintf('%x%04x', time, $$ & 0xffff);
    my (@health, @route);
    start_discovery();
    my $sel = IO::Select->new($Pending);
    my $n = 0;
    my $until = Time::HiRes::time() + 60;
    while (!$sel->can_read(0) && Time::HiRes::time() < $until) {
        $n++;
        my ($models, $gen) = health_now("/health?poll=$PollToken-$n");
        push @health, [$models, $gen];
        my ($status, $body) = http_req('POST', '/v1/route',
            '{"model":"big/model-00042","messages":[{"role":"user","content":"hi"}]}');
        my $j = eval { JSON::PP::decode_json($body) } || {};
        push @route, [$status, $status == 200 ? $j->{candidates}[0]{channel}
                                              : ($j->{error}{code} // '')];
        Time::HiRes::sleep(0.005);
    }
    local $/;
    my $answer = <$Pending>;
    undef $Pending;
    $answer =~ s/^.*?\r\n\r\n//s;
    return (JSON::PP::decode_json($answer), \@health, \@route);
}

# How many of poll_during_run's requests the worker read while one of
# discovery's thread jobs ran (between nginx's "run task #N" and "complete
# task #N" debug lines): requests served while the catalogue was parsed or
# built.
sub polls_during_jobs {
    open(my $fh, '<', "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log")
        or die "error.log: $!";
    my (%running, $served);
    while (<$fh>) {
        if (/run task #(\d+) in thread pool "default"/) {
            $running{$1} = 1;
        } elsif (/complete task #(\d+) in thread pool "default"/) {
            delete $running{$1};
        } elsif (%running && /http request line: "GET \/health\?poll=\Q$PollToken\E-/) {
            $served++;
        }
    }
    return $served // 0;
}

install_checks();

our $Mock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location = /or/api/v1/models {
            alias $TEST_NGINX_FIXTURES/openrouter-models.json;
        }
        location = /ollama/v1/models {
            alias $TEST_NGINX_FIXTURES/providers/ollama-v1-models.json;
        }
        location = /lms/v1/models {
            alias $TEST_NGINX_FIXTURES/providers/lmstudio-v1-models.json;
        }
        location = /sf/v1/models {
            if ($http_authorization != "Bearer sk-sf") { return 401; }
            alias $TEST_NGINX_FIXTURES/providers/siliconflow-v1-models.json;
        }
        location = /groq/openai/v1/models {
            alias $TEST_NGINX_FIXTURES/providers/groq-openai-v1-models.json;
        }
        location = /ds/v1/models {
            alias $TEST_NGINX_FIXTURES/providers/deepseek-models.json;
        }
        location = /zp/api/paas/v4/models {
            alias $TEST_NGINX_FIXTURES/providers/zhipu-v4-models.json;
        }
        location = /revoked/v1/models {
            return 401 '{"error":{"message":"invalid key","type":"invalid_api_key"}}';
        }
        location = /slowish/v1/models {
            echo_sleep 2;
            echo '{"data":[{"id":"slowish-1"}]}';
        }
        location = /chunked/v1/models {
            echo_sleep 0.1;
            echo '{"object":"list","data":[{"id":"chunky-1","object":"model"},';
            echo_flush;
            echo_sleep 0.1;
            echo '{"id":"chunky-2","object":"model"}]}';
        }
    }
_EOC_

our $Config = <<'_EOC_';
channels:
  - id: openrouter
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/or/api/v1"
    api_key: "sk-or-test"
  - id: ollama
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ollama/v1"
  - id: lmstudio
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/lms/v1"
  - id: siliconflow
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/sf/v1"
    api_key: "sk-sf"
    currency: CNY
  - id: groq
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/groq/openai"
    api_key: "gsk"
  - id: deepseek
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ds"
    api_key: "sk-ds"
    cost_per_token: {input: 0.00000027, output: 0.0000011}
  - id: zhipu
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/zp/api/paas/v4"
    api_key: "zp"
    discovery_interval_hours: 1
  - id: doubao
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/doubao/api/v3"
    api_key: "ark"
    configured_models: ["ep-20250101-abcde"]
    model_aliases:
      doubao-1.5-pro-256k: "ep-20250101-abcde"
  - id: revoked
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/revoked/v1"
    api_key: "sk-revoked"
    configured_models: ["revoked-only-model"]
  - id: chunked
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chunked/v1"
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: true
    interval_hours: 6
    run_on_startup: false
_EOC_

# one zone for the whole file: under `make test-hup` a reload carries the
# catalogue and the discovery state from block to block
airouter_blocks(zone => 'airouter_t 16m', mock => $Mock,
                config => $Airouter::Blocks::AdminConfig,
                user_files => ">>> router_config.yaml\n$Config",
                no_error_log => "[error]\n[alert]");

run_tests();

__DATA__

=== TEST 1: POST /v1/admin/discovery asks every channel and answers with the result
--- request
POST /v1/admin/discovery
--- error_code: 200
--- check_json
my $c = $j->{discovery}{channels};
$j->{status} eq 'done'
&& $c->{openrouter}{state} eq 'ok' && $c->{openrouter}{discovered} == 554
&& $c->{ollama}{state} eq 'ok' && $c->{ollama}{discovered} >= 3
&& $c->{lmstudio}{state} eq 'ok'
&& $c->{siliconflow}{state} eq 'ok'
&& $c->{groq}{state} eq 'ok'
&& $c->{deepseek}{state} eq 'ok' && $c->{deepseek}{discovered} == 2
&& $c->{zhipu}{state} eq 'ok'
&& $c->{chunked}{state} eq 'ok' && $c->{chunked}{discovered} == 2
&& $c->{doubao}{state} eq 'configured_models'
&& $c->{revoked}{state} eq 'key_invalid'
&& $j->{models} > 554 + 20
--- error_log
airouter: discovery: 8 channels answered, 2 failed



=== TEST 2: the discovered models are served by /v1/models
--- init
main::run_discovery();
--- request
GET /v1/models
--- check_json
my %ids = map { ($_->{id} => 1) } @{$j->{data}};
$ids{'qwen/qwen3-235b-a22b:free'} && $ids{'chunky-1'} && $ids{'chunky-2'}
&& $ids{'deepseek-chat'} && $ids{'glm-4-plus'}
&& $ids{'ep-20250101-abcde'} && @{$j->{data}} > 554



=== TEST 3: /v1/route finds a Groq model by its core name, with Groq's context_window
--- init
main::run_discovery();
--- request
POST /v1/route
{"model":"llama-3.3-70b-versatile","messages":[{"role":"user","content":"hi"}]}
--- check_json
my $c = $j->{candidates}[0];
$c->{channel} eq 'groq' && $c->{entry}{airouter}{context_length} == 131072



=== TEST 4: a channel without /models serves its configured models (alias included)
--- init
main::run_discovery();
--- request
POST /v1/route
{"model":"doubao-1.5-pro-256k","messages":[{"role":"user","content":"hi"}]}
--- check_json
$j->{candidates}[0]{channel} eq 'doubao'
&& $j->{candidates}[0]{model} eq 'ep-20250101-abcde'



=== TEST 5: /health says why: 404 falls back, 401 marks the key invalid; next runs by interval (global and the channel's)
--- init
main::run_discovery();
--- request
GET /health
--- check_json
my $d = main::chan($j, 'doubao');
my $r = main::chan($j, 'revoked');
my $o = main::chan($j, 'openrouter');
$d->{state} eq 'configured_models' && $d->{http_status} == 404
&& $d->{last_error} =~ /no \/models endpoint \(404\)/ && $d->{models} == 1
&& $r->{state} eq 'key_invalid' && $r->{keys_invalid} == 1
&& $r->{last_error} =~ /key 1 refused: 401/
&& $o->{state} eq 'ok' && $o->{last_success} > 0 && !defined $o->{last_error}
&& $o->{next_run} >= $o->{last_success} + 6 * 3600 && $o->{models} == 554
&& main::chan($j, 'zhipu')->{next_run} - main::chan($j, 'zhipu')->{last_success} == 3600
&& $j->{discovery}{last_run} > 0 && !$j->{discovery}{running}



=== TEST 6: a channel whose key was refused is not routed to
--- init
main::run_discovery();
--- request
POST /v1/route
{"model":"revoked-only-model","messages":[{"role":"user","content":"hi"}]}
--- check_json
!grep { $_->{channel} eq 'revoked' } @{$j->{candidates} // []}



=== TEST 7: prices: OpenRouter's from /models, DeepSeek's from the channel's cost_per_token
--- init
main::run_discovery();
--- request
GET /v1/models
--- check_json
my %m = map { ("$_->{airouter}{channel}/$_->{id}" => $_->{airouter}) } @{$j->{data}};
my $or = $m{'openrouter/openai/gpt-4o-mini'};
my $ds = $m{'deepseek/deepseek-chat'};
$or && $or->{pricing} && abs($or->{pricing}{prompt} - 0.00000015) < 1e-12
&& $ds && $ds->{pricing} && abs($ds->{pricing}{prompt} - 0.00000027) < 1e-12
&& abs($ds->{pricing}{completion} - 0.0000011) < 1e-12



=== TEST 8: run_on_startup: worker 0 runs discovery after airouter_discovery_delay
--- no_hup: start-up only; a reload with the same channels keeps the zone's schedule
--- extra_http_config
    airouter_discovery_delay 0;
--- user_files eval
(my $c = $main::Config) =~ s/run_on_startup: false/run_on_startup: true/;
">>> router_config.yaml\n$c"
--- init
main::wait_startup_run();
--- request
GET /health
--- check_json
main::chan($j, 'openrouter')->{state} eq 'ok' && $j->{models} > 554
--- error_log
airouter: discovery: 8 channels answered



=== TEST 9: GET /v1/admin/channels lists every channel with its discovery state
--- init
main::run_discovery();
--- request
GET /v1/admin/channels
--- check_json
my %c = map { ($_->{id} => $_) } @{$j->{data}};
@{$j->{data}} == 10 && $c{groq}{discovery}{state} eq 'ok'
&& $c{revoked}{discovery}{state} eq 'key_invalid' && $c{revoked}{keys} == 1
&& $c{doubao}{configured_models} == 1
--- no_error_log
sk-revoked
[error]



=== TEST 10: a run writes the catalogue to airouter_cache_dir
--- extra_http_config
    airouter_cache_dir $TEST_NGINX_SERVER_ROOT/discovery-cache;
--- init
main::run_discovery();
--- request
GET /health
--- check_json
my @f = glob("$ENV{TEST_NGINX_SERVER_ROOT}/discovery-cache/airouter-*.catalog");
@f == 1 && -s $f[0] > 100000 && !glob("$ENV{TEST_NGINX_SERVER_ROOT}/discovery-cache/*.tmp")



=== TEST 11: after a restart the cached catalogue serves at once, before any discovery (no channel answers)
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_zone   airouter_t 16m;
    airouter_cache_dir $TEST_NGINX_SERVER_ROOT/discovery-cache;
--- request
POST /v1/route
{"model":"qwen/qwen3-235b-a22b:free","messages":[{"role":"user","content":"hi"}]}
--- check_json
$j->{candidates}[0]{channel} eq 'openrouter'
--- error_log
serving the cached catalogue
--- no_error_log
airouter: discovery:
[error]



=== TEST 12: nginx -s reload keeps the discovered catalogue and the channel state
--- init
main::run_discovery();
main::reload();
--- request
GET /health
--- check_json
$j->{models} > 554 && main::chan($j, 'openrouter')->{state} eq 'ok'
--- error_log
reconfiguring



=== TEST 13: 38 slow channels (2 s each, 3,400+ models) are discovered concurrently
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_t 32m;\n" . $main::SlowMock
--- user_files eval
">>> router_config.yaml\n" . main::slow_channels(38)
--- request
POST /v1/admin/discovery
--- timeout: 20
--- check_json
# one after another: 76 s; under 5 s: no more than two rounds, with room
# for a loaded machine's parsing and building
my @c = values %{$j->{discovery}{channels}};
@c == 38 && !grep({ $_->{state} ne 'ok' } @c)
&& $j->{models} >= 3400 && $j->{duration_ms} >= 2000 && $j->{duration_ms} < 5000



=== TEST 14: prices in order: /models, then cost_per_token, then airouter_pricing_file (LiteLLM, seed unified in CNY)
--- extra_http_config
    airouter_pricing_file $TEST_NGINX_FIXTURES/litellm-model-prices.json;
    airouter_pricing_file $TEST_NGINX_FIXTURES/seed/siliconflow_unified.json;
--- user_files eval
(my $c = $main::Config) =~ s/(  - id: chunked\n)/$1    configured_models: ["claude-3-haiku-20240307"]\n/;
">>> router_config.yaml\n$c"
--- init
main::run_discovery();
--- request
GET /v1/models
--- check_json
my %m = map { ("$_->{airouter}{channel}/$_->{id}" => $_->{airouter}{pricing}) } @{$j->{data}};
my $near = sub { my ($p, $k, $v) = @_; $p && abs($p->{$k} - $v) < 1e-12 };
$near->($m{'openrouter/openai/gpt-4o-mini'}, 'prompt', 0.00000015)
&& $near->($m{'deepseek/deepseek-chat'}, 'prompt', 0.00000027)
&& $near->($m{'siliconflow/Qwen/Qwen3-32B'}, 'prompt', 0.14e-6)
&& $m{'siliconflow/Qwen/Qwen3-32B'}{currency} eq 'CNY'
&& exists $m{'groq/qwen/qwen3-32b'} && !defined $m{'groq/qwen/qwen3-32b'}
&& $near->($m{'chunked/claude-3-haiku-20240307'}, 'completion', 1.25e-6)
&& $m{'chunked/claude-3-haiku-20240307'}{currency} eq 'USD'



=== TEST 15: price files also price the start-up catalogue, whatever the directive order
--- http_config eval
"    airouter_pricing_file \$TEST_NGINX_FIXTURES/litellm-model-prices.json;\n"
. "    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_t 16m;\n"
--- user_files eval
(my $c = $main::Config) =~ s/(  - id: chunked\n)/$1    configured_models: ["claude-3-haiku-20240307"]\n/;
">>> router_config.yaml\n$c"
--- request
GET /v1/models
--- check_json
my ($m) = grep { $_->{id} eq 'claude-3-haiku-20240307' } @{$j->{data}};
$m && abs($m->{airouter}{pricing}{prompt} - 2.5e-7) < 1e-15
&& $m->{airouter}{context_length} == 200000



=== TEST 16: a price file that is not JSON stops nginx with its name
--- extra_http_config
    airouter_pricing_file $TEST_NGINX_HTML_DIR/router_config.yaml;
--- request
GET /health
--- must_die
--- error_log
router_config.yaml": line 1:



=== TEST 17: a worker killed during a run does not keep the lease: the next worker runs discovery
--- user_files eval
(my $c = $main::Config) =~ s/^routing:/  - id: slowish\n    base_url: "http:\/\/127.0.0.1:\$TEST_NGINX_RAND_PORT_1\/slowish\/v1"\nrouting:/m;
">>> router_config.yaml\n$c"
--- init
main::start_discovery();
main::wait_running();
main::kill_worker();
--- request
POST /v1/admin/discovery
--- timeout: 6
--- check_json
$j->{status} eq 'done' && $j->{discovery}{channels}{slowish}{state} eq 'ok'
--- error_log eval
[qr/\[alert\].*exited on signal 9/]
--- no_error_log
[error]



=== TEST 18: error_log debug tells a run's story: lease, each fetch and its answer or failure, the catalogue built and published
--- log_level: debug
--- request
POST /v1/admin/discovery
--- error_code: 200
--- error_log eval
[qr/airouter: discovery: lease taken until \d+, 10 channel\(s\) due \(forced\)/,
 qr/airouter: discovery: "openrouter" key 1: GET 127\.0\.0\.1:\d+\/or\/api\/v1\/models/,
 'airouter: discovery: "openrouter" key 1 answered 200: 554 models',
 'airouter: discovery: "revoked" key 1 failed (status 401): key 1 refused: 401',
 qr/airouter: discovery: catalogue built: \d+ bytes, \d+ models/,
 qr/airouter: catalogue of \d+ bytes published, generation \d+/,
 'airouter: discovery: catalogue published',
 'airouter: discovery: lease released']



=== TEST 19: the answers are parsed and the catalogue is built in nginx's thread pool, off the event loop, then published on it
--- log_level: debug
--- request
POST /v1/admin/discovery
--- error_code: 200
--- error_log eval
['airouter: discovery: parsing answers in a thread',
 qr/run task #\d+ in thread pool "default"/,
 'airouter: discovery: building the catalogue in a thread',
 'airouter: discovery: copying the catalogue into the zone in a thread',
 qr/airouter: discovery: catalogue built: \d+ bytes, 5\d\d models/,
 'airouter: discovery: catalogue published',
 'airouter: discovery: freeing the answers in a thread']



=== TEST 20: a reload during a run no request waits for: the old worker closes discovery's connections as it leaves (no "open socket left" alert)
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_b20 16m;\n"
. "    airouter_discovery_delay 100ms;\n"
--- user_files eval
">>> router_config.yaml\nchannels:\n  - id: silent\n"
. "    base_url: \"http://127.0.0.1:$main::SilentPort/v1\"\n"
. "    api_key: \"sk-s\"\n    configured_models: [\"silent-1\"]\n"
--- init
main::wait_running();
main::reload();
--- request
GET /health
--- error_code: 200
--- no_error_log
open socket



=== TEST 21: a run over a 30,000-model answer while requests are served: the worker answers them while the answer is parsed and the catalogue built; each sees the old catalogue or the new one whole
--- log_level: debug
--- http_config eval
# b21_cache: the harness empties *_cache before the block starts, so a rerun
# in the same servroot does not start with the last run's big catalogue
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_b21 64m;\n"
. "    airouter_cache_dir \$TEST_NGINX_SERVER_ROOT/b21_cache;\n" . $main::BigMock
--- user_files eval
">>> router_config.yaml\n$main::BigConfig"
. ">>> big-models.json\n" . main::big_models_json()
--- init
my ($old, $gen0) = main::health_now();
my ($run, $health, $route) = main::poll_during_run();
my ($new, $gen1) = main::health_now();
my ($st, $rb) = main::http_req('POST', '/v1/route',
    '{"model":"big/model-00042","messages":[{"role":"user","content":"hi"}]}');
my $after = $st == 200 ? eval { JSON::PP::decode_json($rb)->{candidates}[0]{channel} } : "status $st";
$main::B21 = { after => $after // '', old => $old, gen0 => $gen0, new => $new, gen1 => $gen1,
               run => $run, health => $health, route => $route,
               served => main::polls_during_jobs() };
--- request
GET /health
--- check_json
my $b = $main::B21;
my %count = ($b->{gen0} => $b->{old}, $b->{gen1} => $b->{new});
# every /health sample: the old (generation, models) or the new one
my @bad = grep { !exists $count{$_->[1]} || $count{$_->[1]} != $_->[0] } @{$b->{health}};
# routes: not found until the new catalogue, then always the big channel
my @r = map { $_->[0] == 200 ? "ok:$_->[1]" : "no:$_->[1]" } @{$b->{route}};
my $seq = join(' ', @r);
$b->{run}{status} eq 'done' && $b->{new} == $main::BigModels + 1
&& $b->{old} == 1 && $b->{gen1} == $b->{gen0} + 1
&& @{$b->{health}} >= 3 && !@bad
&& $seq =~ /^(no:model_not_found ?)*(ok:big ?)*$/ && $b->{after} eq 'big'
&& $b->{served} >= 1
&& $j->{models} == $main::BigModels + 1
or die "old $b->{old} gen $b->{gen0}, new $b->{new} gen $b->{gen1}, "
       . scalar(@{$b->{health}}) . " samples, bad: "
       . join(';', map { "@$_" } @bad) . ", served during jobs: $b->{served}, "
       . "routes: $seq, after the run: $b->{after}";
my @f = glob("$ENV{TEST_NGINX_SERVER_ROOT}/b21_cache/*");
@f == 1 && $f[0] =~ /airouter-[0-9a-f]{16}\.catalog$/



=== TEST 22: a reload in the middle of a run over the 30,000-model answer loses nothing: the old worker ends its run (no temporary cache file left, the lease released), the new one runs and publishes
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_b22 64m;\n"
. "    airouter_cache_dir \$TEST_NGINX_SERVER_ROOT/b22-cache;\n" . $main::BigMock
--- user_files eval
">>> router_config.yaml\n$main::BigConfig"
. ">>> big-models.json\n" . main::big_models_json()
--- init
main::start_discovery();
main::wait_running();
Time::HiRes::sleep(0.35);
main::reload();
undef $main::Pending;
main::run_discovery();
--- request
GET /health
--- check_json
my @f = glob("$ENV{TEST_NGINX_SERVER_ROOT}/b22-cache/*");
$j->{models} == $main::BigModels + 1 && !$j->{discovery}{running}
&& $j->{discovery}{channels}{big}{state} eq 'ok'
&& @f == 1 && $f[0] =~ /airouter-[0-9a-f]{16}\.catalog$/
--- no_error_log
open socket
[alert]
[error]



=== TEST 23: discovery's thread jobs run at idle priority (SCHED_IDLE) and the pool's thread gets its own back: after the run no thread of nginx is left idle
--- log_level: debug
--- request
POST /v1/admin/discovery
--- error_code: 200
--- check_json
# a worker that may restore the thread's priority (may_idle) lowers it for
# each job; the FREE job may still run
# after the answer: wait for it, then no thread may stay SCHED_IDLE (5)
my @workers = main::worker_pids();
my @idle;
for (1 .. 50) {
    @idle = grep { main::thread_policy($_) == 5 }
            map { glob("/proc/$_/task/*") } @workers;
    last unless @idle;
    Time::HiRes::sleep(0.1);
}
$j->{status} eq 'done' && @workers && !@idle
or die "workers @workers, threads left SCHED_IDLE: @idle";
--- error_log eval
main::may_idle()
? ['airouter: discovery: the job ran at idle priority (SCHED_IDLE), then restored',
   'airouter: discovery: building the catalogue in a thread']
: ['airouter: discovery: the job ran at the thread\'s own priority',
   'airouter: discovery: building the catalogue in a thread']
--- no_error_log eval
main::may_idle()
? ["the job ran at the thread's own priority", 'could not leave SCHED_IDLE',
   '[alert]']
: ['at idle priority (SCHED_IDLE)', 'could not leave SCHED_IDLE', '[alert]']



=== TEST 24: a run takes short turns of the event loop: the fetches start 8 per turn, a large answer is read 16 KB per turn, and the cache file it replaces is deleted in the thread (gone before the answer)
--- log_level: debug
--- extra_http_config
    airouter_cache_dir $TEST_NGINX_SERVER_ROOT/b24-cache;
--- init
main::run_discovery();
--- request
POST /v1/admin/discovery
--- error_code: 200
--- check_json
my @f = glob("$ENV{TEST_NGINX_SERVER_ROOT}/b24-cache/*");
$j->{status} eq 'done' && $j->{models} > 554
&& @f == 1 && $f[0] =~ /airouter-[0-9a-f]{16}\.catalog$/
or die "answer $j->{status}, cache dir: @f"
--- error_log eval
['airouter: discovery: 8 fetches started, the next ones in the next turn',
 'airouter: fetch: a slice read, the rest in the next turn',
 'airouter: cache file renamed into place, the file it replaced left to the thread']
