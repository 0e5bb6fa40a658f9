# Catalogue kinds: a model's capabilities and its unit prices follow its
# kind.  Channel "mixed" serves chat, embedding, image and voice models
# (discovered from a mock /models answering OpenAI's real-shape list, and
# configured); its capabilities (function_calling, vision) are its chat
# models' only, and its cost_per_unit prices each kind's units on the
# models of that kind (per image: image models; per second:
# transcription; per character: speech), so its chat models at token
# price 0 stay free.  Channel "priced" has token prices, a price per
# request (every kind) and per image.  Channel "router" answers in
# OpenRouter's shape: what it says of one model (supported_parameters,
# modalities) beats the channel's capabilities.  GET /v1/admin/route without
# endpoint= explains a name as the kind its models are.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;
use Airouter::HTTP;

no_shuffle();
install_checks();     # --- check_json: Perl on $j, the decoded body

our $Admin = "Authorization: Bearer adm-secret";

our $Mock = <<'_EOC_';
    log_format kinds_cost escape=json
        '{"status":$status,"model":"$airouter_model",'
        '"cost":"$airouter_cost","units":"$airouter_units"}';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        error_log logs/mock_error.log info;

        location = /mixed/v1/models {
            alias $TEST_NGINX_FIXTURES/providers/openai-v1-models.json;
        }

        # OpenRouter's shape: what one model takes and reads
        location = /router/v1/models {
            echo '{"data":[{"id":"acme/no-tools","supported_parameters":["temperature","max_tokens"],"architecture":{"input_modalities":["text"],"output_modalities":["text"]},"pricing":{"prompt":"0.000001","completion":"0.000002"}},{"id":"acme/with-tools","supported_parameters":["tools","tool_choice"],"pricing":{"prompt":"0.000001","completion":"0.000002"}},{"id":"acme/painter","architecture":{"input_modalities":["text"],"output_modalities":["image"]},"pricing":{"prompt":"0.000001","completion":"0.000002"}}]}';
        }

        location = /priced/v1/models {
            echo '{"object":"list","data":[{"id":"sonar-pro","object":"model"},{"id":"dall-e-2","object":"model"}]}';
        }

        location ~ ^/(mixed|priced)/v1/chat/completions$ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
        }

        location ~ ^/(mixed|priced)/v1/images/generations$ {
            echo_read_request_body;
            echo '{"created":1,"data":[{"url":"http://img.example/1.png"},{"url":"http://img.example/2.png"}]}';
        }
    }
_EOC_

sub files {
    return <<'_EOY_';
>>> router_config.yaml
auth:
  enabled: false
  admin:
    enabled: true
    admin_token: "adm-secret"
channels:
  - id: mixed
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/mixed/v1"
    api_key: "sk-mixed-secret"
    capabilities: [text, function_calling, vision]
    configured_models: ["gpt-4o-mini", "gpt-image-1", "gpt-4o-mini-tts",
                        "flux-dev"]
    cost_per_token: {input: 0, output: 0}
    cost_per_unit: {image: 0.04, second: 0.0001, character: 0.00002}
  - id: priced
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/priced/v1"
    api_key: "sk-priced-secret"
    cost_per_token: {input: 0.000001, output: 0.000002}
    cost_per_unit: {request: 0.001, image: 0.05, second: 0.0003}
  - id: router
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/router/v1"
    api_key: "sk-router-secret"
    capabilities: [text, function_calling, vision]
    configured_models: ["acme/no-tools", "acme/with-tools", "acme/painter"]
tasks:
  model_discovery:
    enabled: true
    run_on_startup: false
routing:
  model_filters:
    min_context_length: 0
_EOY_
}

# Runs discovery (both channels' /models) before the block's requests.
sub discover {
    my ($status, undef, $body) =
        http_request($ENV{TEST_NGINX_SERVER_PORT}, 'POST',
                     '/v1/admin/discovery', token => 'adm-secret',
                     body => '');
    die "POST /v1/admin/discovery: $status $body" unless $status == 200;
}

# The /v1/models entries by id: their "airouter" objects.
sub by_id {
    my ($j) = @_;
    return map { ($_->{id} => $_->{airouter}) } @{ $j->{data} };
}

