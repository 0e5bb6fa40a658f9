/*
 * airouter-import: reads the channels of a One-API, New-API or One-Hub
 * (their SQLite database, or a running instance's admin API) and writes
 * them as airouter's router_config.yaml on stdout.  This file holds the
 * command line and the order of work; see airouter_import.h for the parts.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "airouter_config.h"
#include "airouter_import.h"


static const char  airouter_import_usage[] =
"NAME\n"
"    airouter-import - One-API / New-API / One-Hub channels to airouter YAML\n"
"\n"
"SYNOPSIS\n"
"    airouter-import [--keys-env FILE | --inline-keys] [--merge CONFIG]\n"
"                    [--providers FILE] [--flavor NAME] [--id-prefix P]\n"
"                    [--skip-disabled] DATABASE\n"
"    airouter-import [--keys-env FILE] [--token-file FILE] [--user-id N]\n"
"                    [--merge CONFIG] [--timeout S] ... http(s)://HOST[:PORT]\n"
"\n"
"DESCRIPTION\n"
"    Reads every channel of a One-API, New-API or One-Hub and writes them in\n"
"    airouter's router_config.yaml format on standard output.  The source is\n"
"    the project's SQLite database file (the channels table; its columns are\n"
"    read from the file, so every version works) or the address of a running\n"
"    instance, whose channel list API is read page by page with an admin\n"
"    access token.  Which project wrote it is detected from the columns or\n"
"    fields only the forks have (their channel type numbers differ).\n"
"\n"
"    Each channel becomes one entry of channels: id <project>_<id>, its name,\n"
"    the provider and OpenAI-compatible base URL of its type (Ali becomes\n"
"    DashScope's /compatible-mode/v1, Zhipu /api/paas/v4, Doubao /api/v3,\n"
"    Gemini /v1beta/openai, Azure /openai/v1 with the api-key header), its\n"
"    keys (one a line: api_keys), models as configured_models, model_mapping\n"
"    as model_aliases, groups as tags group-<name>, priority (the highest\n"
"    becomes 1, airouter's most preferred) and weight.  A disabled channel is\n"
"    kept with enabled: false.  A type with no OpenAI-compatible API (Baidu's\n"
"    native API, AWS, Vertex AI, Midjourney...) is written commented out, with\n"
"    the reason; an unknown type is written as OpenAI-compatible with a\n"
"    comment.  Both are reported on standard error.\n"
"\n"
"    The providers the channels name are defined in a providers: section,\n"
"    except those the --merge file or --providers file already defines.\n"
"\n"
"OPTIONS\n"
"    --keys-env FILE\n"
"        Keys go to FILE as NAME=value lines (mode 0600, written atomically),\n"
"        and the YAML names them as ${NAME}: ONEAPI_12_KEY, or ONEAPI_12_KEY_1,\n"
"        _2... for a channel with several.  Lines already in FILE stay.  Load\n"
"        FILE into nginx's environment (set -a; . FILE; set +a, or systemd's\n"
"        EnvironmentFile=) before nginx starts.\n"
"    --inline-keys\n"
"        Keys are written into the YAML itself.  One of the two is needed\n"
"        when the source has keys.  Keys are never printed anywhere else.\n"
"    --merge CONFIG\n"
"        Print CONFIG with the imported channels (and the providers they\n"
"        need) added after its own; nothing already there changes.  A\n"
"        channel already in CONFIG (same base URL and a key in common) is\n"
"        left out.  ${NAME} values in CONFIG are read from the environment and\n"
"        from the --keys-env file.\n"
"    --providers FILE\n"
"        A providers.yaml that will sit beside the output: the providers it\n"
"        defines are not defined again.\n"
"    --flavor oneapi|newapi|onehub\n"
"        Whose channel type numbers the source uses, when detection is wrong.\n"
"    --id-prefix P\n"
"        Channel ids and key names start with P (default: oneapi, newapi or\n"
"        onehub), e.g. to import two instances side by side.\n"
"    --skip-disabled\n"
"        Leave disabled channels out.\n"
"    --token-file FILE\n"
"        HTTP: the admin access token is the first line of FILE (- for\n"
"        standard input); otherwise the environment variable\n"
"        AIROUTER_IMPORT_TOKEN.  Never given on the command line.\n"
"    --user-id N\n"
"        HTTP, New-API: the token's user id (New-Api-User header; default 1).\n"
"    --timeout S\n"
"        HTTP: seconds per request (default 30).\n"
"    -h, --help\n"
"        This text.\n"
"\n"
"    Over HTTP the channel lists never return keys (One-API, New-API and\n"
"    One-Hub all leave them out): the YAML names them and --keys-env FILE gets\n"
"    empty NAME= lines to fill in (values already filled in are kept).\n"
"\n"
"EXIT STATUS\n"
"    0 written, 1 the source or a file could not be read or written,\n"
"    2 wrong usage.\n"
"\n"
"EXAMPLES\n"
"    airouter-import --keys-env /etc/nginx/airouter/keys.env one-api.db \\\n"
"        > /etc/nginx/airouter/router_config.yaml\n"
"    airouter-import --keys-env keys.env --merge router_config.yaml \\\n"
"        one-api.db > router_config.new && mv router_config.new \\\n"
"        router_config.yaml\n"
"    AIROUTER_IMPORT_TOKEN=... airouter-import --keys-env keys.env \\\n"
"        https://oneapi.example.com > channels.yaml\n";


typedef struct {
    airouter_import_opts_t    opts;
    airouter_arena_t         *arena;
    airouter_import_source_t  src;
    airouter_import_target_t  target;
    int                       merging;
    airouter_import_list_t    known;        /* providers defined elsewhere */
    airouter_import_envfile_t env;
    airouter_import_channel_t *chs;
    size_t                    nchs;
} airouter_import_run_t;


