# airouter-import: One-API / New-API / One-Hub channels to router_config.yaml.
# Each block's --- setup builds its source before nginx starts: a SQLite
# database made here with the sqlite3 CLI in the real table layout of One-API
# 0.5 and 0.6, New-API and One-Hub (written out below from their gorm models),
# or a mock One-API / New-API admin API (the nginx server below).  The
# importer's output is then nginx's airouter_config, its keys file is loaded
# into nginx's environment as a user would (sh: set -a; . FILE), nginx -t is
# run on it, and the blocks' requests check what nginx made of it.  The mock
# /models answers refuse any other key, so a discovered model proves the key
# reached nginx.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;
use File::Temp ();
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes ();

master_on();
no_shuffle();
log_level('info');
install_checks();

our $Import = $ENV{AIROUTER_IMPORT}
              // (($ENV{BUILD} // 'build') . '/airouter-import');
our %Out;       # the last run: rc, yaml, err, dir, env (file's NAME => value)

# --- the channels tables, as each project's gorm AutoMigrate makes them ---

# One-API v0.5.x (model/channel.go at v0.5.11): key NOT NULL with an index,
# priority and model_mapping, no config yet
our $OneAPI05 = <<'_SQL_';
CREATE TABLE `channels` (`id` integer,`type` integer DEFAULT 0,`key` text NOT NULL,`status` integer DEFAULT 1,`name` text,`weight` integer DEFAULT 0,`created_time` integer,`test_time` integer,`response_time` integer,`base_url` text DEFAULT '',`other` text,`balance` real,`balance_updated_time` integer,`models` text,`group` varchar(32) DEFAULT 'default',`used_quota` integer DEFAULT 0,`model_mapping` varchar(1024) DEFAULT '',`priority` integer DEFAULT 0,PRIMARY KEY (`id`));
CREATE INDEX `idx_channels_key` ON `channels`(`key`);
CREATE INDEX `idx_channels_name` ON `channels`(`name`);
_SQL_

# One-API v0.6.x (v0.6.10): key is text, config (JSON) and system_prompt
our $OneAPI06 = <<'_SQL_';
CREATE TABLE `channels` (`id` integer,`type` integer DEFAULT 0,`key` text,`status` integer DEFAULT 1,`name` text,`weight` integer DEFAULT 0,`created_time` integer,`test_time` integer,`response_time` integer,`base_url` text DEFAULT '',`other` text,`balance` real,`balance_updated_time` integer,`models` text,`group` varchar(32) DEFAULT 'default',`used_quota` integer DEFAULT 0,`model_mapping` varchar(1024) DEFAULT '',`priority` integer DEFAULT 0,`config` text,`system_prompt` text,PRIMARY KEY (`id`));
CREATE INDEX `idx_channels_name` ON `channels`(`name`);
_SQL_

# New-API (QuantumNous/new-api model/channel.go, 2025): its own columns and
# numbering, multi-key channels described in channel_info
our $NewAPI = <<'_SQL_';
CREATE TABLE `channels` (`id` integer,`type` integer DEFAULT 0,`key` text NOT NULL,`openai_organization` text,`test_model` text,`status` integer DEFAULT 1,`name` text,`weight` integer DEFAULT 0,`created_time` integer,`test_time` integer,`response_time` integer,`base_url` text DEFAULT '',`other` text,`balance` real,`balance_updated_time` integer,`models` text,`group` varchar(64) DEFAULT 'default',`used_quota` integer DEFAULT 0,`model_mapping` text,`status_code_mapping` varchar(1024) DEFAULT '',`priority` integer DEFAULT 0,`auto_ban` integer DEFAULT 1,`other_info` text,`tag` text,`setting` text,`param_override` text,`header_override` text,`remark` varchar(255),`channel_info` json,`settings` text,PRIMARY KEY (`id`));
CREATE INDEX `idx_channels_tag` ON `channels`(`tag`);
CREATE INDEX `idx_channels_name` ON `channels`(`name`);
_SQL_

