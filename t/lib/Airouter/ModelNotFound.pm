package Airouter::ModelNotFound;

#
# The mock and the configuration that t/205 (one host) and t/206 (two
# hosts, Redis) share for #13 item 9.  The mock on $TEST_NGINX_RAND_PORT_1
# serves chat and completions for every channel, except /v1/completions
# of "gone" and "listed", which answer 404 model_not_found; "gone"'s
# /models no longer lists gone-model, "listed"'s still lists listed-model,
# "up" serves everything.  yaml($first, $discovery): channels $first and
# "up" both serving gpt-test ($first cheaper, so tried first), discovery
# enabled or not ("true"/"false"), never on start-up.
#

use strict;
use warnings;

use Exporter 'import';

our @EXPORT = qw($Mock yaml);
our $Mock;

my $chat_body = '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
    . '"model":"m","choices":[{"index":0,"message":{"role":"assistant",'
    . '"content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":'
    . '10,"completion_tokens":5,"total_tokens":15}}';
my $text_body = '{"id":"cmpl-1","object":"text_completion","created":1,'
    . '"model":"m","choices":[{"text":"Hello!","index":0,"finish_reason":'
    . '"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,'
    . '"total_tokens":5}}';
my $not_found = '{"error":{"message":"The model does not exist",'
    . '"type":"invalid_request_error","code":"model_not_found"}}';

$Mock = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location ~ ^/(gone|listed)/v1/completions\$ {
            return 404 '$not_found';
        }
        location ~ /v1/chat/completions\$ {
            echo_read_request_body;
            echo '$chat_body';
        }
        location ~ /v1/completions\$ {
            echo_read_request_body;
            echo '$text_body';
        }
        location = /gone/v1/models {
            echo '{"object":"list","data":[{"id":"other-model"}]}';
        }
        location = /listed/v1/models {
            echo '{"object":"list","data":[{"id":"listed-model"}]}';
        }
        location = /up/v1/models {
            echo '{"object":"list","data":[{"id":"up-model"}]}';
        }
    }
_EOC_

# "first" answers gpt-test first (cheaper), "up" after it
sub yaml {
    my ($first, $discovery) = @_;
    my $yaml = "channels:\n";
    my $price = 1;
    for my $id ($first, "up") {
        $yaml .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/$id/v1"
    api_key: "sk-$id-secret"
    configured_models: ["$id-model"]
    model_aliases:
      gpt-test: "$id-model"
    cost_per_token: {input: 0.00000$price, output: 0.00000$price}
_EOY_
        $price++;
    }
    return $yaml . <<"_EOY_";
routing:
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: $discovery
    run_on_startup: false
    interval_hours: 6
_EOY_
}

1;
