/*
 * Reading usage out of a response on its way to the client.  Streams: an
 * incremental scanner fed with each buffer as it passes; it keeps only the
 * current line (in a buffer the caller owns), parses the "data:" lines that
 * carry a usage object (the final chunk when stream_options.include_usage
 * is set) and knows whether the stream stands at an event boundary, so an
 * error event can be appended cleanly when the upstream dies mid-stream.
 * Non-stream bodies: airouter_usage_from_json() on the whole body, or
 * airouter_usage_from_tail() on its last bytes.  For answers that carry no
 * usage, the answer's text goes to a callback (airouter_answer_text(), or
 * each stream event's delta through airouter_sse_t.text) to be counted.
 *
 * Pure C; called by the proxy's input filters and its header processing.
 */

#ifndef AIROUTER_SSE_H
#define AIROUTER_SSE_H

#include <stddef.h>


typedef struct {
    long                      prompt_tokens;        /* -1: unknown */
    long                      completion_tokens;
    long                      total_tokens;
    long                      cached_tokens;        /* prompt tokens
                                                       read from the
                                                       provider's cache,
                                                       -1: unknown */
    long                      cache_write_tokens;   /* prompt tokens
                                                       written to it */
    double                    cost;     /* usage.cost (OpenRouter), USD;
                                           < 0: absent */
    double                    seconds;  /* usage.seconds: the audio a
                                           transcription heard (OpenAI's
                                           {"type": "duration"}); < 0:
                                           absent */
} airouter_usage_t;


/*
 * Receives the answer's text, piece by piece: the content (and tool call
 * arguments) of a non-stream answer, or each stream event's delta.
 */
typedef void (*airouter_text_pt)(void *data, const char *p, size_t n);


typedef struct {
    char                     *line;
    size_t                    size;
    size_t                    len;
    unsigned                  overflow:1;   /* the current line is dropped */
    unsigned                  done:1;       /* "data: [DONE]" seen */
    unsigned                  error:1;      /* an event carried "error" */
    unsigned                  newlines:2;   /* LFs ending the bytes so far */
    unsigned                  started:1;
    size_t                    events;       /* data lines seen */
    size_t                    data_bytes;   /* their data, [DONE] aside */
    airouter_usage_t          usage;
    airouter_text_pt          text;         /* NULL: text not wanted */
    void                     *text_data;
} airouter_sse_t;


/*
 * buf holds the longest line worth reading; longer lines are skipped.
 * Set s->text after init to receive every event's delta.content and
 * delta.tool_calls[].function.arguments (or choices[].text).  Without
 * text, a line that arrives whole in one feed is read where it lies (the
 * bytes fed are never written); only a line cut between two feeds is
 * copied into buf.  With text, every line is copied: its strings are
 * decoded in buf.
 */
void airouter_sse_init(airouter_sse_t *s, char *buf, size_t size);
void airouter_sse_feed(airouter_sse_t *s, const char *p, size_t n);

/* Nothing fed yet, or the last event was terminated by a blank line. */
int airouter_sse_at_boundary(const airouter_sse_t *s);

/*
 * The offset just past the last blank line (LF LF or LF CR LF: the end of
 * an event) in p[0..n), 0 when there is none.  Only boundaries that end
 * after offset from are looked for: the caller knows p[0..from) ends none.
 */
size_t airouter_sse_last_boundary(const char *p, size_t n, size_t from);

/*
 * Fills u from {"usage": {"prompt_tokens", "completion_tokens",
 * "total_tokens"}} (also "input_tokens"/"output_tokens"), with OpenRouter's
 * "cost" when present.  Cached prompt tokens are part of prompt_tokens:
 * "prompt_tokens_details" (or "input_tokens_details") {"cached_tokens",
 * "cache_write_tokens"}, else DeepSeek's "prompt_cache_hit_tokens".
 * Returns 1 when a usage object was found, 0 otherwise (u untouched).
 */
int airouter_usage_from_json(const char *p, size_t n, airouter_usage_t *u);

/* The same, from a body the caller has parsed (and keeps). */
struct json_t;

/* The same from a "usage" object. */
int airouter_usage_from_object(struct json_t *usage, airouter_usage_t *u);

/*
 * The same from a whole answer's text, parsing only its top-level "usage"
 * member, in one pass that also validates the answer: 1 found, 0 the
 * answer has none (both: the answer is JSON), -1 it is not JSON or could
 * not be followed (a key with an escape: parse it whole to know).
 */
int airouter_usage_from_answer(const char *p, size_t n, airouter_usage_t *u);
int airouter_usage_from_root(struct json_t *root, airouter_usage_t *u);

/*
 * The text of a whole non-stream answer to text(): choices[].message's
 * content (a string or text parts) and tool_calls[].function.arguments,
 * or choices[].text (completions).  Returns 1 when the body is a JSON
 * object, 0 otherwise.
 */
int airouter_answer_text(const char *p, size_t n, airouter_text_pt text,
    void *data);

void airouter_usage_init(airouter_usage_t *u);

/*
 * The units a whole non-stream answer counts, for prices per unit: the
 * elements of its top-level "data" array (the images an images answer
 * holds) into *items, and its top-level "duration" (seconds of audio, a
 * transcription's verbose_json) into *seconds; -1 each when absent or not
 * readable.  The text must be one JSON object (jansson accepted it, or
 * airouter_usage_from_answer() did not return -1).
 */
void airouter_answer_units(const char *p, size_t n, long *items,
    double *seconds);


/*
 * The end of a JSON body too large to keep whole (a big embeddings answer):
 * OpenAI-style answers put "usage" last, so its last bytes are enough.
 */
#define AIROUTER_TAIL_SIZE  1024

typedef struct {
    char                      buf[AIROUTER_TAIL_SIZE];
    size_t                    len;
    size_t                    depth;        /* '{' and '[' not closed */
    unsigned                  in_string:1;
    unsigned                  escaped:1;
    unsigned                  unbalanced:1; /* a close with none open */
} airouter_tail_t;

/* t starts zeroed; the whole body goes through it, in order. */
void airouter_tail_feed(airouter_tail_t *t, const char *p, size_t n);

/*
 * The body fed closed what it opened, outside strings, and ends (white
 * space aside) with '}' or ']': a JSON answer whose writer did not stop
 * half way.  The rest of JSON's syntax is not checked.
 */
int airouter_tail_closed(const airouter_tail_t *t);

/* As airouter_usage_from_json(), from the last "usage" object in t. */
int airouter_usage_from_tail(const airouter_tail_t *t, airouter_usage_t *u);

#endif /* AIROUTER_SSE_H */