# One-Hub (MartialBE/one-hub model/channel.go, 2026): soft deletes
# (deleted_at), its own numbering
our $OneHub = <<'_SQL_';
CREATE TABLE `channels` (`id` integer,`type` integer DEFAULT 0,`key` text,`status` integer DEFAULT 1,`name` text,`weight` integer DEFAULT 1,`created_time` integer,`test_time` integer,`response_time` integer,`base_url` text DEFAULT '',`other` text,`balance` real,`balance_updated_time` integer,`models` text,`group` varchar(32) DEFAULT 'default',`tag` varchar(32) DEFAULT '',`used_quota` integer DEFAULT 0,`model_mapping` text,`model_headers` varchar(1024) DEFAULT '',`custom_parameter` varchar(1024) DEFAULT '',`priority` integer DEFAULT 0,`proxy` varchar(255) DEFAULT '',`test_model` varchar(50) DEFAULT '',`only_chat` numeric DEFAULT false,`pre_cost` integer DEFAULT 1,`compatible_response` numeric DEFAULT false,`allow_extra_body` numeric DEFAULT false,`disabled_stream` json,`plugin` json,`deleted_at` datetime,PRIMARY KEY (`id`));
CREATE INDEX `idx_channels_deleted_at` ON `channels`(`deleted_at`);
CREATE INDEX `idx_channels_name` ON `channels`(`name`);
_SQL_

sub mock { "http://127.0.0.1:$ENV{TEST_NGINX_RAND_PORT_1}/$_[0]" }

