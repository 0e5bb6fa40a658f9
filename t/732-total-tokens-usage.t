# A usage object with total_tokens alone (Jina-style rerank, some
# embedding providers) is billed as input tokens: embedding and rerank
# prices are input prices.  Before, such an answer counted 0 tokens and
# cost 0: nothing in X-Router-Cost, the $airouter_* variables, the usage
# log, the stats or the key's budget.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;
use Airouter::Keyed;

no_shuffle();
install_checks();

our $Admin = $Airouter::Keyed::Admin;

our $Mock = <<'_EOC_';
    log_format total_usage escape=json
        '{"status":$status,"model":"$airouter_model",'
        '"prompt":"$airouter_prompt_tokens",'
        '"completion":"$airouter_completion_tokens",'
        '"cost":"$airouter_cost"}';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;

        # Jina's rerank answer: usage says total_tokens only
        location /jina/v1/rerank {
            echo_read_request_body;
            echo '{"model":"jina-reranker-v2","results":[{"index":0,"relevance_score":0.9}],"usage":{"total_tokens":500}}';
        }

        # an embedding provider that reports a total only
        location /jina/v1/embeddings {
            echo_read_request_body;
            echo '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"jina-embeddings-v3","usage":{"total_tokens":300}}';
        }

        # a total beside a completion: the rest of it is the input
        location /mixed/v1/embeddings {
            echo_read_request_body;
            echo '{"object":"list","data":[],"model":"m","usage":{"completion_tokens":20,"total_tokens":300}}';
        }
    }
_EOC_

sub files {
    my ($keys) = @_;
    my $y = keyed_yaml(<<'_EOY_', $keys);
channels:
  - id: jina
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/jina/v1"
    api_key: "sk-jina-secret"
    configured_models: ["jina-reranker-v2", "jina-embeddings-v3"]
    cost_per_token: {input: 0.000001, output: 0.00001}
  - id: mixed
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/mixed/v1"
    api_key: "sk-mixed-secret"
    configured_models: ["mixed-embed"]
    cost_per_token: {input: 0.000001, output: 0.00001}
_EOY_
    return ">>> router_config.yaml\n$y";
}

airouter_blocks(
    mock       => $Mock,
    config     => "    location /v1/ { airouter; access_log logs/access.log total_usage; }\n"
                . "    location = /metrics { airouter_metrics; }\n",
    user_files => sub { files() },
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: rerank with usage {"total_tokens": 500}: 500 input tokens at the input price, in X-Router-Cost and the usage log
--- request
POST /v1/rerank
{"model": "jina-reranker-v2", "query": "where", "documents": ["here", "there"]}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Model: jina-reranker-v2
X-Router-Cost: 0.00050000
--- response_body_like: "relevance_score":0\.9
--- access_log
{"status":200,"model":"jina-reranker-v2","prompt":"500","completion":"0","cost":"0.00050000"}



=== TEST 2: embeddings with a total alone: 300 input tokens
--- request
POST /v1/embeddings
{"model": "jina-embeddings-v3", "input": "hello"}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00030000
--- access_log
{"status":200,"model":"jina-embeddings-v3","prompt":"300","completion":"0","cost":"0.00030000"}



=== TEST 3: a total beside a completion: the input is the rest (280 in, 20 out)
--- request
POST /v1/embeddings
{"model": "mixed-embed", "input": "hello"}
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00048000
--- access_log
{"status":200,"model":"mixed-embed","prompt":"280","completion":"20","cost":"0.00048000"}



=== TEST 4: the stats and /metrics count them (500 + 300 prompt tokens, 0.0008 USD for alice)
--- request eval
[ "POST /v1/rerank\n{\"model\": \"jina-reranker-v2\", \"query\": \"q\", \"documents\": [\"a\"]}",
  "POST /v1/embeddings\n{\"model\": \"jina-embeddings-v3\", \"input\": \"hello\"}",
  "GET /v1/stats/daily",
  "GET /metrics" ]
--- more_headers eval
[ "Authorization: Bearer sk-alice", "Authorization: Bearer sk-alice", $::Admin, $::Admin ]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[ "results", "embedding",
  '"by_key":\{"alice":\{[^}]*"cost":0\.0008[,}]',
  '(?m)^airouter_tokens_total\{type="prompt"\} 800$' ]



=== TEST 5: a key's budget sees them: 0.0005 spent on a 0.0003 budget refuses the next request
--- user_files eval
main::files(capped_key("0.0003"))
--- request eval
[ "POST /v1/rerank\n{\"model\": \"jina-reranker-v2\", \"query\": \"q\", \"documents\": [\"a\"]}",
  "POST /v1/rerank\n{\"model\": \"jina-reranker-v2\", \"query\": \"q\", \"documents\": [\"a\"]}" ]
--- more_headers eval
[ "Authorization: Bearer sk-capped", "Authorization: Bearer sk-capped" ]
--- error_code eval
[200, 429]
--- response_body_like eval
[ "results", '"code":"insufficient_quota"' ]
