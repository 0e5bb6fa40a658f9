# The form endpoints' own live scopes: /v1/images/edits, /variations and
# /v1/audio/translations route as images and transcriptions do (the same
# models are eligible) but a 404 model_not_found on one of them blocks
# the (channel, model) there only.  A provider that serves
# /images/generations but not /images/edits (DALL-E 3 on OpenAI), or
# /audio/transcriptions but not /translations (many relays), keeps the
# model for the endpoint it does serve; the endpoint that 404ed stays
# blocked (the next request there reaches no upstream).
#
# The mock on $TEST_NGINX_RAND_PORT_1 answers generations and
# transcriptions, and 404 model_not_found on edits, variations and
# translations.  One channel, so a wrongly shared block shows as a 503.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;
use Airouter::FormMock qw(form scope_mock scope_channels);

no_shuffle();
install_checks();     # --- upstream_hits

our $B = '----airouterScope3Xk9Lq';

our $FormCT = "Content-Type: multipart/form-data; boundary=$B";
our $JsonCT = "Content-Type: application/json";

our $Generate = "POST /v1/images/generations\n"
    . '{"model": "dall-e-3", "prompt": "a fox"}';
our $Edit = "POST /v1/images/edits\n"
    . form($B, ['model', 'dall-e-3'], ['prompt', 'a hat'],
           ['image', "\x89PNG\r\n\x1a\nxxxx", 'in.png', 'image/png']);
our $Vary = "POST /v1/images/variations\n"
    . form($B, ['model', 'dall-e-3'],
           ['image', "\x89PNG\r\n\x1a\nxxxx", 'in.png', 'image/png']);
our $Transcribe = "POST /v1/audio/transcriptions\n"
    . form($B, ['model', 'whisper-1'], ['file', 'RIFFdata', 'a.wav']);
our $Translate = "POST /v1/audio/translations\n"
    . form($B, ['model', 'whisper-1'], ['file', 'RIFFdata', 'a.wav']);

airouter_blocks(
    mock       => scope_mock("logs/upstream.log", "images/edits",
                             "images/variations", "audio/translations"),
    config     => "    location /v1/ { airouter; }\n"
                  . "    location = /metrics { airouter_metrics; }\n",
    user_files => ">>> router_config.yaml\n"
                  . scope_channels("dall-e-3", "whisper-1"),
    no_error_log => "[alert]",
);

# --- blocked_scope eval: [$blocked, $other, $other_ct, $model]: $blocked
# 404s, $other (same model, its own endpoint) still routes to the one
# channel, $blocked again reaches no upstream
add_block_preprocessor(sub {
    my ($block) = @_;
    my $s = $block->blocked_scope or return;
    my ($blocked, $other, $other_ct, $model) = @$s;
    $block->set_value(request => [$blocked, $other, $blocked]);
    $block->set_value(more_headers => [$FormCT, $other_ct, $FormCT]);
    $block->set_value(error_code => [404, 200, 503]);
    $block->set_value(response_headers =>
        ["", "X-Router-Channel: openai\nX-Router-Model: $model", ""]);
    $block->set_value(upstream_hits => 2);
});

run_tests();

__DATA__

=== TEST 1: a 404 on /v1/images/edits keeps dall-e-3 for generations; edits stay blocked (no upstream try)
--- blocked_scope eval
[$main::Edit, $main::Generate, $main::JsonCT, "dall-e-3"]



=== TEST 2: a 404 on /v1/images/variations keeps dall-e-3 for generations; variations stay blocked
--- blocked_scope eval
[$main::Vary, $main::Generate, $main::JsonCT, "dall-e-3"]



=== TEST 3: a 404 on /v1/audio/translations keeps whisper-1 for transcriptions; translations stay blocked
--- blocked_scope eval
[$main::Translate, $main::Transcribe, $main::FormCT, "whisper-1"]



=== TEST 4: edits, variations and translations blocks are each their own: one does not block the others
--- request eval
[$main::Edit, $main::Vary, $main::Translate, $main::Vary]
--- more_headers eval
[$main::FormCT, $main::FormCT, $main::FormCT, $main::FormCT]
--- error_code eval
[404, 404, 404, 503]
--- upstream_hits: 3



=== TEST 5: /metrics labels each block with its own endpoint
--- request eval
[$main::Edit, $main::Vary, $main::Translate, "GET /metrics"]
--- more_headers eval
[$main::FormCT, $main::FormCT, $main::FormCT, ""]
--- error_code eval
[404, 404, 404, 200]
--- response_body_like eval
["", "", "", qr/airouter_model_endpoint_blocked\{[^}]*endpoint="image_edits"[^}]*\} 1\n(?s:.*)airouter_model_endpoint_blocked\{[^}]*endpoint="image_variations"[^}]*\} 1\n(?s:.*)airouter_model_endpoint_blocked\{[^}]*endpoint="translations"[^}]*\} 1\n/]
