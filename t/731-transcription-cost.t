# Price per second (#20 item 3): a transcription costs the seconds its
# answer says it heard (usage {"type": "duration", "seconds"}, else
# verbose_json's "duration") at the model's price per second, from the
# channel's cost_per_unit or a price file (LiteLLM's input_cost_per_second),
# plus its price per request.  An answer that says no duration counts 0
# seconds, and says so: $airouter_units "seconds:unknown" and a warning.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
install_checks();     # --- check_json: Perl on $j, the decoded body

our $B = '----airouterUnitCost0aZ';

# a transcription form: the model, a little audio, the answer's format
sub form {
    my ($model, $format) = @_;
    my $s = "--$B\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
          . "$model\r\n"
          . "--$B\r\nContent-Disposition: form-data; name=\"file\"; "
          . "filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
          . ("RIFF" x 256) . "\r\n";
    $s .= "--$B\r\nContent-Disposition: form-data; "
        . "name=\"response_format\"\r\n\r\n$format\r\n" if $format;
    return "POST /v1/audio/transcriptions\n$s--$B--";
}

our $Mock = <<'_EOC_';
    log_format unit_cost escape=json
        '{"status":$status,"model":"$airouter_model",'
        '"cost":"$airouter_cost","units":"$airouter_units"}';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        # OpenAI's json answer with a duration usage
        location /usage/ {
            echo_read_request_body;
            echo '{"text":"Hello.","usage":{"type":"duration","seconds":7.5}}';
        }

        # verbose_json: the duration at the top
        location /verbose/ {
            echo_read_request_body;
            echo '{"task":"transcribe","language":"english","duration":12.25,"text":"Hello.","segments":[]}';
        }

        # an answer that says nothing of the audio's length
        location /plain/ {
            echo_read_request_body;
            echo '{"text":"Hello."}';
        }
    }
_EOC_

our $Config = <<'_EOY_';
channels:
  - id: usage
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/usage/v1"
    api_key: "sk-usage-secret"
    configured_models: ["whisper-1"]
    cost_per_token: {input: 0.5, output: 0.5}
    cost_per_unit: {second: 0.0001, request: 0.001}
  - id: verbose
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/verbose/v1"
    api_key: "sk-verbose-secret"
    configured_models: ["whisper-large-v3"]
  - id: plain
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/plain/v1"
    api_key: "sk-plain-secret"
    configured_models: ["whisper-tiny"]
    cost_per_unit: {second: 0.0001}
routing:
  model_filters:
    min_context_length: 0
_EOY_

airouter_blocks(
    mock       => $Mock,
    http       => "    airouter_pricing_file \$TEST_NGINX_HTML_DIR/prices.json;\n",
    config     => "    location /v1/ { airouter; access_log logs/access.log unit_cost; }\n",
    user_files => ">>> router_config.yaml\n$Config"
                  . ">>> prices.json\n"
                  . '{"whisper-large-v3": {"input_cost_per_second": 0.0002}}'
                  . "\n",
    more_headers => "Content-Type: multipart/form-data; boundary=$B",
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: usage.seconds (7.5) at the channel's price per second, instead of the tokens, plus its price per request
--- request eval
main::form("whisper-1", "json")
--- response_headers
X-Router-Model: whisper-1
X-Router-Cost: 0.00175000
--- access_log
{"status":200,"model":"whisper-1","cost":"0.00175000","units":"seconds:7.500"}



=== TEST 2: verbose_json's duration (12.25) at a price file's input_cost_per_second
--- request eval
main::form("whisper-large-v3", "verbose_json")
--- response_headers
X-Router-Model: whisper-large-v3
X-Router-Cost: 0.00245000
--- access_log
{"status":200,"model":"whisper-large-v3","cost":"0.00245000","units":"seconds:12.250"}



=== TEST 3: an answer without a duration: 0 seconds, and it says so
--- request eval
main::form("whisper-tiny")
--- response_headers
X-Router-Model: whisper-tiny
X-Router-Cost: 0.00000000
--- access_log
{"status":200,"model":"whisper-tiny","cost":"0.00000000","units":"seconds:unknown"}
--- error_log
the transcription's answer says no duration: its seconds are counted as 0



=== TEST 4: explain (POST /v1/route, endpoint transcriptions) shows each candidate's price per second (config, price file) and per request
--- request
POST /v1/route
{"models": ["whisper-1", "whisper-large-v3"], "endpoint": "transcriptions"}
--- more_headers
Content-Type: application/json
--- check_json
my %p = map { ($_->{model} => $_->{entry}{airouter}{pricing}) } @{ $j->{candidates} };
$p{"whisper-1"}{per_second} == 0.0001 && $p{"whisper-1"}{per_request} == 0.001
&& $p{"whisper-large-v3"}{per_second} == 0.0002
&& !exists $p{"whisper-large-v3"}{per_request}
