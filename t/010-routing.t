# The routing brain through /v1/route (explain: nothing is sent upstream),
# on a catalogue of the real-shape fixtures: OpenRouter's 554 models and the
# /models answers of Ollama, LM Studio, SiliconFlow, Groq, DeepSeek, OpenAI
# and Zhipu, loaded with each channel's models_file.  The providers' hosts
# are documentation addresses (192.0.2.0/24), never reached: a host name
# that does not resolve would take its channel out of routing.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;

no_shuffle();
install_checks();     # --- check_json: Perl on $j, the decoded body

sub tags_of { @{ $_[0]{entry}{airouter}{tags} } }
sub has_tag { my ($c, $t) = @_; scalar grep { $_ eq $t } tags_of($c) }
sub has_cap {
    my ($c, $cap) = @_;
    scalar grep { $_ eq $cap } @{ $c->{entry}{airouter}{capabilities} };
}
sub is_free { $_[0]{entry}{airouter}{free} }

our $Config = <<'_EOC_';
channels:
  - id: openrouter
    base_url: "https://192.0.2.1/api/v1"
    api_key: "sk-or-test"
    models_file: "$TEST_NGINX_FIXTURES/openrouter-models.json"
  - id: ollama
    base_url: "http://127.0.0.1:11434/v1"
    models_file: "$TEST_NGINX_FIXTURES/providers/ollama-v1-models.json"
  - id: lmstudio
    base_url: "http://127.0.0.1:1234/v1"
    models_file: "$TEST_NGINX_FIXTURES/providers/lmstudio-v1-models.json"
  - id: siliconflow
    base_url: "https://192.0.2.2/v1"
    api_key: "sk-sf"
    currency: CNY
    models_file: "$TEST_NGINX_FIXTURES/providers/siliconflow-v1-models.json"
  - id: groq
    base_url: "https://192.0.2.3/openai"
    api_key: "gsk"
    models_file: "$TEST_NGINX_FIXTURES/providers/groq-openai-v1-models.json"
  - id: deepseek
    base_url: "https://192.0.2.4"
    api_key: "sk-ds"
    models_file: "$TEST_NGINX_FIXTURES/providers/deepseek-models.json"
    cost_per_token: {input: 0.00000027, output: 0.0000011}
  - id: openai
    base_url: "https://192.0.2.5"
    api_key: "sk-oa"
    models_file: "$TEST_NGINX_FIXTURES/providers/openai-v1-models.json"
  - id: zhipu
    base_url: "https://192.0.2.6/api/paas/v4"
    api_key: "zp"
    models_file: "$TEST_NGINX_FIXTURES/providers/zhipu-v4-models.json"
  - id: relay
    base_url: "https://192.0.2.7/v1"
    api_key: "sk-relay"
    configured_models: ["claude-3-haiku-20240307", "gpt-4o-mini"]
    model_aliases:
      haiku: "claude-3-haiku-20240307"
    cost_per_token: {input: 0.00000025, output: 0.00000125}
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false      # the catalogue comes from the models files alone
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_zone   airouter_t 16m;
_EOC_
    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /v1/       { airouter; }
    location /v1/admin/ { airouter_admin; }
_EOC_
    $block->set_value("user_files", ">>> router_config.yaml\n$Config")
        unless defined $block->user_files;
    $block->set_value("no_error_log", "[error]\n[alert]")
        unless defined $block->no_error_log;
});

run_tests();

__DATA__

