// nginx's own refusal (deny) in a router location, through each SDK: the
// openai SDK raises PermissionDeniedError with the router's message (not
// an HTML parse error), the Anthropic SDK its APIError in Anthropic's
// shape, @google/genai its ApiError in Google's.  Run by t/512 against
// locations with "deny all".
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, ApiError } from "@google/genai";
import { origin, key, check, run } from "./lib.mjs";

const words = /denied by the server's configuration/;

async function openai() {
    const client = new OpenAI({ apiKey: key, baseURL: `${origin}/v1`,
                                maxRetries: 0, timeout: 5000 });
    try {
        await client.chat.completions.create({
            model: "gpt-test", messages: [{ role: "user", content: "hi" }] });
        check(false, "openai: a PermissionDeniedError");
    } catch (e) {
        check(e instanceof OpenAI.PermissionDeniedError && e.status === 403
              && e.code === "forbidden" && e.type === "invalid_request_error"
              && words.test(e.error?.message) && words.test(e.message),
              "openai: PermissionDeniedError with the router's message",
              { cls: e.constructor.name, status: e.status,
                message: e.message });
    }
}

async function anthropic() {
    const client = new Anthropic({ apiKey: key, baseURL: origin,
                                   maxRetries: 0, timeout: 5000 });
    try {
        await client.messages.create({
            model: "gpt-test", max_tokens: 9,
            messages: [{ role: "user", content: "hi" }] });
        check(false, "anthropic: a PermissionDeniedError");
    } catch (e) {
        check(e instanceof Anthropic.PermissionDeniedError && e.status === 403
              && e.error?.type === "error"
              && e.error?.error?.type === "permission_error"
              && words.test(e.error?.error?.message),
              "anthropic: PermissionDeniedError in Anthropic's shape",
              { cls: e.constructor.name, status: e.status, error: e.error });
    }
}

async function gemini() {
    const client = new GoogleGenAI({ apiKey: key,
                                     httpOptions: { baseUrl: origin,
                                                    timeout: 5000 } });
    try {
        await client.models.generateContent({ model: "gpt-test",
                                              contents: "hi" });
        check(false, "gemini: an ApiError");
    } catch (e) {
        let body = null;
        try {
            body = JSON.parse(e.message);
        } catch (ignore) {
            /* not JSON */
        }
        check(e instanceof ApiError && e.status === 403
              && body?.error?.code === 403
              && body?.error?.status === "PERMISSION_DENIED"
              && words.test(body?.error?.message),
              "gemini: ApiError in Google's shape",
              { status: e.status, message: e.message });
    }
}

await run({ openai, anthropic, gemini });
