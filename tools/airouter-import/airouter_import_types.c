/*
 * The channel type numbers of One-API, New-API and One-Hub, and the
 * providers they become.  The three projects share the first numbers and
 * then diverge (40 is Doubao in One-API, SiliconFlow in New-API, Hunyuan in
 * One-Hub), so every table is the project's own, read from its sources:
 *
 *   One-API   relay/channeltype/define.go + url.go (ChannelBaseURLs)
 *   New-API   constant/channel.go (ChannelType*, ChannelBaseURLs)
 *   One-Hub   common/config/constants.go + providers/x/base.go (BaseURL)
 *
 * Used by airouter_import_map.c; the flavor detection is used by both
 * sources.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "airouter_import.h"


#define N   AIROUTER_IMPORT_NATIVE
#define AZ  AIROUTER_IMPORT_AZURE
#define CF  AIROUTER_IMPORT_ACCOUNT

#define OAI "openai_compatible"

#define NOTE_BAIDU   "Baidu's native ERNIE API signs requests with the key " \
                     "pair; make it a Qianfan v2 (BaiduV2) channel, which "  \
                     "is OpenAI-compatible"
#define NOTE_XUNFEI  "Xunfei Spark's native API is a websocket; its "        \
                     "OpenAI-compatible endpoint is the XunfeiV2 type"
#define NOTE_TENCENT "Hunyuan's native API signs requests with SecretId/"    \
                     "SecretKey; its OpenAI-compatible endpoint "           \
                     "(api.hunyuan.cloud.tencent.com/v1) takes an API key"
#define NOTE_AWS     "AWS Bedrock signs requests (SigV4): no "               \
                     "OpenAI-compatible endpoint with this key"
#define NOTE_VERTEX  "Vertex AI authenticates with a service account: no "   \
                     "OpenAI-compatible endpoint with this key"
#define NOTE_NATIVE  "not an OpenAI-compatible chat API"


static const airouter_import_type_t  airouter_import_oneapi[] = {
    { 1, "OpenAI", "openai", "https://api.openai.com", "", 0, NULL },
    { 2, "API2D", OAI, "https://oa.api2d.net", "", 0, NULL },
    { 3, "Azure", "azure", NULL, "/openai/v1", AZ, NULL },
    { 4, "CloseAI", OAI, "https://api.closeai-proxy.xyz", "", 0, NULL },
    { 5, "OpenAI-SB", OAI, "https://api.openai-sb.com", "", 0, NULL },
    { 6, "OpenAIMax", OAI, "https://api.openaimax.com", "", 0, NULL },
    { 7, "OhMyGPT", OAI, "https://api.ohmygpt.com", "", 0, NULL },
    { 8, "Custom", OAI, NULL, "", 0, NULL },
    { 9, "AILS", OAI, "https://api.caipacity.com", "", 0, NULL },
    { 10, "AIProxy", OAI, "https://api.aiproxy.io", "", 0, NULL },
    { 11, "PaLM", NULL, "https://generativelanguage.googleapis.com", "", N,
      "PaLM was retired by Google; use a Gemini channel" },
    { 12, "API2GPT", OAI, "https://api.api2gpt.com", "", 0, NULL },
    { 13, "AIGC2D", OAI, "https://api.aigc2d.com", "", 0, NULL },
    { 14, "Anthropic", "anthropic", "https://api.anthropic.com", "", 0,
      NULL },
    { 15, "Baidu", NULL, "https://aip.baidubce.com", "", N, NOTE_BAIDU },
    { 16, "Zhipu", "zhipu", "https://open.bigmodel.cn", "/api/paas/v4", 0,
      NULL },
    { 17, "Ali", "dashscope", "https://dashscope.aliyuncs.com",
      "/compatible-mode/v1", 0, NULL },
    { 18, "Xunfei", NULL, NULL, "", N, NOTE_XUNFEI },
    { 19, "360", "ai360", "https://ai.360.cn", "", 0, NULL },
    { 20, "OpenRouter", "openrouter", "https://openrouter.ai/api", "", 0,
      NULL },
    { 21, "AIProxyLibrary", NULL, "https://api.aiproxy.io", "", N,
      NOTE_NATIVE },
    { 22, "FastGPT", NULL, "https://fastgpt.run/api/openapi", "", N,
      NOTE_NATIVE },
    { 23, "Tencent", NULL, "https://hunyuan.tencentcloudapi.com", "", N,
      NOTE_TENCENT },
    { 24, "Gemini", "gemini", "https://generativelanguage.googleapis.com",
      "/v1beta/openai", 0, NULL },
    { 25, "Moonshot", "moonshot", "https://api.moonshot.cn", "", 0, NULL },
    { 26, "Baichuan", "baichuan", "https://api.baichuan-ai.com", "", 0,
      NULL },
    { 27, "Minimax", "minimax", "https://api.minimax.chat", "", 0, NULL },
    { 28, "Mistral", "mistral", "https://api.mistral.ai", "", 0, NULL },
    { 29, "Groq", "groq", "https://api.groq.com/openai", "", 0, NULL },
    { 30, "Ollama", "ollama", "http://localhost:11434", "/v1", 0, NULL },
    { 31, "LingYiWanWu", "lingyiwanwu", "https://api.lingyiwanwu.com", "",
      0, NULL },
    { 32, "StepFun", "stepfun", "https://api.stepfun.com", "", 0, NULL },
    { 33, "AwsClaude", NULL, NULL, "", N, NOTE_AWS },
    { 34, "Coze", NULL, "https://api.coze.com", "", N, NOTE_NATIVE },
    { 35, "Cohere", "cohere", "https://api.cohere.ai", "/compatibility/v1",
      0, NULL },
    { 36, "DeepSeek", "deepseek", "https://api.deepseek.com", "", 0, NULL },
    { 37, "Cloudflare", "cloudflare", "https://api.cloudflare.com",
      "/client/v4/accounts/%s/ai/v1", CF, NULL },
    { 38, "DeepL", NULL, "https://api-free.deepl.com", "", N, NOTE_NATIVE },
    { 39, "TogetherAI", "together", "https://api.together.xyz", "", 0,
      NULL },
    { 40, "Doubao", "doubao", "https://ark.cn-beijing.volces.com",
      "/api/v3", 0, NULL },
    { 41, "Novita", "novita", "https://api.novita.ai/v3/openai", "", 0,
      NULL },
    { 42, "VertexAI", NULL, NULL, "", N, NOTE_VERTEX },
    { 43, "Proxy", NULL, NULL, "", N, NOTE_NATIVE },
    { 44, "SiliconFlow", "siliconflow", "https://api.siliconflow.cn", "", 0,
      NULL },
    { 45, "XAI", "xai", "https://api.x.ai", "", 0, NULL },
    { 46, "Replicate", NULL, "https://api.replicate.com/v1/models/", "", N,
      NOTE_NATIVE },
    { 47, "BaiduV2", "qianfan", "https://qianfan.baidubce.com", "/v2", 0,
      NULL },
    { 48, "XunfeiV2", "spark", "https://spark-api-open.xf-yun.com", "/v1",
      0, NULL },
    { 49, "AliBailian", "dashscope", "https://dashscope.aliyuncs.com",
      "/compatible-mode/v1", 0, NULL },
    { 50, "OpenAICompatible", OAI, NULL, "", 0, NULL },
    { 51, "GeminiOpenAICompatible", "gemini",
      "https://generativelanguage.googleapis.com/v1beta/openai", "", 0,
      NULL },
    { -1, NULL, NULL, NULL, NULL, 0, NULL }
};


static const airouter_import_type_t  airouter_import_newapi[] = {
    { 1, "OpenAI", "openai", "https://api.openai.com", "", 0, NULL },
    { 2, "Midjourney", NULL, NULL, "", N, NOTE_NATIVE },
    { 3, "Azure", "azure", NULL, "/openai/v1", AZ, NULL },
    { 4, "Ollama", "ollama", "http://localhost:11434", "/v1", 0, NULL },
    { 5, "MidjourneyPlus", NULL, NULL, "", N, NOTE_NATIVE },
    { 6, "OpenAIMax", OAI, "https://api.openaimax.com", "", 0, NULL },
    { 7, "OhMyGPT", OAI, "https://api.ohmygpt.com", "", 0, NULL },
    { 8, "Custom", OAI, NULL, "", 0, NULL },
    { 9, "AILS", OAI, "https://api.caipacity.com", "", 0, NULL },
    { 10, "AIProxy", OAI, "https://api.aiproxy.io", "", 0, NULL },
    { 11, "PaLM", NULL, NULL, "", N,
      "PaLM was retired by Google; use a Gemini channel" },
    { 12, "API2GPT", OAI, "https://api.api2gpt.com", "", 0, NULL },
    { 13, "AIGC2D", OAI, "https://api.aigc2d.com", "", 0, NULL },
    { 14, "Anthropic", "anthropic", "https://api.anthropic.com", "", 0,
      NULL },
    { 15, "Baidu", NULL, "https://aip.baidubce.com", "", N, NOTE_BAIDU },
    { 16, "Zhipu", "zhipu", "https://open.bigmodel.cn", "/api/paas/v4", 0,
      NULL },
    { 17, "Ali", "dashscope", "https://dashscope.aliyuncs.com",
      "/compatible-mode/v1", 0, NULL },
    { 18, "Xunfei", NULL, NULL, "", N, NOTE_XUNFEI },
    { 19, "360", "ai360", "https://api.360.cn", "", 0, NULL },
    { 20, "OpenRouter", "openrouter", "https://openrouter.ai/api", "", 0,
      NULL },
    { 21, "AIProxyLibrary", NULL, "https://api.aiproxy.io", "", N,
      NOTE_NATIVE },
    { 22, "FastGPT", NULL, "https://fastgpt.run/api/openapi", "", N,
      NOTE_NATIVE },
    { 23, "Tencent", NULL, "https://hunyuan.tencentcloudapi.com", "", N,
      NOTE_TENCENT },
    { 24, "Gemini", "gemini", "https://generativelanguage.googleapis.com",
      "/v1beta/openai", 0, NULL },
    { 25, "Moonshot", "moonshot", "https://api.moonshot.cn", "", 0, NULL },
    { 26, "ZhipuV4", "zhipu", "https://open.bigmodel.cn", "/api/paas/v4", 0,
      NULL },
    { 27, "Perplexity", "perplexity", "https://api.perplexity.ai", "", 0,
      NULL },
    { 31, "LingYiWanWu", "lingyiwanwu", "https://api.lingyiwanwu.com", "",
      0, NULL },
    { 33, "AWS", NULL, NULL, "", N, NOTE_AWS },
    { 34, "Cohere", "cohere", "https://api.cohere.ai", "/compatibility/v1",
      0, NULL },
    { 35, "MiniMax", "minimax", "https://api.minimax.chat", "", 0, NULL },
    { 36, "SunoAPI", NULL, NULL, "", N, NOTE_NATIVE },
    { 37, "Dify", NULL, "https://api.dify.ai", "", N, NOTE_NATIVE },
    { 38, "Jina", "jina", "https://api.jina.ai", "", 0, NULL },
    { 39, "Cloudflare", "cloudflare", "https://api.cloudflare.com",
      "/client/v4/accounts/%s/ai/v1", CF, NULL },
    { 40, "SiliconFlow", "siliconflow", "https://api.siliconflow.cn", "", 0,
      NULL },
    { 41, "VertexAI", NULL, NULL, "", N, NOTE_VERTEX },
    { 42, "Mistral", "mistral", "https://api.mistral.ai", "", 0, NULL },
    { 43, "DeepSeek", "deepseek", "https://api.deepseek.com", "", 0, NULL },
    { 44, "MokaAI", NULL, "https://api.moka.ai", "", N, NOTE_NATIVE },
    { 45, "VolcEngine", "doubao", "https://ark.cn-beijing.volces.com",
      "/api/v3", 0, NULL },
    { 46, "BaiduV2", "qianfan", "https://qianfan.baidubce.com", "/v2", 0,
      NULL },
    { 47, "Xinference", OAI, NULL, "/v1", 0, NULL },
    { 48, "xAI", "xai", "https://api.x.ai", "", 0, NULL },
    { 49, "Coze", NULL, "https://api.coze.cn", "", N, NOTE_NATIVE },
    { 50, "Kling", NULL, "https://api.klingai.com", "", N, NOTE_NATIVE },
    { 51, "Jimeng", NULL, NULL, "", N, NOTE_NATIVE },
    { 52, "Vidu", NULL, "https://api.vidu.cn", "", N, NOTE_NATIVE },
    { 53, "Submodel", OAI, "https://llm.submodel.ai", "", 0, NULL },
    { 54, "DoubaoVideo", NULL, NULL, "", N, NOTE_NATIVE },
    { 55, "Sora", NULL, NULL, "", N, NOTE_NATIVE },
    { 56, "Replicate", NULL, "https://api.replicate.com", "", N,
      NOTE_NATIVE },
    { 57, "Codex", NULL, "https://chatgpt.com", "", N,
      "Codex authenticates with a ChatGPT OAuth token, not an API key" },
    { 58, "KuaiziLizhen", NULL, NULL, "", N, NOTE_NATIVE },
    { -1, NULL, NULL, NULL, NULL, 0, NULL }
};


static const airouter_import_type_t  airouter_import_onehub[] = {
    { 1, "OpenAI", "openai", "https://api.openai.com", "", 0, NULL },
    { 3, "Azure", "azure", NULL, "/openai/v1", AZ, NULL },
    { 8, "Custom", OAI, NULL, "", 0, NULL },
    { 11, "PaLM", NULL, NULL, "", N,
      "PaLM was retired by Google; use a Gemini channel" },
    { 14, "Anthropic", "anthropic", "https://api.anthropic.com", "", 0,
      NULL },
    { 15, "Baidu", NULL, "https://aip.baidubce.com", "", N, NOTE_BAIDU },
    /* One-Hub's Zhipu base already ends in the API version */
    { 16, "Zhipu", "zhipu", "https://open.bigmodel.cn/api/paas/v4", "", 0,
      NULL },
    { 17, "Ali", "dashscope", "https://dashscope.aliyuncs.com",
      "/compatible-mode/v1", 0, NULL },
    { 18, "Xunfei", NULL, NULL, "", N, NOTE_XUNFEI },
    { 19, "360", "ai360", "https://ai.360.cn", "", 0, NULL },
    { 20, "OpenRouter", "openrouter", "https://openrouter.ai/api", "", 0,
      NULL },
    { 23, "Tencent", NULL, "https://hunyuan.cloud.tencent.com", "", N,
      NOTE_TENCENT },
    { 24, "AzureSpeech", NULL, NULL, "", N, NOTE_NATIVE },
    { 25, "Gemini", "gemini", "https://generativelanguage.googleapis.com",
      "/v1beta/openai", 0, NULL },
    { 26, "Baichuan", "baichuan", "https://api.baichuan-ai.com", "", 0,
      NULL },
    { 27, "MiniMax", "minimax", "https://api.minimax.chat", "", 0, NULL },
    { 28, "Deepseek", "deepseek", "https://api.deepseek.com", "", 0, NULL },
    { 29, "Moonshot", "moonshot", "https://api.moonshot.cn", "", 0, NULL },
    { 30, "Mistral", "mistral", "https://api.mistral.ai", "", 0, NULL },
    { 31, "Groq", "groq", "https://api.groq.com/openai", "", 0, NULL },
    { 32, "Bedrock", NULL, NULL, "", N, NOTE_AWS },
    { 33, "Lingyi", "lingyiwanwu", "https://api.lingyiwanwu.com", "", 0,
      NULL },
    { 34, "Midjourney", NULL, NULL, "", N, NOTE_NATIVE },
    { 35, "CloudflareAI", "cloudflare", "https://api.cloudflare.com",
      "/client/v4/accounts/%s/ai/v1", CF, NULL },
    { 36, "Cohere", "cohere", "https://api.cohere.ai", "/compatibility/v1",
      0, NULL },
    { 37, "StabilityAI", NULL, NULL, "", N, NOTE_NATIVE },
    { 38, "Coze", NULL, "https://api.coze.com/open_api", "", N,
      NOTE_NATIVE },
    { 39, "Ollama", "ollama", "https://ollama.com", "/v1", 0, NULL },
    { 40, "Hunyuan", NULL, "https://hunyuan.tencentcloudapi.com", "", N,
      NOTE_TENCENT },
    { 41, "Suno", NULL, NULL, "", N, NOTE_NATIVE },
    { 42, "VertexAI", NULL, NULL, "", N, NOTE_VERTEX },
    { 43, "LLAMA", NULL, NULL, "", N, NOTE_NATIVE },
    { 44, "Ideogram", NULL, NULL, "", N, NOTE_NATIVE },
    { 45, "Siliconflow", "siliconflow", "https://api.siliconflow.cn", "", 0,
      NULL },
    { 46, "Flux", NULL, NULL, "", N, NOTE_NATIVE },
    { 47, "Jina", "jina", "https://api.jina.ai", "", 0, NULL },
    { 48, "Rerank", NULL, NULL, "", N, NOTE_NATIVE },
    { 49, "Github", OAI, "https://models.inference.ai.azure.com", "", 0,
      NULL },
    { 51, "Recraft", NULL, NULL, "", N, NOTE_NATIVE },
    { 52, "Replicate", NULL, "https://api.replicate.com", "", N,
      NOTE_NATIVE },
    { 53, "Kling", NULL, "https://api.klingai.com", "", N, NOTE_NATIVE },
    { 54, "AzureDatabricks", NULL, NULL, "", N, NOTE_NATIVE },
    { 55, "AzureV1", "azure", NULL, "/openai/v1", AZ, NULL },
    { 56, "XAI", "xai", "https://api.x.ai", "", 0, NULL },
    { -1, NULL, NULL, NULL, NULL, 0, NULL }
};


