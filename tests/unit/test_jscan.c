/*
 * airouter_jscan (the request scanner of the API's hot path) against
 * jansson (jscan_oracle.h): hand-written tricky bodies with the verdict
 * each must get (escapes, surrogate pairs, the nesting limit, repeated
 * keys, number range, BOM, trailing bytes, NUL bytes), then every file of
 * the fuzz corpora and the fixtures, each of their prefixes up to 512
 * bytes and a set of one-byte changes, each as jansson reads it; the cut
 * of a member (how "hedge" leaves the body); the values the API reads.
 */

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "airouter_json_scan.h"
#include "jscan_oracle.h"


static void check(const char *text, size_t n, int want, const char *what);
static void test_cases(void);
static void test_depth(void);
static void test_members(void);
static void test_values(void);
static void test_cut(void);
static void test_drop(void);
static int scanned(airouter_jscan_t *s, char *scratch, const char *body);
static size_t cut_out(const airouter_jscan_t *s, size_t j, char *out);
static void test_corpus(void);
static void corpus_dir(const char *dir, size_t *files);
static void corpus_file(const char *p, size_t n, const char *path);

static size_t  mutations;


int
main(void)
{
    test_cases();
    test_depth();
    test_members();
    test_values();
    test_cut();
    test_drop();
    test_corpus();

    UNIT_DONE("test_jscan");
}


/* The oracle holds, and the chat scan's verdict is want (-1: any). */
static void
check(const char *text, size_t n, int want, const char *what)
{
    char                     why[512];
    airouter_jscan_status_e  st;

    UNIT_CHECK(jscan_oracle(text, n, &st, why, sizeof(why)) == 0,
               "%s: %s", what, why);

    if (want >= 0) {
        UNIT_CHECK((int) st == want, "%s: status %d, want %d", what,
                   (int) st, want);
    }
}


#define OK    AIROUTER_JSCAN_OK
#define BAD   AIROUTER_JSCAN_INVALID
#define ARR   AIROUTER_JSCAN_NOT_OBJECT
#define TREE  AIROUTER_JSCAN_TREE

#define CASE(text, want)  check(text, sizeof(text) - 1, want, text)


