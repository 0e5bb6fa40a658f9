# Request-level routing (#19): provider.max_price {prompt, completion} in
# USD per million tokens, as OpenRouter reads it.  A model over either
# limit is not used; free models always pass; a model whose price is not
# known never does (the cap could not be kept).  Five channels at five
# prices (Airouter::Priced).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;
use Airouter::Priced;

no_shuffle();
log_level('info');

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n" . priced_yaml());

run_tests();

__DATA__

=== TEST 1: no cap: the priority decides (the dearest channel first)
--- request eval
priced_chat('"model": "gpt-test", ')
--- response_headers
X-Router-Channel: dear



=== TEST 2: a prompt cap between two prices keeps the dearer channel away
--- request eval
priced_chat('"model": "gpt-test", "provider": {"max_price": {"prompt": 1.5}}, ')
--- response_headers
X-Router-Channel: mid
X-Router-Attempts: 1



=== TEST 3: the completion cap counts too, and the cap is inclusive
--- request eval
[priced_chat('"model": "gpt-test", "provider": {"max_price": {"prompt": 5, "completion": 1}}, '),
 priced_chat('"model": "gpt-test", "provider": {"max_price": {"prompt": 1, "completion": 2}}, ')]
--- response_headers eval
["X-Router-Channel: cheap", "X-Router-Channel: mid"]



=== TEST 4: a cap of 0 leaves the free model only
--- request eval
priced_chat('"model": "gpt-test", "provider": {"max_price": {"prompt": 0, "completion": 0}}, ')
--- response_headers
X-Router-Channel: free



=== TEST 5: explain: what the cap removed, the unknown price with it
--- request
POST /v1/route
{"model": "gpt-test", "provider": {"max_price": {"prompt": 2}}}
--- check_json
join(",", map { $_->{channel} } @{$j->{candidates}}) eq "mid,cheap,free"
&& $j->{filtered}{over_max_price} == 2
&& join(",", sort map { "$_->{channel}:$_->{reason}" } @{$j->{removed}})
   eq "dear:over_max_price,unpriced:over_max_price"
&& $j->{controls}{provider}{max_price}{prompt} == 2
&& !exists $j->{controls}{provider}{max_price}{completion}



=== TEST 6: only models over the cap: a 404 that says so
--- request eval
priced_chat('"model": "dear-model", "provider": {"max_price": {"prompt": 1}}, ')
--- error_code: 404
--- response_body_like: No model matching \\"dear-model\\" can serve this request: 1 matched, removed by filters: 1 over_max_price
