# Daily quotas (issue #18 item 3): a channel's daily_token_limit (prompt +
# completion tokens a UTC day) takes it out of the candidates once used, as
# daily_limit (requests) does, and what is left of both shows in
# /v1/admin/channels ("quota"), /v1/stats/channel-status, /metrics
# (airouter_channel_quota_remaining{channel,unit}) and the stats alerts.
# The counting mock (Airouter::Check) answers 10 + 5 tokens a request.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

# router_config.yaml with channels [id, extra yaml], in priority order
sub cfg {
    my (@channels) = @_;
    my $y = "channels:\n";
    my $prio = 1;
    for my $c (@channels) {
        my ($id, $extra) = @$c;
        $y .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-$id"
    priority: $prio
    configured_models: ["$id-model"]
    model_aliases:
      gpt-test: "$id-model"
_EOY_
        $y .= $extra if defined $extra;
        $prio++;
    }
    return ">>> router_config.yaml\n$y"
        . "routing:\n  model_filters:\n    min_context_length: 0\n"
        . "tasks:\n  model_discovery:\n    enabled: false\n";
}

sub chats {
    my ($n, @more) = @_;
    return [ (map { "POST /v1/chat/completions\n$Chat" } 1 .. $n), @more ];
}

airouter_blocks(mock => count_http_config(), config => <<'_EOC_');
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /metrics { airouter_metrics; }
_EOC_

run_tests();

__DATA__

=== TEST 1: daily_token_limit: a channel that used its tokens for the day leaves the candidates (15 + 15 >= 20: the third request goes to the backup)
--- user_files eval
main::cfg(["limited", "    daily_token_limit: 20\n"], ["backup"])
--- request eval
main::chats(3, "GET /v1/stats/channel-status")
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{channels}};
$c{limited}{requests_today} == 2 && $c{limited}{tokens_today} == 30
&& $c{limited}{daily_token_limit} == 20 && !defined $c{limited}{daily_limit}
&& $c{limited}{daily_limit_reached} && !$c{limited}{available}
&& $c{backup}{requests_today} == 1 && $c{backup}{available}
&& !defined $c{backup}{daily_token_limit}
--- upstream_hits: 3



=== TEST 2: with no other channel, a used-up daily_token_limit is a 503 without an upstream call
--- user_files eval
main::cfg(["limited", "    daily_token_limit: 10\n"])
--- request eval
main::chats(2)
--- error_code eval
[200, 503]
--- response_body_like eval
["Hello", '"code":"no_channel_available"']
--- upstream_hits: 1



=== TEST 3: /v1/admin/channels shows what is left of both limits (and null without any)
--- user_files eval
main::cfg(["limited", "    daily_limit: 3\n    daily_token_limit: 20\n"], ["backup"])
--- request eval
main::chats(1, "GET /v1/admin/channels")
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{data}};
my $q = $c{limited}{quota};
$q && $q->{requests_today} == 1 && $q->{daily_limit} == 3
&& $q->{requests_left} == 2 && $q->{tokens_today} == 15
&& $q->{daily_token_limit} == 20 && $q->{tokens_left} == 5
&& !$q->{exhausted}
&& exists $c{backup}{quota} && !defined $c{backup}{quota}



=== TEST 4: /v1/admin/channels: a used-up token limit is exhausted with nothing left
--- user_files eval
main::cfg(["limited", "    daily_token_limit: 20\n"], ["backup"])
--- request eval
main::chats(2, "GET /v1/admin/channels")
--- check_json
my ($q) = map { $_->{quota} } grep { $_->{id} eq 'limited' } @{$j->{data}};
$q->{tokens_today} == 30 && $q->{tokens_left} == 0 && $q->{exhausted}
&& !exists $q->{requests_left}



=== TEST 5: /metrics: airouter_channel_quota_remaining per channel and unit, for limited channels only
--- user_files eval
main::cfg(["limited", "    daily_limit: 3\n    daily_token_limit: 20\n"], ["backup"])
--- request eval
main::chats(1, "GET /metrics")
--- response_body_like eval
["Hello", qr/# TYPE airouter_channel_quota_remaining gauge\n(?:#[^\n]*\n)?airouter_channel_quota_remaining\{channel="limited",unit="requests"\} 2\nairouter_channel_quota_remaining\{channel="limited",unit="tokens"\} 5\n(?!airouter_channel_quota_remaining)/s]



=== TEST 6: the used-up token limit is an alert
--- user_files eval
main::cfg(["limited", "    daily_token_limit: 20\n"], ["backup"])
--- request eval
main::chats(2, "GET /v1/stats/alerts")
--- check_json
my ($a) = grep { $_->{type} eq 'daily_token_limit' } @{$j->{alerts}};
$a && $a->{channel} eq 'limited' && $a->{tokens} == 30
&& $a->{daily_token_limit} == 20 && $a->{level} eq 'warning'
&& !grep { $_->{type} eq 'daily_limit' } @{$j->{alerts}}