static void
test_cases(void)
{
    /* plain bodies */
    CASE("{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"hi\"}]}", OK);
    CASE("  {}  \n", OK);
    CASE("{ \"model\" : \"a\" , \"stream\" : true , \"n\" : 2 }", OK);
    CASE("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
         "\"text\":\"look\"},{\"type\":\"image_url\",\"image_url\":"
         "{\"url\":\"x\"}},\"bare\",3,null,[\"nested\"]]}]}", OK);
    CASE("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
         "\"input_\\u0069mage\"}]}]}", OK);
    CASE("{\"messages\":[1,\"x\",null,{},{\"role\":5},{\"role\":\"robot\"},"
         "{\"role\":\"us\\u0065r\",\"content\":7}]}", OK);
    CASE("{\"messages\":{\"role\":\"user\"}}", OK);
    CASE("{\"messages\":[]}", OK);
    CASE("{\"prompt\":[\"a\",{\"text\":\"b\\nc\"},[1,2],{\"text\":5}],"
         "\"query\":\"q\\\"\",\"documents\":[{\"text\":\"d\"},\"e\"]}", OK);

    /* escapes and surrogate pairs */
    CASE("{\"model\":\"caf\\u00e9 \\ud83d\\ude00 \\/ \\b\\f\\n\\r\\t\"}", OK);
    CASE("{\"model\":\"\\ud83d\"}", BAD);
    CASE("{\"model\":\"\\ude00\"}", BAD);
    CASE("{\"model\":\"\\ud83d\\u0041\"}", BAD);
    CASE("{\"model\":\"\\u0000\"}", BAD);
    CASE("{\"model\":\"\\x41\"}", BAD);
    CASE("{\"model\":\"\\u12G4\"}", BAD);
    CASE("{\"model\":\"tab\there\"}", BAD);
    CASE("{\"model\":\"\xc3\xa9\"}", OK);
    CASE("{\"model\":\"\xc3\"}", BAD);
    CASE("{\"model\":\"\xed\xa0\x80\"}", BAD);
    CASE("{\"model\":\"\xf4\x90\x80\x80\"}", BAD);
    CASE("{\"model\":\"\xc0\xaf\"}", BAD);

    /* keys with escapes, repeated keys: the tree decides */
    CASE("{\"mo\\u0064el\":\"x\"}", TREE);
    CASE("{\"model\":\"a\",\"model\":\"b\"}", TREE);
    CASE("{\"n\":\"x\",\"model\":\"a\",\"n\":1}", TREE);
    CASE("{\"messages\":[{\"role\":\"user\",\"role\":\"robot\"}]}", TREE);
    CASE("{\"messages\":[{\"content\":\"a\",\"content\":\"b\"}]}", TREE);
    CASE("{\"messages\":[{\"content\":[{\"text\":\"a\",\"text\":\"b\"}]}]}",
         TREE);
    CASE("{\"messages\":[{\"ro\\u006ce\":\"user\"}]}", TREE);
    /* repeated deeper down: only validated */
    CASE("{\"tools\":[{\"a\":1,\"a\":2}],\"x\":{\"k\\u0041\":1}}", OK);

    /* numbers */
    CASE("{\"n\":9223372036854775807,\"m\":-9223372036854775808}", OK);
    CASE("{\"n\":9223372036854775808}", BAD);
    CASE("{\"n\":-9223372036854775809}", BAD);
    CASE("{\"n\":12345678901234567890123}", BAD);
    CASE("{\"t\":1e308,\"u\":1.7976931348623157e308,\"v\":1e-400}", OK);
    CASE("{\"t\":1e309}", BAD);
    CASE("{\"t\":-1.8e308}", BAD);
    CASE("{\"t\":0.00000018e315}", BAD);
    CASE("{\"t\":0.00000017e315}", OK);
    CASE("{\"t\":0e999999999999}", OK);
    CASE("{\"t\":1e99999999999999999999}", BAD);
    CASE("{\"t\":[1e400]}", BAD);
    CASE("{\"messages\":[{\"x\":1e400}]}", BAD);
    CASE("{\"t\":-0,\"u\":0.5,\"v\":1E+2,\"w\":-1e-2}", OK);
    CASE("{\"t\":01}", BAD);
    CASE("{\"t\":1.}", BAD);
    CASE("{\"t\":.5}", BAD);
    CASE("{\"t\":-}", BAD);
    CASE("{\"t\":+1}", BAD);
    CASE("{\"t\":1e}", BAD);
    CASE("{\"t\":0x10}", BAD);
    CASE("{\"t\":NaN}", BAD);
    CASE("{\"t\":Infinity}", BAD);

    /* what is around the object */
    CASE("\xef\xbb\xbf{\"model\":\"a\"}", BAD);
    CASE("{\"model\":\"a\"}x", BAD);
    CASE("{\"model\":\"a\"}{}", BAD);
    CASE("{\"model\":\"a\"},", BAD);
    CASE("{\"model\":\"a\"} \t\r\n", OK);
    CASE("{\"model\":\"a\"}\f", BAD);
    CASE("[{\"model\":\"a\"}]", ARR);
    CASE("[]", ARR);
    CASE("[1,]", BAD);
    CASE("\"model\"", BAD);
    CASE("42", BAD);
    CASE("null", BAD);
    CASE("", BAD);
    CASE("   ", BAD);
    CASE("{", BAD);
    CASE("{\"model\"", BAD);
    CASE("{\"model\":", BAD);
    CASE("{\"model\":\"a\"", BAD);
    CASE("{\"model\":\"a\",}", BAD);
    CASE("{,}", BAD);
    CASE("{\"a\" 1}", BAD);
    CASE("{'a':1}", BAD);
    CASE("{\"a\":tru}", BAD);
    CASE("{\"a\":true false}", BAD);
    CASE("{\"messages\":[{\"role\":\"user\"},]}", BAD);
    CASE("{\"messages\":[{\"role\":\"user\",}]}", BAD);
    CASE("{\"messages\":[{\"content\":[\"a\",]}]}", BAD);
    CASE("{\"messages\":[{\"content\":[{\"text\":\"a\",}]}]}", BAD);
    CASE("{\"messages\":[{\"content\":[{\"text\" \"a\"}]}]}", BAD);

    /* NUL bytes: refused in a string; after a number jansson decides */
    check("{\"model\":\"a\0\"}", 14, TREE, "NUL in a string");
    check("{\"n\":1\0}", 8, -1, "NUL after a number");
    check("{\"n\":1}\0", 8, -1, "NUL after the object");
    check("\0{}", 3, -1, "NUL first");
}


