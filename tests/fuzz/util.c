/*
 * Helpers shared by the fuzz targets (see fuzz.h); linked into every
 * target, with driver.c or with libFuzzer.
 */

#define _GNU_SOURCE

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "airouter_config.h"
#include "airouter_catalog.h"


static char   fuzz_scratch[256];
static pid_t  fuzz_scratch_owner;


static void
fuzz_scratch_remove(void)
{
    char  cmd[512];

    /* children forked by the corpus replay share it: the parent removes */
    if (fuzz_scratch[0] != '\0' && getpid() == fuzz_scratch_owner) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_scratch);
        if (system(cmd) != 0) {
            /* a leftover scratch directory is harmless */
        }
    }
}


const char *
fuzz_scratch_dir(void)
{
    const char  *base;

    if (fuzz_scratch[0] != '\0') {
        return fuzz_scratch;
    }

    base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_scratch, sizeof(fuzz_scratch), "%s/airouter-fuzz.XXXXXX",
             base);

    if (mkdtemp(fuzz_scratch) == NULL) {
        perror("mkdtemp");
        abort();
    }

    fuzz_scratch_owner = getpid();
    atexit(fuzz_scratch_remove);

    return fuzz_scratch;
}


int
fuzz_write_file(const char *path, const void *data, size_t size)
{
    int  fd;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return -1;
    }

    if (size > 0 && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return -1;
    }

    return close(fd);
}


char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char  *s;

    s = malloc(size + 1);
    if (s == NULL) {
        abort();
    }

    memcpy(s, data, size);
    s[size] = '\0';

    return s;
}


static const char  fuzz_fixture_yaml[] =
    "providers:\n"
    "  relay:\n"
    "    base_url: https://relay.example/api/v1\n"
    "    free: true\n"
    "  ollama:\n"
    "    base_url: http://127.0.0.1:11434/v1\n"
    "    local: true\n"
    "channels:\n"
    "  - id: relay\n"
    "    provider: relay\n"
    "    api_key: sk-relay\n"
    "    tags: [fast, qwen]\n"
    "    configured_models:\n"
    "      - qwen/qwen3-30b-a3b:free\n"
    "      - qwen/qwen3-235b-a22b:free\n"
    "      - meta-llama/llama-3.3-70b-instruct:free\n"
    "      - moonshotai/kimi-k2:free\n"
    "  - id: paid\n"
    "    base_url: https://api.paid.example/v1\n"
    "    api_keys: [sk-a, sk-b]\n"
    "    priority: 2\n"
    "    configured_models: [gpt-4o-mini, claude-3-haiku-20240307, "
    "text-embedding-3-small, deepseek-chat]\n"
    "    model_aliases:\n"
    "      mini: gpt-4o-mini\n"
    "      haiku: claude-3-haiku-20240307\n"
    "    cost_per_token:\n"
    "      input: 0.00000015\n"
    "      output: 0.0000006\n"
    "  - id: local\n"
    "    provider: ollama\n"
    "    configured_models: [qwen3:8b, llava:13b, nomic-embed-text]\n"
    "  - id: off\n"
    "    base_url: https://off.example/v1\n"
    "    enabled: false\n"
    "    configured_models: [gpt-4o]\n"
    "routing:\n"
    "  default_strategy: balanced\n";


static airouter_config_t  *fuzz_fixture_cf;
static void               *fuzz_fixture_data;
static size_t              fuzz_fixture_len;


void *
fuzz_fixture_config(void)
{
    char             path[1024];
    airouter_diag_t  diag;

    if (fuzz_fixture_cf != NULL) {
        return fuzz_fixture_cf;
    }

    snprintf(path, sizeof(path), "%s/fixture", fuzz_scratch_dir());
    if (mkdir(path, 0755) != 0) {
        perror(path);
        abort();
    }

    snprintf(path, sizeof(path), "%s/fixture/router_config.yaml",
             fuzz_scratch_dir());

    if (fuzz_write_file(path, fuzz_fixture_yaml,
                        sizeof(fuzz_fixture_yaml) - 1) != 0)
    {
        perror(path);
        abort();
    }

    memset(&diag, 0, sizeof(diag));
    fuzz_fixture_cf = airouter_config_load(path, &diag);

    if (fuzz_fixture_cf == NULL) {
        fprintf(stderr, "fixture config: %s\n", diag.error);
        abort();
    }

    return fuzz_fixture_cf;
}


const void *
fuzz_fixture_blob(size_t *len)
{
    size_t                       i;
    airouter_model_info_t        info;
    airouter_catalog_builder_t  *b;

    static const char  *discovered[] = {
        "qwen/qwen3-coder:free", "deepseek/deepseek-r1:free",
        "google/gemma-3-27b-it:free", "mistralai/mixtral-8x7b-instruct:free"
    };

    if (fuzz_fixture_data == NULL) {
        b = airouter_catalog_builder_create(fuzz_fixture_config());
        if (b == NULL || airouter_catalog_builder_add_config(b) != 0) {
            abort();
        }

        for (i = 0; i < sizeof(discovered) / sizeof(discovered[0]); i++) {
            memset(&info, 0, sizeof(info));
            info.id = discovered[i];
            info.context = 32768 * (i + 1);

            if (airouter_catalog_builder_add_model(b, 0, &info) != 0) {
                abort();
            }
        }

        fuzz_fixture_data = airouter_catalog_builder_finish(b,
                                                            &fuzz_fixture_len);
        airouter_catalog_builder_destroy(b);

        if (fuzz_fixture_data == NULL
            || airouter_catalog_open(fuzz_fixture_data, fuzz_fixture_len)
               == NULL)
        {
            fprintf(stderr, "fixture catalogue does not open\n");
            abort();
        }
    }

    *len = fuzz_fixture_len;

    return fuzz_fixture_data;
}
