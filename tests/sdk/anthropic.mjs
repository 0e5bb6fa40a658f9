// The official @anthropic-ai/sdk against airouter's /v1/messages: a
// message, a stream (events over time, in order, usage at the end), a
// tool call and its tool_result round trip, count_tokens, a stream cut
// by its upstream (the SDK raises the error event), a failure (an
// APIError in Anthropic's shape), a native Anthropic channel reached
// untranslated (answer and stream), a tag: query, and models.list.  Run by the
// t/7NN suites with the mock channels of t/lib/Airouter/Mock.pm
// (gpt-test, tool-test, cut-test, broken-test) and
// t/lib/Airouter/AnthropicMock.pm (claude-native, claude-native-stream,
// slow-stream-test: 1 s between two deltas).
import Anthropic from "@anthropic-ai/sdk";
import { origin, key, check, run } from "./lib.mjs";

const client = new Anthropic({ baseURL: origin, apiKey: key, maxRetries: 0,
                               timeout: 5000 });
const hi = [{ role: "user", content: "hi" }];

const weather = {
    name: "get_weather",
    description: "The weather in a city",
    input_schema: { type: "object",
                    properties: { city: { type: "string" } },
                    required: ["city"] } };

async function create() {
    const { data, response } = await client.messages
        .create({ model: "gpt-test", max_tokens: 64, messages: hi })
        .withResponse();

    check(data.type === "message" && data.role === "assistant"
          && /^msg_/.test(data.id), "create: a Message", data);
    check(data.content.length === 1 && data.content[0].type === "text"
          && data.content[0].text === "Hello!", "create: its text",
          data.content);
    check(data.stop_reason === "end_turn", "create: stop_reason",
          data.stop_reason);
    check(data.usage.input_tokens === 10 && data.usage.output_tokens === 5,
          "create: usage", data.usage);
    check(response.headers.get("x-router-channel") === "chat",
          "create: X-Router-Channel", response.headers.get("x-router-channel"));
}

async function stream() {
    const s = client.messages.stream({ model: "slow-stream-test", max_tokens: 64,
                                       messages: hi });
    const types = [];
    let text = "", first = null, last = null;

    s.on("streamEvent", (e) => types.push(e.type));
    s.on("text", (delta) => {
        text += delta;
        first ??= Date.now();
        last = Date.now();
    });

    const msg = await s.finalMessage();

    check(text === "Hello" && msg.content[0].text === "Hello",
          "stream: text", { text, content: msg.content });
    check(types[0] === "message_start" && types.at(-1) === "message_stop"
          && types.at(-2) === "message_delta"
          && types.includes("content_block_start")
          && types.includes("content_block_stop"),
          "stream: events in order", types);
    check(msg.usage.output_tokens === 2 && msg.usage.input_tokens === 7,
          "stream: usage in message_delta", msg.usage);
    check(msg.stop_reason === "end_turn", "stream: stop_reason",
          msg.stop_reason);
    check(first !== null && last - first >= 500,
          "stream: text arrives as it is sent", { first, last });
}

async function tools() {
    const r = await client.messages.create({
        model: "tool-test", max_tokens: 64, tools: [weather],
        tool_choice: { type: "auto" },
        messages: [{ role: "user", content: "weather in Paris?" }] });

    const use = r.content.find((b) => b.type === "tool_use");

    check(r.stop_reason === "tool_use", "tools: stop_reason", r.stop_reason);
    check(use && use.name === "get_weather" && use.input.city === "Paris"
          && typeof use.id === "string", "tools: the tool_use block", use);

    // the conversation goes on with the tool's result
    const r2 = await client.messages.create({
        model: "gpt-test", max_tokens: 64, tools: [weather],
        messages: [
            { role: "user", content: "weather in Paris?" },
            { role: "assistant", content: r.content },
            { role: "user", content: [
                { type: "tool_result", tool_use_id: use.id,
                  content: "18 degrees, sunny" }] }] });

    check(r2.content[0]?.text === "Hello!",
          "tools: the tool_result round trip", r2.content);
}

async function count_tokens() {
    const r = await client.messages.countTokens({
        model: "gpt-test", system: "Be brief.", tools: [weather],
        messages: [{ role: "user", content: "How many tokens is this?" }] });

    check(Number.isInteger(r.input_tokens) && r.input_tokens > 5,
          "count_tokens: input_tokens", r);
}

async function cut() {
    let text = "", error = null;

    try {
        const s = await client.messages.create({
            model: "cut-test", max_tokens: 64, stream: true, messages: hi });

        for await (const e of s) {
            if (e.type === "content_block_delta") {
                text += e.delta.text ?? "";
            }
        }
    } catch (e) {
        error = e;
    }

    check(text === "Hel" && error instanceof Anthropic.APIError
          && /ended the stream early/.test(error.message),
          "cut: the SDK raises the error event",
          { text, error: error && error.message });
}

async function failure() {
    try {
        await client.messages.create({ model: "broken-test", max_tokens: 64,
                                       messages: hi });
        check(false, "failure: an APIError");
    } catch (e) {
        check(e instanceof Anthropic.APIError && e.status === 503
              && e.error?.type === "error"
              && typeof e.error?.error?.type === "string"
              && typeof e.error?.error?.message === "string",
              "failure: an APIError in Anthropic's shape",
              { status: e.status, error: e.error });
    }
}

async function native() {
    const r = await client.messages.create({
        model: "claude-native", max_tokens: 64, messages: hi });

    // the mock's own id and cache counts: nothing was translated
    check(r.id === "msg_native_1" && r.content[0].text === "Hello from Claude!",
          "native: the channel's Message as it sent it", r);
    check(r.usage.input_tokens === 12 && r.usage.cache_read_input_tokens === 30
          && r.usage.output_tokens === 6, "native: its usage", r.usage);
}

async function native_stream() {
    const s = client.messages.stream({ model: "claude-native-stream",
                                       max_tokens: 64, messages: hi });
    let text = "";

    s.on("text", (d) => { text += d; });
    const msg = await s.finalMessage();

    check(text === "Hello from Claude!" && msg.id === "msg_native_2",
          "native stream: the channel's events", { text, id: msg.id });
    check(msg.usage.output_tokens === 6
          && msg.usage.cache_read_input_tokens === 30,
          "native stream: usage", msg.usage);
}

async function tag() {
    const { data, response } = await client.messages
        .create({ model: "tag:dialect", max_tokens: 64, messages: hi })
        .withResponse();

    check(data.content[0]?.text === "Hello!"
          && response.headers.get("x-router-channel") === "chat",
          "tag: a tag query routes",
          { content: data.content,
            channel: response.headers.get("x-router-channel") });
}

// models.list as Anthropic's API answers it: chat models only (t/700
// TEST 2 adds an embedding model, which must not show), paged by the
// SDK's after_id; models.retrieve of one of them
async function models() {
    const ids = [];

    for await (const m of client.models.list({ limit: 2 })) {
        ids.push(m.id);
        check(m.type === "model" && m.display_name === m.id
              && typeof m.created_at === "string",
              `models: ${m.id} is Anthropic's model object`, m);
    }

    check(ids.includes("gpt-test") && ids.includes("claude-native")
          && !ids.some((id) => id.includes("embedding"))
          && new Set(ids).size === ids.length,
          "models: the chat models, each once, page by page", ids);

    const one = await client.models.retrieve("gpt-test");

    check(one.id === "gpt-test" && one.type === "model",
          "models: retrieve", one);
}

await run({ create, stream, tools, count_tokens, cut, failure, native,
            native_stream, tag, models });