/* 2048 levels, the top-level object counted, pass; 2049 do not. */
static void
test_depth(void)
{
    size_t       i, n, levels;
    char        *buf;
    const char  *pre[] = { "{\"a\":", "{\"messages\":[{\"content\":",
                           "{\"messages\":[{\"content\":[{\"x\":",
                           "{\"prompt\":[{\"text\":" };
    size_t       outer[] = { 1, 3, 5, 3 };
    const char  *post[] = { "}", "}]}", "}]}]}", "}]}" };
    size_t       k, d;
    int          want;

    buf = malloc(16384);
    if (buf == NULL) {
        UNIT_CHECK(0, "out of memory");
        return;
    }

    for (k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
        for (d = 0; d < 2; d++) {
            levels = AIROUTER_JSON_MAX_DEPTH - outer[k] + d;
            n = 0;
            n += (size_t) sprintf(buf + n, "%s", pre[k]);

            for (i = 0; i < levels; i++) {
                buf[n++] = '[';
            }

            for (i = 0; i < levels; i++) {
                buf[n++] = ']';
            }

            n += (size_t) sprintf(buf + n, "%s", post[k]);

            want = d ? BAD : OK;
            check(buf, n, want, d ? "one level too deep" : "deepest");
        }
    }

    free(buf);
}


/* More members than the scan keeps: the tree. */
static void
test_members(void)
{
    size_t  i, n, count;
    char    buf[2048];

    for (count = AIROUTER_JSCAN_MEMBERS - 1; count <= AIROUTER_JSCAN_MEMBERS + 1;
         count++)
    {
        n = 0;
        buf[n++] = '{';

        for (i = 0; i < count; i++) {
            n += (size_t) sprintf(buf + n, "%s\"k%zu\":%zu", i ? "," : "", i,
                                  i);
        }

        buf[n++] = '}';

        check(buf, n, count > AIROUTER_JSCAN_MEMBERS ? TREE : OK,
              "many members");
    }
}


/* What the API reads: kinds, numbers, lengths, strings, counts. */
static void
test_values(void)
{
    const char                     *str;
    char                            buf[64];
    size_t                          len;
    airouter_jscan_t                s;
    const airouter_jscan_member_t  *m;

    static const char *const  counted[] = { "prompt", NULL };
    static const char  body[] =
        "{\"model\":\"a\\u00e9b\",\"stream\":true,\"max_tokens\":-7,"
        "\"temperature\":0.25,\"tools\":[1,{},[]],\"prompt\":[\"ab\","
        "{\"text\":\"c\\\\d\"}],\"messages\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"image\"},\"xyz\"]},{\"role\":\"tool\"}]}";

    memset(&s, 0, sizeof(s));
    s.counted = counted;
    s.messages = 1;
    s.count = jscan_oracle_count;
    s.scratch = buf;

    UNIT_CHECK(airouter_jscan_body(&s, body, sizeof(body) - 1)
               == AIROUTER_JSCAN_OK, "status");
    UNIT_CHECK(s.nmembers == 7, "%zu members", s.nmembers);

    m = airouter_jscan_get(&s, "model");
    UNIT_CHECK(m && m->escaped && m->value.kind == AIROUTER_JSON_STRING,
               "model");
    if (m) {
        len = airouter_jscan_string(&s, m, buf, &str);
        UNIT_CHECK(len == 4 && memcmp(str, "a\xc3\xa9" "b", 4) == 0,
                   "model \"%.*s\"", (int) len, str);
    }

    m = airouter_jscan_get(&s, "stream");
    UNIT_CHECK(m && m->value.kind == AIROUTER_JSON_BOOL
               && body[m->start] == 't', "stream");

    m = airouter_jscan_get(&s, "max_tokens");
    UNIT_CHECK(m && m->value.kind == AIROUTER_JSON_INT && m->integer == -7
               && m->value.number == -7, "max_tokens");

    m = airouter_jscan_get(&s, "temperature");
    UNIT_CHECK(m && m->value.kind == AIROUTER_JSON_REAL
               && m->value.number == 0.25, "temperature");

    m = airouter_jscan_get(&s, "tools");
    UNIT_CHECK(m && m->value.kind == AIROUTER_JSON_ARRAY
               && m->value.length == 3, "tools");

    m = airouter_jscan_get(&s, "prompt");
    UNIT_CHECK(m && m->value.length == 2
               && m->tokens == jscan_oracle_count(NULL, "ab", 2)
                               + jscan_oracle_count(NULL, "c\\d", 3),
               "prompt counted");

    UNIT_CHECK(airouter_jscan_get(&s, "hedge") == NULL, "no hedge");
    UNIT_CHECK(s.nmessages == 2 && s.vision
               && s.message_tokens == jscan_oracle_count(NULL, "xyz", 3),
               "messages %zu vision %u", s.nmessages, s.vision);
    UNIT_CHECK(!s.refused, "no message refused");
}


