// The relay measurement's upstream (bench/run starts it): every POST, on
// every keepalive connection, gets one prebuilt answer written at once: a
// chat stream of N events (argv[3]), each its own HTTP chunk, then a usage
// event and [DONE], as a provider streams a long answer back to back.
// Prebuilt so that the mock costs next to nothing and the measurement is
// the proxy's.  Loopback only.
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
const n = Number(process.argv[3] || 20000);

function chunk(s) {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b,
                          Buffer.from('\r\n')]);
}

const parts = [Buffer.from('HTTP/1.1 200 OK\r\n'
    + 'Content-Type: text/event-stream\r\n'
    + 'Cache-Control: no-cache\r\n'
    + 'Transfer-Encoding: chunked\r\n'
    + 'Connection: keep-alive\r\n\r\n')];
for (let i = 0; i < n; i++) {
    parts.push(chunk('data: {"id":"chatcmpl-relay","object":"chat.completion.chunk",'
        + '"created":1760000000,"model":"bench-model","choices":[{"index":0,'
        + '"delta":{"content":"t' + String(i % 100000).padStart(5, '0')
        + ' "},"finish_reason":null}]}\n\n'));
}
parts.push(chunk('data: {"id":"chatcmpl-relay","object":"chat.completion.chunk",'
    + '"created":1760000000,"model":"bench-model","choices":[],"usage":'
    + '{"prompt_tokens":21,"completion_tokens":' + n + ',"total_tokens":'
    + (n + 21) + '}}\n\n'));
parts.push(chunk('data: [DONE]\n\n'));
parts.push(Buffer.from('0\r\n\r\n'));
const answer = Buffer.concat(parts);

net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = buf.subarray(0, end).toString('latin1');
            const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
            const len = m ? Number(m[1]) : 0;
            if (buf.length < end + 4 + len) return;
            buf = buf.subarray(end + 4 + len);
            if (head.startsWith('GET /health')) {
                sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
            } else {
                sock.write(answer);
            }
        }
    });
    sock.on('error', () => {});
}).listen(port, '127.0.0.1');
