# The $airouter_* variables: with log_format escape=json the access log is
# the usage log, one JSON line per request.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;

no_shuffle();
log_level('info');

airouter_blocks(mock => mock_http_config(), config => mock_config(),
                request => "POST /v1/chat/completions\n" . chat_body());

run_tests();

__DATA__

=== TEST 1: a plain success: tokens and cost from the answer's usage
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "ok"])
--- access_log
{"status":200,"channel":"first","model":"first-model","attempts":"1","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"}



=== TEST 2: after a fallback: the channel that answered, and the attempts
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["broken", "e500"], ["second", "ok"])
--- access_log
{"status":200,"channel":"second","model":"second-model","attempts":"2","prompt_tokens":"10","completion_tokens":"5","cost":"0.00002000","result":"ok"}



=== TEST 3: a failure: no channel, no usage, the last fault
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["broken", "e500"], ["down", "refused"])
--- error_code: 503
--- access_log
{"status":503,"channel":"","model":"","attempts":"2","prompt_tokens":"","completion_tokens":"","cost":"","result":"connect_error"}



=== TEST 4: the client's 400 is logged as such
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["strict", "e400"])
--- error_code: 400
--- access_log
{"status":400,"channel":"strict","model":"strict-model","attempts":"1","prompt_tokens":"","completion_tokens":"","cost":"","result":"bad_request"}



=== TEST 5: embeddings report prompt tokens
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "emb", "    capabilities: [embedding]\n"])
--- request
POST /v1/embeddings
{"model": "first-model", "input": "hello"}
--- access_log
"channel":"first","model":"first-model","attempts":"1","prompt_tokens":"4","completion_tokens":"0","cost":"0.00000400","result":"ok"



=== TEST 6: upstream connections are kept alive and reused (airouter_keepalive)
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "conn"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- response_body eval
["{\"requests_on_this_connection\":1}\n", "{\"requests_on_this_connection\":2}\n"]



=== TEST 7: airouter_keepalive 0 closes every upstream connection
--- extra_http_config
    airouter_keepalive 0;
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "conn"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- response_body eval
["{\"requests_on_this_connection\":1}\n", "{\"requests_on_this_connection\":1}\n"]



=== TEST 8: an answer larger than airouter_buffer_size passes through; its usage still reaches the log
--- extra_http_config
    airouter_buffer_size 4k;
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "bigemb", "    capabilities: [embedding]\n"])
--- request
POST /v1/embeddings
{"model": "first-model", "input": "hello"}
--- response_body_like: ^\{"object":"list","data":\[\{"object":"embedding","index":0,"embedding":\[(0\.125,){4000}0\.5\]\}\],"model":"e","usage":\{"prompt_tokens":6,"total_tokens":6\}\}$
--- response_headers
!X-Router-Cost
--- access_log
"channel":"first","model":"first-model","attempts":"1","prompt_tokens":"6","completion_tokens":"0","cost":"0.00000600","result":"ok"
