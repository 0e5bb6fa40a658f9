// Some traffic through a running demo, for the dashboard's screenshot:
// chats to the free, paid and local demo channels, a stream, embeddings,
// an unknown model (404), and one channel switched off and on again.
//
//   node tests/browser/traffic.mjs http://127.0.0.1:8080 [API token]
const [base, token] = process.argv.slice(2);
const headers = { 'Content-Type': 'application/json' };
if (token) { headers.Authorization = 'Bearer ' + token; }

async function post(path, body) {
  const res = await fetch(base + path, { method: 'POST', headers,
                                         body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

const hi = [{ role: 'user', content: 'Hello!' }];
const plan = [
  ...Array(9).fill({ model: 'tag:free', messages: hi }),
  ...Array(5).fill({ model: 'gpt-4o-mini', messages: hi }),
  ...Array(3).fill({ model: 'claude-3-haiku', messages: hi }),
  ...Array(4).fill({ model: 'qwen3:8b', messages: hi }),
  { model: 'tag:free', stream: true, messages: hi },
  { model: 'qwen4', messages: hi }
];
for (const body of plan) {
  console.log(body.model + ': ' + await post('/v1/chat/completions', body));
}
console.log('embeddings: ' + await post('/v1/embeddings',
  { model: 'text-embedding-3-small', input: 'hi' }));
console.log('disable demo_local: ' + await post('/v1/admin/channels/demo_local/disable'));
console.log('qwen3:8b while demo_local is off: ' +
  await post('/v1/chat/completions', { model: 'qwen3:8b', messages: hi }));
console.log('enable demo_local: ' + await post('/v1/admin/channels/demo_local/enable'));
console.log('discovery: ' + await post('/v1/admin/discovery'));
console.log('strategy: ' + await post('/v1/admin/routing/strategy',
  { strategy: 'balanced' }));
