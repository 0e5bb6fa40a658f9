# make install / make uninstall into a scratch DESTDIR: Debian's nginx
# layout, the example configuration only where none is, nginx running from
# what was installed, and an uninstall that removes exactly what install
# put there.  The machine's own /etc/nginx is never touched.
use strict;
use warnings;

use Test::More;
use File::Compare qw(compare);
use File::Path qw(make_path);
use Airouter::Install;

my $etc_before = etc_nginx_snapshot();
my $module = $ENV{MODULE} || "$Airouter::Install::Top/build/ngx_http_airouter_module.so";
my $doc = 'usr/share/doc/libnginx-mod-http-airouter';
my $data = 'usr/share/libnginx-mod-http-airouter';
my $ex = "$Airouter::Install::Top/conf.example/install";

my @layout = (
    'etc/nginx/airouter/providers.yaml',
    'etc/nginx/airouter/router_config.yaml',
    'etc/nginx/modules-enabled/50-mod-http-airouter.conf -> '
        . '/usr/share/nginx/modules-available/mod-http-airouter.conf',
    "$doc/README.md",
    "$doc/directives.md",
    "$data/airouter-site.conf",
    "$data/providers.yaml",
    "$data/router_config.yaml",
    'usr/bin/airouter-import',
    'usr/lib/nginx/modules/ngx_http_airouter_module.so',
    'usr/share/nginx/modules-available/mod-http-airouter.conf',
    'var/lib/airouter/installed-config.md5sums',
);

# --- TEST 1: the layout --------------------------------------------------

my $d = scratch_dir() . '/root';
my ($rc, $out) = make_in('install', DESTDIR => $d);
is($rc, 0, 'TEST 1: make install DESTDIR exits 0') or diag $out;
is_deeply([files_under($d)], [sort @layout],
          'TEST 1: exactly the Debian layout, the link enabling the module');
is(slurp("$d/usr/share/nginx/modules-available/mod-http-airouter.conf"),
   "load_module modules/ngx_http_airouter_module.so;\n",
   'TEST 1: the snippet loads the module from nginx\'s modules directory');
is(compare("$d/usr/lib/nginx/modules/ngx_http_airouter_module.so", $module),
   0, 'TEST 1: the installed module is the built one');
for my $f (qw(router_config.yaml providers.yaml)) {
    is(compare("$d/etc/nginx/airouter/$f", "$ex/$f"), 0,
       "TEST 1: $f is the example");
    is((stat "$d/etc/nginx/airouter/$f")[2] & 07777, 0640,
       "TEST 1: $f is not world-readable (it will hold keys)");
}
like($out, qr/installed the example configuration into \/etc\/nginx\/airouter\//,
     'TEST 1: install says where the configuration went');

# --- TEST 2: nginx runs from the installed files --------------------------

my $ngx = Airouter::Install::Nginx->new($d);
($rc, $out) = $ngx->test;
is($rc, 0, 'TEST 2: nginx -t passes with the module enabled and no airouter site')
    or diag $out;
unlike($out, qr/\[(warn|emerg|alert)\]/, 'TEST 2: and says nothing about it');

# the example site, pointed at the scratch root and a free port
my $port = free_port();
my $site = slurp("$d/$data/airouter-site.conf");
$site =~ s{/etc/nginx/airouter/}{$d/etc/nginx/airouter/}g;
$site =~ s{listen 127\.0\.0\.1:8080;}{listen 127.0.0.1:$port;};
spit($ngx->site('airouter'), $site);

($rc, $out) = $ngx->test;
isnt($rc, 0, 'TEST 2: the example configuration fails closed until a token is set');
like($out, qr/router_config\.yaml:\d+:\d+: auth\.enabled is true but no api_token/,
     'TEST 2: nginx -t names file:line:column and the missing token');
my ($readme_pos) = slurp("$Airouter::Install::Top/README.md")
    =~ /router_config\.yaml:(\d+:\d+): auth\.enabled is true/;
like($out, qr/router_config\.yaml:\Q$readme_pos\E: auth\.enabled/,
     'TEST 2: at the position README quotes');

my $cfg = "$d/etc/nginx/airouter/router_config.yaml";
my $yaml = slurp($cfg);
$yaml =~ s/api_token: ""/api_token: "t960-client"/;
$yaml =~ s/admin_token: ""/admin_token: "t960-admin"/;
spit($cfg, $yaml);

($rc, $out) = $ngx->test;
is($rc, 0, 'TEST 2: with tokens set nginx -t passes') or diag $out;
($rc, $out) = $ngx->start;
is($rc, 0, 'TEST 2: nginx starts') or diag $out;
my ($st, $body) = http($port, '/health');
is($st, 200, 'TEST 2: /health answers');
like($body, qr/"status":"ok".*"channels":\{"enabled":0,"total":4\},"providers":4,.*"auth_enabled":true/,
     'TEST 2: with the example\'s channels and providers, auth on');
