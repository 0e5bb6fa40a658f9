# provider.data_collection (#19, OpenRouter's name): "deny" keeps only
# the channels that keep nothing of a request: data_collection: deny in
# the configuration (the channel's, else its provider's), or a local
# channel (the user's own machine) that says nothing.  "allow" (the
# default) uses every channel; any other value is OpenAI's 400.  Explain
# shows the removed channels (filter data_collection).
#
# Channels, by priority, all serving gpt-test (a, b, c marked not local,
# as a hosted provider would be):
#   a  says nothing: it may keep requests
#   b  data_collection: deny
#   c  data_collection: allow
#   d  on 127.0.0.1 and says nothing: local, keeps nothing
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

sub yaml {
    return yaml_channels("",
        ["a", "ok", "    local: false\n"],
        ["b", "ok", "    local: false\n    data_collection: deny\n"],
        ["c", "ok", "    local: false\n    data_collection: allow\n"],
        ["d", "ok"]);
}

sub chat {
    my ($provider) = @_;
    return "POST /v1/chat/completions\n{\"model\": \"gpt-test\", "
        . "\"provider\": $provider, "
        . "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n" . yaml());

run_tests();

__DATA__

=== TEST 1: without it (or with "allow") the priority decides: a
--- request eval
[main::chat('{}'), main::chat('{"data_collection": "allow"}')]
--- response_headers eval
["X-Router-Channel: a", "X-Router-Channel: a"]



=== TEST 2: "deny": the first channel that keeps nothing, b
--- request eval
main::chat('{"data_collection": "deny"}')
--- response_headers
X-Router-Channel: b
X-Router-Attempts: 1



=== TEST 3: "deny" without b: the local channel (d), not the one that says allow (c)
--- request eval
main::chat('{"data_collection": "deny", "ignore": ["b"]}')
--- response_headers
X-Router-Channel: d



=== TEST 4: "deny" with only channels that may keep requests: a 404 naming the filter
--- request eval
main::chat('{"data_collection": "deny", "only": ["a", "c"]}')
--- error_code: 404
--- response_body_like: removed by filters: 2 provider_not_in_only, 2 data_collection



=== TEST 5: another value is OpenAI's 400 naming the parameter
--- request eval
[main::chat('{"data_collection": "never"}'), main::chat('{"data_collection": true}')]
--- error_code eval
[400, 400]
--- response_body_like eval
['"param":"provider.data_collection".*"code":"invalid_value"',
 '"param":"provider.data_collection".*"code":"invalid_type"']



=== TEST 6: explain shows the channels removed and the control as understood
--- request
POST /v1/route
{"model": "gpt-test", "provider": {"data_collection": "deny"}}
--- check_json
(join ",", map { $_->{channel} } @{$j->{candidates}}) eq "b,d"
&& (join ",", map { "$_->{channel}:$_->{reason}" } @{$j->{removed}}) eq "a:data_collection,c:data_collection"
&& $j->{filtered}{data_collection} == 2
&& $j->{controls}{provider}{data_collection} eq "deny"



=== TEST 7: a configured value other than allow or deny stops nginx with file:line:column
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    data_collection: maybe
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:4:22: "channels\[0\]\.data_collection" must be allow or deny, got "maybe"/
