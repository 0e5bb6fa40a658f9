// The other endpoints (issue #20) through the official `openai` SDK:
// images.generate, moderations.create and audio.speech.create (a binary
// answer read whole).  Run by t/721-endpoints-sdk.t against airouter with
// mock channels; prints one "ok"/"not ok" line per check and exits
// non-zero on any failure.
import OpenAI from "openai";
import { check, done } from "./lib.mjs";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "none", maxRetries: 0,
                            timeout: 10000 });

const img = await client.images.generate({ model: "painter",
                                           prompt: "a red fox", n: 1 });
check(img.data?.[0]?.url === "https://img.example/fox.png",
      "images.generate: the image's URL", img);

const mod = await client.moderations.create({ model: "tag:moderation",
                                              input: "some text" });
check(mod.results?.[0]?.flagged === false
      && mod.model === "omni-moderation-latest",
      "moderations.create: the result", mod);

const speech = await client.audio.speech.create({ model: "tts-1",
    voice: "alloy", input: "Hello there" });
check(speech.headers.get("content-type") === "audio/mpeg",
      "audio.speech.create: audio/mpeg", speech.headers.get("content-type"));
check(speech.headers.get("x-router-model") === "tts-1",
      "audio.speech.create: routed to tts-1");
const audio = Buffer.from(await speech.arrayBuffer());
check(audio.length === 2000000
      && audio.subarray(0, 10).toString() === "ID3-frame-",
      "audio.speech.create: 2 MB of audio, whole", audio.length);

try {
    await client.images.generate({ model: "tts-1", prompt: "x" });
    check(false, "images.generate on a voice model fails");
} catch (e) {
    check(e.status === 404 && e.code === "model_not_found",
          "images.generate on a voice model: 404 model_not_found",
          { status: e.status, code: e.code });
}

done();