($st) = http($port, '/v1/models');
is($st, 401, 'TEST 2: /v1/models without the token is refused');
($st, $body) = http($port, '/v1/models', 'Authorization: Bearer t960-client');
is($st, 200, 'TEST 2: /v1/models with the token answers');
($st) = http($port, '/v1/admin/channels', 'Authorization: Bearer t960-client');
is($st, 401, 'TEST 2: the client token is not the admin token');
($st, $body) = http($port, '/v1/admin/channels', 'Authorization: Bearer t960-admin');
is($st, 200, 'TEST 2: the admin API answers the admin token');
($st, $body) = http($port, '/dashboard');
ok($st == 200 && $body =~ /<title>airouter<\/title>/
   && $body =~ /<meta name="airouter-admin" content="token">/,
   'TEST 2: the example site serves the dashboard, which asks for the admin token')
    or diag "$st " . substr($body // '', 0, 300);
spit("$d/big.json", '{"model":"m","input":"' . ('x' x (21 * 1024 * 1024)) . '"}');
my $big = `curl -s -m 20 -w '\\n%{http_code} %{content_type}' -H 'Authorization: Bearer t960-client' http://127.0.0.1:$port/v1/embeddings --data-binary '\@$d/big.json'`;
unlink "$d/big.json";
like($big, qr/^\{"error":\{"message":"The request body is larger than the server accepts \(20971520 bytes at most\)","type":"invalid_request_error","code":"request_too_large"\}\}\n+413 application\/json\z/,
     'TEST 2: a body over the site\'s client_max_body_size (20m) is the module\'s JSON 413, which says the limit')
    or diag substr($big, 0, 300);
$ngx->stop;
unlink $ngx->site('airouter');
unlike($ngx->error_log, qr/\[(alert|crit|emerg)\]/, 'TEST 2: no alert in the error log');

# --- TEST 3: install again keeps the user's configuration -----------------

($rc, $out) = make_in('install', DESTDIR => $d);
is($rc, 0, 'TEST 3: a second make install exits 0') or diag $out;
is(slurp($cfg), $yaml, 'TEST 3: the edited router_config.yaml is kept');
like($out, qr/kept \/etc\/nginx\/airouter\/router_config\.yaml \(exists\)/,
     'TEST 3: and install says so');

# --- TEST 4: uninstall removes what install put, keeps what the user changed

($rc, $out) = make_in('uninstall', DESTDIR => $d);
is($rc, 0, 'TEST 4: make uninstall exits 0') or diag $out;
is_deeply([files_under($d)], ['etc/nginx/airouter/router_config.yaml'],
          'TEST 4: only the edited configuration remains');
is(slurp($cfg), $yaml, 'TEST 4: untouched');
like($out, qr/kept \/etc\/nginx\/airouter\/router_config\.yaml \(changed since make install\)/,
     'TEST 4: uninstall says what it kept and why');
ok(!-e "$d/$doc" && !-e "$d/$data" && !-e "$d/var/lib/airouter",
   'TEST 4: its own directories are gone');

unlink $cfg;
($rc, $out) = make_in('install', DESTDIR => $d);
($rc, $out) = make_in('uninstall', DESTDIR => $d);
is_deeply([files_under($d)], [], 'TEST 4: install + uninstall leaves no file');

# --- TEST 5: a configuration that was there first is never touched --------

my $d5 = scratch_dir() . '/root';
make_path("$d5/etc/nginx/airouter");
spit("$d5/etc/nginx/airouter/router_config.yaml", "channels: []\n");
($rc, $out) = make_in('install', DESTDIR => $d5);
is($rc, 0, 'TEST 5: make install exits 0') or diag $out;
is(slurp("$d5/etc/nginx/airouter/router_config.yaml"), "channels: []\n",
   'TEST 5: the user\'s router_config.yaml is not overwritten');
ok(!-e "$d5/etc/nginx/airouter/providers.yaml",
   'TEST 5: and no providers.yaml is slipped in beside it');
ok(!-e "$d5/var/lib/airouter/installed-config.md5sums",
   'TEST 5: nothing is recorded as created');
($rc, $out) = make_in('uninstall', DESTDIR => $d5);
is_deeply([files_under($d5)], ['etc/nginx/airouter/router_config.yaml'],
          'TEST 5: uninstall leaves the user\'s file, and only it');

# --- TEST 6: PREFIX and INSTALL_PROGRAMS ----------------------------------

my $d6 = scratch_dir() . '/root';
($rc, $out) = make_in('install', DESTDIR => $d6, PREFIX => '/usr/local',
                      INSTALL_PROGRAMS => 'tests/run-all');
is($rc, 0, 'TEST 6: make install PREFIX=/usr/local exits 0') or diag $out;
my $ldoc = 'usr/local/share/doc/libnginx-mod-http-airouter';
my $ldata = 'usr/local/share/libnginx-mod-http-airouter';
is_deeply([files_under($d6)], [sort(
    'etc/nginx/airouter/providers.yaml',
    'etc/nginx/airouter/router_config.yaml',
    'etc/nginx/modules-enabled/50-mod-http-airouter.conf -> '
        . '/usr/local/share/nginx/modules-available/mod-http-airouter.conf',
    'usr/local/bin/run-all',
    "$ldoc/README.md", "$ldoc/directives.md",
    "$ldata/airouter-site.conf", "$ldata/providers.yaml",
    "$ldata/router_config.yaml",
    'usr/local/lib/nginx/modules/ngx_http_airouter_module.so',
    'usr/local/share/nginx/modules-available/mod-http-airouter.conf',
    'var/lib/airouter/installed-config.md5sums')],
    'TEST 6: everything but /etc and /var under the prefix, the program in bin');
is(slurp("$d6/usr/local/share/nginx/modules-available/mod-http-airouter.conf"),
   "load_module /usr/local/lib/nginx/modules/ngx_http_airouter_module.so;\n",
   'TEST 6: outside nginx\'s modules directory the snippet names the full path');
is((stat "$d6/usr/local/bin/run-all")[2] & 07777, 0755,
   'TEST 6: the program is executable');
($rc, $out) = make_in('uninstall', DESTDIR => $d6, PREFIX => '/usr/local',
                      INSTALL_PROGRAMS => 'tests/run-all');
is_deeply([files_under($d6)], [], 'TEST 6: uninstall with the same PREFIX leaves no file');

# --- the machine's nginx ---------------------------------------------------

is(etc_nginx_snapshot(), $etc_before, "the machine's /etc/nginx is unchanged");

done_testing();