/* A member cut out leaves the same object without it. */
static void
test_cut(void)
{
    size_t             i, j, n, len, klen;
    char               out[256], scratch[256], key[64];
    json_t            *a, *b;
    airouter_jscan_t   s;

    static const char  *bodies[] = {
        "{\"hedge\":true}",
        "{ \"hedge\" : true , \"model\" : \"m\" }",
        "{\"model\":\"m\",\"hedge\":false}",
        "{\"model\":\"m\" ,\n \"hedge\":null, \"n\":1}",
        "{\"a\":[1,{\"b\":2}],\"hedge\":1,\"c\":\"}\"}"
    };

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        if (scanned(&s, scratch, bodies[i]) != 0) {
            continue;
        }

        n = strlen(bodies[i]);

        for (j = 0; j < s.nmembers; j++) {
            len = cut_out(&s, j, out);

            a = json_loadb(bodies[i], n, 0, NULL);
            b = json_loadb(out, len, 0, NULL);

            /* member j, by its key */
            klen = s.member[j].key_end - s.member[j].key_start - 2;
            memcpy(key, bodies[i] + s.member[j].key_start + 1, klen);
            key[klen] = '\0';
            json_object_del(a, key);

            UNIT_CHECK(b != NULL && json_equal(a, b), "%s: cut %zu gives "
                       "\"%.*s\"", bodies[i], j, (int) len, out);

            json_decref(a);
            json_decref(b);
        }
    }
}


/*
 * A member dropped after its cut: the scan describes the shorter body as
 * it did the body (every other member's key and value at their new
 * places, the object's '{' where it was), so spans read after the cut
 * (the proxy's model splice) stay right.
 */
static void
test_drop(void)
{
    size_t             i, j, k, o, len;
    char               out[256], scratch[256];
    airouter_jscan_t   s, d;

    static const char  *bodies[] = {
        "{\"hedge\":true}",
        "{ \"hedge\" : true , \"model\" : \"m\" }",
        "{\"model\":\"m\",\"hedge\":false}",
        "{\"model\":\"m\" ,\n \"hedge\":null, \"n\":1}",
        "  {\"a\":[1,{\"b\":2}],\"hedge\":1,\"c\":\"}\",\"model\":\"x/y\"}"
    };

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        if (scanned(&s, scratch, bodies[i]) != 0) {
            continue;
        }

        UNIT_CHECK(bodies[i][s.open - 1] == '{', "%s: open at %zu",
                   bodies[i], s.open);

        for (j = 0; j < s.nmembers; j++) {
            len = cut_out(&s, j, out);
            d = s;
            airouter_jscan_drop(&d, j, out, len);

            UNIT_CHECK(d.nmembers == s.nmembers - 1 && d.p == out
                       && d.n == len && d.open == s.open
                       && out[d.open - 1] == '{',
                       "%s: drop %zu: %zu members, open %zu", bodies[i], j,
                       d.nmembers, d.open);

            for (k = 0; k < d.nmembers; k++) {
                o = (k < j) ? k : k + 1;

                UNIT_CHECK(d.member[k].key_end - d.member[k].key_start
                           == s.member[o].key_end - s.member[o].key_start
                           && memcmp(out + d.member[k].key_start,
                                     bodies[i] + s.member[o].key_start,
                                     s.member[o].key_end
                                     - s.member[o].key_start) == 0
                           && d.member[k].end - d.member[k].start
                              == s.member[o].end - s.member[o].start
                           && memcmp(out + d.member[k].start,
                                     bodies[i] + s.member[o].start,
                                     s.member[o].end - s.member[o].start)
                              == 0,
                           "%s: drop %zu: member %zu moved wrong", bodies[i],
                           j, k);
            }

            UNIT_CHECK((airouter_jscan_get(&d, "hedge") == NULL)
                       == (airouter_jscan_get(&s, "hedge") == &s.member[j]),
                       "%s: drop %zu: hedge", bodies[i], j);
        }
    }
}


