// The official `openai` SDK talks to airouter as to OpenAI: a chat, a
// stream (events must arrive over time, usage in the final chunk), a tool
// call, a stream cut by its upstream (the SDK raises the error event) and
// a failure that surfaces as the SDK's APIError.  Run by
// t/160-sdk.t with airouter's base URL; prints one "ok"/"not ok" line per
// check and exits non-zero on any failure.
import OpenAI from "openai";
import { check, done } from "./lib.mjs";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "client-key", maxRetries: 0,
                            timeout: 5000 });

async function chat() {
    const { data, response } = await client.chat.completions
        .create({ model: "gpt-test",
                  messages: [{ role: "user", content: "hi" }] })
        .withResponse();

    check(data.choices[0].message.content === "Hello!", "chat: content", data);
    check(data.usage.prompt_tokens === 10, "chat: usage", data.usage);
    check(response.headers.get("x-router-channel") === "chat",
          "chat: X-Router-Channel", response.headers.get("x-router-channel"));
}

async function stream() {
    const s = await client.chat.completions.create({
        model: "stream-test", stream: true,
        messages: [{ role: "user", content: "hi" }] });

    let text = "", usage = null, first = null, last = null;

    for await (const chunk of s) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
            text += delta;
            first ??= Date.now();
        }
        if (chunk.usage) {
            usage = chunk.usage;
            last = Date.now();
        }
    }

    check(text === "Hello", "stream: content", text);
    check(usage && usage.completion_tokens === 2, "stream: usage", usage);
    check(first !== null && last !== null && last - first >= 300,
          "stream: events arrive as they are sent", { first, last });
}

async function tools() {
    const r = await client.chat.completions.create({
        model: "tool-test",
        messages: [{ role: "user", content: "weather in Paris?" }],
        tools: [{ type: "function", function: {
            name: "get_weather",
            parameters: { type: "object",
                          properties: { city: { type: "string" } } } } }] });

    const call = r.choices[0].message.tool_calls?.[0];

    check(r.choices[0].finish_reason === "tool_calls", "tools: finish_reason",
          r.choices[0]);
    check(call && call.function.name === "get_weather"
          && JSON.parse(call.function.arguments).city === "Paris",
          "tools: the call", call);
}

async function cut() {
    let text = "", error = null;

    try {
        const s = await client.chat.completions.create({
            model: "cut-test", stream: true,
            messages: [{ role: "user", content: "hi" }] });

        for await (const chunk of s) {
            text += chunk.choices[0]?.delta?.content ?? "";
        }
    } catch (e) {
        error = e;
    }

    check(text === "Hel" && error !== null
          && /ended the stream early/.test(error.message),
          "stream cut: the SDK raises the error event",
          { text, error: error && error.message });
}

async function failure() {
    try {
        await client.chat.completions.create({
            model: "broken-test", messages: [{ role: "user", content: "hi" }] });
        check(false, "failure: an APIError");
    } catch (e) {
        check(e instanceof OpenAI.APIError && e.status === 503
              && e.code === "all_candidates_failed",
              "failure: an APIError", { status: e.status, code: e.code,
                                        message: e.message });
    }
}

for (const t of [chat, stream, tools, cut, failure]) {
    try {
        await t();
    } catch (e) {
        check(false, `${t.name}: ${e.message}`);
    }
}

done();