=== TEST 1: tag:free gives free models only, every one of them
--- request
POST /v1/route
{"model":"tag:free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- check_json
$j->{stage} eq 'tag' && @{$j->{candidates}} >= 10
&& !grep { !is_free($_) } @{$j->{candidates}}



=== TEST 2: tag:qwen3,free is strict: no gemma, no paid qwen3
--- request
POST /v1/route
{"model":"tag:qwen3,free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- check_json
my @c = @{$j->{candidates}};
@c >= 3 && !grep { $_->{model} =~ /gemma/i || !is_free($_)
                   || !has_tag($_, 'qwen3') } @c



=== TEST 3: tag:gpt,!free gives paid GPT models only
--- request
POST /v1/route
{"model":"tag:gpt,!free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- check_json
my @c = @{$j->{candidates}};
@c >= 5 && !grep { is_free($_) || !has_tag($_, 'gpt') } @c



=== TEST 4: a core name finds every variant on every channel
--- request
POST /v1/route
{"model":"qwen3-235b-a22b","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- check_json
my %m = map { ("$_->{channel}/$_->{model}" => 1) } @{$j->{candidates}};
$j->{stage} eq 'core'
&& $m{'openrouter/qwen/qwen3-235b-a22b:free'}
&& $m{'openrouter/qwen/qwen3-235b-a22b'}
&& $m{'siliconflow/Qwen/Qwen3-235B-A22B'}
&& !grep { !/qwen3-235b-a22b/i } keys %m



=== TEST 5: cost_first puts the free variant first
--- request
POST /v1/route
{"model":"qwen3-235b-a22b","messages":[{"role":"user","content":"hi"}]}
--- check_json
$j->{strategy} eq 'cost_first'
&& $j->{candidates}[0]{model} eq 'qwen/qwen3-235b-a22b:free'
&& $j->{candidates}[0]{scores}{cost_score} == 1



=== TEST 6: claude-3-haiku finds the dated id of the relay and OpenRouter's
--- request
POST /v1/route
{"model":"claude-3-haiku","messages":[{"role":"user","content":"hi"}]}
--- check_json
my %m = map { ("$_->{channel}/$_->{model}" => 1) } @{$j->{candidates}};
$j->{stage} eq 'core' && $m{'relay/claude-3-haiku-20240307'}
&& $m{'openrouter/anthropic/claude-3-haiku'} && keys(%m) == 2



=== TEST 7: a physical id matches exactly, in any case
--- request
POST /v1/route
{"model":"QWEN/QWEN3-235B-A22B:FREE","messages":[{"role":"user","content":"hi"}]}
--- check_json
$j->{stage} eq 'physical' && @{$j->{candidates}} == 1
&& $j->{candidates}[0]{model} eq 'qwen/qwen3-235b-a22b:free'



=== TEST 8: a channel alias routes to its target
--- request
POST /v1/route
{"model":"haiku","messages":[{"role":"user","content":"hi"}]}
--- check_json
$j->{stage} eq 'alias' && $j->{candidates}[0]{channel} eq 'relay'
&& $j->{candidates}[0]{model} eq 'claude-3-haiku-20240307'



=== TEST 9: implicit tags: kimi-free reads as tag:kimi,free
--- request
POST /v1/route
{"model":"kimi-free","messages":[{"role":"user","content":"hi"}]}
--- check_json
my @c = @{$j->{candidates}};
$j->{stage} eq 'implicit_tag' && @c >= 1
&& !grep { !has_tag($_, 'kimi') || !is_free($_) } @c



=== TEST 10: an unknown model is a 404 model_not_found with close matches
--- request
POST /v1/chat/completions
{"model":"qwen3-235b-a23b","messages":[{"role":"user","content":"hi"}]}
--- error_code: 404
--- response_body_like chomp
^\{"error":\{"message":"The model \\"qwen3-235b-a23b\\" does not exist on any channel\. Did you mean: [^"]*qwen3-235b-a22b[^"]*\?","type":"invalid_request_error","code":"model_not_found"\}\}$



=== TEST 11: an unknown tag is a 404 too
--- request
POST /v1/route
{"model":"tag:free,nosuchtag","messages":[{"role":"user","content":"hi"}]}
--- error_code: 404
--- response_body_like chomp
"code":"model_not_found"



=== TEST 12: chat requests never get embedding models; embeddings only get them
--- request
POST /v1/route
{"model":"tag:qwen3","endpoint":"embeddings","input":"hi"}
--- check_json
my @c = @{$j->{candidates}};
@c >= 1 && !(grep { !has_cap($_, 'embedding') } @c)
&& $j->{filtered}{wrong_kind} > 10



=== TEST 13: image parts need a vision model
--- request
POST /v1/route
{"model":"tag:qwen","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}
--- check_json
my @c = @{$j->{candidates}};
@c >= 1 && $j->{filtered}{needs_vision} > 0
&& !grep { !has_cap($_, 'vision') } @c



=== TEST 14: tools need a model that can call functions
--- request
POST /v1/route
{"model":"tag:qwen3","tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"messages":[{"role":"user","content":"hi"}]}
--- check_json
my @c = @{$j->{candidates}};
@c >= 1 && $j->{filtered}{needs_tools} > 0
&& !(grep { !has_cap($_, 'tools') && $_->{channel} eq 'openrouter' } @c)



=== TEST 15: a prompt larger than the context window removes small models
--- request eval
my $big = "word " x 40000;
"POST /v1/route\n" . qq({"model":"tag:free","max_tokens":1000,"messages":[{"role":"user","content":"$big"}]})
--- check_json
my @c = @{$j->{candidates}};
$j->{filtered}{context_too_small} > 0
&& !grep { ($_->{entry}{airouter}{context_length} // 1e9) < 40000 } @c



=== TEST 16: strategies order the same candidates differently
--- more_headers
X-Router-Strategy: local_first
--- request
POST /v1/route
{"model":"tag:qwen3","messages":[{"role":"user","content":"hi"}]}
--- check_json
$j->{strategy} eq 'local_first' && $j->{candidates}[0]{entry}{airouter}{local}



=== TEST 17: an unknown strategy is a 400
--- more_headers
X-Router-Strategy: cheapest
--- request
POST /v1/route
{"model":"tag:qwen3","messages":[{"role":"user","content":"hi"}]}
--- error_code: 400
--- response_body_like chomp
"code":"invalid_strategy"



=== TEST 18: GET /v1/models lists every routable model in OpenAI's format
--- request
GET /v1/models
--- check_json
my @d = @{$j->{data}};
$j->{object} eq 'list' && @d > 600
&& !grep { $_->{object} ne 'model' || !$_->{owned_by} || !$_->{airouter}{tags} } @d
&& (grep { $_->{id} eq 'qwen/qwen3-235b-a22b:free' && $_->{owned_by} eq 'openrouter'
           && $_->{airouter}{context_length} && $_->{airouter}{free} } @d)



=== TEST 19: GET /v1/models/{id} answers one model with its channels
--- request
GET /v1/models/gpt-4o-mini
--- check_json
$j->{id} eq 'gpt-4o-mini' && $j->{object} eq 'model'
&& join(',', sort @{$j->{airouter}{channels}}) eq 'openai,relay'



=== TEST 20: GET /v1/models/{id} of an unknown id is a 404
--- request
GET /v1/models/no-such-model
--- error_code: 404
--- response_body_like chomp
"code":"model_not_found"



=== TEST 21: GET /v1/tags counts models per tag; no single characters, digit runs (dates) or versions alone among them
--- request
GET /v1/tags
--- check_json
my %t = map { ($_->{tag} => $_->{models}) } @{$j->{data}};
my @noise = grep { length($_) == 1 || /^v?[0-9][0-9.]*$/i } keys %t;
print STDERR "# noise tags: @noise\n" if @noise;
$t{free} >= 50 && $t{qwen3} >= 10 && $t{local} >= 10
&& $t{'4o'} && $t{'8b'} && $t{'r1'} && $t{'llama3.2'} && !@noise



=== TEST 22: the admin explain endpoint takes the query in the URL
--- request
GET /v1/admin/route?model=tag%3Afree%2Cqwen3&strategy=quality_optimized
--- check_json
$j->{strategy} eq 'quality_optimized' && $j->{model} eq 'tag:free,qwen3'
&& @{$j->{candidates}} >= 3



=== TEST 23: bad JSON and a missing model are OpenAI-style 400s
--- request
POST /v1/chat/completions
{"model": 
--- error_code: 400
--- response_body
{"error":{"message":"The request body is not valid JSON","type":"invalid_request_error","code":"invalid_json"}}



=== TEST 24: a non-string model is a 400
--- request
POST /v1/chat/completions
{"model": 42, "messages": [{"role":"user","content":"hi"}]}
--- error_code: 400
--- response_body
{"error":{"message":"The model parameter must be a non-empty string","type":"invalid_request_error","code":"invalid_model"}}



=== TEST 25: missing messages is a 400
--- request
POST /v1/chat/completions
{"model": "gpt-4o-mini"}
--- error_code: 400
--- response_body
{"error":{"message":"You must provide a non-empty messages array","type":"invalid_request_error","code":"missing_messages"}}



=== TEST 26: "tag:" alone is a 400, a 1 KB model string is a clean 404
--- request eval
["POST /v1/route\n" . '{"model":"tag:","messages":[{"role":"user","content":"hi"}]}',
 "POST /v1/route\n" . '{"model":"' . ("x" x 1024) . '","messages":[{"role":"user","content":"hi"}]}']
--- error_code eval
[400, 404]



=== TEST 27: GET /v1/admin/route explains the kind its endpoint names (without one, the kind of the name's models: embeddings); an unknown endpoint is a 400, not chat
--- request eval
["GET /v1/admin/route?model=text-embedding-3-small&endpoint=embeddings",
 "GET /v1/admin/route?model=text-embedding-3-small",
 "GET /v1/admin/route?model=gpt-4o-mini&endpoint=image"]
--- error_code eval
[200, 200, 400]
--- response_body_like eval
['^\{"model":"text-embedding-3-small","status":"ok",.*"candidates":\[\{"rank":1,',
 '^\{"model":"text-embedding-3-small","status":"ok",.*"candidates":\[\{"rank":1,.*"endpoint":"embeddings"',
 '^\{"error":\{"message":"Unknown endpoint in the URL \(chat, completions, embeddings, rerank, images, speech, transcriptions, moderations\)","type":"invalid_request_error","param":"endpoint","code":"invalid_value"\}\}$']



=== TEST 28: chat, completions and embeddings without the member each needs: a 400 in OpenAI's words, on a scanned body and on a parsed one ("provider" takes a body to the tree)
--- request eval
[map { "POST /v1/$_->[0]\n$_->[1]" }
 ["chat/completions", '{"model": "gpt-4o-mini", "messages": []}'],
 ["completions", '{"model": "gpt-3.5-turbo-instruct"}'],
 ["embeddings", '{"model": "text-embedding-3-small"}'],
 ["chat/completions", '{"model": "gpt-4o-mini", "provider": {}}'],
 ["chat/completions", '{"model": "gpt-4o-mini", "provider": {}, "messages": []}'],
 ["completions", '{"model": "gpt-3.5-turbo-instruct", "provider": {}}'],
 ["embeddings", '{"model": "text-embedding-3-small", "provider": {}}']]
--- error_code eval
[(400) x 7]
--- response_body eval
[map { '{"error":{"message":"' . $_->[0] . '","type":"invalid_request_error","code":"' . $_->[1] . "\"}}\n" }
 ["You must provide a non-empty messages array", "missing_messages"],
 ["You must provide a prompt parameter", "missing_prompt"],
 ["You must provide an input parameter", "missing_input"],
 (["You must provide a non-empty messages array", "missing_messages"]) x 2,
 ["You must provide a prompt parameter", "missing_prompt"],
 ["You must provide an input parameter", "missing_input"]]



=== TEST 29: a fragment that is no tag ("3.1") still finds the names that have it, as a tag did: tag:llama,3.1,!free
--- request
POST /v1/route
{"model":"tag:llama,3.1,!free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- check_json
my @c = @{$j->{candidates}};
@c >= 2 && !grep { $_->{model} !~ m{(?:^|[-/:_])3\.1(?:[-/:_]|$)}
                   || !has_tag($_, 'llama') || is_free($_) || has_tag($_, '3.1') } @c



=== TEST 30: an implicit query with a version fragment keeps it: llama-3.3-free is llama, 3.3 and free
--- request
POST /v1/route
{"model":"llama-3.3-free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- check_json
my @c = @{$j->{candidates}};
$j->{stage} eq 'implicit_tag' && @c >= 1
&& !grep { $_->{model} !~ m{(?:^|[-/:_])3\.3(?:[-/:_]|$)} || !is_free($_) } @c
