# Balance checks (balance: on a channel): mock providers answer in their own
# shapes (DeepSeek /user/balance, OpenRouter /api/v1/credits and
# /api/v1/key, SiliconFlow /v1/user/info, Moonshot /v1/users/me/balance,
# One-API billing subscription and usage, a JSON path; the origin-relative
# ones at the mock's root, as at the providers'); the results reach
# /v1/admin/channels, /metrics and the stats alerts, a spent channel's paid
# models leave routing while its free ones stay (unless hold: false), and a
# provider's "Insufficient Balance" answer holds them at once.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;
use JSON::PP ();
use IO::Socket::INET;
use Time::HiRes ();

master_on();
no_shuffle();
log_level('info');
install_checks();

# waits until every checked channel has been asked once
sub wait_checks {
    my $n = shift;
    for (1 .. 300) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
            or next;
        print $s "GET /v1/admin/channels HTTP/1.0\r\nHost: localhost\r\n\r\n";
        local $/;
        my ($body) = (<$s> // '') =~ /\r\n\r\n(.*)/s;
        my $j = eval { JSON::PP::decode_json($body // '') };
        my $done = $j ? grep { ref $_->{balance} && $_->{balance}{checked} }
                             @{$j->{data}} : 0;
        return if $done >= $n;
        Time::HiRes::sleep(0.1);
    }
    die "the balance checks did not all run within 30 s";
}

our $Mock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        location = /user/balance {
            if ($http_authorization != "Bearer sk-ds") { return 401; }
            echo '{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}';
        }
        location = /api/v1/credits {
            echo '{"data":{"total_credits":10,"total_usage":10}}';
        }
        location = /api/v1/key {
            echo '{"data":{"label":"sk-or-v1-abc...def","limit":null,"usage":10,"limit_remaining":null,"is_free_tier":false}}';
        }
        location = /v1/user/info {
            echo '{"code":20000,"message":"OK","status":true,"data":{"id":"u","balance":"0.88","chargeBalance":"88.00","totalBalance":"88.88"}}';
        }
        location = /v1/users/me/balance {
            echo '{"code":0,"data":{"available_balance":3.5,"voucher_balance":0.5,"cash_balance":3.0},"scode":"0x0","status":true}';
        }
        location = /relay/v1/dashboard/billing/subscription {
            echo '{"object":"billing_subscription","has_payment_method":true,"soft_limit_usd":12.5,"hard_limit_usd":12.5,"system_hard_limit_usd":12.5,"access_until":0}';
        }
        location = /relay/v1/dashboard/billing/usage {
            echo '{"object":"list","total_usage":250}';
        }
        location = /custom/b {
            echo '{"wallet":{"left":"7.25"}}';
        }
        # DeepSeek's answer when the account has no money left
        location = /spent/v1/chat/completions {
            return 402 '{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}';
        }
        location / { return 404; }
    }
_EOC_

our $Config = <<'_EOC_';
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /metrics { airouter_metrics; }
_EOC_

our $Yaml = <<'_EOY_';
>>> router_config.yaml
providers:
  deepseek: {base_url: "https://api.deepseek.com"}
  openrouter: {base_url: "https://openrouter.ai/api/v1"}
channels:
  - id: ds
    provider: deepseek
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ds"
    api_key: "sk-ds"
    configured_models: ["deepseek-chat"]
    balance: {low_threshold: 200}
  - id: or
    provider: openrouter
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/api/v1"
    api_key: "sk-or"
    local: false          # the mock is on loopback; OpenRouter is not
    configured_models: ["qwen/qwen3-8b", "qwen/qwen3-8b:free"]
    balance: {}
  - id: or-nohold         # spent too, but told to stay in routing
    provider: openrouter
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/api/v1"
    api_key: "sk-or2"
    local: false
    configured_models: ["qwen/qwen3-8b"]
    balance: {hold: false}
  - id: sf
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/sf/v1"
    api_key: "sk-sf"
    configured_models: ["Qwen/Qwen3-32B"]
    balance: siliconflow
  - id: moon
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/moon"
    api_key: "sk-moon"
    configured_models: ["kimi-k2"]
    balance: moonshot
  - id: relay
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/relay"
    api_key: "sk-relay"
    configured_models: ["gpt-4o-mini"]
    balance: {kind: oneapi}
  - id: custom
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/custom"
    api_key: "sk-c"
    configured_models: ["m-custom"]
    balance: {kind: json, url: /custom/b, path: wallet.left, currency: EUR}
  - id: elsewhere         # its key would go to another host: never asked
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/custom"
    api_key: "sk-c"
    configured_models: ["m-custom"]
    balance: {kind: json, url: "http://localhost:$TEST_NGINX_RAND_PORT_1/custom/b", path: wallet.left}
tasks:
  model_discovery:
    enabled: false
_EOY_

# A DeepSeek channel with money (the check says 110 CNY) whose chat answers
# "Insufficient Balance" (402), as DeepSeek does when the account is empty.
our $SpentYaml = <<'_EOY_';
>>> router_config.yaml
providers:
  deepseek: {base_url: "https://api.deepseek.com"}
channels:
  - id: spent
    provider: deepseek
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/spent"
    api_key: "sk-ds"
    local: false          # the mock is on loopback; DeepSeek is not
    configured_models: ["deepseek-reasoner", "deepseek/deepseek-chat",
                        "deepseek/deepseek-chat:free"]
    balance: {}
tasks:
  model_discovery:
    enabled: false
_EOY_

our $Reasoner = 'POST /v1/chat/completions
{"model":"deepseek-reasoner","messages":[{"role":"user","content":"hi"}]}';

airouter_blocks(mock => $Mock, config => $Config, user_files => $Yaml,
                init => sub { "wait_checks(7);" });

run_tests();

__DATA__

=== TEST 1: every kind's answer reaches /v1/admin/channels; keys never do, nor to another host
--- request
GET /v1/admin/channels
--- check_json
my %b = map { $_->{id} => $_->{balance} } @{$j->{data}};
$b{ds}{amount} == 110 && $b{ds}{currency} eq 'CNY' && $b{ds}{low}
&& $b{ds}{kind} eq 'deepseek'
&& $b{or}{amount} == 0 && $b{or}{held} && $b{or}{kind} eq 'openrouter'
&& $b{sf}{amount} == 88.88 && $b{moon}{amount} == 3.5
&& $b{relay}{amount} == 10 && $b{relay}{currency} eq 'USD'
&& $b{custom}{amount} == 7.25 && $b{custom}{currency} eq 'EUR'
&& !$b{ds}{held} && !$b{'or-nohold'}{held} && $b{'or-nohold'}{amount} == 0
&& !$b{elsewhere}{checked} && $b{elsewhere}{error} =~ /not checked/
--- response_body_unlike: sk-(ds|or|or2|sf|moon|relay|c)\b
--- error_log
balance of channel "ds": 110.00 CNY (below low_threshold)
channel "elsewhere": no balance check: its URL is not on the channel's own scheme and host



=== TEST 2: /metrics has every kind's airouter_channel_balance{channel,currency} and the check time, none for a channel never checked
--- request
GET /metrics
--- response_body_like eval
# the amounts: 110 CNY, 0 USD, 0 USD, 88.88 CNY, 3.5 CNY, 10 USD, 7.25 EUR
my @c = (["ds", "CNY", "110(?:\\.0*)?"], ["or", "USD", "0(?:\\.0*)?"],
         ["or-nohold", "USD", "0(?:\\.0*)?"], ["sf", "CNY", "88\\.880*"],
         ["moon", "CNY", "3\\.50*"], ["relay", "USD", "10(?:\\.0*)?"],
         ["custom", "EUR", "7\\.250*"]);
join('', map { "airouter_channel_balance\\{channel=\"$_->[0]\",currency=\"$_->[1]\"\\} $_->[2]\\n" } @c)
. ".*# TYPE airouter_channel_balance_checked_timestamp_seconds gauge\\n"
. join('', map { "airouter_channel_balance_checked_timestamp_seconds\\{channel=\"$_->[0]\"\\} \\d{10}\\n" } @c)
. "(?!airouter_channel_balance)";



=== TEST 3: a spent channel keeps its free models, its paid ones leave the lists, and the explain endpoint says why
--- request
POST /v1/route
{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}
--- check_json
my @c = map { $_->{model} // $_->{id} } @{$j->{candidates}};
my ($r) = grep { $_->{model} eq 'qwen/qwen3-8b' } @{$j->{removed}};
my @or = map { $_->{model} } grep { $_->{channel} eq 'or' } @{$j->{candidates}};
my @kept = grep { $_->{channel} eq 'or-nohold' } @{$j->{candidates}};
(grep { $_ eq 'qwen/qwen3-8b:free' } @or) && !(grep { $_ eq 'qwen/qwen3-8b' } @or)
&& $r && $r->{channel} eq 'or' && $r->{reason} eq 'balance'
&& @kept == 1 && $kept[0]{model} eq 'qwen/qwen3-8b'



=== TEST 4: the stats alerts: a spent channel is critical (held or not), one below its low_threshold a warning, the others none
--- request
GET /v1/stats/alerts
--- check_json
my %a = map { $_->{channel} => $_ } grep { $_->{type} =~ /balance/ } @{$j->{alerts}};
keys %a == 3
&& $a{ds}{type} eq 'low_balance' && $a{ds}{level} eq 'warning'
&& $a{ds}{balance} == 110 && $a{ds}{low_threshold} == 200
&& $a{ds}{message} =~ /110\.00 CNY left, below its low_threshold of 200\.00/
&& $a{or}{type} eq 'balance_spent' && $a{or}{level} eq 'critical' && $a{or}{held}
&& $a{'or-nohold'}{type} eq 'balance_spent' && !$a{'or-nohold'}{held}
&& $a{'or-nohold'}{message} =~ /stays in routing/



=== TEST 5: an "Insufficient Balance" answer holds the channel's other paid models at once (the check still says 110 CNY); its free model stays and the explain endpoint says why
--- user_files eval: $::SpentYaml
--- init
wait_checks(1);
--- error_code eval
[402, 200]
--- request eval
[$::Reasoner, 'POST /v1/route
{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}']
--- check_json
my @c = map { $_->{model} } @{$j->{candidates}};
my ($r) = grep { $_->{model} eq 'deepseek/deepseek-chat' } @{$j->{removed}};
"@c" eq 'deepseek/deepseek-chat:free'
&& $r && $r->{channel} eq 'spent' && $r->{reason} eq 'balance'
--- error_log_once
channel "spent" answered insufficient_credits: its paid models are held until a balance check finds money



=== TEST 6: the mark is in the alerts and in /v1/admin/channels (marked_by, held), and no key is
--- user_files eval: $::SpentYaml
--- init
wait_checks(1);
--- request eval
[$::Reasoner, 'GET /v1/stats/alerts', 'GET /v1/admin/channels']
--- error_code eval
[402, 200, 200]
--- response_body_like eval
[qr/^(?!.*sk-ds)/s,
 qr/^(?!.*sk-ds).*"type":\s*"balance_spent".*its answer said insufficient_credits/s,
 qr/^(?!.*sk-ds)/s]
--- check_json
my ($c) = grep { $_->{id} eq 'spent' } @{$j->{data}};
my $b = $c->{balance};
$b->{marked_by} eq 'insufficient_credits' && $b->{marked_at} > 0
&& $b->{held} && $b->{amount} == 110 && $b->{currency} eq 'CNY'