/*
 * The providers the output may define.  base_url is the OpenAI-compatible
 * one; channels always carry their own, so these matter for the name
 * (balance kind, stats) and for the authentication header.
 */
static const airouter_import_provider_t  airouter_import_providers[] = {
    { "openai", "OpenAI", "https://api.openai.com", NULL, 0 },
    { "azure", "Azure OpenAI", NULL, "api-key", 0 },
    { "anthropic", "Anthropic", "https://api.anthropic.com", NULL, 0 },
    { "gemini", "Google Gemini",
      "https://generativelanguage.googleapis.com/v1beta/openai", NULL, 0 },
    { "deepseek", "DeepSeek", "https://api.deepseek.com", NULL, 0 },
    { "moonshot", "Moonshot (Kimi)", "https://api.moonshot.cn", NULL, 0 },
    { "zhipu", "Zhipu (GLM)", "https://open.bigmodel.cn/api/paas/v4", NULL,
      0 },
    { "dashscope", "Alibaba DashScope (Bailian)",
      "https://dashscope.aliyuncs.com/compatible-mode/v1", NULL, 0 },
    { "qianfan", "Baidu Qianfan", "https://qianfan.baidubce.com/v2", NULL,
      0 },
    { "doubao", "Doubao (Volcengine Ark)",
      "https://ark.cn-beijing.volces.com/api/v3", NULL, 0 },
    { "siliconflow", "SiliconFlow", "https://api.siliconflow.cn/v1", NULL,
      0 },
    { "groq", "Groq", "https://api.groq.com/openai", NULL, 0 },
    { "mistral", "Mistral", "https://api.mistral.ai", NULL, 0 },
    { "openrouter", "OpenRouter", "https://openrouter.ai/api/v1", NULL, 0 },
    { "ollama", "Ollama (local)", "http://127.0.0.1:11434/v1", NULL, 1 },
    { "xai", "xAI", "https://api.x.ai", NULL, 0 },
    { "together", "Together AI", "https://api.together.xyz", NULL, 0 },
    { "cohere", "Cohere", "https://api.cohere.ai/compatibility/v1", NULL,
      0 },
    { "lingyiwanwu", "01.AI (LingYiWanWu)", "https://api.lingyiwanwu.com",
      NULL, 0 },
    { "stepfun", "StepFun", "https://api.stepfun.com", NULL, 0 },
    { "baichuan", "Baichuan", "https://api.baichuan-ai.com", NULL, 0 },
    { "minimax", "MiniMax", "https://api.minimax.chat", NULL, 0 },
    { "novita", "Novita AI", "https://api.novita.ai/v3/openai", NULL, 0 },
    { "perplexity", "Perplexity", "https://api.perplexity.ai", NULL, 0 },
    { "spark", "Xunfei Spark", "https://spark-api-open.xf-yun.com/v1", NULL,
      0 },
    { "ai360", "360 AI", "https://api.360.cn", NULL, 0 },
    { "cloudflare", "Cloudflare Workers AI", NULL, NULL, 0 },
    { "jina", "Jina AI", "https://api.jina.ai", NULL, 0 },
    { OAI, "OpenAI-compatible (relay or self-hosted)", NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 }
};


