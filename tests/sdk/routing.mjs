// Request-level routing controls (#19) through the official `openai` SDK:
// "models" and "provider" travel as extra body members (the Node SDK's
// way of sending what its types do not know, as Python's extra_body), in
// a chat and a stream; a wrong value surfaces as the SDK's
// BadRequestError with OpenAI's param and code.  Run by t/906 with
// airouter's origin; one "ok"/"not ok" line per check.
import OpenAI from "openai";
import { origin, key, check, run } from "./lib.mjs";

const client = new OpenAI({ baseURL: `${origin}/v1`, apiKey: key,
                            maxRetries: 0, timeout: 5000 });

await run({
    async models() {
        const { data, response } = await client.chat.completions
            .create({ model: "a-model", models: ["b-model"],
                      messages: [{ role: "user", content: "hi" }] })
            .withResponse();

        check(data.choices[0].message.content === "Hello!",
              "models: content", data);
        check(response.headers.get("x-router-channel") === "b",
              "models: the second model answered",
              response.headers.get("x-router-channel"));
        check(response.headers.get("x-router-fallbacks")
              === "a:server_error 500", "models: after the first failed",
              response.headers.get("x-router-fallbacks"));
    },

    async provider() {
        const { response } = await client.chat.completions
            .create({ model: "gpt-test",
                      provider: { order: ["c"], ignore: ["a"],
                                  data_collection: "deny" },
                      messages: [{ role: "user", content: "hi" }],
                      stream: true })
            .withResponse();

        check(response.headers.get("x-router-channel") === "c",
              "provider: order puts c first",
              response.headers.get("x-router-channel"));
    },

    async stream() {
        const s = await client.chat.completions.create({
            models: ["a-model", "c-model"], stream: true,
            provider: { sort: "latency" },
            messages: [{ role: "user", content: "hi" }] });

        let text = "", usage = null;

        for await (const chunk of s) {
            text += chunk.choices[0]?.delta?.content ?? "";
            usage ??= chunk.usage;
        }

        check(text === "Hello", "stream: content after the fallback", text);
        check(usage && usage.completion_tokens === 2, "stream: usage", usage);
    },

    async invalid() {
        try {
            await client.chat.completions.create({
                model: "gpt-test", provider: { sort: "fastest" },
                messages: [{ role: "user", content: "hi" }] });
            check(false, "invalid: refused");
        } catch (e) {
            check(e instanceof OpenAI.BadRequestError, "invalid: a 400",
                  e.constructor.name);
            check(e.param === "provider.sort" && e.code === "invalid_value",
                  "invalid: param and code", { param: e.param, code: e.code });
        }
    },
});
