// The official openai SDK against airouter's /v1/responses (stateless):
// a plain response, a stream (events in the order the SDK's accumulator
// wants, text over time, usage in response.completed), a function call
// and its function_call_output round trip (the whole conversation sent
// again), previous_response_id refused with a clear 400, a stream cut by
// its upstream (the SDK raises the error event), a tag: query, and chat
// completions reaching a native Anthropic channel through the reverse
// translation (answer and stream).  Run by the t/7NN suites with the
// mock channels of t/lib/Airouter/Mock.pm and AnthropicMock.pm.
import OpenAI from "openai";
import { origin, key, check, run } from "./lib.mjs";

const client = new OpenAI({ baseURL: `${origin}/v1`, apiKey: key,
                            maxRetries: 0, timeout: 5000 });

const weather = {
    type: "function", name: "get_weather", description: "The weather",
    parameters: { type: "object", properties: { city: { type: "string" } },
                  required: ["city"] },
    strict: false };

async function plain() {
    const { data, response } = await client.responses
        .create({ model: "gpt-test", input: "hi",
                  instructions: "Be brief." })
        .withResponse();

    check(data.object === "response" && /^resp_/.test(data.id)
          && data.status === "completed", "plain: a completed response",
          data);
    check(data.output_text === "Hello!", "plain: output_text",
          data.output_text);
    check(data.instructions === "Be brief." && data.store === false,
          "plain: the request's settings repeated", data);
    check(data.usage.input_tokens === 10 && data.usage.output_tokens === 5
          && data.usage.total_tokens === 15, "plain: usage", data.usage);
    check(response.headers.get("x-router-channel") === "chat",
          "plain: X-Router-Channel", response.headers.get("x-router-channel"));
}

async function stream() {
    const s = client.responses.stream({ model: "slow-stream-test", input: "hi" });
    const types = [];
    let text = "", first = null, last = null;

    s.on("event", (e) => types.push(e.type));
    s.on("response.output_text.delta", (e) => {
        text += e.delta;
        first ??= Date.now();
        last = Date.now();
    });

    const r = await s.finalResponse();
    const done = r.output.find((o) => o.type === "message")?.content?.[0];

    check(text === "Hello" && done?.text === "Hello", "stream: text",
          { text, output: r.output });
    check(types[0] === "response.created"
          && types[1] === "response.in_progress"
          && types.at(-1) === "response.completed"
          && types.includes("response.output_item.added")
          && types.includes("response.content_part.added")
          && types.includes("response.output_text.done")
          && types.includes("response.output_item.done"),
          "stream: events in order", types);
    check(r.usage?.input_tokens === 7 && r.usage?.output_tokens === 2,
          "stream: usage in response.completed", r.usage);
    check(first !== null && last - first >= 500,
          "stream: text arrives as it is sent", { first, last });
}

async function function_call() {
    const input = [{ role: "user", content: "weather in Paris?" }];
    const r = await client.responses.create({ model: "tool-test", input,
                                              tools: [weather] });

    const call = r.output.find((o) => o.type === "function_call");

    check(call && call.name === "get_weather"
          && JSON.parse(call.arguments).city === "Paris"
          && typeof call.call_id === "string",
          "function_call: the call", r.output);

    // stateless: the conversation is sent again, with the call's output
    const r2 = await client.responses.create({
        model: "gpt-test", tools: [weather],
        input: [...input, call,
                { type: "function_call_output", call_id: call.call_id,
                  output: "18 degrees, sunny" }] });

    check(r2.output_text === "Hello!",
          "function_call: the function_call_output round trip",
          r2.output_text);
}

async function previous_id() {
    try {
        await client.responses.create({ model: "gpt-test", input: "and?",
                                        previous_response_id: "resp_1" });
        check(false, "previous_response_id: refused");
    } catch (e) {
        check(e instanceof OpenAI.BadRequestError && e.status === 400
              && /previous_response_id/.test(e.message)
              && /whole conversation/.test(e.message),
              "previous_response_id: a clear 400",
              { status: e.status, message: e.message });
    }
}

async function cut() {
    let text = "", error = null;

    try {
        const s = await client.responses.create({ model: "cut-test",
                                                  input: "hi", stream: true });
        for await (const e of s) {
            if (e.type === "response.output_text.delta") {
                text += e.delta;
            }
        }
    } catch (e) {
        error = e;
    }

    check(text === "Hel" && error instanceof OpenAI.APIError
          && /ended the stream early/.test(error.message),
          "cut: the SDK raises the error event",
          { text, error: error && error.message });
}

async function tag() {
    const r = await client.responses.create({ model: "tag:dialect",
                                              input: "hi" });

    check(r.output_text === "Hello!", "tag: a tag query routes",
          r.output_text);
}

async function chat_native() {
    const r = await client.chat.completions.create({
        model: "claude-native", messages: [{ role: "user", content: "hi" }] });

    check(r.choices[0].message.content === "Hello from Claude!"
          && r.choices[0].finish_reason === "stop",
          "chat to a native Anthropic channel: the answer", r.choices[0]);
    check(r.usage.prompt_tokens === 42 && r.usage.completion_tokens === 6
          && r.usage.prompt_tokens_details?.cached_tokens === 30,
          "chat to a native Anthropic channel: usage with the cache",
          r.usage);
}

async function chat_native_stream() {
    const s = await client.chat.completions.create({
        model: "claude-native-stream", stream: true,
        messages: [{ role: "user", content: "hi" }] });

    let text = "", usage = null, finish = null;

    for await (const c of s) {
        text += c.choices[0]?.delta?.content ?? "";
        finish = c.choices[0]?.finish_reason ?? finish;
        usage = c.usage ?? usage;
    }

    check(text === "Hello from Claude!" && finish === "stop",
          "chat stream from a native Anthropic channel", { text, finish });
    check(usage?.prompt_tokens === 42 && usage?.completion_tokens === 6,
          "chat stream from a native Anthropic channel: usage", usage);
}

await run({ plain, stream, function_call, previous_id, cut, tag, chat_native,
            chat_native_stream });
