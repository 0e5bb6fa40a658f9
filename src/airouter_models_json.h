/*
 * Reads a provider's GET /models answer into airouter_model_info_t records
 * for the catalogue builder.  Understands the OpenAI list ({"data": [...]}
 * with "id"), OpenRouter's richer entries (context_length, pricing.prompt
 * and .completion as per-token strings, architecture.input_modalities and
 * output_modalities, supported_parameters: the parameters of
 * airouter_controls.h's table it lists, "tools" as a capability too), Groq's
 * context_window and "active", a "type" of embedding/rerank/audio/image,
 * a bare top-level array, and Ollama's {"models": [{"name": ...}]}.
 * Fields a source does not give stay unknown; the builder fills them from
 * the name.
 *
 * Called by discovery (nginx side) after fetching /models, and by tests
 * and benchmarks reading the fixtures.
 */

#ifndef AIROUTER_MODELS_JSON_H
#define AIROUTER_MODELS_JSON_H

#include <stddef.h>

#include "airouter_catalog.h"


/*
 * On success returns 0 and sets *out to one malloc'd block holding the n
 * records and their strings (release it with airouter_models_json_free);
 * entries without a string id and Groq's inactive ones are skipped.  On
 * failure returns -1 with a message in err (err may be NULL).
 */
int airouter_models_json_parse(const char *json, size_t len,
    airouter_model_info_t **out, size_t *n, char *err, size_t errlen);

void airouter_models_json_free(airouter_model_info_t *models);

#endif /* AIROUTER_MODELS_JSON_H */