const airouter_import_type_t *
airouter_import_type(airouter_import_flavor_e flavor, int type)
{
    const airouter_import_type_t  *t;

    switch (flavor) {
    case AIROUTER_IMPORT_ONEAPI:
        t = airouter_import_oneapi;
        break;
    case AIROUTER_IMPORT_NEWAPI:
        t = airouter_import_newapi;
        break;
    case AIROUTER_IMPORT_ONEHUB:
        t = airouter_import_onehub;
        break;
    default:
        return NULL;
    }

    for ( /* void */ ; t->type >= 0; t++) {
        if (t->type == type) {
            return t;
        }
    }

    return NULL;
}


const airouter_import_provider_t *
airouter_import_provider(const char *name)
{
    const airouter_import_provider_t  *p;

    for (p = airouter_import_providers; p->name != NULL; p++) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
    }

    return NULL;
}


const char *
airouter_import_flavor_name(airouter_import_flavor_e flavor)
{
    switch (flavor) {
    case AIROUTER_IMPORT_ONEAPI:
        return "One-API";
    case AIROUTER_IMPORT_NEWAPI:
        return "New-API";
    case AIROUTER_IMPORT_ONEHUB:
        return "One-Hub";
    default:
        return "unknown";
    }
}


/* the default channel id prefix and env-name stem */
const char *
airouter_import_flavor_id(airouter_import_flavor_e flavor)
{
    switch (flavor) {
    case AIROUTER_IMPORT_NEWAPI:
        return "newapi";
    case AIROUTER_IMPORT_ONEHUB:
        return "onehub";
    default:
        return "oneapi";
    }
}


