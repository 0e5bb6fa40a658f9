// Embeddings through the official `openai` SDK, which asks for
// encoding_format "base64" unless told otherwise and decodes the answer as
// little-endian float32: the vector must survive that, and the explicit
// "float" form too.  Run by t/962-demo.t against `make demo` with its base
// URL and the vector the demo answers (comma-separated); prints one
// "ok"/"not ok" line per check and exits non-zero on any failure.
import OpenAI from "openai";
import { check, done } from "./lib.mjs";

const baseURL = process.argv[2];
const want = process.argv[3].split(",").map(Number);
const client = new OpenAI({ baseURL, apiKey: "demo", maxRetries: 0,
                            timeout: 5000 });

function same(got) {
    return got.length === want.length
        && want.every((w, i) => Math.abs(got[i] - w) < 1e-6);
}

const dflt = await client.embeddings.create({
    model: "text-embedding-3-small", input: "hello" });
const v = Array.from(dflt.data[0].embedding);
check(same(v), "default (base64) encoding: the vector", v);

const flt = await client.embeddings.create({
    model: "text-embedding-3-small", input: "hello",
    encoding_format: "float" });
check(same(flt.data[0].embedding), "float encoding: the vector",
      flt.data[0].embedding);

const b64 = await client.embeddings.create({
    model: "text-embedding-3-small", input: "hello",
    encoding_format: "base64" });
const bytes = Buffer.from(b64.data[0].embedding, "base64");
const f32 = Array.from({ length: bytes.length / 4 },
                       (_, i) => bytes.readFloatLE(i * 4));
check(same(f32), "explicit base64: little-endian float32", f32);

done();
