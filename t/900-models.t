# Request-level routing (#19): "models", the list of model queries a
# request falls back through after "model", each resolved and ranked as a
# model alone would be.  The routing controls never reach an upstream,
# whichever dialect the client speaks; wrong values are OpenAI's 400 with
# "param".
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n"
                    . yaml_channels("", ["a", "e500"], ["b", "ok"],
                                    ["c", "echo"]));

run_tests();

__DATA__

=== TEST 1: the first model's only channel fails: the next model of "models" answers
--- request
POST /v1/chat/completions
{"model": "a-model", "models": ["b-model"], "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: b
X-Router-Model: b-model
X-Router-Attempts: 2
X-Router-Fallbacks: a:server_error 500
--- response_body_like: "content":"Hello!"



=== TEST 2: "models" alone, without "model": a model no channel has is skipped
--- request
POST /v1/chat/completions
{"models": ["no-such-model", "b-model", "a-model"], "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: b
X-Router-Attempts: 1
--- response_body_like: "content":"Hello!"



=== TEST 3: no upstream sees "models" or "provider"; it gets the candidate's model id
--- request
POST /v1/chat/completions
{"model": "c-model", "models": ["b-model"], "provider": {"sort": "price", "data_collection": "deny"}, "temperature": 0.5, "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: c
--- check_json
!exists $j->{body}{models} && !exists $j->{body}{provider}
&& $j->{body}{model} eq "c-model" && $j->{body}{temperature} == 0.5
&& $j->{body}{messages}[0]{content} eq "hi"



=== TEST 4: "models" without "model" reaches the upstream with the model it routed to
--- request
POST /v1/chat/completions
{"models": ["c-model"], "messages": [{"role": "user", "content": "hi"}]}
--- check_json
!exists $j->{body}{models} && $j->{body}{model} eq "c-model"



=== TEST 5: every entry fails to match: the first entry's 404
--- request
POST /v1/chat/completions
{"model": "zz-model", "models": ["yy-model"], "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 404
--- response_body_like: "The model \\"zz-model\\" does not exist on any channel.*"code":"model_not_found"



=== TEST 6: a malformed query in "models" is a 400 naming "models"
--- request
POST /v1/chat/completions
{"model": "b-model", "models": ["tag:"], "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"Invalid model query \\"tag:\\": .+","type":"invalid_request_error","param":"models","code":"invalid_model"\}\}$



=== TEST 7: wrong types and values are OpenAI's 400 with the param
--- request eval
["POST /v1/chat/completions\n{\"model\": \"b-model\", \"models\": \"c-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"b-model\", \"models\": [\"c-model\", 7], \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"b-model\", \"models\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"], \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"b-model\", \"models\": null, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[400, 400, 400, 200]
--- response_body_like eval
['"message":"Invalid type for \'models\': expected an array, but got a string instead.","type":"invalid_request_error","param":"models","code":"invalid_type"',
 '"param":"models\[1\]","code":"invalid_type"',
 '"param":"models","code":"array_above_max_length"',
 '"content":"Hello!"']



=== TEST 8: Anthropic's Messages dialect: "models" falls back the same way
--- request
POST /v1/messages
{"model": "a-model", "models": ["b-model"], "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: b
X-Router-Fallbacks: a:server_error 500
--- response_body_like: ^\{"id":"[^"]+","type":"message","role":"assistant".*"text":"Hello!"



=== TEST 9: explain (POST /v1/route) lists each entry and where each candidate came from
--- request
POST /v1/route
{"model": "a-model", "models": ["nope-model", "b-model", "a-model"]}
--- check_json
$j->{controls}{models}[0]{query} eq "a-model"
&& $j->{controls}{models}[1]{status} eq "no_match"
&& $j->{controls}{models}[2]{candidates} == 1
&& @{$j->{controls}{models}} == 3
&& $j->{candidates}[0]{channel} eq "a" && $j->{candidates}[0]{query} eq "a-model"
&& $j->{candidates}[1]{channel} eq "b" && $j->{candidates}[1]{query} eq "b-model"
&& @{$j->{candidates}} == 2
