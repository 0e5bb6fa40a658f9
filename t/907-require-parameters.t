# provider.require_parameters (#19) over every parameter the request uses,
# not only tools: a model is kept only when it states that it takes each
# of them.  What a model takes comes from its source's list (OpenRouter's
# supported_parameters in a /models answer, here a models_file), else
# from the channel's (or its provider's) supported_parameters in the
# configuration; a model that states nothing is unknown: kept without
# require_parameters, dropped with it as soon as the request uses one
# parameter of the table.  Explain (POST /v1/route) names what each
# dropped model misses.
#
# Channels, by priority, all serving gpt-test:
#   a  models_file: max_tokens temperature top_p stop tools tool_choice
#   b  models_file: max_tokens temperature top_p stop logprobs top_logprobs
#                   seed response_format structured_outputs
#   c  configuration: supported_parameters [temperature, seed, reasoning,
#                     max_tokens]
#   d  states nothing
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

sub models_file {
    my ($id, @params) = @_;
    return ">>> $id-models.json\n"
        . '{"data":[{"id":"' . $id . '-model","context_length":100000,'
        . '"supported_parameters":[' . join(',', map { "\"$_\"" } @params)
        . ']}]}' . "\n";
}

sub yaml {
    return ">>> router_config.yaml\n"
        . yaml_channels("",
            ["a", "ok", "    models_file: \"\$TEST_NGINX_HTML_DIR/a-models.json\"\n"],
            ["b", "ok", "    models_file: \"\$TEST_NGINX_HTML_DIR/b-models.json\"\n"],
            ["c", "ok", "    supported_parameters: [temperature, seed, reasoning, max_tokens]\n"],
            ["d", "ok"])
        . models_file("a", qw(max_tokens temperature top_p stop tools tool_choice))
        . models_file("b", qw(max_tokens temperature top_p stop logprobs
                              top_logprobs seed response_format
                              structured_outputs));
}

# a chat request with more members and the provider object
sub chat {
    my ($more, $require) = @_;
    return "POST /v1/chat/completions\n{\"model\": \"gpt-test\", " . $more
        . (defined $require
           ? ", \"provider\": {\"require_parameters\": $require}" : '')
        . ", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => yaml());

run_tests();

__DATA__

=== TEST 1: without require_parameters the priority decides, whatever the request uses
--- request eval
[main::chat('"logprobs": true'), main::chat('"logprobs": true', 'false')]
--- response_headers eval
["X-Router-Channel: a", "X-Router-Channel: a"]



=== TEST 2: logprobs required: only the model whose /models list has it (b), not the unknown one (d)
--- request eval
main::chat('"logprobs": true, "top_logprobs": 2', 'true')
--- response_headers
X-Router-Channel: b
X-Router-Attempts: 1



=== TEST 3: temperature required: every model that states it (a first), not the one that states nothing
--- request eval
main::chat('"temperature": 0.3', 'true')
--- response_headers
X-Router-Channel: a



=== TEST 4: reasoning: from the channel's configured supported_parameters (c)
--- request eval
main::chat('"reasoning": {"effort": "low"}', 'true')
--- response_headers
X-Router-Channel: c



=== TEST 5: a response_format of type json_schema needs response_format and structured_outputs (b); json_object needs only response_format (b too, a does not list it)
--- request eval
[main::chat('"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}', 'true'),
 main::chat('"response_format": {"type": "json_object"}', 'true')]
--- response_headers eval
["X-Router-Channel: b", "X-Router-Channel: b"]



=== TEST 6: tools and tool_choice: a
--- request eval
main::chat('"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], "tool_choice": "auto"', 'true')
--- response_headers
X-Router-Channel: a



=== TEST 7: every parameter must be stated by one model: seed and logprobs is b (c has seed only); seed and reasoning is c
--- request eval
[main::chat('"seed": 7, "logprobs": true', 'true'),
 main::chat('"seed": 7, "reasoning": {"effort": "low"}', 'true')]
--- response_headers eval
["X-Router-Channel: b", "X-Router-Channel: c"]



=== TEST 8: a null member is not a use; a request that uses none of the table keeps every model, the unknown one too
--- request eval
main::chat('"seed": null, "user": "u1"', 'true')
--- response_headers
X-Router-Channel: a



=== TEST 9: a parameter no model states: a 404 that says the models were removed for it
--- request eval
main::chat('"web_search_options": {}', 'true')
--- error_code: 404
--- response_body_like: removed by filters: 4 parameters_unsupported



=== TEST 10: explain names what each dropped model misses, and the parameters the request uses
--- request
POST /v1/route
{"model": "gpt-test", "seed": 1, "logprobs": true, "temperature": 0.5, "provider": {"require_parameters": true}}
--- check_json
@{$j->{candidates}} == 1 && $j->{candidates}[0]{channel} eq "b"
&& $j->{filtered}{parameters_unsupported} == 3
&& (join ",", map { "$_->{channel}:$_->{reason}:" . join("+", @{$_->{missing}}) } @{$j->{removed}})
   eq "a:parameters_unsupported:seed+logprobs,c:parameters_unsupported:logprobs,d:parameters_unsupported:temperature+seed+logprobs"
&& (join ",", @{$j->{controls}{provider}{parameters}}) eq "temperature,seed,logprobs"



=== TEST 11: a name in supported_parameters that is not a parameter of the table warns at start-up (nginx -t), and the rest of the list counts
--- user_files eval
main::yaml() =~ s/reasoning, max_tokens\]/reasoning, max_tokens, frobnicate]/r
--- request eval
main::chat('"reasoning": {"effort": "low"}', 'true')
--- response_headers
X-Router-Channel: c
--- error_log
supported_parameters: "frobnicate" is not a parameter require_parameters checks; ignored



=== TEST 12: Anthropic's Messages dialect: the parameters of the chat request it becomes (max_tokens, and thinking as reasoning): c
--- request
POST /v1/messages
{"model": "gpt-test", "max_tokens": 64, "thinking": {"type": "enabled", "budget_tokens": 1024}, "provider": {"require_parameters": true}, "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: c
--- response_body_like: ^\{"id":"[^"]+","type":"message","role":"assistant"



=== TEST 13: a configured model written as a map carries its own supported_parameters: d-model says web_search_options (a 404 in TEST 9), plain names beside it keep working
--- user_files eval
main::yaml() =~ s/    configured_models: \["d-model"\]\n/    configured_models:\n      - "d-other"\n      - name: "d-model"\n        supported_parameters: [web_search_options, seed]\n/r
--- request eval
[main::chat('"web_search_options": {}', 'true'),
 "POST /v1/chat/completions\n{\"model\": \"d-other\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- response_headers eval
["X-Router-Channel: d\nX-Router-Model: d-model", "X-Router-Channel: d\nX-Router-Model: d-other"]



=== TEST 14: a model's own list beats its channel's: c-model says logprobs only, so c (whose channel says seed and reasoning) lacks seed; explain says so
--- user_files eval
main::yaml() =~ s/    configured_models: \["c-model"\]\n/    configured_models:\n      - name: "c-model"\n        supported_parameters: [logprobs]\n/r
--- request eval
[main::chat('"reasoning": {"effort": "low"}', 'true'),
 "POST /v1/route\n{\"model\": \"gpt-test\", \"seed\": 1, \"logprobs\": true, \"provider\": {\"require_parameters\": true}}"]
--- error_code eval
[404, 200]
--- response_body_like eval
['removed by filters: 4 parameters_unsupported',
 '"channel":"c","model":"c-model","reason":"parameters_unsupported","missing":\["seed"\]']
