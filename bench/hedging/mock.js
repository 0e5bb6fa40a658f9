// Two upstreams for the hedging benchmark, on one port (bench/hedging/run):
//
//   POST /tail/v1/chat/completions    time to first byte drawn from a long
//       tail: 95% of requests 30-80 ms, 5% 800-2000 ms
//   POST /steady/v1/chat/completions  120-150 ms, always
//   GET  /stats                       requests per path, and how many the
//       router closed before their answer ({"tail":..,"steady":..,
//       "tail_closed":..,"steady_closed":..}); POST /reset zeroes them
//
// A request's delay is a function of the seed, the path and the number in
// its last message ("req <n>"), not of arrival order: the same run gives
// the same delays whatever the concurrency, and the hedge sent to /steady
// for request n has its own draw.
'use strict';

const http = require('http');

const port = Number(process.argv[2]);
const seed = Number(process.argv[3] || 1);

// mulberry32: a small seeded PRNG
function rng(a) {
  return function () {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function delay(path, n) {
  const r = rng(seed * 1000003 + n * 2 + (path === 'tail' ? 0 : 1));
  if (path === 'steady') {
    return 120 + 30 * r();
  }
  return r() < 0.05 ? 800 + 1200 * r() : 30 + 50 * r();
}

const answer = JSON.stringify({
  id: 'chatcmpl-h', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' },
              finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
});

let stats = { tail: 0, steady: 0, tail_closed: 0, steady_closed: 0 };

http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(stats));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    stats = { tail: 0, steady: 0, tail_closed: 0, steady_closed: 0 };
    res.end('{}');
    return;
  }
  const m = req.url.match(/^\/(tail|steady)\/v1\/chat\/completions$/);
  if (!m) {
    res.statusCode = 404;
    res.end('{"error":{"message":"no such path","type":"invalid_request_error"}}');
    return;
  }
  const path = m[1];
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const n = Number((body.match(/req (\d+)/) || [0, 0])[1]);
    stats[path]++;
    let done = false;
    const t = setTimeout(() => {
      done = true;
      res.setHeader('Content-Type', 'application/json');
      res.end(answer);
    }, delay(path, n));
    res.on('close', () => {
      if (!done) {
        clearTimeout(t);
        stats[path + '_closed']++;
      }
    });
  });
}).listen(port, '127.0.0.1');
