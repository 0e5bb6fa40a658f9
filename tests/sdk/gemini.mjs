// The official @google/genai SDK against airouter's
// /v1beta/models/{model}:generateContent and :streamGenerateContent:
// generateContent, a stream (chunks over time, usageMetadata at the end),
// a function call, a model name with "/" in it, a stream cut by its
// upstream (the SDK raises the error object), a failure (ApiError with
// the status), a tag: query, and models.embedContent() (the SDK calls
// :batchEmbedContents).  Run by the t/7NN suites with the mock channels
// of t/lib/Airouter/Mock.pm.
import { GoogleGenAI, ApiError } from "@google/genai";
import { origin, key, check, run } from "./lib.mjs";

const client = new GoogleGenAI({ apiKey: key,
                                 httpOptions: { baseUrl: origin,
                                                timeout: 5000 } });

async function generate() {
    const r = await client.models.generateContent({
        model: "gpt-test", contents: "hi",
        config: { systemInstruction: "Be brief.", temperature: 0.2 } });

    check(r.text === "Hello!", "generate: text", r.text);
    check(r.candidates[0].finishReason === "STOP"
          && r.candidates[0].content.role === "model",
          "generate: the candidate", r.candidates);
    check(r.usageMetadata.promptTokenCount === 10
          && r.usageMetadata.candidatesTokenCount === 5
          && r.usageMetadata.totalTokenCount === 15,
          "generate: usageMetadata", r.usageMetadata);
}

async function stream() {
    const s = await client.models.generateContentStream({
        model: "slow-stream-test", contents: "hi" });

    let text = "", usage = null, finish = null, first = null, last = null;

    for await (const c of s) {
        if (c.text) {
            text += c.text;
            first ??= Date.now();
            last = Date.now();
        }
        usage = c.usageMetadata ?? usage;
        finish = c.candidates?.[0]?.finishReason ?? finish;
    }

    check(text === "Hello", "stream: text", text);
    check(finish === "STOP" && usage?.promptTokenCount === 7
          && usage?.candidatesTokenCount === 2,
          "stream: finishReason and usageMetadata at the end",
          { finish, usage });
    check(first !== null && last - first >= 500,
          "stream: chunks arrive as they are sent", { first, last });
}

async function tools() {
    const r = await client.models.generateContent({
        model: "tool-test", contents: "weather in Paris?",
        config: { tools: [{ functionDeclarations: [{
            name: "get_weather", description: "The weather",
            parametersJsonSchema: { type: "object",
                                    properties: { city: { type: "string" } }
            } }] }] } });

    const call = r.functionCalls?.[0];

    check(call && call.name === "get_weather" && call.args.city === "Paris",
          "tools: the function call", r.functionCalls);

    // the conversation goes on with the function's response
    const r2 = await client.models.generateContent({
        model: "gpt-test",
        contents: [
            { role: "user", parts: [{ text: "weather in Paris?" }] },
            { role: "model", parts: [{ functionCall: call }] },
            { role: "user", parts: [{ functionResponse: {
                name: "get_weather", id: call.id,
                response: { result: "18 degrees" } } }] }] });

    check(r2.text === "Hello!", "tools: the functionResponse round trip",
          r2.text);
}

async function slash_model() {
    const r = await client.models.generateContent({
        model: "google/gemma-test", contents: "hi" });

    check(r.text === "Hello!" && r.modelVersion === "upstream-model",
          "a model name with a slash", { text: r.text,
                                         modelVersion: r.modelVersion });
}

async function cut() {
    let text = "", error = null;

    try {
        const s = await client.models.generateContentStream({
            model: "cut-test", contents: "hi" });
        for await (const c of s) {
            text += c.text ?? "";
        }
    } catch (e) {
        error = e;
    }

    check(text === "Hel" && error instanceof ApiError
          && /ended the stream early/.test(error.message),
          "cut: the SDK raises the error object",
          { text, error: error && error.message });
}

