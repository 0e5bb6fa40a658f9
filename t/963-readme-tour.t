# The README as a new user meets it: every command of its 60-second tour
# and its SDK example run, as written, against a `make demo` on ports of
# the test's own.  The commands are read from README.md itself (only the
# demo's address and log directory are changed, and curl gets a time
# limit), so a tour line that stops working, or a README edit that breaks
# one, fails here.  Each curl must answer 2xx with no OpenAI-style error
# in its body, and say what the README's comment promises where it says
# something checkable (the health line, a chat answer, the strategy...).
# Beyond the README's lines: every demo channel answers the openai SDK's
# chat and completions, whole and streamed, the paid one its forms (audio
# transcriptions and translations, image edits and variations), and a
# body too large is an OpenAI-style 413.
use strict;
use warnings;

use Test::More;
use Airouter::Install;

my $top = $Airouter::Install::Top;
my $tmp = scratch_dir();
my $dir = "$tmp/demo";
my $started;

END { make_in('stop', DEMO_DIR => $dir) if $started }

sub ports { my %u; my @p; while (@p < $_[0]) { my $x = free_port(); push @p, $x unless $u{$x}++ } @p }

my $readme = slurp("$top/README.md");

# the README's shell blocks, and the tour's among them
my @sh = $readme =~ /^```sh\n(.*?)^```$/msg;
my ($tour) = grep { m{curl -s 127\.0\.0\.1:8080/health} } @sh;
ok(defined $tour, 'TEST 1: README.md has the tour block (curl .../health)');
$tour //= '';

