# Prices per unit (#20 item 3): per image on /v1/images/generations, per
# character of a speech input, per request on every request; from a
# channel's cost_per_unit, a price file (LiteLLM's output_cost_per_image)
# or an OpenRouter-shape models_file (pricing.request).  They show where
# token costs show: X-Router-Cost, $airouter_cost, $airouter_units, the
# stats; and a key's budget holds n images at their price before anything
# is sent.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;
use Airouter::Keyed;
use POSIX ();

no_shuffle();
install_checks();     # --- check_json: Perl on $j, the decoded body

our $Admin = $Airouter::Keyed::Admin;

our $Mock = <<'_EOC_';
    log_format unit_cost escape=json
        '{"status":$status,"model":"$airouter_model",'
        '"cost":"$airouter_cost","units":"$airouter_units"}';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log logs/upstream.log;
        error_log logs/mock_error.log info;

        # two images, whatever was asked
        location /img/ {
            echo_read_request_body;
            echo '{"created":1,"data":[{"url":"http://img.example/1.png"},{"url":"http://img.example/2.png"}]}';
        }

        # one image of 400 kB: larger than airouter_buffer_size
        location /bigimg/ {
            echo_read_request_body;
            echo -n '{"created":1,"data":[{"b64_json":"';
            echo_duplicate 100000 "QUJD";
            echo '"}]}';
        }

        location /slowimg/ {
            echo_read_request_body;
            echo_sleep 2;
            echo '{"created":1,"data":[{"url":"http://img.example/1.png"}]}';
        }

        # speech: audio, not JSON
        location /audio/ {
            default_type audio/mpeg;
            echo_read_request_body;
            echo_duplicate 1000 "ID3-frame-";
        }

        location /chat/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
        }

    }
_EOC_

# router_config.yaml, and a LiteLLM-format price file beside it
sub files {
    my ($keys) = @_;
    my $y = keyed_yaml(<<'_EOY_', $keys);
channels:
  - id: painter
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/img/v1"
    api_key: "sk-painter-secret"
    configured_models: ["dall-e-3"]
    cost_per_token: {input: 0.000001, output: 0.000002}
    cost_per_unit: {image: 0.04}
  - id: big
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/bigimg/v1"
    api_key: "sk-big-secret"
    configured_models: ["dall-e-2"]
  - id: slow
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/slowimg/v1"
    api_key: "sk-slow-secret"
    configured_models: ["flux-slow"]
    cost_per_unit: {image: 0.04}
  - id: voice
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/audio/v1"
    api_key: "sk-voice-secret"
    configured_models: ["tts-1"]
    currency: CNY
    cost_per_token: {input: 0.1, output: 0.1}
    cost_per_unit: {character: 0.01}
  - id: search
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chat/v1"
    api_key: "sk-search-secret"
    configured_models: ["sonar-pro"]
    cost_per_token: {input: 0.000001, output: 0.000002}
    cost_per_unit: {request: 0.005}
  - id: openrouter
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chat/v1"
    api_key: "sk-or-secret"
    models_file: "or-models.json"
cost_control:
  cny_to_usd: 0.5
_EOY_
    return ">>> router_config.yaml\n$y"
         . ">>> prices.json\n"
         . '{"dall-e-2": {"output_cost_per_image": 0.02}}' . "\n"
         . ">>> or-models.json\n"
         . '{"data":[{"id":"perplexity/sonar","pricing":{"prompt":"0.000001",'
         . '"completion":"0.000001","request":"0.005","image":"0.0048"}}]}'
         . "\n";
}

airouter_blocks(
    mock       => $Mock,
    http       => "    airouter_pricing_file \$TEST_NGINX_HTML_DIR/prices.json;\n",
    config     => "    location /v1/ { airouter; access_log logs/access.log unit_cost; }\n"
                . "    location = /metrics { airouter_metrics; }\n",
    user_files => sub { files() },
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: per image: the answer's two images at the channel's price replace the token path (n: 2)
--- request
POST /v1/images/generations
{"model": "dall-e-3", "prompt": "a red fox", "n": 2}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Model: dall-e-3
X-Router-Cost: 0.08000000
--- access_log
{"status":200,"model":"dall-e-3","cost":"0.08000000","units":"images:2"}



=== TEST 2: per image: the images counted are the answer's, not "n" (3 asked, 2 came)
--- request
POST /v1/images/generations
{"model": "dall-e-3", "prompt": "a red fox", "n": 3}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.08000000
--- access_log
{"status":200,"model":"dall-e-3","cost":"0.08000000","units":"images:2"}



=== TEST 3: per image from a LiteLLM price file (output_cost_per_image); an answer too big to read whole counts "n" (default 1) and still shows its cost
--- request
POST /v1/images/generations
{"model": "dall-e-2", "prompt": "a red fox"}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Model: dall-e-2
X-Router-Cost: 0.02000000
--- response_body_like: (?s)^\{"created":1,"data":\[\{"b64_json":"QUJDQUJD.*QUJD"\}\]\}$
--- access_log
{"status":200,"model":"dall-e-2","cost":"0.02000000","units":"images:1"}



=== TEST 4: per character: a multi-byte input counts its characters (14), not its bytes (20), at the CNY price converted
--- request
POST /v1/audio/speech
{"model": "tts-1", "input": "h\u00e9llo w\u00f6rld \u4f60\u597d", "voice": "alloy"}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
Content-Type: audio/mpeg
X-Router-Cost: 0.07000000
--- access_log
{"status":200,"model":"tts-1","cost":"0.07000000","units":"characters:14"}



=== TEST 5: per request on chat: added to the token cost (10 x 1e-6 + 5 x 2e-6 + 0.005)
--- request
POST /v1/chat/completions
{"model": "sonar-pro", "messages": [{"role": "user", "content": "hi"}]}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00502000
--- access_log
{"status":200,"model":"sonar-pro","cost":"0.00502000","units":""}



=== TEST 6: per request from an OpenRouter-shape models_file (pricing.request); its "image" (an image in the prompt) is not charged
--- request
POST /v1/chat/completions
{"model": "perplexity/sonar", "messages": [{"role": "user", "content": "hi"}]}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00501500
--- access_log
{"status":200,"model":"perplexity/sonar","cost":"0.00501500","units":""}



=== TEST 7: the stats count the unit costs like token costs (2 images, then 14 characters)
--- request eval
[ "POST /v1/images/generations\n{\"model\": \"dall-e-3\", \"prompt\": \"fox\", \"n\": 2}",
  "POST /v1/audio/speech\n{\"model\": \"tts-1\", \"input\": \"h\\u00e9llo w\\u00f6rld \\u4f60\\u597d\", \"voice\": \"alloy\"}",
  "GET /v1/stats/daily" ]
--- more_headers eval
[ "Authorization: Bearer sk-alice", "Authorization: Bearer sk-alice", $::Admin ]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ "data", "ID3", '"by_key":\{"alice":\{[^}]*"cost":0\.15[,}]' ]