async function failure() {
    try {
        await client.models.generateContent({ model: "broken-test",
                                              contents: "hi" });
        check(false, "failure: an ApiError");
    } catch (e) {
        let body = null;
        try {
            body = JSON.parse(e.message);
        } catch (ignore) {
            /* not JSON */
        }

        check(e instanceof ApiError && e.status === 503
              && body?.error?.code === 503
              && body?.error?.status === "UNAVAILABLE",
              "failure: an ApiError in Google's shape",
              { status: e.status, message: e.message });
    }
}

async function tag() {
    const r = await client.models.generateContent({ model: "tag:dialect",
                                                    contents: "hi" });

    check(r.text === "Hello!", "tag: a tag query routes", r.text);
}

// models.list through the SDK's pager (pageSize 1: one page per model),
// models.get by the name the list gives, countTokens; the t/709 suite's
// catalogue: google/gemma-test, gpt-test (chat), text-embedding-3-small
async function list() {
    const names = [];
    const pager = await client.models.list({ config: { pageSize: 1 } });

    for await (const m of pager) {
        names.push(m.name);

        if (m.name === "models/text-embedding-3-small") {
            check(JSON.stringify(m.supportedActions)
                  === JSON.stringify(["embedContent"]),
                  `list: ${m.name} says embedContent`, m.supportedActions);
            continue;
        }

        check(m.supportedActions?.includes("generateContent")
              && m.supportedActions?.includes("countTokens"),
              `list: ${m.name} says generateContent and countTokens`,
              m.supportedActions);
    }

    check(JSON.stringify(names)
          === JSON.stringify(["models/google/gemma-test", "models/gpt-test",
                              "models/text-embedding-3-small"]),
          "list: every chat and embedding model once, page by page", names);
}

async function get() {
    const m = await client.models.get({ model: "models/google/gemma-test" });

    check(m.name === "models/google/gemma-test"
          && m.displayName === "google/gemma-test",
          "get: the model by the name the list gives", m);

    let error = null;
    try {
        await client.models.get({ model: "no-such-model" });
    } catch (e) {
        error = e;
    }

    check(error instanceof ApiError && error.status === 404
          && /NOT_FOUND/.test(error.message),
          "get: an unknown model is a 404 NOT_FOUND ApiError",
          error && error.message);
}

async function count() {
    const r = await client.models.countTokens({
        model: "gpt-test",
        contents: "The quick brown fox jumps over the lazy dog" });

    check(Number.isInteger(r.totalTokens) && r.totalTokens > 0,
          "count: totalTokens", r);

    const r2 = await client.models.countTokens({
        model: "gpt-test",
        contents: "The quick brown fox jumps over the lazy dog, twice: "
                  + "the quick brown fox jumps over the lazy dog" });

    check(r2.totalTokens > r.totalTokens, "count: more text, more tokens",
          [r.totalTokens, r2.totalTokens]);
}

// models.embedContent(): the SDK calls :batchEmbedContents; t/710's
// channels: text-embedding-3-small answers [0.1,0.2], text-embedding-pair
// two vectors listed out of order
async function embed() {
    const r = await client.models.embedContent({
        model: "text-embedding-3-small", contents: "hello" });

    check(JSON.stringify(r.embeddings?.map((e) => e.values))
          === "[[0.1,0.2]]", "embed: one text's values", r.embeddings);

    const r2 = await client.models.embedContent({
        model: "text-embedding-pair", contents: ["first", "second"],
        config: { taskType: "RETRIEVAL_DOCUMENT", outputDimensionality: 2 } });

    check(JSON.stringify(r2.embeddings?.map((e) => e.values))
          === "[[0.1,0.2],[0.3,0.4]]", "embed: a batch, in order",
          r2.embeddings);

    let error = null;
    try {
        await client.models.embedContent({ model: "no-such-embedder",
                                           contents: "hello" });
    } catch (e) {
        error = e;
    }

    check(error instanceof ApiError && error.status === 404
          && /NOT_FOUND/.test(error.message),
          "embed: an unknown model is a 404 NOT_FOUND ApiError",
          error && error.message);
}

await run({ generate, stream, tools, slash_model, cut, failure, tag, list,
            get, count, embed });
