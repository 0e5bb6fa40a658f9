#!/usr/bin/env node
// Writes the benchmark's router_config.yaml and its catalogue.
//
//   node gen_catalog.js FIXTURES_DIR OUT_DIR TEMPLATE MOCK_PORT [NCHANNELS] [NMODELS]
//
// The catalogue is built as bench/micro builds its "3.4k" one: a pool of the
// fixtures' models (OpenRouter's 554 + the provider /models answers, 605 in
// all), and NCHANNELS (38) channels each serving a contiguous slice of the
// pool (start = c * 7919 mod pool), NMODELS (3,400) (channel, model) entries
// in all, so every model is offered by several channels as with resellers.
// Each channel gets its own models_file (a saved /models answer, the
// OpenRouter/OpenAI list shape) under OUT_DIR/catalog/, and every channel's
// base_url is the mock upstream.  The line "# @CATALOGUE@" of TEMPLATE is
// replaced by the generated channels, "@MOCK@" by the mock's port,
// "@RELAY@" by $BENCH_RELAY_PORT (the relay measurement's upstream).
'use strict';
const fs = require('fs');
const path = require('path');

const [fixtures, out, template, mockPort] = process.argv.slice(2, 6);
const nchannels = parseInt(process.argv[6] || '38', 10);
const total = parseInt(process.argv[7] || '3400', 10);

if (!fixtures || !out || !template || !mockPort) {
    console.error('usage: gen_catalog.js FIXTURES OUT TEMPLATE MOCK_PORT [NCH] [NMODELS]');
    process.exit(2);
}

const files = [
    'openrouter-models.json',
    'providers/deepseek-models.json',
    'providers/groq-openai-v1-models.json',
    'providers/lmstudio-v1-models.json',
    'providers/ollama-v1-models.json',
    'providers/openai-v1-models.json',
    'providers/siliconflow-v1-models.json',
    'providers/zhipu-v4-models.json',
];

const pool = [];
for (const f of files) {
    const j = JSON.parse(fs.readFileSync(path.join(fixtures, f), 'utf8'));
    const list = Array.isArray(j) ? j : (j.data || j.models || []);
    for (const m of list) {
        if (m && typeof m.id === 'string' && m.active !== false) pool.push(m);
    }
}

const catDir = path.join(out, 'catalog');
fs.mkdirSync(catDir, { recursive: true });

const per = Math.ceil(total / nchannels);
let added = 0;
let yaml = '';
for (let c = 0; c < nchannels && added < total; c++) {
    const pos = (c * 7919) % pool.length;
    const data = [];
    for (let k = 0; k < per && added < total; k++, added++) {
        data.push(pool[(pos + k) % pool.length]);
    }
    const id = 'cat' + String(c).padStart(2, '0');
    const file = path.join(catDir, id + '.json');
    fs.writeFileSync(file, JSON.stringify({ object: 'list', data }));
    yaml += `  - id: ${id}
    name: "catalogue channel ${c}"
    base_url: "http://127.0.0.1:${mockPort}/v1"
    api_key: "sk-bench-${id}"
    priority: ${c % 3}
    local: ${c % 19 === 7 ? 'true' : 'false'}
    tags: ["bench"]
    models_file: "${file}"
`;
}

// bench/fallback-model, and bench/fallback-001...N for the sequential
// fallback-cost measurement (each one's first request falls back)
const nfallback = parseInt(process.env.BENCH_FALLBACK_MODELS || '400', 10);
const fallback = ['"bench/fallback-model"'];
for (let i = 1; i <= nfallback; i++) {
    fallback.push(`"bench/fallback-${String(i).padStart(3, '0')}"`);
}

const tpl = fs.readFileSync(template, 'utf8');
const conf = tpl.replace(/^.*# @CATALOGUE@.*$/m, yaml.replace(/\n$/, ''))
                .replace(/@MOCK@/g, mockPort)
                .replace(/@RELAY@/g, process.env.BENCH_RELAY_PORT || mockPort)
                .replace(/@FALLBACK_MODELS@/g, fallback.join(', '));
fs.writeFileSync(path.join(out, 'router_config.yaml'), conf);
console.log(`catalogue: ${added} entries on ${nchannels} channels from a pool of ${pool.length} models`);
