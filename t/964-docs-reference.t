# docs/directives.md against the code, so that what a user reads is what
# the module accepts: every directive of the command table has its
# "### name" entry and every such entry is a directive; every $airouter_*
# variable the module defines is described and every one described exists;
# every key of router_config.yaml's schema (the field tables of
# src/airouter_config.c) is in the "router_config.yaml keys" reference;
# every URL of the API, admin and stats tables and of the client dialects
# is described.  And the examples parse: each nginx and YAML block of
# README.md and docs/directives.md passes `nginx -t` in a configuration
# that loads the module (YAML ones as the router_config.yaml); every
# link between README.md and docs/*.md lands on a file and heading; and
# the endpoints a block is scoped to (Redis' scope numbers, the metric's
# label, the fault table) are request.h's endpoint table.
use strict;
use warnings;

use Test::More;
use Airouter::Install;

my $top = $Airouter::Install::Top;
my $doc = slurp("$top/docs/directives.md") // '';
my $readme = slurp("$top/README.md") // '';
my $module_c = slurp("$top/ngx_http_airouter_module.c") // '';

sub src { slurp("$top/src/$_[0]") // '' }

# --- TEST 1: directives ----------------------------------------------------

my ($table) = $module_c =~ /ngx_http_airouter_commands\[\] = \{(.*?)ngx_null_command/s;
my @dirs = ($table // '') =~ /ngx_string\("(airouter\w*)"\)/g;
cmp_ok(scalar @dirs, '>=', 20, 'TEST 1: the command table is read');
my %head = map { $_ => 1 } $doc =~ /^### (airouter\w*)\s*$/mg;
my %dir = map { $_ => 1 } @dirs;
is_deeply([grep { !$head{$_} } @dirs], [],
          'TEST 1: every directive has its "### name" entry');
is_deeply([grep { !$dir{$_} } sort keys %head], [],
          'TEST 1: every "### airouter_*" entry is a directive');
for my $d (@dirs) {
    my ($entry) = $doc =~ /^### \Q$d\E\s*\n(.*?)(?=^##)/ms;
    ok(($entry // '') =~ /\A\s*    Syntax:  \Q$d\E\b/ && $entry =~ /^    Context: \S/m,
       "TEST 1: $d: its Syntax and Context lines");
}

# --- TEST 2: variables -----------------------------------------------------

my @vars = (src('ngx_http_airouter_variables.c') =~ /ngx_string\("(airouter_\w+)"\)/g,
            src('ngx_http_airouter_auth.c') =~ /_var = ngx_string\("(airouter_\w+)"\)/g);
cmp_ok(scalar @vars, '>=', 10, 'TEST 2: the variables are read');
my ($vsec) = $doc =~ /^## Variables\n(.*)/ms;
is_deeply([grep { ($vsec // '') !~ /`\$\Q$_\E`/ } @vars], [],
          'TEST 2: every variable is in the Variables table');
my %var = map { $_ => 1 } @vars;
my %said = map { $_ => 1 } ($doc . $readme) =~ /\$(airouter_\w+)/g;
is_deeply([grep { !$var{$_} } sort keys %said], [],
          'TEST 2: every $airouter_* the docs name exists');

# --- TEST 3: router_config.yaml keys ---------------------------------------

my $cfg = src('airouter_config.c');
my @keys;
while ($cfg =~ /airouter_yaml_field_t\s+(\w+)\[\] = \{(.*?)\n\};/sg) {
    my $body = $2;
    push @keys, $body =~ /(?:AIROUTER_YAML_\w+\(|\{ )"([a-z_]+)"/g;
}
my %k = map { $_ => 1 } @keys;
cmp_ok(scalar keys %k, '>=', 90, 'TEST 3: the schema\'s keys are read');
my ($ksec) = $doc =~ /^### router_config\.yaml keys\n(.*?)(?=^### )/ms;
ok(defined $ksec, 'TEST 3: docs/directives.md has "router_config.yaml keys"');
my %in = map { $_ => 1 } map { /(\w+)/g } (($ksec // '') =~ /`([^`]+)`/g);
is_deeply([grep { !$in{$_} } sort keys %k], [],
          'TEST 3: every key of the schema is in the reference');

# --- TEST 4: URLs ----------------------------------------------------------

my @urls;
my ($posts) = src('ngx_http_airouter_api.c') =~ /ngx_http_airouter_api_posts\[\] = \{(.*?)\n\};/s;
push @urls, map { "/v1/$_" } ($posts // '') =~ /ngx_string\("([^"]+)"\)/g;
my ($admin) = src('ngx_http_airouter_admin.c') =~ /ngx_http_airouter_admin_urls\[\] = \{(.*?)\n\};/s;
push @urls, map { "/v1/$_" } grep { !m{/$} || m{^admin/} } ($admin // '') =~ /ngx_string\("([^"]+)"\)/g;
my ($stats) = src('ngx_http_airouter_stats_api.c') =~ /_stats_api_eps\[\] = \{(.*?)\n\};/s;
my @stats = ($stats // '') =~ /ngx_string\("([^"]+)"\)/g;
my ($ends) = src('airouter_dialect.c') =~ /\} ends\[\] = \{(.*?)\};/s;
push @urls, ($ends // '') =~ /\{ "([^"]+)"/g;
cmp_ok(scalar @urls, '>=', 20, 'TEST 4: the URL tables are read');
cmp_ok(scalar @stats, '>=', 8, 'TEST 4: the stats table is read');
my @missing = grep { $doc !~ /\Q$_\E(?![\w\/-])/ } @urls;
push @missing, map { "/v1/stats/$_" }
               grep { $doc !~ m{/v1/stats/\Q$_\E\b|`/\Q$_\E`|`\Q$_\E`} } @stats;
is_deeply(\@missing, [], 'TEST 4: every URL is described');

# --- TEST 5: the examples parse --------------------------------------------

my ($so) = grep { /airouter/ } split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
$so //= "$top/build/ngx_http_airouter_module.so";
# under make test-asan the instrumented module needs the sanitizer runtime
my $nginx = $Airouter::Install::Preload ? Airouter::Install::preload_nginx()
          : $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $tmp = scratch_dir();
mkdir "$tmp/logs";
my $base = "$tmp/router_config.yaml";
spit($base, "channels:\n  - id: local\n    base_url: \"http://127.0.0.1:9/v1\"\n"
            . "    configured_models: [\"m\"]\n");

# nginx -t of an http{} body; (rc, output)
sub nginx_t {
    my ($http, $yaml) = @_;
    spit("$tmp/nginx.conf", <<"EOF");
load_module $so;
pid $tmp/logs/nginx.pid;
lock_file $tmp/logs/nginx.lock;
error_log $tmp/logs/error.log;
events {}
http {
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    access_log off;
$http
}
EOF
    my $out = `'$nginx' -t -p '$tmp' -c '$tmp/nginx.conf' 2>&1`;
    return ($? >> 8, $out);
}

# the nginx blocks: http-level lines stay at http level, the rest go into
# a server; a block that is a whole nginx.conf gives its http body
my %env = (AIROUTER_TOKEN => 't1', TEAM_A_KEY => 't2',
           AIROUTER_ADMIN_TOKEN => 't3', DEEPSEEK_KEY => 'k1',
           RELAY_KEY => 'k2', CUSTOM_KEY => 'k3', GROQ_KEY => 'k4');
local @ENV{keys %env} = values %env;
my $listen = free_port();
my $n = 0;
for my $src (['README.md', $readme], ['docs/directives.md', $doc]) {
    my ($name, $text) = @$src;
    for my $block ($text =~ /^```nginx\n(.*?)^```$/msg) {
        $n++;
        my $http;
        if ($block =~ /^http \{\n(.*)^\}/ms) {
            $http = $1;
            $http =~ s{^(\s*airouter_config\s+)\S+;}{$1$base;}m;
            $http =~ s/listen\s+[^;]+;/listen 127.0.0.1:$listen;/g;
            $http =~ s/^\s*\.\.\.\s*$//mg;
            $http .= "\n    server { listen 127.0.0.1:$listen; location /v1/ { airouter; } }\n"
                if $http !~ /\bserver \{/;
            $http = "    airouter_config $base;\n$http" if $http !~ /airouter_config/;
        } else {
            my @top = grep { /^(limit_req_zone|resolver|airouter_resolve_interval|log_format|airouter_\w+\s)/ } split /\n/, $block =~ s/\n(?=\s+')/ /gr;
            my $rest = join "\n", grep { !/^(limit_req_zone|resolver|airouter_resolve_interval|log_format|airouter_\w+\s)/ && !/^\s+'/ } split /\n/, $block;
            $rest = "location /v1/ { airouter; }\n$rest" if $rest !~ m{location /v1/ };
            $http = "    airouter_config $base;\n" . join("\n", @top)
                  . "\n    server {\n        listen 127.0.0.1:$listen;\n$rest\n    }\n";
        }
        my ($rc, $out) = nginx_t($http);
        my ($first) = $block =~ /\A([^\n]*)/;
        is($rc, 0, "TEST 5: $name nginx block \"$first\" passes nginx -t")
            or diag "$out\n$http";
    }
    for my $block ($text =~ /^```yaml\n(.*?)^```$/msg) {
        next if $block =~ /^scrape_configs:/m;      # Prometheus' own file
        $n++;
        spit("$tmp/example.yaml", $block);
        my ($rc, $out) = nginx_t("    airouter_config $tmp/example.yaml;\n"
            . "    server { listen 127.0.0.1:$listen; location /v1/ { airouter; } }");
        my ($first) = $block =~ /\A([^\n]*)/;
        is($rc, 0, "TEST 5: $name YAML block \"$first\" passes nginx -t")
            or diag $out;
        unlike($out, qr/unknown key/, "TEST 5: $name YAML block \"$first\": no unknown key");
    }
}
cmp_ok($n, '>=', 10, 'TEST 5: the examples are found');

# --- TEST 6: links between the documents land on a heading ----------------

# GitHub's anchor of a heading: lower case, backticks and punctuation out,
# spaces to dashes
sub slug { my $h = lc shift; $h =~ s/`//g; $h =~ s/[^\w\- ]//g; $h =~ s/ /-/g; $h }

my %text = map { $_ => slurp("$top/$_") // '' }
           qw(README.md docs/directives.md docs/architecture.md);
my (%anchors, @broken);
for my $f (keys %text) {
    $anchors{$f}{slug($1)} = 1 while $text{$f} =~ /^#+ (.+?)\s*$/mg;
}
my $links = 0;
for my $f (sort keys %text) {
    while ($text{$f} =~ /\]\(([^)#\s:]*)(?:#([^)\s]+))?\)/g) {
        my ($file, $anchor) = ($1, $2);
        my $target = $file eq '' ? $f
                   : $f =~ m{^docs/} ? "docs/$file" : $file;
        $target =~ s{^docs/\.\./}{};
        $links++;
        if ($file ne '' && !-e "$top/$target") {
            push @broken, "$f: $file";
        } elsif (defined $anchor && $target =~ /\.md\z/
                 && !($anchors{$target} && $anchors{$target}{$anchor})) {
            push @broken, "$f: $file#$anchor";
        }
    }
}
cmp_ok($links, '>=', 30, 'TEST 6: the links are found');
is_deeply(\@broken, [], 'TEST 6: every link goes to a file and heading that exist');

# --- TEST 7: the endpoints of a model's block, as Redis and /metrics say --

# the scope numbers in Redis' block values and the endpoint label of
# airouter_model_endpoint_blocked follow the endpoint X-macro of
# request.h, then live.h's own (the two other dialects', then the form
# endpoints' at the end): a new endpoint renumbers them, and the docs must
# follow
my $req = slurp("$top/src/ngx_http_airouter_request.h") // '';
my @eps = $req =~ /^\s*X\(\w+, "(\w+)", AIROUTER_ENDPOINT_\w+\)/mg;
cmp_ok(scalar @eps, '>=', 8, 'TEST 7: the endpoint table is read');
my $i = 0;
my $scopes = join ', ', (map { ++$i . " $_" } @eps),
    ++$i . " a native Anthropic channel's messages",
    ++$i . " a channel's own responses",
    ++$i . " image edits", ++$i . " image variations",
    ++$i . " audio translations";
like($doc, qr/\Q(`[..., scope]` for one endpoint: $scopes)\E/,
     'TEST 7: airouter_redis numbers every scope of a block')
    or diag "expected: $scopes";
my $labels = join ', ', map { "`$_`" } @eps, 'messages';
like($doc, qr/\Q(`model_not_found` there): $labels \E/,
     'TEST 7: airouter_model_endpoint_blocked names every endpoint label')
    or diag "expected: $labels";
like($doc, qr/\Q`responses` (a channel with `responses_api`, for Responses requests passed through), `image_edits`, `image_variations`, `translations` \E/,
     'TEST 7: ... and the form endpoints\' own labels');
my $faults = join ', ', @eps;
like($doc, qr/\Q| that model on the upstream endpoint that failed ($faults; image_edits, image_variations or translations for those form endpoints; messages or responses\E/,
     'TEST 7: the fault table names every endpoint')
    or diag "expected: $faults";

done_testing();