static int airouter_import_options(int argc, char **argv,
    airouter_import_opts_t *opts);
static int airouter_import_prepare(airouter_import_run_t *run);
static int airouter_import_channels(airouter_import_run_t *run);
static int airouter_import_output(airouter_import_run_t *run);
static int airouter_import_unique_id(airouter_import_run_t *run,
    airouter_import_channel_t *ch);
static int airouter_import_known(const airouter_import_list_t *l,
    const char *s);


int
main(int argc, char **argv)
{
    int                    rc;
    airouter_import_run_t  run;

    memset(&run, 0, sizeof(airouter_import_run_t));

    rc = airouter_import_options(argc, argv, &run.opts);
    if (rc != 0) {
        return rc;
    }

    run.arena = airouter_arena_create(0);
    if (run.arena == NULL) {
        fprintf(stderr, "airouter-import: out of memory\n");
        return 1;
    }

    rc = 1;

    if (airouter_import_prepare(&run) == AIROUTER_IMPORT_OK
        && airouter_import_channels(&run) == AIROUTER_IMPORT_OK
        && airouter_import_output(&run) == AIROUTER_IMPORT_OK)
    {
        rc = 0;
    }

    airouter_import_target_free(&run.target);
    airouter_arena_destroy(run.arena);
    curl_global_cleanup();

    return rc;
}


static int
airouter_import_options(int argc, char **argv, airouter_import_opts_t *opts)
{
    int                         c;
    char                       *end;
    static const struct option  longopts[] = {
        { "keys-env", required_argument, NULL, 'k' },
        { "inline-keys", no_argument, NULL, 'i' },
        { "merge", required_argument, NULL, 'm' },
        { "providers", required_argument, NULL, 'p' },
        { "flavor", required_argument, NULL, 'f' },
        { "id-prefix", required_argument, NULL, 'x' },
        { "skip-disabled", no_argument, NULL, 's' },
        { "token-file", required_argument, NULL, 't' },
        { "user-id", required_argument, NULL, 'u' },
        { "timeout", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(opts, 0, sizeof(airouter_import_opts_t));
    opts->timeout = 30;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            opts->keys_env = optarg;
            break;
        case 'i':
            opts->inline_keys = 1;
            break;
        case 'm':
            opts->merge = optarg;
            break;
        case 'p':
            opts->providers = optarg;
            break;
        case 'f':
            opts->flavor = airouter_import_flavor_parse(optarg);
            if (opts->flavor == AIROUTER_IMPORT_UNKNOWN) {
                fprintf(stderr, "airouter-import: --flavor is oneapi, newapi "
                        "or onehub\n");
                return 2;
            }
            break;
        case 'x':
            opts->id_prefix = optarg;
            break;
        case 's':
            opts->skip_disabled = 1;
            break;
        case 't':
            opts->token_file = optarg;
            break;
        case 'u':
            opts->user_id = optarg;
            break;
        case 'T':
            opts->timeout = strtol(optarg, &end, 10);
            if (*end != '\0' || opts->timeout <= 0) {
                fprintf(stderr, "airouter-import: --timeout takes seconds\n");
                return 2;
            }
            break;
        case 'h':
            fputs(airouter_import_usage, stdout);
            exit(0);
        default:
            fprintf(stderr, "Try 'airouter-import --help'.\n");
            return 2;
        }
    }

    if (optind != argc - 1) {
        fprintf(stderr, "airouter-import: give one source: a database file "
                "or http(s)://host\nTry 'airouter-import --help'.\n");
        return 2;
    }

    opts->source = argv[optind];

    if (opts->keys_env != NULL && opts->inline_keys) {
        fprintf(stderr, "airouter-import: --keys-env or --inline-keys, "
                "not both\n");
        return 2;
    }

    return 0;
}