# commands: a line ending in "\" or inside an open '...' goes on
my (@cmds, $cur);
for my $line (split /\n/, $tour) {
    next if !defined $cur && ($line =~ /^\s*#/ || $line =~ /^\s*$/);
    $cur = defined $cur ? "$cur\n$line" : $line;
    my $quotes = () = $cur =~ /'/g;
    next if $cur =~ /\\\z/ || $quotes % 2;
    push @cmds, $cur;
    undef $cur;
}
cmp_ok(scalar @cmds, '>=', 25, 'TEST 1: the tour has its commands')
    or diag join "\n", @cmds;

my ($port, @dp) = ports(4);
my ($rc, $out) = make_in('demo', PORT => $port, DEMO_PORTS => "@dp",
                         DEMO_DIR => $dir);
$started = $rc == 0;
is($rc, 0, 'TEST 1: make demo starts') or diag $out;

# what a command's answer must hold besides a 2xx, by the URL it asks
my @expect = (
    [ qr{/health$},                   qr/"status":"ok","version":"[^"]+","channels":\{"enabled":3,"total":6\}/ ],
    [ qr{/v1/models \|},              qr/^\{"object":"list","data":\[/ ],
    [ qr{/v1/tags\b},                  qr/"tag":"free","models":\d+/ ],
    [ qr{/v1/route -d '\{"model":"tag:free"},  qr/"status":"ok".*"candidates":\[\{"rank":1/ ],
    [ qr{admin/route\?model=claude-3-haiku}, qr/"model":"claude-3-haiku-20240307"/ ],
    [ qr{"model":"qwen4"},            qr/Did you mean: qwen3\?/, 404 ],
    # the answer names the model that served it, as X-Router-Model does
    [ qr{-si .*chat/completions.*"tag:free","messages"}s,
      qr/^X-Router-Channel: demo_free\r?\n.*^X-Router-Model: ([^\r\n]+)\r?\n.*"object":"chat\.completion","created":\d+,"model":"\1"/ms ],
    [ qr{-sN .*"stream":true}s,       qr/^data: \[DONE\]$/m ],
    [ qr{tag:free:nitro},             qr/"Hello from the free demo channel\."/ ],
    [ qr{/v1/embeddings},             qr/"embedding":\[0\.125,-0\.5,0\.25\]/ ],
    [ qr{/v1/rerank},                 qr/"relevance_score"/ ],
    [ qr{/v1/images/generations},     qr/"b64_json"/ ],
    [ qr{/v1/moderations},            qr/"flagged":false/ ],
    [ qr{/v1/audio/speech},           qr/\A\z/ ],          # -o hello.mp3
    [ qr{/v1/audio/transcriptions},   qr/^\{"text":"Hello from the paid demo channel\."/ ],
    [ qr{/v1/audio/translations},     qr/^\{"text":"Hello from the paid demo channel, in English\."/ ],
    [ qr{/v1/images/edits},           qr/"b64_json"/ ],
    [ qr{/v1/messages},               qr/"type":"message".*"text":"Hello from the free demo channel\."/ ],
    [ qr{/v1/responses},              qr/"object":"response".*"status":"completed"/ ],
    [ qr{generateContent},            qr/"candidates":\[\{"content":\{"parts":\[\{"text":"Hello/ ],
    [ qr{^tail .*access\.log},        qr/\A(\{"time":[^\n]*"status":200[^\n]*\}\n){2}\z/ ],
    [ qr{/v1/stats/daily},            qr/"period":"daily".*"requests":[1-9]/ ],
    [ qr{routing/strategy},           qr/"strategy":"quality_optimized","source":"admin"/ ],
    [ qr{channel_requests_total},     qr/^airouter_channel_requests_total\{channel="demo_free"\} [1-9]/m ],
    [ qr{admin/requests\?},           qr/"requests":\[/ ],
    [ qr{admin/history},              qr/^\{"minutes":\[/ ],
    [ qr{admin/audit},                qr/"action":"strategy\.switch"/ ],
    [ qr{admin/events},               qr/^event: hello$/m ],
    [ qr{duration_seconds_bucket},    qr/^airouter_request_duration_seconds_bucket\{channel="demo_free",le="[^"]+"\} [1-9]/m ],
    [ qr{-X POST .*admin/discovery},  qr/^\{"status":"done"/ ],
    [ qr{admin/channels},            qr/"id":"demo_free"/ ],
);

my $n = 0;
for my $cmd (@cmds) {
    $n++;
    my $run = $cmd;
    $run =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/g;
    $run =~ s{\brun/demo/}{$dir/}g;
    $run =~ s/-o hello\.mp3/-o '$tmp\/hello.mp3'/;
    $run =~ s{\@docs/}{\@$top/docs/}g;
    # the events stream runs until stopped: 3 s of it
    my $limit = $cmd =~ m{admin/events} ? 3 : 10;
    my $hdr = "$tmp/headers.$n";
    unlink $hdr;
    $run =~ s/^curl /curl -m $limit -D '$hdr' /;
    my ($one) = $cmd =~ /\A([^\n]*)/;
    $one =~ s/\s+#.*//;
    # the usage log line is written as the answer goes: give it a moment
    sleep 1 if $cmd =~ /^tail /;
    spit("$tmp/cmd.$n.sh", "$run\n");
    my $got = `cd '$tmp' && bash cmd.$n.sh 2>&1` // '';

    if ($cmd =~ /^curl /) {
        my @st = (slurp($hdr) // '') =~ m{^HTTP/1\.1 (\d+)}mg;
        my $st = $st[-1] // 0;
        my ($e) = grep { $cmd =~ $_->[0] } @expect;
        my $want = $e && $e->[2] ? $e->[2] : 200;
        is($st, $want, "TEST 2: $one: answers $want") or diag $got;
        unlike($got, qr/"error":\{/, "TEST 2: $one: no error object")
            if $want < 400;
        if ($e) {
            like($got, $e->[1], "TEST 2: $one: says what the README shows");
        } else {
            fail("TEST 2: $one: the test knows what this tour line shows");
        }
    } else {
        my ($e) = grep { $cmd =~ $_->[0] } @expect;
        ok($e && $got =~ $e->[1], "TEST 2: $one: prints what it should")
            or diag $got;
    }
}

ok(-s "$tmp/hello.mp3", 'TEST 2: the speech line writes hello.mp3');

# --- TEST 3: the README's node example, with the official SDKs ------------

my @js = $readme =~ /^```js\n(.*?)^```$/msg;
is(scalar @js, 1, 'TEST 3: README.md has one node example');
my $js = $js[0] // '';
like($js, qr{'http://127\.0\.0\.1:8080'}, 'TEST 3: aimed at the demo\'s address');
$js =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/g;
mkdir "$tmp/sdk";
symlink("$top/tests/sdk/node_modules", "$tmp/sdk/node_modules");
spit("$tmp/sdk/readme.mjs", $js);
my $got = `cd '$tmp/sdk' && timeout 60 node readme.mjs 2>/dev/null`;
is($? >> 8, 0, 'TEST 3: the example runs to its end');
is($got, "Hello from the free demo channel.\n"
         . "Hello from the free demo channel, streamed.\n"
         . "Hello from the free demo channel.\n"
         . "Hello from the free demo channel.\n",
   'TEST 3: OpenAI chat, its stream, Anthropic Messages and Gemini answer');

# --- TEST 4: each demo channel's chat model, as the openai SDK asks -------

# chat and (legacy) completions, whole and streamed: the README's "point
# your OpenAI SDKs at nginx" on every demo channel, not only tag:free
spit("$tmp/sdk/demo.mjs", <<'EOF');
import OpenAI from 'openai';
const oa = new OpenAI({ baseURL: process.argv[2] + '/v1', apiKey: 'demo' });
const messages = [{ role: 'user', content: 'Hello!' }];
for (const model of ['tag:free', 'gpt-4o-mini', 'qwen3:8b']) {
  const chat = await oa.chat.completions.create({ model, messages });
  let s = await oa.chat.completions.create({ model, messages, stream: true });
  let cs = ''; for await (const c of s) cs += c.choices[0]?.delta?.content ?? '';
  const text = await oa.completions.create({ model, prompt: 'Hello' });
  s = await oa.completions.create({ model, prompt: 'Hello', stream: true });
  let ts = ''; for await (const c of s) ts += c.choices[0]?.text ?? '';
  console.log([model, chat.model, chat.choices[0].message.content, cs,
               text.model, text.choices[0].text, ts].join(' | '));
}
EOF
$got = `cd '$tmp/sdk' && timeout 60 node demo.mjs http://127.0.0.1:$port 2>/dev/null`;
is($? >> 8, 0, 'TEST 4: the SDK calls end without an error');
my %want = ('tag:free' => ['meta-llama/llama-3.3-70b-instruct:free', 'free'],
            'gpt-4o-mini' => ['gpt-4o-mini', 'paid'],
            'qwen3:8b' => ['qwen3:8b', 'local']);
for my $m (sort keys %want) {
    my ($id, $name) = @{$want{$m}};
    my $hello = "Hello from the $name demo channel.";
    my $streamed = "Hello from the $name demo channel, streamed.";
    like($got, qr/^\Q$m | $id | $hello | $streamed | $id | $hello | $streamed\E$/m,
         "TEST 4: $m: chat and completions, whole and streamed, from the $name channel");
}

# the forms (multipart/form-data) as the openai SDK sends them: each
# answers, and a form leaves the model routable for the JSON endpoint of
# its kind (images.generate after images.edit and createVariation)
spit("$tmp/sdk/forms.mjs", <<'EOF');
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
const oa = new OpenAI({ baseURL: process.argv[2] + '/v1', apiKey: 'demo',
                        maxRetries: 0 });
const audio = () => toFile(readFileSync(process.argv[3]), 'hello.mp3');
const png = () => toFile(readFileSync(process.argv[4]), 'fox.png',
                         { type: 'image/png' });
const tr = await oa.audio.transcriptions.create({ model: 'whisper-1',
                                                  file: await audio() });
const tl = await oa.audio.translations.create({ model: 'whisper-1',
                                                file: await audio() });
const ed = await oa.images.edit({ model: 'dall-e-3', image: await png(),
                                  prompt: 'add a red fox' });
const va = await oa.images.createVariation({ model: 'dall-e-3',
                                             image: await png() });
const ge = await oa.images.generate({ model: 'dall-e-3', prompt: 'a fox' });
console.log([tr.text, tl.text, ed.data.length, va.data.length,
             ge.data.length].join(' | '));
EOF
$got = `cd '$tmp/sdk' && timeout 60 node forms.mjs http://127.0.0.1:$port '$tmp/hello.mp3' '$top/docs/dashboard.png' 2>&1`;
is($got, "Hello from the paid demo channel. | Hello from the paid demo "
         . "channel, in English. | 1 | 1 | 1\n",
   'TEST 4: transcription, translation, image edit and variation forms, '
   . 'then an image generation, through the openai SDK');

# a browser pointed at the demo's address finds the dashboard
my $root = `curl -s -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:$port/`;
is($root, "302 http://127.0.0.1:$port/dashboard", 'TEST 4: / leads to the dashboard');

# --- TEST 5: a body over the demo's client_max_body_size (10m) ------------

spit("$tmp/big.json", '{"model":"tag:free","messages":[{"role":"user","content":"'
                      . ('x' x (11 * 1024 * 1024)) . '"}]}');
$got = `curl -s -m 20 -D '$tmp/big.h' http://127.0.0.1:$port/v1/chat/completions --data-binary '\@$tmp/big.json'`;
my $h = slurp("$tmp/big.h") // '';
like($h, qr{^HTTP/1\.1 413 .*^Content-Type: application/json\r?$}ms,
     'TEST 5: 413 as JSON, not nginx\'s HTML page') or diag $h;
like($got, qr/^\{"error":\{"message":"The request body is larger than the server accepts \(10485760 bytes at most\)","type":"invalid_request_error","code":"request_too_large"\}\}$/,
     'TEST 5: an OpenAI-style error from the module, which says the limit '
     . '(the demo needs no error_page of its own)');
unlink "$tmp/big.json";

($rc, $out) = make_in('stop', DEMO_DIR => $dir);
like($out, qr/airouter demo stopped/, 'TEST 6: make stop stops the demo');
$started = 0;

done_testing();