airouter_blocks(
    mock       => $Mock,
    config     => $Airouter::Blocks::AdminConfig
                . "    location = /kinds/ { airouter; "
                . "access_log logs/access.log kinds_cost; }\n",
    user_files => sub { files() },
    init       => "main::discover();",
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: capabilities follow the kind: the channel's function_calling and vision (and the "4o" of gpt-4o-mini-tts) are its chat models' only, discovered or configured
--- request
GET /v1/models
--- check_json
my %m = main::by_id($j);
my @other = grep { $m{$_}{kind} ne 'chat' } keys %m;
my %kind = ('dall-e-3' => 'image', 'gpt-image-1' => 'image',
            'flux-dev' => 'image', 'tts-1' => 'audio_speech',
            'gpt-4o-mini-tts' => 'audio_speech',
            'whisper-1' => 'audio_transcription',
            'text-embedding-3-small' => 'embedding');
(grep { $m{$_} && $m{$_}{kind} eq $kind{$_} } keys %kind) == keys %kind
&& @other >= 8
&& !(grep { "@{ $m{$_}{capabilities} }" ne $m{$_}{kind} } @other)
&& "@{ $m{'gpt-4o-mini'}{capabilities} }" eq 'chat vision tools'
&& (grep { $_ eq 'vision' } @{ $m{'gpt-4o'}{capabilities} })



=== TEST 2: unit prices follow the kind: per image on image models, per second on transcription, per character on speech; the chat and embedding models of the channel keep token price 0 and are free
--- request
GET /v1/models
--- check_json
my %m = main::by_id($j);
my @unit = qw(per_image per_second per_character per_request);
my $only = sub {
    my ($id, $key, $price) = @_;
    my $p = $m{$id}{pricing};
    !$m{$id}{free} && $p->{$key} == $price && $p->{prompt} == 0
    && !(grep { $_ ne $key && exists $p->{$_} } @unit);
};
my @free = grep { $m{$_}{channel} eq 'mixed'
                  && $m{$_}{kind} =~ /^(chat|embedding)$/ } keys %m;
@free >= 9
&& !(grep { !$m{$_}{free} || (grep { exists $m{$_}{pricing}{$_} } @unit)
             || $m{$_}{pricing}{prompt} != 0 } @free)
&& (grep { $_ eq 'free' } @{ $m{'gpt-4o-mini'}{tags} })
&& $only->('dall-e-3', 'per_image', 0.04)
&& $only->('gpt-image-1', 'per_image', 0.04)
&& $only->('flux-dev', 'per_image', 0.04)
&& $only->('whisper-1', 'per_second', 0.0001)
&& $only->('tts-1', 'per_character', 0.00002)
&& $only->('gpt-4o-mini-tts', 'per_character', 0.00002)



=== TEST 3: a price per request is every kind's: the chat model of "priced" shows it with its token prices and no per image; the image model per image and per request
--- request
GET /v1/models
--- check_json
my %m = main::by_id($j);
my ($c, $i) = ($m{'sonar-pro'}{pricing}, $m{'dall-e-2'}{pricing});
$c->{per_request} == 0.001 && $c->{prompt} == 0.000001
&& !exists $c->{per_image} && !exists $c->{per_second}
&& $i->{per_request} == 0.001 && $i->{per_image} == 0.05
&& !exists $i->{per_second} && !$m{'sonar-pro'}{free}



=== TEST 4: tag:free routes to the chat models of a channel that prices images, seconds and characters (explain: every candidate a chat model of "mixed")
--- request
POST /v1/route
{"model": "tag:free", "messages": [{"role": "user", "content": "hi"}]}
--- check_json
my @c = @{ $j->{candidates} };
$j->{status} eq 'ok' && @c >= 7
&& !(grep { $_->{channel} ne 'mixed' || $_->{entry}{airouter}{kind} ne 'chat' } @c)
&& (grep { $_->{model} eq 'gpt-4o-mini' } @c)



=== TEST 5: billing on a channel with unit prices: a chat request costs its tokens (free: 0), an image request its images
--- request eval
["POST /v1/chat/completions\n" . '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}',
 "POST /v1/chat/completions\n" . '{"model": "tag:free", "messages": [{"role": "user", "content": "hi"}]}',
 "POST /v1/images/generations\n" . '{"model": "gpt-image-1", "prompt": "a red fox", "n": 2}']
--- response_headers eval
["X-Router-Model: gpt-4o-mini\nX-Router-Cost: 0.00000000",
 "X-Router-Cost: 0.00000000",
 "X-Router-Model: gpt-image-1\nX-Router-Cost: 0.08000000"]
--- error_code eval
[200, 200, 200]



=== TEST 6: billing of a chat request on a channel with token prices, a price per request and per image: tokens plus the request price (10 x 1e-6 + 5 x 2e-6 + 0.001), nothing per image
--- request
POST /v1/chat/completions
{"model": "sonar-pro", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Model: sonar-pro
X-Router-Cost: 0.00102000



=== TEST 7: GET /v1/admin/route without endpoint= explains a name as its models' kind (images, transcriptions, speech, embeddings, chat); a query of several kinds (tag:free: chat and embedding models) as chat
--- request eval
["GET /v1/admin/route?model=dall-e-3", "GET /v1/admin/route?model=whisper-1",
 "GET /v1/admin/route?model=tts-1", "GET /v1/admin/route?model=text-embedding-3-small",
 "GET /v1/admin/route?model=gpt-4o-mini", "GET /v1/admin/route?model=tag:free",
 "GET /v1/admin/route?model=flux-dev"]
--- more_headers eval
[("Authorization: Bearer adm-secret") x 7]
--- response_body_like eval
['^\{"model":"dall-e-3","status":"ok",.*"candidates":\[\{"rank":1,"channel":"mixed","provider":null,"model":"dall-e-3".*"endpoint":"images"',
 '^\{"model":"whisper-1","status":"ok",.*"model":"whisper-1".*"endpoint":"transcriptions"',
 '^\{"model":"tts-1","status":"ok",.*"model":"tts-1".*"endpoint":"speech"',
 '^\{"model":"text-embedding-3-small","status":"ok",.*"endpoint":"embeddings"',
 '^\{"model":"gpt-4o-mini","status":"ok",.*"endpoint":"chat"',
 '^\{"model":"tag:free","status":"ok",.*"filtered":\{"wrong_kind":2\}.*"endpoint":"chat"',
 '^\{"model":"flux-dev","status":"ok",.*"endpoint":"images"']



=== TEST 8: endpoint= still wins: dall-e-3 explained as chat is all_filtered (wrong_kind); POST /v1/route names the endpoint it explained
--- request eval
["GET /v1/admin/route?model=dall-e-3&endpoint=chat",
 "POST /v1/route\n" . '{"model": "whisper-1", "endpoint": "transcriptions"}']
--- more_headers eval
["Authorization: Bearer adm-secret", ""]
--- response_body_like eval
['^\{"model":"dall-e-3","status":"all_filtered",.*"filtered":\{"wrong_kind":1\}.*"endpoint":"chat"',
 '^\{"model":"whisper-1","status":"ok",.*"endpoint":"transcriptions"']



=== TEST 9: OpenRouter's word on one model beats its channel's capabilities list: supported_parameters without tools and input text only -> no tools, no vision; with tools -> tools (vision from the channel); output image -> an image model with no features
--- request
GET /v1/models
--- check_json
my %m = main::by_id($j);
"@{ $m{'acme/no-tools'}{capabilities} }" eq 'chat'
&& "@{ $m{'acme/with-tools'}{capabilities} }" eq 'chat vision tools'
&& "@{ $m{'acme/painter'}{capabilities} }" eq 'image'



=== TEST 10: a chat request with tools is not routed to the model whose answer says it takes no tools, whatever its channel says
--- request
POST /v1/route
{"models": ["acme/no-tools", "acme/with-tools"], "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
--- check_json
my @c = map { $_->{model} } @{ $j->{candidates} };
my %r = map { ($_->{model} => $_->{reason}) } @{ $j->{removed} };
"@c" eq 'acme/with-tools' && $r{'acme/no-tools'} eq 'needs_tools'
