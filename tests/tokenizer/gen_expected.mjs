/*
 * Writes tests/unit/data/tokenizer/expected.json: the token counts that
 * the npm tiktoken package gives for each corpus file there, whole and
 * line by line (each line with its '\n'), for cl100k_base and o200k_base.
 * test_tokenizer.c compares airouter_tokenizer_count() with these.
 *
 *     cd tests/tokenizer && npm install && node gen_expected.mjs
 */

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get_encoding } from 'tiktoken';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', 'unit', 'data', 'tokenizer');
const encodings = ['cl100k_base', 'o200k_base'];
const version = JSON.parse(readFileSync(
    join(here, 'node_modules', 'tiktoken', 'package.json'), 'utf8')).version;

function lines(text) {
    return text.split(/(?<=\n)/).filter((s) => s.length > 0);
}

const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const out = { generator: `tiktoken ${version} (npm)`, files: {} };

for (const name of encodings) {
    const enc = get_encoding(name);

    for (const file of files) {
        const bytes = readFileSync(join(dir, file));
        const text = bytes.toString('utf8');

        if (!Buffer.from(text, 'utf8').equals(bytes)) {
            throw new Error(`${file}: not valid UTF-8`);
        }

        const entry = (out.files[file] ??= {});
        entry[name] = {
            total: enc.encode_ordinary(text).length,
            lines: lines(text).map((l) => enc.encode_ordinary(l).length),
        };
    }

    enc.free();
}

/* One array of line counts per line of JSON keeps the file reviewable. */
const json = JSON.stringify(out, null, 1)
    .replace(/\[[\d,\s]*\]/g, (a) => a.replace(/\s+/g, ''));

writeFileSync(join(dir, 'expected.json'), json + '\n');

for (const file of files) {
    const e = out.files[file];
    console.log(`${file}: cl100k ${e.cl100k_base.total},`
                + ` o200k ${e.o200k_base.total}`);
}
