# Self-test of the test harness (t/lib/Test/Nginx/Socket.pm).
#
# Uses only stock nginx plus Debian's echo module, which must be loaded
# through TEST_NGINX_LOAD_MODULES, e.g.:
#
#   TEST_NGINX_LOAD_MODULES=/usr/lib/nginx/modules/ngx_http_echo_module.so \
#       prove -I t/lib t/000-harness.t
#
# Every block runs twice (repeat_each(2)), which also checks that the error
# log is read incrementally between repetitions.

use Test::Nginx::Socket;

repeat_each(2);

# 12 blocks x (status + one body check) = 24, plus the extra assertions:
# TEST 2: 3 headers, TEST 3: 1 header, TEST 5: 1 error_log, TEST 7: 3 log
# patterns, TEST 10: 1 header, TEST 12: 2nd request (status + body) = 11.
plan tests => repeat_each() * (blocks() * 2 + 11);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain return body and the default status code
--- config
    location = /hello {
        return 200 "hello\n";
    }
--- request
GET /hello
--- response_body
hello



=== TEST 2: response headers, present and absent
--- config
    location = /h {
        add_header X-Foo "bar baz";
        return 200 "ok\n";
    }
--- request
GET /h
--- response_headers
X-Foo: bar baz
Content-Type: text/plain
!X-Absent
--- response_body
ok



=== TEST 3: more_headers reach nginx, response_headers_like
--- config
    location = /echo-headers {
        echo "foo=$http_x_foo bar=$http_x_bar host=$host";
    }
--- request
GET /echo-headers
--- more_headers
X-Foo: 1
X-Bar: two words
--- response_headers_like
Server: nginx/[\d.]+
--- response_body
foo=1 bar=two words host=localhost



=== TEST 4: POST body is sent with a Content-Length (trimmed, as Test::Nginx)
--- config
    location = /v1/echo {
        echo_read_request_body;
        echo "$request_method $content_length $request_body";
    }
--- request
POST /v1/echo
{"model": "m", "n": 1}
--- response_body
POST 22 {"model": "m", "n": 1}



=== TEST 5: error_code 404 from a missing static file, error_log substring
--- config
--- request
GET /no-such-file.txt
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log
no-such-file.txt" failed (2: No such file or directory)



=== TEST 6: response_body_unlike
--- config
    location = /fine {
        echo "all fine";
    }
--- request
GET /fine
--- response_body_unlike
error|fail



=== TEST 7: error_log eval (qr//) and no_error_log
--- log_level: notice
--- config
    rewrite_log on;
    rewrite ^/r/(.*)$ /target/$1 last;
    location /target/ {
        echo "target $uri";
    }
--- request
GET /r/abc
--- response_body
target /target/abc
--- error_log eval
qr{\[notice\] .*rewritten data: "/target/abc"}
--- no_error_log
[error]
[warn]



=== TEST 8: must_die on an unknown directive
--- config
    location /x {
        no_such_directive on;
    }
--- must_die
--- error_log
unknown directive "no_such_directive"



=== TEST 9: mock upstream on $TEST_NGINX_RAND_PORT_1 through proxy_pass
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            echo "upstream got $request_uri";
        }
    }
--- config
    location /proxy/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
--- no_hup: it reads the ports of this block in the environment nginx started with
--- init
# the random ports are also exported into nginx's environment (checked via
# /proc, which only works without a master process: nginx's setproctitle()
# wipes the original environment area of a master)
my $pid = $Test::Nginx::Socket::NginxPid;
if (defined $pid && open my $fh, '<', "/proc/$pid/environ") {
    local $/;
    my $env = <$fh>;
    die "TEST_NGINX_RAND_PORT_1 is not in nginx's environment\n"
        unless $env =~ /(?:^|\0)TEST_NGINX_RAND_PORT_1=$ENV{TEST_NGINX_RAND_PORT_1}\0/;
}
--- request
GET /proxy/abc?x=1
--- response_body
upstream got /abc?x=1



=== TEST 10: chunked response, flushed in two parts
--- config
    location = /chunked {
        echo -n "hello ";
        echo_flush;
        echo_sleep 0.05;
        echo "world";
    }
--- request
GET /chunked
--- response_headers
Transfer-Encoding: chunked
--- response_body
hello world



=== TEST 11: user_files are served from the html dir, with $TEST_NGINX_* expanded
--- config
--- user_files
>>> sub/dir/file.txt
port=$TEST_NGINX_SERVER_PORT
--- request
GET /sub/dir/file.txt
--- response_body eval
"port=$ENV{TEST_NGINX_SERVER_PORT}\n"



=== TEST 12: several requests per block (request eval with an array)
--- config
    location = /a {
        echo "A";
    }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_body eval
["A\n", qr/404 Not Found/]
--- timeout: 5s
--- wait: 0.05
