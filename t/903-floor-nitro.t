# Request-level routing (#19): provider.sort and the ":floor" / ":nitro"
# suffixes on any model name, alias or tag query.  price (":floor") puts
# the cheapest first (free first, an unknown price last); throughput
# (":nitro") and latency order by what live state measured (t/905), the
# strategy's order when nothing is measured.  The upstream gets the
# channel's model id, never the suffix.  Five channels at five prices
# (Airouter::Priced).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;
use Airouter::Priced;

no_shuffle();
log_level('info');

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n"
                    . priced_yaml(cheap => "echo"));

run_tests();

__DATA__

=== TEST 1: ":floor" on an alias: the free model first
--- request eval
priced_chat('"model": "gpt-test:floor", ')
--- response_headers
X-Router-Channel: free
X-Router-Model: free-model



=== TEST 2: ":floor" without the free one: the cheapest paid model, and the upstream gets its id
--- request eval
priced_chat('"model": "gpt-test:FLOOR", "provider": {"ignore": ["free"]}, ')
--- response_headers
X-Router-Channel: cheap
--- check_json
$j->{body}{model} eq "cheap-model"



=== TEST 3: ":floor" on a tag query orders the whole pool by price, the unknown price last
--- request
POST /v1/route
{"model": "tag:pool:floor"}
--- check_json
join(",", map { $_->{channel} } @{$j->{candidates}}) eq "free,cheap,mid,dear,unpriced"
&& $j->{controls}{models}[0]{query} eq "tag:pool"
&& $j->{controls}{models}[0]{sort} eq "price"



=== TEST 4: provider.sort "price" does the same as ":floor"
--- request
POST /v1/route
{"model": "gpt-test", "provider": {"sort": "price"}}
--- check_json
join(",", map { $_->{channel} } @{$j->{candidates}}) eq "free,cheap,mid,dear,unpriced"
&& $j->{controls}{provider}{sort} eq "price"



=== TEST 5: ":nitro" sorts by throughput: nothing measured yet, so the strategy's order stays
--- request
POST /v1/route
{"model": "gpt-test:nitro"}
--- check_json
join(",", map { $_->{channel} } @{$j->{candidates}}) eq "dear,mid,cheap,unpriced,free"
&& $j->{controls}{models}[0]{sort} eq "throughput"
&& $j->{candidates}[0]{tokens_per_second} == 50 && $j->{candidates}[0]{ttfb_ms} == 1000



=== TEST 6: a suffix per "models" entry: each entry sorts its own candidates
--- request
POST /v1/route
{"model": "dear-model", "models": ["tag:pool:floor"]}
--- check_json
join(",", map { "$_->{channel}:$_->{query}" } @{$j->{candidates}})
   eq "dear:dear-model,free:tag:pool,cheap:tag:pool,mid:tag:pool,unpriced:tag:pool"
&& $j->{controls}{models}[0]{sort} eq "none"
&& $j->{controls}{models}[1]{sort} eq "price"



=== TEST 7: the suffix alone is no model
--- request eval
priced_chat('"model": ":floor", ')
--- error_code: 404