airouter_import_flavor_e
airouter_import_flavor_parse(const char *s)
{
    if (strcasecmp(s, "oneapi") == 0 || strcasecmp(s, "one-api") == 0) {
        return AIROUTER_IMPORT_ONEAPI;
    }

    if (strcasecmp(s, "newapi") == 0 || strcasecmp(s, "new-api") == 0) {
        return AIROUTER_IMPORT_NEWAPI;
    }

    if (strcasecmp(s, "onehub") == 0 || strcasecmp(s, "one-hub") == 0) {
        return AIROUTER_IMPORT_ONEHUB;
    }

    return AIROUTER_IMPORT_UNKNOWN;
}


/*
 * The forks added columns (and so JSON fields) of their own to One-API's
 * channel: their presence says whose numbering a source uses.  has() asks
 * the source whether a column or field exists.
 */
airouter_import_flavor_e
airouter_import_flavor_by_fields(int (*has)(void *ctx, const char *field),
    void *ctx)
{
    size_t               i;
    static const char   *newapi[] = {
        "openai_organization", "auto_ban", "status_code_mapping",
        "other_info", "channel_info", "param_override", NULL
    };
    static const char   *onehub[] = {
        "only_chat", "pre_cost", "compatible_response", "model_headers",
        "custom_parameter", "allow_extra_body", NULL
    };

    for (i = 0; newapi[i] != NULL; i++) {
        if (has(ctx, newapi[i])) {
            return AIROUTER_IMPORT_NEWAPI;
        }
    }

    for (i = 0; onehub[i] != NULL; i++) {
        if (has(ctx, onehub[i])) {
            return AIROUTER_IMPORT_ONEHUB;
        }
    }

    return AIROUTER_IMPORT_ONEAPI;
}