/* body scanned into *s (scratch its scratch): 0, or -1 after a check */
static int
scanned(airouter_jscan_t *s, char *scratch, const char *body)
{
    memset(s, 0, sizeof(*s));
    s->scratch = scratch;

    if (airouter_jscan_body(s, body, strlen(body)) != AIROUTER_JSCAN_OK) {
        UNIT_CHECK(0, "%s: not scanned", body);
        return -1;
    }

    return 0;
}


/* The scanned body without member j (airouter_jscan_cut's span), in out. */
static size_t
cut_out(const airouter_jscan_t *s, size_t j, char *out)
{
    size_t  from, to;

    airouter_jscan_cut(s, j, &from, &to);

    memcpy(out, s->p, from);
    memcpy(out + from, s->p + to, s->n - to);

    return s->n - (to - from);
}


static void
test_corpus(void)
{
    size_t       files;
    char         dir[1024];
    DIR         *d;
    struct dirent  *e;

    files = 0;

    d = opendir("tests/fuzz/corpus");
    UNIT_CHECK(d != NULL, "tests/fuzz/corpus: cannot open");

    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }

        snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", e->d_name);
        corpus_dir(dir, &files);
    }

    if (d) {
        closedir(d);
    }

    corpus_dir(unit_fixture(dir, sizeof(dir), "seed"), &files);
    corpus_dir(unit_fixture(dir, sizeof(dir), "providers"), &files);
    corpus_dir(unit_fixture(dir, sizeof(dir), "."), &files);

    UNIT_CHECK(files > 200, "only %zu corpus files", files);

    printf("test_jscan: %zu corpus files, %zu texts compared with jansson\n",
           files, mutations);
}


static void
corpus_dir(const char *dir, size_t *files)
{
    char            path[2048], *text;
    size_t          len;
    DIR            *d;
    struct dirent  *e;

    d = opendir(dir);
    if (d == NULL) {
        return;
    }

    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);

        text = unit_read_file(path, &len);
        if (text == NULL) {
            continue;               /* a directory */
        }

        (*files)++;
        corpus_file(text, len, path);
        free(text);
    }

    closedir(d);
}


/* The file, its prefixes and a few one-byte changes of it. */
static void
corpus_file(const char *p, size_t n, const char *path)
{
    char         why[512], *copy;
    size_t       i, k, limit;
    unsigned     fails;

    static const char  bytes[] = { '"', '\\', '{', '}', '[', ']', ',', ':',
                                   '0', 'e', '-', ' ', '\0', '\x80', 'u' };

    fails = 0;
    mutations++;

    if (jscan_oracle(p, n, NULL, why, sizeof(why)) != 0) {
        UNIT_CHECK(0, "%s: %s", path, why);
        return;
    }

    limit = n < 512 ? n : 512;

    for (i = 0; i < limit && fails < 3; i++) {
        mutations++;

        if (jscan_oracle(p, i, NULL, why, sizeof(why)) != 0) {
            UNIT_CHECK(0, "%s cut at %zu: %s", path, i, why);
            fails++;
        }
    }

    /* a big file (a provider's model list) is read whole only */
    if (n > 16384) {
        return;
    }

    copy = malloc(n + 1);
    if (copy == NULL) {
        return;
    }

    /* every 7th byte of the first 2 KB, each changed to every byte */
    limit = n < 2048 ? n : 2048;

    for (i = 0; i < limit && fails < 3; i += 7) {
        for (k = 0; k < sizeof(bytes); k++) {
            if (p[i] == bytes[k]) {
                continue;
            }

            memcpy(copy, p, n);
            copy[i] = bytes[k];
            mutations++;

            if (jscan_oracle(copy, n, NULL, why, sizeof(why)) != 0) {
                UNIT_CHECK(0, "%s byte %zu -> 0x%02x: %s", path, i,
                           (unsigned char) bytes[k], why);
                fails++;
                break;
            }
        }
    }

    free(copy);

    if (fails == 0) {
        UNIT_CHECK(1, "%s", path);
    }
}