/* the source's rows, the merge target, the names already in use */
static int
airouter_import_prepare(airouter_import_run_t *run)
{
    size_t                   i;
    int                      http;
    airouter_import_opts_t  *o;

    o = &run->opts;
    http = strncasecmp(o->source, "http://", 7) == 0
           || strncasecmp(o->source, "https://", 8) == 0;

    if (http) {
        curl_global_init(CURL_GLOBAL_DEFAULT);

        if (airouter_import_http(run->arena, o, &run->src)
            != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }

        if (o->inline_keys) {
            fprintf(stderr, "airouter-import: the channel list API returns "
                    "no keys: --inline-keys has nothing to write, keys are "
                    "named as ${NAME}\n");
            o->inline_keys = 0;
        }

    } else if (airouter_import_sqlite(run->arena, o, &run->src)
               != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    if (run->src.keys_given && o->keys_env == NULL && !o->inline_keys) {
        fprintf(stderr, "airouter-import: where do the keys go?  "
                "--keys-env FILE (they stay out of the YAML) or "
                "--inline-keys\n");
        return AIROUTER_IMPORT_ERROR;
    }

    if (o->keys_env != NULL
        && airouter_import_env_read(run->arena, o->keys_env, &run->env)
           != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    if (o->merge != NULL) {
        /*
         * ${NAME} in the target resolve as nginx will resolve them once
         * the keys file is loaded into its environment (the file wins)
         */
        for (i = 0; i < run->env.n; i++) {
            setenv(run->env.vars[i].name, run->env.vars[i].value, 1);
        }

        if (airouter_import_target_load(run->arena, o->merge, &run->target)
            != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }

        run->merging = 1;

        for (i = 0; i < run->target.providers.n; i++) {
            if (airouter_import_list_add(run->arena, &run->known,
                                         run->target.providers.items[i],
                                         (size_t) -1) != AIROUTER_IMPORT_OK)
            {
                return AIROUTER_IMPORT_ERROR;
            }
        }
    }

    if (o->providers != NULL
        && airouter_import_providers_load(run->arena, o->providers,
                                          &run->known)
           != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    if (o->id_prefix == NULL) {
        o->id_prefix = airouter_import_flavor_id(run->src.flavor);
    }

    return AIROUTER_IMPORT_OK;
}


/* rows -> channels; the ones the target has already are marked present */
static int
airouter_import_channels(airouter_import_run_t *run)
{
    char                       *name, *ref, *comment;
    size_t                      i, k, n, present, disabled, commented;
    const airouter_import_row_t *row;
    airouter_import_channel_t  *ch;

    run->chs = airouter_arena_alloc(run->arena, (run->src.nrows + 1)
                                    * sizeof(airouter_import_channel_t));
    if (run->chs == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    for (i = 0; i < run->src.nrows; i++) {
        ch = &run->chs[run->nchs];

        if (airouter_import_map(run->arena, &run->src.rows[i],
                                run->src.flavor, run->opts.id_prefix, ch)
            != AIROUTER_IMPORT_OK)
        {
            fprintf(stderr, "airouter-import: out of memory\n");
            return AIROUTER_IMPORT_ERROR;
        }

        if (run->opts.skip_disabled && !ch->enabled) {
            continue;
        }

        run->nchs++;
    }

    airouter_import_rank_priorities(run->chs, run->nchs);

    present = 0;
    disabled = 0;
    commented = 0;

    for (i = 0; i < run->nchs; i++) {
        ch = &run->chs[i];
        row = ch->row;

        if (run->merging
            && airouter_import_target_has(run->arena, &run->target, ch))
        {
            ch->present = 1;
            present++;
            continue;
        }

        if (airouter_import_unique_id(run, ch) != AIROUTER_IMPORT_OK) {
            return AIROUTER_IMPORT_ERROR;
        }

        if (ch->type == NULL) {
            fprintf(stderr, "airouter-import: channel %lld \"%s\": unknown "
                    "%s type %d: written as OpenAI-compatible (%s), check "
                    "it\n", row->id, ch->name,
                    airouter_import_flavor_name(run->src.flavor), row->type,
                    ch->base_url ? ch->base_url : "no base URL");

        } else if (ch->commented) {
            fprintf(stderr, "airouter-import: channel %lld \"%s\": type %d "
                    "%s: written commented out: %s\n", row->id, ch->name,
                    row->type, ch->type->type_name,
                    ch->notes.items[ch->notes.n - 1]);
        }

        commented += (size_t) ch->commented;
        disabled += (size_t) (!ch->enabled && !ch->commented);

        if (run->opts.inline_keys) {
            continue;
        }

        /* keys as ${NAME}; over HTTP one name per channel, to fill in */
        k = run->src.keys_given ? ch->keys.n : 1;
        comment = airouter_import_printf(run->arena, "%s channel %lld: %s",
                                         airouter_import_flavor_name(
                                             run->src.flavor),
                                         row->id, ch->name);

        for (n = 0; n < k; n++) {
            name = airouter_import_env_name(run->arena, ch->id, n, k);
            ref = name ? airouter_import_printf(run->arena, "${%s}", name)
                       : NULL;

            if (ref == NULL || comment == NULL
                || airouter_import_list_add(run->arena, &ch->key_refs, ref,
                                            (size_t) -1)
                   != AIROUTER_IMPORT_OK
                || airouter_import_env_set(run->arena, &run->env, name,
                       run->src.keys_given ? ch->keys.items[n] : "",
                       n == 0 ? comment : NULL, !run->src.keys_given)
                   != AIROUTER_IMPORT_OK)
            {
                return AIROUTER_IMPORT_ERROR;
            }
        }
    }

    fprintf(stderr, "airouter-import: %s: %zu channel%s", run->src.what,
            run->src.nrows, run->src.nrows == 1 ? "" : "s");

    if (run->opts.skip_disabled) {
        fprintf(stderr, ", %zu disabled left out",
                run->src.nrows - run->nchs);
    }

    fprintf(stderr, "; %zu written", run->nchs - present - commented);

    if (disabled) {
        fprintf(stderr, " (%zu disabled)", disabled);
    }

    if (commented) {
        fprintf(stderr, ", %zu commented out", commented);
    }

    if (present) {
        fprintf(stderr, ", %zu already in %s", present, run->opts.merge);
    }

    fprintf(stderr, "\n");

    return AIROUTER_IMPORT_OK;
}


/*
 * The keys-env file first (a failure there leaves stdout empty), then the
 * YAML: a whole config, or the --merge file with the new lines in it.
 */
static int
airouter_import_output(airouter_import_run_t *run)
{
    int                                rc;
    char                              *pind, *cind;
    size_t                             i, j, nwritten;
    airouter_import_buf_t              prov, chan, out;
    const airouter_import_provider_t  *pv;
    airouter_import_list_t             needed;

    if (run->opts.keys_env != NULL && !run->opts.inline_keys
        && airouter_import_env_write(run->opts.keys_env, &run->env)
           != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    memset(&prov, 0, sizeof(airouter_import_buf_t));
    memset(&chan, 0, sizeof(airouter_import_buf_t));
    memset(&out, 0, sizeof(airouter_import_buf_t));
    memset(&needed, 0, sizeof(airouter_import_list_t));

    pind = "  ";
    cind = "  ";

    if (run->merging) {
        airouter_import_target_indent(run->arena, &run->target, &pind, &cind);
    }

    rc = AIROUTER_IMPORT_OK;
    nwritten = 0;

    for (i = 0; i < run->nchs && rc == AIROUTER_IMPORT_OK; i++) {
        if (run->chs[i].present) {
            continue;
        }

        if (nwritten++ > 0) {
            airouter_import_buf_add(&chan, "\n", 1);
        }

        rc = airouter_import_emit_channel(&chan, &run->chs[i], cind,
                                          run->opts.inline_keys);

        /* the providers that live channels name and nobody defines */
        if (!run->chs[i].commented
            && !airouter_import_known(&run->known, run->chs[i].provider)
            && !airouter_import_known(&needed, run->chs[i].provider))
        {
            rc = airouter_import_list_add(run->arena, &needed,
                                          run->chs[i].provider, (size_t) -1);
        }
    }

    for (j = 0; j < needed.n && rc == AIROUTER_IMPORT_OK; j++) {
        pv = airouter_import_provider(needed.items[j]);

        if (pv != NULL) {
            rc = airouter_import_emit_provider(&prov, pv, pind);
        }
    }

    if (rc == AIROUTER_IMPORT_OK && run->merging) {
        if (nwritten > 0) {
            out.len = 0;
            airouter_import_buf_add(&out, "", 0);

            rc = airouter_import_splice(run->arena, &run->target,
                                        prov.data ? prov.data : "",
                                        chan.data ? chan.data : "", &out);

        } else {
            airouter_import_buf_add(&out, run->target.text, run->target.len);
        }

    } else if (rc == AIROUTER_IMPORT_OK) {
        airouter_import_buf_str(&out, "# airouter channels, imported by "
                                "airouter-import from ");
        airouter_import_buf_str(&out, run->src.what);
        airouter_import_buf_str(&out, ".\n");

        if (!run->opts.inline_keys) {
            airouter_import_buf_str(&out, "# Keys are ${NAME} references: "
                                    "export them to nginx, e.g.\n#   set -a; "
                                    ". ");
            airouter_import_buf_str(&out, run->opts.keys_env
                                          ? run->opts.keys_env : "KEYS.env");
            airouter_import_buf_str(&out, "; set +a; nginx -t\n");
        }

        if (prov.len > 0) {
            airouter_import_buf_str(&out, "\nproviders:\n");
            airouter_import_buf_add(&out, prov.data, prov.len);
        }

        if (nwritten > 0) {
            airouter_import_buf_str(&out, "\nchannels:\n");
            airouter_import_buf_add(&out, chan.data, chan.len);

        } else {
            airouter_import_buf_str(&out, "\nchannels: []\n");
        }
    }

    if (rc == AIROUTER_IMPORT_OK && out.failed) {
        rc = AIROUTER_IMPORT_ERROR;
    }

    if (rc == AIROUTER_IMPORT_OK
        && (fwrite(out.data, 1, out.len, stdout) != out.len
            || fflush(stdout) != 0))
    {
        fprintf(stderr, "airouter-import: standard output: %s\n",
                strerror(errno));
        rc = AIROUTER_IMPORT_ERROR;
    }

    airouter_import_buf_free(&prov);
    airouter_import_buf_free(&chan);
    airouter_import_buf_free(&out);

    return rc;
}


/* oneapi_3, or oneapi_3_2 when the target or an earlier row has it */
static int
airouter_import_unique_id(airouter_import_run_t *run,
    airouter_import_channel_t *ch)
{
    int     taken;
    char   *id;
    size_t  i, n;

    id = ch->id;

    for (n = 2; n < 1000; n++) {
        taken = airouter_import_known(&run->target.ids, id);

        for (i = 0; !taken && &run->chs[i] != ch; i++) {
            taken = !run->chs[i].present && strcmp(run->chs[i].id, id) == 0;
        }

        if (!taken) {
            ch->id = id;
            return AIROUTER_IMPORT_OK;
        }

        id = airouter_import_printf(run->arena, "%s_%zu", ch->id, n);
        if (id == NULL) {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    return AIROUTER_IMPORT_ERROR;
}


static int
airouter_import_known(const airouter_import_list_t *l, const char *s)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return 1;
        }
    }

    return 0;
}


airouter_import_row_t *
airouter_import_row_add(airouter_arena_t *a, airouter_import_source_t *src)
{
    airouter_import_row_t  *rows;

    if (src->nrows == src->cap) {
        src->cap = src->cap ? src->cap * 2 : 64;

        rows = airouter_arena_alloc(a, src->cap
                                       * sizeof(airouter_import_row_t));
        if (rows == NULL) {
            return NULL;
        }

        if (src->nrows) {
            memcpy(rows, src->rows,
                   src->nrows * sizeof(airouter_import_row_t));
        }

        src->rows = rows;
    }

    return &src->rows[src->nrows++];
}