=== TEST 8: a key's budget holds n images at their price before sending: while 3 images (0.12 USD) are in flight, a budget of 0.10 takes no other request
--- user_files eval
main::files(capped_key("0.10"))
--- init
my $pid = fork // die "fork: $!";
if (!$pid) {
    Airouter::Check::get_json($ENV{TEST_NGINX_SERVER_PORT},
        "/v1/images/generations", "sk-capped", 'POST',
        '{"model": "flux-slow", "prompt": "fox", "n": 3}');
    POSIX::_exit(0);
}
# until the slow request is on its way (it holds its worst case first)
for (1 .. 100) {
    my (undef, undef, $b) = Airouter::Check::get_json(
        $ENV{TEST_NGINX_SERVER_PORT}, "/metrics", "adm-secret");
    last if ($b // '') =~ /^airouter_model_inflight\{channel="slow",model="flux-slow"\} 1$/m;
    select(undef, undef, undef, 0.1);
}
--- request
POST /v1/images/generations
{"model": "dall-e-3", "prompt": "fox"}
--- more_headers
Authorization: Bearer sk-capped
--- error_code: 429
--- response_body_like: "code":"insufficient_quota"
--- no_error_log
[alert]



=== TEST 9: /v1/models shows the prices per unit: per image alone (no token prices), per character beside CNY token prices, per request from the models_file
--- request
GET /v1/models
--- more_headers
Authorization: Bearer sk-alice
--- check_json
my %p = map { ($_->{id} => $_->{airouter}{pricing}) } @{ $j->{data} };
my ($img, $tts, $sonar, $big) = @p{"dall-e-3", "tts-1", "perplexity/sonar", "dall-e-2"};
$img->{per_image} == 0.04 && !exists $img->{per_second}
&& $tts->{per_character} == 0.01 && $tts->{currency} eq 'CNY'
&& $tts->{prompt} == 0.1
&& $sonar->{per_request} == 0.005 && !exists $sonar->{per_image}
&& $big->{per_image} == 0.02 && !exists $big->{prompt}




=== TEST 10: explain (POST /v1/route, endpoint images) shows a candidate's price per image as /v1/models does
--- request
POST /v1/route
{"model": "dall-e-3", "prompt": "fox", "endpoint": "images"}
--- more_headers
Authorization: Bearer sk-alice
--- check_json
my $p = $j->{candidates}[0]{entry}{airouter}{pricing};
$j->{candidates}[0]{channel} eq 'painter'
&& $p->{per_image} == 0.04 && $p->{currency} eq 'USD'
&& !exists $p->{per_second} && !exists $p->{per_request}



=== TEST 11: explain (endpoint speech) shows the price per character in the channel's currency
--- request
POST /v1/route
{"model": "tts-1", "input": "hello", "endpoint": "speech"}
--- more_headers
Authorization: Bearer sk-alice
--- check_json
my $p = $j->{candidates}[0]{entry}{airouter}{pricing};
$p->{per_character} == 0.01 && $p->{currency} eq 'CNY' && $p->{prompt} == 0.1



=== TEST 12: explain (chat) shows the price per request beside the token prices, from the config and from a models_file
--- request
POST /v1/route
{"models": ["sonar-pro", "perplexity/sonar"], "messages": [{"role": "user", "content": "hi"}]}
--- more_headers
Authorization: Bearer sk-alice
--- check_json
my %p = map { ($_->{model} => $_->{entry}{airouter}{pricing}) } @{ $j->{candidates} };
$p{"sonar-pro"}{per_request} == 0.005 && $p{"sonar-pro"}{prompt} == 0.000001
&& $p{"perplexity/sonar"}{per_request} == 0.005
&& !exists $p{"perplexity/sonar"}{per_image}
