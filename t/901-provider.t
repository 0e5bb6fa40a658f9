# Request-level routing (#19): the "provider" object maps onto channels (a
# name in order/only/ignore is a channel's id, its name or its provider's
# name): order puts channels first, only and ignore filter,
# allow_fallbacks: false keeps only the ordered ones, require_parameters
# keeps the models that state they take the request's tools.  Members
# OpenRouter has and airouter does not are ignored; wrong values are
# OpenAI's 400 with "param".  Explain (POST /v1/route) shows the effect.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

sub yaml {
    my $y = "providers:\n"
        . "  openai: {base_url: \"http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/ok/v1\"}\n"
        . "  groq: {base_url: \"http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/ok/v1\"}\n"
        . "  together: {base_url: \"http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/e500/v1\"}\n"
        . "channels:\n";
    my $prio = 1;
    for my $c (["a", "openai", "A one", "capabilities: [chat, tools]"],
               ["b", "groq", "Groq Cloud", ""],
               ["c", "together", "Together", ""]) {
        my ($id, $prov, $name, $extra) = @$c;
        $y .= "  - id: \"$id\"\n    name: \"$name\"\n    provider: \"$prov\"\n"
            . "    api_key: \"sk-$id-secret\"\n    priority: $prio\n"
            . "    configured_models: [\"$id-model\"]\n"
            . "    model_aliases: {gpt-test: \"$id-model\"}\n"
            . "    cost_per_token: {input: 0.000001, output: 0.000002}\n"
            . ($extra ? "    $extra\n" : "");
        $prio++;
    }
    return $y . "routing:\n  model_filters:\n    min_context_length: 0\n";
}

sub chat {
    my ($provider, $more) = @_;
    return "POST /v1/chat/completions\n{\"model\": \"gpt-test\", "
        . "\"provider\": $provider, " . ($more // '')
        . "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n" . yaml());

run_tests();

__DATA__

=== TEST 1: without controls the priority decides
--- request eval
main::chat('{}')
--- response_headers
X-Router-Channel: a
X-Router-Attempts: 1



=== TEST 2: order by provider name: that channel first
--- request eval
main::chat('{"order": ["groq"]}')
--- response_headers
X-Router-Channel: b
X-Router-Attempts: 1



=== TEST 3: order by channel name and provider name, in the given order; the others still follow
--- request eval
main::chat('{"order": ["together", "Groq Cloud"]}')
--- response_headers
X-Router-Channel: b
X-Router-Attempts: 2
X-Router-Fallbacks: c:server_error 500



=== TEST 4: allow_fallbacks false: only the ordered channels, so a failure is the answer
--- request eval
main::chat('{"order": ["c"], "allow_fallbacks": false}')
--- error_code: 500
--- response_body_like: "attempts":\[\{"channel":"c","model":"c-model"[^\]]*\]



=== TEST 5: only: the best of the named channels
--- request eval
main::chat('{"only": ["together", "GROQ"]}')
--- response_headers
X-Router-Channel: b



=== TEST 6: ignore by provider and by channel id
--- request eval
[main::chat('{"ignore": ["openai"]}'), main::chat('{"ignore": ["a", "b"]}')]
--- error_code eval
[200, 500]
--- response_headers eval
["X-Router-Channel: b", ""]



=== TEST 7: everything ignored: the 404 says the provider controls removed them
--- request eval
main::chat('{"ignore": ["openai", "groq", "together"]}')
--- error_code: 404
--- response_body_like: No model matching \\"gpt-test\\" can serve this request: 3 matched, removed by filters: 3 provider_ignored



=== TEST 8: require_parameters: with tools, only a model that says it takes tools
--- request eval
[main::chat('{"order": ["groq"], "require_parameters": true}',
            '"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], '),
 main::chat('{"order": ["groq"], "require_parameters": false}',
            '"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], ')]
--- response_headers eval
["X-Router-Channel: a", "X-Router-Channel: b"]



=== TEST 9: members airouter does not know are ignored, as OpenRouter ignores them
--- request eval
main::chat('{"data_collection": "deny", "zdr": true, "quantizations": ["fp8"], "order": ["groq"], "experimental": {"x": 1}}')
--- response_headers
X-Router-Channel: b



=== TEST 10: wrong values: OpenAI's 400 naming the parameter
--- request eval
[main::chat('"groq"'), main::chat('{"sort": "fastest"}'),
 main::chat('{"max_price": {"prompt": -1}}'),
 main::chat('{"allow_fallbacks": "no"}'), main::chat('{"order": [1]}'),
 main::chat('{"max_price": 3}'), main::chat('null')]
--- error_code eval
[400, 400, 400, 400, 400, 400, 200]
--- response_body_like eval
['"message":"Invalid type for \'provider\': expected an object, but got a string instead.","type":"invalid_request_error","param":"provider","code":"invalid_type"',
 '"message":"Invalid value: \'fastest\'. Supported values are: \'price\', \'throughput\', and \'latency\'.","type":"invalid_request_error","param":"provider.sort","code":"invalid_value"',
 '"param":"provider.max_price.prompt","code":"decimal_below_min_value"',
 '"param":"provider.allow_fallbacks","code":"invalid_type"',
 '"param":"provider.order\[0\]","code":"invalid_type"',
 '"param":"provider.max_price","code":"invalid_type"',
 '"content":"Hello!"']



=== TEST 11: explain shows the order, what was removed and why, and the controls as read
--- request
POST /v1/route
{"model": "gpt-test", "provider": {"order": ["groq"], "ignore": ["openai"], "max_price": {"prompt": 5}}}
--- check_json
$j->{candidates}[0]{channel} eq "b" && $j->{candidates}[1]{channel} eq "c"
&& @{$j->{candidates}} == 2
&& $j->{removed}[0]{channel} eq "a" && $j->{removed}[0]{reason} eq "provider_ignored"
&& $j->{filtered}{provider_ignored} == 1
&& $j->{controls}{provider}{order}[0] eq "groq"
&& $j->{controls}{provider}{ignore}[0] eq "openai"
&& $j->{controls}{provider}{max_price}{prompt} == 5
&& $j->{controls}{provider}{allow_fallbacks}
