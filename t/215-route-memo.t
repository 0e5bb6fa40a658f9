# The route memo (#16 item 2): each worker keeps a query's match set per
# (query text, catalogue generation, key ACL).  A query answered from the
# memo must see a new catalogue generation at once, and a key must never
# get the set memoised for another key's ACL.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::HTTP;

master_on();
no_shuffle();
log_level('info');

# The channel's /models answer is a file the blocks rewrite before each
# discovery run; its chat endpoint answers every request alike.
our $Mock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location = /a/v1/models {
            alias $TEST_NGINX_HTML_DIR/models.json;
        }
        location = /a/v1/chat/completions {
            return 200 '{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}';
        }
    }
_EOC_

our $Config = <<'_EOC_';
auth:
  enabled: true
  api_keys:
    - name: all
      key: "sk-all-value"
    - name: llama
      key: "sk-llama-value"
      allowed_tags: [llama]
  admin:
    enabled: true
    admin_token: "adm-secret-value"
channels:
  - id: a
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/a/v1"
    api_key: "sk-up-a"
    configured_models: ["llama-3-8b", "qwen3-8b"]
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: true
    interval_hours: 6
    run_on_startup: false
_EOC_

sub models_json {
    my $file = "$ENV{TEST_NGINX_SERVER_ROOT}/html/models.json";
    open my $fh, '>', $file or die "$file: $!";
    print $fh '{"object":"list","data":['
            . join(',', map { qq({"id":"$_","object":"model"}) } @_) . ']}';
    close $fh;
}

sub run_discovery {
    my ($status, undef, $body) =
        http_request($ENV{TEST_NGINX_SERVER_PORT}, 'POST',
                     '/v1/admin/discovery', token => 'adm-secret-value',
                     body => '');
    die "POST /v1/admin/discovery: $status $body" unless $status == 200;
}

# (status, X-Router-Model) of one chat request
sub chat {
    my ($model, $key) = @_;
    my ($status, $h) =
        http_request($ENV{TEST_NGINX_SERVER_PORT}, 'POST',
                     '/v1/chat/completions', token => $key,
                     type => 'application/json',
                     body => qq({"model":"$model","messages":)
                           . qq([{"role":"user","content":"hi"}]}));
    return ($status, $h->{'x-router-model'} // '');
}

airouter_blocks(mock => $Mock, config => $Airouter::Blocks::AdminConfig,
                user_files => ">>> router_config.yaml\n$Config",
                no_error_log => "[error]\n[alert]");

run_tests();

__DATA__

=== TEST 1: a memoised tag query follows a new catalogue generation at once
The first run serves memo-one (entry 0) and other-x; the second serves
aaa-first (now entry 0) and memo-two.  A set kept across the generation
would send the query to aaa-first, which has no "memo" tag.
--- init
main::models_json('memo-one', 'other-x');
main::run_discovery();
for (1 .. 3) {
    my ($status, $model) = main::chat('tag:memo', 'sk-all-value');
    die "before: $status $model" unless $status == 200 && $model eq 'memo-one';
}
main::models_json('aaa-first', 'memo-two');
main::run_discovery();
--- request
POST /v1/chat/completions
{"model":"tag:memo","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Authorization: Bearer sk-all-value
--- error_code: 200
--- response_headers
X-Router-Model: memo-two



=== TEST 2: a model the memo found for one key stays hidden from a key whose ACL excludes it
The same two queries alternate between a key without an ACL and a key
allowed only "llama" models, so each query text is in the memo for the
other key when it comes.
--- init
main::models_json('llama-3-8b', 'qwen3-8b');
main::run_discovery();
--- request eval
[map { "POST /v1/chat/completions\n"
       . qq({"model":"$_","messages":[{"role":"user","content":"hi"}]}) }
     ('qwen3-8b', 'qwen3-8b', 'qwen3-8b', 'tag:8b', 'tag:8b', 'tag:8b')]
--- more_headers eval
[map { "Authorization: Bearer $_" }
     ('sk-all-value', 'sk-llama-value', 'sk-all-value',
      'sk-all-value', 'sk-llama-value', 'sk-llama-value')]
--- error_code eval
[200, 404, 200, 200, 200, 200]
--- response_headers_like eval
['X-Router-Model: qwen3-8b', 'X-Router-Model: $', 'X-Router-Model: qwen3-8b',
 'X-Router-Model: (llama-3-8b|qwen3-8b)', 'X-Router-Model: llama-3-8b',
 'X-Router-Model: llama-3-8b']
