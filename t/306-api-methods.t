# One rule for the API location's URLs, over every endpoint: a path the
# API serves answers another method with OpenAI's 405, an Allow header
# naming the methods it takes and a JSON error naming the method and the
# URL; a path it does not serve is a JSON 404 naming the method and the
# URL, whatever the method.  The listings (models, models/{id}, tags) take
# GET and HEAD; every POST endpoint, /v1/route and the client dialects'
# routes (Messages, Responses, Gemini) take POST.  Nothing is read or sent
# upstream for a refused request (the one channel's port is closed).
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

our $Config = <<'_EOY_';
auth:
  enabled: true
  api_keys:
    - name: alice
      key: "sk-alice"
channels:
  - id: only
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/v1"
    api_key: "sk-up"
    configured_models: ["m1"]
routing:
  model_filters:
    min_context_length: 0
_EOY_

our @Post = qw(
    /v1/chat/completions /v1/completions /v1/embeddings /v1/rerank
    /v1/images/generations /v1/images/edits /v1/images/variations
    /v1/audio/speech /v1/audio/transcriptions /v1/audio/translations
    /v1/moderations /v1/route /v1/messages /v1/messages/count_tokens
    /v1/responses /v1beta/models/m1:generateContent
    /v1beta/models/m1:streamGenerateContent /v1/models/m1:generateContent
    /openai/v1/chat/completions
);
our @Get = qw(/v1/models /v1/models/m1 /v1/tags /openai/v1/models);
our @Unknown = qw(
    /v1/nothing /v1/chat /v1/chat/completions/x /v1/models/ /v1/images
    /v1/audio /v1/tags/x /v1/Chat/Completions /v1beta/models/m1:unknownMethod
    /openai/chat/completions
);

# [request, status, body regex, Allow or undef (must be absent)]
our @Cases;
for my $u (@Post) {
    # the Messages and Gemini routes answer in their dialect's error shape
    my $dialect = $u =~ m{/messages|:\w*generateContent$}i;
    for my $m (qw(GET HEAD PUT DELETE PATCH)) {
        push @Cases, ["$m $u", 405,
            $m eq 'HEAD' ? '^$'
            : $dialect ? '"message":"Method ' . $m . ' is not allowed on '
                         . quotemeta($u) . '"'
            : '^\{"error":\{"message":"Method ' . $m . ' is not allowed on '
              . quotemeta($u) . '","type":"invalid_request_error",'
              . '"code":"method_not_allowed"\}\}$', 'POST'];
    }
}
for my $u (@Get) {
    for my $m (qw(POST PUT DELETE PATCH)) {
        push @Cases, ["$m $u" . ($m eq 'POST' ? "\n{}" : ''), 405,
            '^\{"error":\{"message":"Method ' . $m . ' is not allowed on '
            . quotemeta($u) . '","type":"invalid_request_error",'
            . '"code":"method_not_allowed"\}\}$', 'GET, HEAD'];
    }
    push @Cases, ["GET $u", 200, '"object":"(?:list|model)"|"tags"', undef];
}
for my $u (@Unknown) {
    for my $m (qw(GET POST PUT DELETE)) {
        # a Gemini path answers in Google's shape (t/709), others OpenAI's
        push @Cases, ["$m $u" . ($m eq 'POST' ? "\n{}" : ''), 404,
            $u =~ m{^/v1(?:beta|alpha)/}
            ? '^\{"error":\{"code":404,"message":"Unknown request URL: '
              . $m . ' ' . quotemeta($u) . '","status":"NOT_FOUND"\}\}$'
            : '^\{"error":\{"message":"Unknown request URL: ' . $m . ' '
              . quotemeta($u) . '","type":"invalid_request_error",'
              . '"code":"unknown_url"\}\}$', undef];
    }
}

sub allow_re {
    my ($allow) = @_;
    return defined $allow ? qr/\r\nAllow: \Q$allow\E\r\n/ : qr/\r\nAllow: /;
}

airouter_blocks(
    user_files => ">>> router_config.yaml\n$Config",
    config => "    location /v1/ { airouter; }\n"
              . "    location /v1beta/ { airouter; }\n"
              . "    location /openai/ { airouter; }\n");

run_tests();

__DATA__

=== TEST 1: every known path answers the methods it does not take with a JSON 405 and Allow, every unknown path any method with a JSON 404, both naming the method and the URL
--- request eval
[map { $_->[0] } @::Cases]
--- more_headers
Authorization: Bearer sk-alice
--- error_code eval
[map { $_->[1] } @::Cases]
--- response_body_like eval
[map { $_->[2] } @::Cases]
--- raw_response_headers_like eval
[map { defined $_->[3] ? main::allow_re($_->[3]) : qr/^/ } @::Cases]
--- raw_response_headers_unlike eval
[map { defined $_->[3] ? qr/\r\nAllow: .*\r\nAllow: /s : main::allow_re(undef) } @::Cases]
--- no_error_log
[error]



=== TEST 2: the methods a path takes still reach it: POST endpoints read the body (a 400 for one without a model), listings answer GET and HEAD
--- request eval
["POST /v1/chat/completions\n{}", "POST /v1/embeddings\n{}",
 "POST /v1/route\n{}", "POST /v1/messages\n{}", "POST /v1/responses\n{}",
 "HEAD /v1/models", "GET /v1/tags"]
--- more_headers
Authorization: Bearer sk-alice
--- error_code eval
[400, 400, 400, 400, 400, 200, 200]
--- raw_response_headers_unlike eval
[(qr/\r\nAllow: /) x 7]



=== TEST 3: the key comes first: without one, a known path's wrong method and an unknown path are 401s (nothing about the URL is told)
--- request eval
["GET /v1/chat/completions", "POST /v1/models\n{}", "PUT /v1/nothing",
 "GET /v1beta/models/m1:generateContent"]
--- error_code eval
[401, 401, 401, 401]
--- response_body_like eval
[('"code":"missing_api_key"') x 3, "You didn't provide an API key"]



=== TEST 4: a URL outside /v1/ in an API location is a 404 naming the method whatever it is, before any key is asked for
--- request eval
["GET /openai/chat", "DELETE /openai/chat", "POST /openai/chat\n{}"]
--- error_code eval
[404, 404, 404]
--- response_body_like eval
['^\{"error":\{"message":"Unknown request URL: GET /openai/chat",',
 '"message":"Unknown request URL: DELETE /openai/chat"',
 '"message":"Unknown request URL: POST /openai/chat"']