sub sq { my $s = shift; $s =~ s/'/''/g; "'$s'" }

# INSERT for each row (a hash of column => value)
sub rows {
    my $sql = '';
    for my $r (@_) {
        my @c = sort keys %$r;
        $sql .= "INSERT INTO channels (" . join(',', map { "`$_`" } @c)
              . ") VALUES (" . join(',', map { sq($r->{$_}) } @c) . ");\n";
    }
    return $sql;
}

sub newdir {
    my $dir = File::Temp::tempdir("import-XXXXXX", TMPDIR => 1, CLEANUP => 1);
    $ENV{TEST_NGINX_IMPORT_DIR} = $dir;
    return $dir;
}

sub sqlite {
    my ($db, $sql) = @_;
    open my $p, '|-', 'sqlite3', $db or die "sqlite3: $!";
    print $p $sql;
    close $p or die "sqlite3 failed on $db";
}

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; <$fh> // '' }

# Runs the importer; its stdout becomes channels.yaml in the block's dir.
sub import_run {
    my ($dir, @args) = @_;
    my $rc = system("'$Import' " . join(' ', map { "'$_'" } @args)
                    . " >'$dir/channels.yaml' 2>'$dir/stderr'") >> 8;
    %Out = (rc => $rc, dir => $dir, yaml => slurp("$dir/channels.yaml"),
            err => slurp("$dir/stderr"));
    return $rc;
}

# The keys file as a shell reads it (set -a; . FILE); its names go into
# nginx's environment, as they would from a unit's EnvironmentFile=.
sub load_keys {
    my ($file, %fill) = @_;
    my %env;
    delete $ENV{$_} for grep { /^(?:ONEAPI|NEWAPI|ONEHUB)_/ } keys %ENV;
    for (split /\n/, `sh -c 'set -a; . "$file"; env'`) {
        $env{$1} = $2 if /^((?:ONEAPI|NEWAPI|ONEHUB)_\w+)=(.*)$/;
    }
    for my $k (keys %env) {
        $env{$k} = $fill{$k} if exists $fill{$k} && $env{$k} eq '';
        $ENV{$k} = $env{$k};
    }
    $Out{env} = \%env;
}

# nginx -t on the output, as a user would run it before a reload
sub nginx_t {
    my ($dir, $yaml) = @_;
    my $conf = "$dir/nginx-t.conf";
    open my $fh, '>', $conf or die $!;
    print $fh "load_module $_;\n" for split ' ', $ENV{TEST_NGINX_LOAD_MODULES};
    print $fh "pid $dir/t.pid; lock_file $dir/t.lock; error_log $dir/t.log;\n"
            . "events {}\nhttp { airouter_config $yaml; airouter_zone t 4m;\n"
            . "  server { listen 127.0.0.1:1; location /v1/ { airouter; } } }\n";
    close $fh;
    my $out = `'$ENV{TEST_NGINX_BINARY}' -t -p '$dir' -c '$conf' 2>&1`;
    ok($? == 0 && $out =~ /test is successful/, "nginx -t passes on $yaml")
        or diag($out);
}

sub no_keys_in {
    my ($what, $text, @keys) = @_;
    my @seen = grep { index($text, $_) >= 0 } @keys;
    ok(!@seen, "no key in $what") or diag("found: @seen");
}

# --- the sources ---

# One-API 0.6: DeepSeek with two keys, a mapping and groups; Ali at its own
# proxy; a disabled Doubao; Baidu's native API; an unknown type
sub oneapi06_db {
    my $dir = shift;
    sqlite("$dir/one-api.db", $OneAPI06 . rows(
        { id => 1, type => 36, key => "sk-ds-1\nsk-ds-2", status => 1,
          name => 'DeepSeek 主力', base_url => mock('ds'), weight => 5,
          models => 'deepseek-chat,deepseek-reasoner', group => 'default,vip',
          model_mapping => '{"gpt-4o-mini": "deepseek-chat"}', priority => 10,
          config => '{}' },
        { id => 2, type => 17, key => 'sk-ali', status => 1, name => 'Ali',
          base_url => mock('ali'), models => 'qwen-max', priority => 0,
          config => '{}' },
        { id => 3, type => 40, key => 'ark-key', status => 2, name => 'Doubao',
          base_url => mock('ark'), models => 'doubao-pro-32k',
          model_mapping => '{"doubao-pro-32k": "ep-20250101-abc"}' },
        { id => 4, type => 15, key => 'ak-baidu|sk-baidu', status => 1,
          name => 'Baidu', models => 'ERNIE-4.0' },
        { id => 5, type => 99, key => 'sk-relay', status => 1, name => 'Relay',
          base_url => mock('relay/v1'), models => 'relay-model' }));
    return "$dir/one-api.db";
}

our @Keys06 = ('sk-ds-1', 'sk-ds-2', 'sk-ali', 'ark-key', 'ak-baidu',
               'sk-relay');

sub setup_oneapi06 {
    my $dir = newdir();
    my $db = oneapi06_db($dir);

    # keys must go somewhere
    is(system("'$Import' '$db' >/dev/null 2>'$dir/e'") >> 8, 1,
       "no --keys-env nor --inline-keys: refused");
    like(slurp("$dir/e"), qr/--keys-env FILE/, "and told why");

    is(import_run($dir, '--keys-env', "$dir/keys.env", $db), 0, "imported");
    like($Out{err}, qr/One-API database .*: 5 channels; 4 written \(1 disabled\), 1 commented out/,
         "summary");
    like($Out{err}, qr/channel 5 "Relay": unknown One-API type 99: written as OpenAI-compatible/,
         "unknown type reported");
    like($Out{yaml}, qr/# unknown channel type: written as OpenAI-compatible, check it\n  - id: "oneapi_5"/,
         "unknown type commented in the YAML");
    like($Out{err}, qr/channel 4 "Baidu": type 15 Baidu: written commented out/,
         "native type reported");
    like($Out{yaml}, qr/\n  # - id: "oneapi_4"\n/, "native type commented out");
    no_keys_in('the YAML', $Out{yaml}, @Keys06);
    no_keys_in('stderr', $Out{err}, @Keys06);
    is((stat "$dir/keys.env")[2] & 07777, 0600, "keys.env is mode 0600");

    load_keys("$dir/keys.env");
    is($Out{env}{ONEAPI_1_KEY_2}, 'sk-ds-2', "keys.env as sh reads it");
    is($Out{env}{ONEAPI_4_KEY}, 'ak-baidu|sk-baidu', "a key with | is quoted");

    nginx_t($dir, "$dir/channels.yaml");

    # --inline-keys: the same channels with the keys in the YAML
    is(import_run(newdir(), '--inline-keys', $db), 0, "--inline-keys");
    like($Out{yaml}, qr/api_keys:\n    - "sk-ds-1"\n    - "sk-ds-2"\n/,
         "keys inline");
    no_keys_in('stderr', $Out{err}, @Keys06);
    $ENV{TEST_NGINX_IMPORT_DIR} = $dir;
}

sub setup_oneapi05 {
    my $dir = newdir();
    sqlite("$dir/one-api.db", $OneAPI05 . rows(
        { id => 1, type => 25, key => 'sk-moon', status => 1,
          name => 'Kimi', base_url => mock('moon'), models => 'moonshot-v1-8k',
          other => '', priority => 0 },
        { id => 2, type => 3, key => 'az-key', status => 1, name => 'Azure',
          base_url => mock('az'), other => '2024-02-01',
          models => 'gpt-3.5-turbo' },
        { id => 3, type => 29, key => 'gsk-off', status => 3, name => 'Groq',
          base_url => mock('groq'), models => 'llama-3.1-8b-instant' }));
    is(import_run($dir, '--keys-env', "$dir/keys.env", "$dir/one-api.db"), 0,
       "imported");
    like($Out{err}, qr/One-API database .*: 3 channels; 3 written \(1 disabled\)/,
         "One-API 0.5 detected");
    like($Out{yaml}, qr/# One-API channel 3 "Groq": type 29 Groq, disabled automatically/,
         "why it is disabled");
    load_keys("$dir/keys.env");
    nginx_t($dir, "$dir/channels.yaml");
}

sub setup_newapi {
    my $dir = newdir();
    sqlite("$dir/new-api.db", $NewAPI . rows(
        { id => 1, type => 40, key => "sf-0\nsf-1\nsf-2", status => 1,
          name => 'SiliconFlow', base_url => mock('sf'),
          models => 'Qwen/Qwen3-8B', tag => 'Cheap Ones', auto_ban => 1,
          channel_info => '{"is_multi_key":true,"multi_key_size":3,'
                        . '"multi_key_status_list":{"1":2},'
                        . '"multi_key_polling_index":0,"multi_key_mode":"random"}' },
        { id => 2, type => 43, key => 'sk-ds-9', status => 1,
          name => 'DeepSeek', base_url => mock('ds'), models => 'deepseek-chat',
          channel_info => '{"is_multi_key":false}', priority => 3 },
        { id => 3, type => 45, key => 'ark-2', status => 1, name => 'Volc',
          base_url => mock('ark'), models => 'doubao-1.5-pro-32k' }));
    is(import_run($dir, '--keys-env', "$dir/keys.env", "$dir/new-api.db"), 0,
       "imported");
    like($Out{err}, qr/New-API database/, "New-API detected by its columns");
    like($Out{yaml}, qr/# 1 key disabled in the source left out/,
         "a disabled key of a multi-key channel is left out");
    no_keys_in('the YAML', $Out{yaml}, qw(sf-0 sf-1 sf-2 sk-ds-9 ark-2));
    load_keys("$dir/keys.env");
    ok(!grep({ $_ eq 'sf-1' } values %{$Out{env}}), "the disabled key is not in keys.env");
    nginx_t($dir, "$dir/channels.yaml");
}

sub setup_onehub {
    my $dir = newdir();
    sqlite("$dir/one-hub.db", $OneHub . rows(
        { id => 1, type => 28, key => 'sk-ds-h', status => 1,
          name => 'Deepseek', base_url => mock('ds'), models => 'deepseek-chat',
          weight => 1 },
        { id => 2, type => 45, key => 'sf-gone', status => 1, name => 'Gone',
          base_url => mock('sf'), models => 'Qwen/Qwen3-8B',
          deleted_at => '2025-01-01 00:00:00' }));
    is(import_run($dir, '--keys-env', "$dir/keys.env", "$dir/one-hub.db"), 0,
       "imported");
    like($Out{err}, qr/One-Hub database .*: 1 channel;/,
         "One-Hub detected, the deleted channel left out");
    load_keys("$dir/keys.env");
    nginx_t($dir, "$dir/channels.yaml");
}

# --merge into a config with comments and a channel of its own that is
# One-API channel 1 already (same endpoint, "/v1" written out, same key)
our $Existing = <<'_EOY_';
# my router: hand-written, keep as it is
auth:
  enabled: false   # no tokens on loopback

channels:
  - id: mine
    name: "hand-written DeepSeek"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ds/v1"
    api_key: "${MINE_KEY}"
    configured_models: ["deepseek-chat"]
  # - id: someday
  #   base_url: "https://example.com"

# ============ routing ============
routing:
  default_strategy: "cost_first"
_EOY_

sub setup_merge {
    my $dir = newdir();
    my $db = oneapi06_db($dir);
    (my $text = $Existing) =~ s/\$TEST_NGINX_RAND_PORT_1/$ENV{TEST_NGINX_RAND_PORT_1}/g;
    open my $fh, '>', "$dir/router_config.yaml" or die $!;
    print $fh $text;
    close $fh;
    $ENV{MINE_KEY} = 'sk-ds-1';

    is(import_run($dir, '--keys-env', "$dir/keys.env", '--merge',
                  "$dir/router_config.yaml", $db), 0, "merged");
    like($Out{err}, qr/5 channels; 3 written \(1 disabled\), 1 commented out, 1 already in/,
         "the channel already there is left out");
    my @old = split /\n/, $text;
    my @new = split /\n/, $Out{yaml};
    my $i = 0;
    for my $l (@new) { $i++ if $i < @old && $l eq $old[$i] }
    is($i, scalar @old, "every line of the old file is there, in order");
    like($Out{yaml}, qr/#   base_url: "https:\/\/example.com"\n\n  # One-API channel 2 "Ali"/,
         "new channels after the old ones");
    like($Out{yaml}, qr/configured_models:\n    - "relay-model"\n\n# =+ routing/,
         "and before the next section's banner");
    unlike($Out{yaml}, qr/id: "oneapi_1"/, "no duplicate of channel 1");
    no_keys_in('the YAML', $Out{yaml}, @Keys06);

    # a second merge finds everything there and changes nothing
    open $fh, '>', "$dir/merged.yaml" or die $!;
    print $fh $Out{yaml};
    close $fh;
    my $merged = $Out{yaml};
    is(import_run($dir, '--keys-env', "$dir/keys.env", '--merge',
                  "$dir/merged.yaml", $db), 0, "merged again");
    is($Out{yaml}, $merged, "idempotent");
    like($Out{err}, qr/0 written, 5 already in/, "all found");

    rename "$dir/merged.yaml", "$dir/channels.yaml";
    load_keys("$dir/keys.env");
    nginx_t($dir, "$dir/channels.yaml");
}

# A mock admin API for the importer (nginx is not running yet while a
# block's setup runs): a child process on $TEST_NGINX_RAND_PORT_2 answering
# GET /{oneapi,newapi}/api/channel/?p=N from the pages below, as One-API
# (array pages, p from 0) and New-API (items pages, p from 1, New-Api-User)
# do.  Returns the child's pid.
sub admin_api {
    my $port = $ENV{TEST_NGINX_RAND_PORT_2};
    my $b = mock('');
    my %ch = (
        11 => qq{{"id":11,"type":36,"key":"","status":1,"name":"DeepSeek","weight":0,"base_url":"${b}ds","other":"","models":"deepseek-chat","group":"default","model_mapping":"","priority":0,"config":"{}"}},
        12 => qq{{"id":12,"type":1,"key":"","status":2,"name":"OpenAI","weight":0,"base_url":"${b}oa","other":"","models":"gpt-4o","group":"default","model_mapping":null,"priority":0,"config":""}},
        13 => qq{{"id":13,"type":17,"key":"","status":1,"name":"Ali","weight":null,"base_url":"${b}ali","other":"","models":"qwen-max","group":"default","model_mapping":"","priority":null,"config":"{}"}},
        21 => qq{{"id":21,"type":40,"key":"","openai_organization":null,"status":1,"name":"SF","weight":0,"base_url":"${b}sf","other":"","models":"Qwen/Qwen3-8B","group":"default","model_mapping":"","priority":0,"auto_ban":1,"tag":"","channel_info":{"is_multi_key":false,"multi_key_size":0,"multi_key_status_list":null,"multi_key_polling_index":0,"multi_key_mode":""}}},
        22 => qq{{"id":22,"type":43,"key":"","status":1,"name":"DS","weight":0,"base_url":"${b}ds","other":"","models":"deepseek-chat","group":"default","priority":0,"auto_ban":1}},
        23 => qq{{"id":23,"type":4,"key":"","status":1,"name":"Ollama","weight":0,"base_url":"${b}ollama","other":"","models":"qwen3:8b","group":"default","priority":0,"auto_ban":1}},
    );
    my $ok = '{"success":true,"message":"",';
    my $answer = sub {
        my ($path, $p, $h) = @_;
        if ($path eq '/oneapi/api/channel/') {
            return '{"success":false,"message":"无权进行此操作，access token 无效"}'
                unless ($h->{authorization} // '') eq 'Bearer admin-token';
            my @page = $p == 0 ? (11, 12) : $p == 1 ? (13) : ();
            return $ok . '"data":[' . join(',', @ch{@page}) . "]}\n";
        }
        if ($path eq '/newapi/api/channel/') {
            return '{"success":false,"message":"无权进行此操作，未提供 New-Api-User"}'
                unless ($h->{'new-api-user'} // '') eq '7'
                       && ($h->{authorization} // '') eq 'Bearer admin-token';
            my $page = $p < 1 ? 1 : $p;
            my @page = $page == 1 ? (21, 22) : $page == 2 ? (23) : ();
            return $ok . '"data":{"items":[' . join(',', @ch{@page})
                 . qq|],"total":3,"page":$page,"page_size":2,"type_counts":{}}}|;
        }
        return undef;
    };
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                    Listen => 5, ReuseAddr => 1)
        or die "mock admin API on $port: $!";
    my $pid = fork // die "fork: $!";
    if ($pid) {
        close $srv;
        return $pid;
    }
    while (my $c = $srv->accept) {
        my ($line, %h) = (scalar <$c> // '');
        while (my $l = <$c>) {
            last if $l =~ /^\r?\n$/;
            $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\r?\n$/;
        }
        my ($path, $q) = $line =~ m{^GET (\S+?)(?:\?(\S*))? HTTP} or next;
        my ($p) = ($q // '') =~ /(?:^|&)p=(\d+)/;
        my $body = $answer->($path, $p // 0, \%h);
        my $status = defined $body ? ($body =~ /"success":false/ && $body =~ /New-Api-User/ ? 401 : 200) : 404;
        $body //= 'not found';
        print $c "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
               . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
        close $c;
    }
    exit 0;
}

sub admin_url { "http://127.0.0.1:$ENV{TEST_NGINX_RAND_PORT_2}/$_[0]" }

sub setup_http_oneapi {
    my $dir = newdir();
    my $pid = admin_api();
    local $ENV{AIROUTER_IMPORT_TOKEN} = 'wrong-token';
    is(import_run($dir, '--keys-env', "$dir/keys.env", admin_url('oneapi')), 1,
       "a refused token fails");
    unlike($Out{err}, qr/wrong-token/, "the token is not printed");

    $ENV{AIROUTER_IMPORT_TOKEN} = 'admin-token';
    is(import_run($dir, '--keys-env', "$dir/keys.env", admin_url('oneapi')), 0,
       "imported over HTTP");
    like($Out{err}, qr/One-API at http:\S+: 3 channels; 3 written \(1 disabled\)/,
         "three pages read (p=0, 1, 2)");
    like(slurp("$dir/keys.env"), qr/^ONEAPI_11_KEY=$/m,
         "keys.env names the keys to fill in");
    unlike($Out{yaml}, qr/admin-token/, "the token is not in the YAML");

    # the user fills in the keys; a later import keeps them
    load_keys("$dir/keys.env", ONEAPI_11_KEY => 'sk-ds-http',
              ONEAPI_13_KEY => 'sk-ali-http');
    open my $fh, '>>', "$dir/keys.env" or die $!;
    print $fh "ONEAPI_11_KEY=sk-ds-http\n";
    close $fh;
    is(import_run($dir, '--keys-env', "$dir/keys.env", admin_url('oneapi')), 0,
       "imported again");
    like(slurp("$dir/keys.env"), qr/^ONEAPI_11_KEY=sk-ds-http$/m,
         "a filled-in key is kept");
    kill 'TERM', $pid;
    waitpid $pid, 0;
    nginx_t($dir, "$dir/channels.yaml");
}

sub setup_http_newapi {
    my $dir = newdir();
    my $pid = admin_api();
    local $ENV{AIROUTER_IMPORT_TOKEN} = 'admin-token';
    is(import_run($dir, '--keys-env', "$dir/keys.env", '--user-id', '7',
                  admin_url('newapi')), 0, "imported over HTTP");
    like($Out{err}, qr/New-API at http:\S+: 3 channels/,
         "New-API by its answer; 2 pages (p=0 is page 1, then p=2)");
    is(import_run(newdir(), admin_url('newapi')), 1,
       "without New-Api-User's right id: refused");
    like($Out{err}, qr/HTTP 401 "无权进行此操作，未提供 New-Api-User"/,
         "with New-API's own message");
    $ENV{TEST_NGINX_IMPORT_DIR} = $dir;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    load_keys("$dir/keys.env", NEWAPI_21_KEY => 'sf-http',
              NEWAPI_22_KEY => 'sk-ds-http', NEWAPI_23_KEY => 'ollama');
    nginx_t($dir, "$dir/channels.yaml");
}

add_block_preprocessor(sub {
    my $block = shift;
    my $setup = $block->setup or return;
    no strict 'refs';
    &{"main::$setup"}();
});

# Waits for worker 0's start-up discovery run (the blocks' requests read
# what it found).
sub wait_discovery {
    # up to 30 s: a loaded machine (2 cores, several suites at once) can
    # take that long to start nginx's first run
    for (1 .. 300) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
            or next;
        print $s "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n";
        local $/;
        my ($body) = (<$s> // '') =~ /\r\n\r\n(.*)/s;
        my $j = eval { JSON::PP::decode_json($body // '') };
        return if $j && $j->{discovery} && $j->{discovery}{last_run};
        Time::HiRes::sleep(0.1);
    }
    die "no discovery run within 30 s";
}

sub ids { join ',', sort map { $_->{id} } @{$_[0]{data}} }

# every id wanted is in the list, none of the unwanted
sub lists {
    my ($j, $want, $not) = @_;
    my %h = map { $_->{id} => 1 } @{$j->{data}};
    my @miss = grep { !$h{$_} } @$want;
    my @extra = grep { $h{$_} } @{$not // []};
    Test::More::diag("missing: @miss; unwanted: @extra; have: " . ids($j))
        if @miss || @extra;
    return !@miss && !@extra;
}

# the mock upstreams: /models per channel, each refusing any other key
our $Mock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;

        location = /ds/v1/models {
            if ($http_authorization !~ "^Bearer sk-ds-") { return 401; }
            echo '{"object":"list","data":[{"id":"deepseek-chat","object":"model"},{"id":"deepseek-reasoner","object":"model"},{"id":"deepseek-discovered","object":"model"}]}';
        }
        location = /ali/compatible-mode/v1/models {
            if ($http_authorization !~ "^Bearer sk-ali") { return 401; }
            echo '{"object":"list","data":[{"id":"qwen-max","object":"model"},{"id":"qwen-discovered","object":"model"}]}';
        }
        location = /relay/v1/models {
            if ($http_authorization != "Bearer sk-relay") { return 401; }
            echo '{"object":"list","data":[{"id":"relay-model","object":"model"}]}';
        }
        location = /moon/v1/models {
            if ($http_authorization != "Bearer sk-moon") { return 401; }
            echo '{"object":"list","data":[{"id":"moonshot-v1-8k","object":"model"},{"id":"kimi-discovered","object":"model"}]}';
        }
        location = /az/openai/v1/models {
            if ($http_api_key != "az-key") { return 401; }
            echo '{"object":"list","data":[{"id":"gpt-35-turbo","object":"model"}]}';
        }
        location = /sf/v1/models {
            if ($http_authorization !~ "^Bearer sf-") { return 401; }
            echo '{"object":"list","data":[{"id":"Qwen/Qwen3-8B","object":"model"},{"id":"sf-discovered","object":"model"}]}';
        }
        location = /ollama/v1/models {
            echo '{"object":"list","data":[{"id":"qwen3:8b","object":"model"}]}';
        }
        location / { return 404; }
    }
_EOC_

our $Config = <<'_EOC_';
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health { airouter_health; }
_EOC_

airouter_blocks(config_file => '$TEST_NGINX_IMPORT_DIR/channels.yaml',
                mock => $Mock, config => $Config);

run_tests();

__DATA__

=== TEST 1: One-API 0.6 database: nginx serves the imported channels' models (configured and discovered with the imported keys); not the disabled or commented-out ones
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_oneapi06
--- init
wait_discovery();
--- request
GET /v1/models
--- check_json
lists($j, [qw(deepseek-chat deepseek-reasoner deepseek-discovered qwen-max
              qwen-discovered relay-model)],
      [qw(doubao-pro-32k ep-20250101-abc ERNIE-4.0)])
--- no_error_log
[error]



=== TEST 2: One-API 0.6: the channels as airouter sees them (provider, base URL with the OpenAI-compatible path, priority ranked, disabled kept, keys counted)
--- setup: setup_oneapi06
--- request
GET /v1/admin/channels
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{data}};
keys %c == 4
&& $c{oneapi_1}{provider} eq 'deepseek' && $c{oneapi_1}{keys} == 2
&& $c{oneapi_1}{priority} == 1 && $c{oneapi_2}{priority} == 2
&& $c{oneapi_2}{base_url} =~ m{/ali/compatible-mode/v1$}
&& $c{oneapi_2}{provider} eq 'dashscope'
&& !$c{oneapi_3}{enabled} && $c{oneapi_3}{provider} eq 'doubao'
&& $c{oneapi_3}{base_url} =~ m{/ark/api/v3$}
&& $c{oneapi_5}{provider} eq 'openai_compatible'
--- no_error_log
[error]



=== TEST 3: One-API 0.6: a model_mapping entry is an alias: routing gpt-4o-mini goes to the DeepSeek channel's deepseek-chat
--- setup: setup_oneapi06
--- request
GET /v1/admin/route?model=gpt-4o-mini
--- response_body_like: "oneapi_1"
--- no_error_log
[error]



=== TEST 4: One-API 0.5 database (older layout): Moonshot and Azure (its api-key header, deployment names without dots) reach nginx
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_oneapi05
--- init
wait_discovery();
--- request
GET /v1/models
--- check_json
lists($j, [qw(moonshot-v1-8k kimi-discovered gpt-35-turbo)],
      [qw(llama-3.1-8b-instant)])
--- no_error_log
[error]



=== TEST 5: New-API database: its numbering (40 SiliconFlow, 43 DeepSeek, 45 Volcengine), a multi-key channel without its disabled key
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_newapi
--- init
wait_discovery();
--- request
GET /v1/admin/channels
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{data}};
$c{newapi_1}{provider} eq 'siliconflow' && $c{newapi_1}{keys} == 2
&& $c{newapi_2}{provider} eq 'deepseek' && $c{newapi_3}{provider} eq 'doubao'
&& $c{newapi_3}{base_url} =~ m{/ark/api/v3$}
--- no_error_log
[error]



=== TEST 6: New-API database: /v1/models lists what the SiliconFlow channel's keys discovered
--- setup: setup_newapi
--- init
wait_discovery();
--- request
GET /v1/models
--- check_json
lists($j, [qw(sf-discovered Qwen/Qwen3-8B deepseek-discovered)])
--- no_error_log
[error]



=== TEST 7: One-Hub database: its numbering (28 Deepseek), soft-deleted channels left out
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_onehub
--- request
GET /v1/admin/channels
--- check_json
@{$j->{data}} == 1 && $j->{data}[0]{id} eq 'onehub_1'
&& $j->{data}[0]{provider} eq 'deepseek'
--- no_error_log
[error]



=== TEST 8: --merge: the hand-written channel stays, the new ones come along, the duplicate does not
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_merge
--- init
wait_discovery();
--- request
GET /v1/admin/channels
--- check_json
ids($j) eq 'mine,oneapi_2,oneapi_3,oneapi_5'
--- no_error_log
[error]



=== TEST 9: a mock One-API admin API (array pages from p=0): the channels serve once their keys are filled in
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_http_oneapi
--- init
wait_discovery();
--- request
GET /v1/models
--- check_json
lists($j, [qw(deepseek-discovered qwen-discovered)], [qw(gpt-4o)])
--- no_error_log
[error]



=== TEST 10: a mock New-API admin API (items pages from p=1, New-Api-User): New-API's numbering applies (4 is Ollama)
--- no_hup: the imported keys are ${ENV} values, which the master reads when it starts, not on a reload
--- setup: setup_http_newapi
--- init
wait_discovery();
--- request
GET /v1/admin/channels
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{data}};
keys %c == 3 && $c{newapi_21}{provider} eq 'siliconflow'
&& $c{newapi_22}{provider} eq 'deepseek' && $c{newapi_23}{provider} eq 'ollama'
&& $c{newapi_23}{base_url} =~ m{/ollama/v1$}
--- no_error_log
[error]
