# make deb: the package's control fields (Depends on the nginx ABI and the
# library packages of this machine), its contents, and its life in a
# scratch dpkg root (dpkg --root, maintainer scripts run chrootless with
# $DPKG_ROOT): install enables the module, starts a configuration where
# there is none and pulls nginx's reload trigger, nginx loads the packaged
# module, remove parks the link and keeps the configuration, a reinstall
# enables it again, purge leaves nothing it created.  The
# machine's own /etc/nginx and dpkg database are never touched.
use strict;
use warnings;

use Test::More;
use File::Path qw(make_path);
use Airouter::Install;

my $etc_before = etc_nginx_snapshot();
my $top = $Airouter::Install::Top;
my $module = $ENV{MODULE} || "$top/build/ngx_http_airouter_module.so";
my $pkg = 'libnginx-mod-http-airouter';
my $doc = "usr/share/doc/$pkg";
my $data = "usr/share/$pkg";

sub sh { my $o = `$_[0] 2>&1`; chomp $o; ($? >> 8, $o) }

# --- what this machine says the package must be ---------------------------

my ($version) = slurp("$top/src/airouter_config.h")
    =~ /^#define AIROUTER_VERSION\s+"([^"]+)"/m;
my (undef, $arch) = sh('dpkg --print-architecture');
my ($abi) = (slurp('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars') // '')
    =~ /^nginx:abi=(\S+)/m;
my (undef, $provides) = sh(q{dpkg-query -W -f='${Provides}' nginx});
# the runtime package of the libhiredis the module is linked against
my (undef, $ldd) = sh("ldd '$module'");
my ($hiredis_dir, $hiredis_so) = $ldd =~ m{(/\S*)/(libhiredis\.so\S*)};
my (undef, $hiredis_pkg) = sh("dpkg -S \"\$(readlink -f '$hiredis_dir')/$hiredis_so\""
                              . " | cut -d: -f1");

ok($version && $abi && $hiredis_pkg,
   "the machine tells version $version, $abi, $hiredis_pkg");
like($provides, qr/\b\Q$abi\E\b/, "the installed nginx provides $abi");

# --- TEST 1: the package file and its control fields ----------------------

my $d = scratch_dir();
my ($rc, $out) = make_in('deb', DEB_DIR => $d, DEB_WORK => "$d/work");
is($rc, 0, 'TEST 1: make deb exits 0') or diag $out;
my $deb = "$d/${pkg}_${version}_$arch.deb";
ok(-f $deb, "TEST 1: ${pkg}_${version}_$arch.deb is built");
like($out, qr/\Q$deb\E/, 'TEST 1: make deb names the file');

my %f;
for my $field (qw(Package Version Architecture Depends Section)) {
    (undef, $f{$field}) = sh("dpkg-deb -f '$deb' $field");
}
is($f{Package}, $pkg, 'TEST 1: Package');
is($f{Version}, $version, 'TEST 1: Version is the module\'s version string');
is($f{Architecture}, $arch, 'TEST 1: Architecture');
is($f{Section}, 'httpd', 'TEST 1: Section as Debian\'s nginx modules');
my %dep = map { /^(\S+)/ ? ($1 => $_) : () } split /,\s*/, $f{Depends};
ok(exists $dep{$abi}, "TEST 1: Depends on $abi") or diag $f{Depends};
# the module's libraries, and airouter-import's (SQLite, curl)
for my $lib ('libjansson4', 'libyaml-0-2', $hiredis_pkg, 'libsqlite3-0',
             'libcurl4') {
    ok(exists $dep{$lib}, "TEST 1: Depends on $lib") or diag $f{Depends};
}
ok(exists $dep{'ca-certificates'},
   'TEST 1: Depends on ca-certificates (airouter_ssl_trusted_certificate\'s '
   . 'default bundle)') or diag $f{Depends};
my ($irc, $info) = sh("dpkg-deb -I '$deb'");
like($info, qr/^ Depends: \Q$abi\E, /m, 'TEST 1: dpkg-deb -I shows the ABI first');

# --- TEST 2: the contents --------------------------------------------------

my (undef, $list) = sh("dpkg-deb -c '$deb'");
my @files = sort map { (split ' ', $_)[5] =~ s{^\./}{}r }
                 grep { !/^d/ } split /\n/, $list;
is_deeply(\@files, [sort(
    "$doc/README.md", "$doc/directives.md",
    "$data/airouter-site.conf", "$data/providers.yaml",
    "$data/router_config.yaml", 'usr/bin/airouter-import',
    'usr/lib/nginx/modules/ngx_http_airouter_module.so',
    'usr/share/nginx/modules-available/mod-http-airouter.conf')],
    'TEST 2: the .so, the modules-available snippet, examples, docs; nothing '
    . 'in /etc (the postinst makes the link and the configuration)');
like($list, qr{^-rw-r--r-- root/root .* \./usr/lib/nginx/modules/ngx_http_airouter_module\.so$}m,
     'TEST 2: the module is root-owned, 0644');

my $x = "$d/extract";
sh("dpkg-deb -R '$deb' '$x'");
is(slurp("$x/usr/share/nginx/modules-available/mod-http-airouter.conf"),
   "load_module modules/ngx_http_airouter_module.so;\n",
   'TEST 2: the snippet is Debian\'s form');
ok(!-e "$x/DEBIAN/conffiles", 'TEST 2: no conffiles (no dpkg prompt over a '
   . 'configuration that was there first)');
for my $s (qw(postinst prerm postrm)) {
    ok(-x "$x/DEBIAN/$s", "TEST 2: $s is executable");
    is((sh("sh -n '$x/DEBIAN/$s'"))[0], 0, "TEST 2: $s parses");
}
my ($nm) = sh("nm -D --defined-only '$x/usr/lib/nginx/modules/ngx_http_airouter_module.so'"
              . " | grep -q ngx_http_airouter_module");
is($nm, 0, 'TEST 2: the packaged module exports ngx_http_airouter_module');

# --- TEST 3: installed with dpkg into a scratch root ----------------------

# a dpkg database holding this machine's entries of exactly the packages
# that satisfy Depends (their own dependencies and conffiles cut), so dpkg
# checks ours without --force-depends, and an "nginx" interested in the
# nginx-reload trigger whose postinst records the call instead of reloading
# anything
my $root = "$d/root";
my $db = "$root/var/lib/dpkg";
make_path("$db/info", "$db/updates", "$db/triggers");
my (undef, $providers) = sh(q{dpkg-query -W -f='${Package}\t${Provides}\n'});
my ($abi_pkg) = map { /^(\S+)\t/ ? $1 : () } grep { /\b\Q$abi\E\b/ } split /\n/, $providers;
my $status = '';
for my $p ($abi_pkg, grep { $_ ne $abi } keys %dep) {
    my (undef, $s) = sh("dpkg-query -s '$p'");
    $s =~ s/^Conffiles:\n(?: .*\n?)*//m;
    $s =~ s/^(?:Pre-)?Depends: .*\n//mg;
    $status .= "$s\n\n";
    my (undef, $name) = sh("dpkg-query -W -f='\${binary:Package}' '$p'");
    spit("$db/info/$name.list", '');
}
spit("$db/status", $status);
spit("$db/triggers/nginx-reload", "$abi_pkg/noawait\n");
spit("$db/triggers/File", '');
spit("$db/info/$abi_pkg.postinst",
     "#!/bin/sh\necho \"\$*\" >> \"\$DPKG_ROOT/nginx-postinst-calls\"\n");
chmod 0755, "$db/info/$abi_pkg.postinst";

my $dpkg = "dpkg --root='$root' --force-script-chrootless"
         . ($> == 0 ? '' : ' --force-not-root');
($rc, $out) = sh("$dpkg -i '$deb'");
is($rc, 0, 'TEST 3: dpkg -i succeeds, Depends satisfied by this machine\'s packages')
    or diag $out;
my $link = "$root/etc/nginx/modules-enabled/50-mod-http-airouter.conf";
is(readlink($link), '/usr/share/nginx/modules-available/mod-http-airouter.conf',
   'TEST 3: the postinst enables the module (modules-enabled link)');
like(slurp("$root/nginx-postinst-calls") // '', qr/^triggered nginx-reload$/m,
     'TEST 3: and nginx\'s reload trigger runs (nginx reloads only if it runs)');
my $confdir = "$root/etc/nginx/airouter";
for my $f (qw(router_config.yaml providers.yaml)) {
    is(slurp("$confdir/$f"), slurp("$top/conf.example/install/$f"),
       "TEST 3: a first install starts $f from the example");
    is((stat "$confdir/$f")[2] & 07777, 0640, "TEST 3: $f is mode 0640");
}
is(slurp("$root/var/lib/$pkg/created-config"),
   "/etc/nginx/airouter/router_config.yaml\n/etc/nginx/airouter/providers.yaml\n",
   'TEST 3: and notes it created them');
my (undef, $dl) = sh("dpkg --root='$root' -L $pkg");
like($dl, qr{^/usr/lib/nginx/modules/ngx_http_airouter_module\.so$}m,
     'TEST 3: dpkg -L lists the module');

# --- TEST 4: nginx loads the packaged module ------------------------------

my $ngx = Airouter::Install::Nginx->new($root);
my $port = free_port();
my $cfg = "$root/etc/nginx/airouter/router_config.yaml";
my $yaml = slurp($cfg);
$yaml =~ s/api_token: ""/api_token: "t961-client"/;
spit($cfg, $yaml);
my $site = slurp("$root/$data/airouter-site.conf");
$site =~ s{/etc/nginx/airouter/}{$root/etc/nginx/airouter/}g;
$site =~ s{listen 127\.0\.0\.1:8080;}{listen 127.0.0.1:$port;};
spit($ngx->site('airouter'), $site);
($rc, $out) = $ngx->start;
is($rc, 0, 'TEST 4: nginx starts with the packaged module and example site')
    or diag $out;
my ($st, $body) = http($port, '/health');
like($body, qr/"status":"ok","version":"\Q$version\E"/,
     'TEST 4: /health reports the packaged version');
$ngx->stop;
unlink $ngx->site('airouter');

# --- TEST 5: remove, install again, purge ---------------------------------

($rc, $out) = sh("$dpkg --remove $pkg");
is($rc, 0, 'TEST 5: dpkg --remove succeeds') or diag $out;
ok(!-e "$root/usr/lib/nginx/modules/ngx_http_airouter_module.so"
   && !-e "$root/usr/share/nginx/modules-available/mod-http-airouter.conf",
   'TEST 5: remove takes the module and its snippet');
ok(!-l $link && -l "$link.removed",
   'TEST 5: the link is parked as .removed: nginx no longer loads the module');
is(slurp($cfg), $yaml, 'TEST 5: the edited configuration is kept');
($rc, $out) = $ngx->test;
is($rc, 0, 'TEST 5: nginx -t passes once the module is gone') or diag $out;

($rc, $out) = sh("$dpkg -i '$deb'");
is($rc, 0, 'TEST 5: installing again succeeds') or diag $out;
ok(-l $link && !-e "$link.removed", 'TEST 5: the module is enabled again');
is(slurp($cfg), $yaml, 'TEST 5: and the edited configuration is still the user\'s');

($rc, $out) = sh("$dpkg --purge $pkg");
is($rc, 0, 'TEST 5: dpkg --purge succeeds') or diag $out;
is_deeply([grep { !m{^var/lib/dpkg/} && $_ ne 'nginx-postinst-calls' }
           files_under($root)], [],
          'TEST 5: purge leaves no file: module, snippet, link, configuration');
ok(!-e "$root/etc/nginx/airouter" && !-e "$root/var/lib/$pkg",
   'TEST 5: nor /etc/nginx/airouter, nor the note');

# --- TEST 6: a configuration that was there first -------------------------

spit("$root/nginx-postinst-calls", '');
make_path($confdir);
spit($cfg, "channels: []\n");
($rc, $out) = sh("$dpkg -i '$deb' < /dev/null");
is($rc, 0, 'TEST 6: dpkg -i succeeds without asking anything') or diag $out;
is(slurp($cfg), "channels: []\n", 'TEST 6: the existing router_config.yaml is untouched');
ok(!-e "$confdir/providers.yaml", 'TEST 6: no providers.yaml is slipped in beside it');
($rc, $out) = sh("$dpkg --purge $pkg");
is($rc, 0, 'TEST 6: dpkg --purge succeeds') or diag $out;
is_deeply([grep { !m{^var/lib/dpkg/} && $_ ne 'nginx-postinst-calls' }
           files_under($root)], ['etc/nginx/airouter/router_config.yaml'],
          'TEST 6: purge leaves the configuration it did not create, and only it');

# --- the machine's nginx ---------------------------------------------------

is(etc_nginx_snapshot(), $etc_before, "the machine's /etc/nginx is unchanged");

done_testing();
