// The hedging benchmark's client (bench/hedging/run): N chat requests
// ("req 0" .. "req N-1"), C at a time, to the router; prints the time to
// the answer's first byte (the response head: the router sends it with the
// first bytes it relays) per request as JSON: {"ttfb_ms":[...],"errors":n}.
'use strict';

const http = require('http');

const port = Number(process.argv[2]);
const total = Number(process.argv[3] || 400);
const conc = Number(process.argv[4] || 4);

const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
const ttfb = new Array(total);
let next = 0;
let errors = 0;

function one(n) {
  return new Promise((resolve) => {
    const body = JSON.stringify({
      model: 'm', messages: [{ role: 'user', content: 'req ' + n }],
    });
    const t0 = process.hrtime.bigint();
    const req = http.request({
      host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST',
      agent, headers: { 'Content-Type': 'application/json',
                        'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      ttfb[n] = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.statusCode !== 200) {
        errors++;
      }
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
  });
}

async function worker() {
  while (next < total) {
    await one(next++);
  }
}

Promise.all(Array.from({ length: conc }, worker)).then(() => {
  agent.destroy();
  process.stdout.write(JSON.stringify({ ttfb_ms: ttfb, errors }) + '\n');
});
