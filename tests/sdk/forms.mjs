// The multipart/form-data endpoints (issue #20) through the official
// `openai` SDK: audio.transcriptions.create (JSON and text answers),
// audio.translations.create and images.edit, each sending a file the
// router passes on untouched with the served model's id in the form.
// Run by t/724-multipart-sdk.t against airouter with a mock channel that
// keeps every body it gets in a file and answers with its name (the same
// machine: this script reads it).  Prints one "ok"/"not ok" line per
// check and exits non-zero on any failure.
import { readFileSync } from "node:fs";
import OpenAI, { toFile } from "openai";
import { check, done } from "./lib.mjs";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "none", maxRetries: 0,
                            timeout: 20000 });

// 1 MB of audio-like bytes: every byte value
const audio = Buffer.alloc(1 << 20);
for (let i = 0; i < audio.length; i++) {
    audio[i] = (i * 31 + 7) & 0xff;
}

// what the upstream got holds the file whole and the served model alone
function received(answer, model, file) {
    const body = readFileSync(answer.file);
    const field = (name, value) =>
        body.includes(`name="${name}"\r\n\r\n${value}\r\n`);
    return body.includes(file) && field("model", model)
           && !body.includes('name="model"\r\n\r\nlistener');
}

const tr = await client.audio.transcriptions.create({
    file: await toFile(audio, "speech.wav", { type: "audio/wav" }),
    model: "listener", language: "en" });
check(tr.text === "ok", "audio.transcriptions.create: the text", tr);
check(received(tr, "whisper-1", audio),
      "audio.transcriptions.create: the upstream got the file whole, "
      + "model whisper-1");

const text = await client.audio.transcriptions.create({
    file: await toFile(audio.subarray(0, 4096), "short.wav"),
    model: "whisper-text", response_format: "text" });
check(typeof text === "string" && text.trim() === "the words, as text",
      "audio.transcriptions.create, response_format text: the text", text);

const tl = await client.audio.translations.create({
    file: await toFile(audio, "speech.mp3", { type: "audio/mpeg" }),
    model: "listener" });
check(tl.text === "ok" && tl.path === "/echo/v1/audio/translations"
      && received(tl, "whisper-1", audio),
      "audio.translations.create: routed, the file whole", tl.path);

const png = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"),
                           audio.subarray(0, 65536)]);
const ed = await client.images.edit({
    image: await toFile(png, "fox.png", { type: "image/png" }),
    prompt: "a hat on the fox", model: "dall-e-2" });
check(ed.data?.[0]?.url === "https://img.example/edit.png"
      && ed.path === "/echo/v1/images/edits"
      && received(ed, "dall-e-2", png),
      "images.edit: routed to the image model, the image whole", ed.path);

try {
    await client.audio.transcriptions.create({
        file: await toFile(audio.subarray(0, 16), "a.wav"),
        model: "qwen3-8b" });
    check(false, "a chat model on transcriptions fails");
} catch (e) {
    check(e.status === 404 && e.code === "model_not_found",
          "audio.transcriptions.create on a chat model: 404 "
          + "model_not_found", { status: e.status, code: e.code });
}

done();
