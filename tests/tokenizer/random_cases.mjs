/*
 * Random differential cases for the tokenizer: strings drawn from the
 * character classes the pre-tokenization patterns care about (case
 * classes, marks, modifier letters, contractions and the long s, digits
 * of many scripts, every kind of whitespace, emoji and ZWJ, Unicode 16
 * additions), counted by the npm tiktoken package.
 *
 *     node random_cases.mjs [count] [seed] > /tmp/cases.json
 *     AIROUTER_TIKTOKEN_DIR=... test_tokenizer --check /tmp/cases.json
 *
 * That is how a change to the splitters, or a new tiktoken release, gets
 * checked beyond the fixed corpus.  With --text the strings alone come
 * out, one per line: the corpus file random.txt is
 *
 *     node random_cases.mjs 300 7 --text > ../unit/data/tokenizer/random.txt
 */

import { get_encoding } from 'tiktoken';

const count = Number(process.argv[2] ?? 2000);
let seed = Number(process.argv[3] ?? 1);
const textOnly = process.argv[4] === '--text';

function random() {
    /* mulberry32: reproducible from the seed */
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function pick(list) {
    return list[Math.floor(random() * list.length)];
}

const pools = [
    /* ASCII */
    [...'abcdefghijklmnopqrstuvwxyz'],
    [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    [...'0123456789'],
    [...'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'],
    [' ', ' ', ' ', '\t', '\n', '\r', '\r\n', '\n\n', '  ', '\u000b', '\u000c'],
    ["'s", "'S", "'t", "'re", "'RE", "'rE", "'ve", "'Ve", "'m", "'ll",
     "'LL", "'d", "'D", "'", "'x", "'\u017f", '\u017f', "''", '\u2019s'],
    /* letters by case class */
    ['\u00e9', '\u00df', '\u0436', '\u03b1', '\u0561', '\u1e9e'.toLowerCase(),
     '\u0101', '\u1d43', '\u0295', '\u0138'],
    ['\u00c9', '\u0416', '\u0391', '\u0531', '\u1e9e', '\u0100', '\u0130',
     '\u212a', '\ua7cb', '\ua7dc'],
    ['\u01c5', '\u01c8', '\u01cb', '\u01f2', '\u1f88', '\u1fbc', '\u1ffc'],
    ['\u02b0', '\u02b2', '\u30fc', '\uff70', '\u3005', '\u0640', '\ua67f',
     '\u{16d40}', '\u{16d41}', '\u1d2c', '\u02c6'],
    ['\u4e2d', '\u6587', '\u3042', '\u30ab', '\ud55c', '\u0627', '\u05d0',
     '\u0e01', '\u0915', '\u{20000}', '\u{10d4a}', '\u{16d43}', '\u{11bc0}',
     '\u{105c0}', '\u{1e5d0}', '\u{16100}', '\u{11380}', '\u1100', '\u1161'],
    /* marks */
    ['\u0301', '\u0300', '\u0308', '\u0323', '\u0903', '\u093f', '\u094d',
     '\u20dd', '\u20e3', '\u0e31', '\u064e', '\u05b0', '\u3099', '\uff9e',
     '\u{11f00}', '\u{113b8}', '\u{16d6b}'],
    /* numbers */
    ['\u0663', '\u06f4', '\u0967', '\uff11', '\u00bd', '\u00b2', '\u2167',
     '\u2460', '\u3007', '\u{1d7ce}', '\u{16d70}', '\u{11bf0}', '\u{1e5f1}',
     '\u0e51', '\u2070'],
    /* whitespace and invisible non-whitespace */
    ['\u00a0', '\u3000', '\u2028', '\u2029', '\u0085', '\u2003', '\u202f',
     '\u1680', '\u200b', '\u200c', '\u200d', '\ufeff', '\u180e', '\u2060'],
    /* symbols, emoji, oddities */
    ['\u2605', '\u00a9', '\u20ac', '\uff01', '\u3002', '\u300c', '\u2014',
     '\u{1f600}', '\u{1f468}\u200d\u{1f469}', '\u{1f1ef}\u{1f1f5}',
     '\u2764\ufe0f', '\u{1f44b}\u{1f3fd}', '\ue000', '\u0378', '\u{e0067}',
     '\u{1fbcb}', '\u{1fae9}', '/', '//', '\ufffd'],
];

function randomText() {
    const n = 1 + Math.floor(random() * 40);
    let s = '';

    for (let i = 0; i < n; i++) {
        const c = pick(pick(pools));
        s += random() < 0.1 ? c.repeat(2 + Math.floor(random() * 6)) : c;
    }

    return s;
}

if (textOnly) {
    const lines = [];
    for (let i = 0; i < count; i++) {
        lines.push(randomText());
    }
    process.stdout.write(lines.join('\n') + '\n');
    process.exit(0);
}

const encs = ['cl100k_base', 'o200k_base'].map((n) => [n, get_encoding(n)]);
const cases = [];

for (let i = 0; i < count; i++) {
    const text = randomText();
    const c = { text };

    for (const [name, enc] of encs) {
        c[name] = enc.encode_ordinary(text).length;
    }

    cases.push(c);
}

for (const [, enc] of encs) {
    enc.free();
}

process.stdout.write(JSON.stringify({ cases }) + '\n');
