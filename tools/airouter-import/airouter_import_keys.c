/*
 * The --keys-env file: NAME=value lines that a shell (set -a; . FILE) and
 * systemd's EnvironmentFile= both read, so that nginx's master finds the
 * keys the YAML names as ${NAME}.  An existing file is read first: its
 * other lines stay, a value already filled in is kept when the source has
 * none (a channel list over HTTP never returns keys).  The file is
 * replaced atomically and is mode 0600 from its first byte.  Values never
 * reach stderr.  Called by airouter-import's main.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "airouter_import.h"


static char *airouter_import_env_unquote(airouter_arena_t *a, const char *s,
    size_t len);
static int airouter_import_env_name_ok(const char *s, size_t len);
static void airouter_import_env_quote(FILE *f, const char *v);


int
airouter_import_env_read(airouter_arena_t *a, const char *path,
    airouter_import_envfile_t *ef)
{
    FILE     *f;
    char     *line, *eq, *value, *comment;
    size_t    cap, len;
    ssize_t   n;

    memset(ef, 0, sizeof(airouter_import_envfile_t));

    f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT) {
            return AIROUTER_IMPORT_OK;
        }

        fprintf(stderr, "airouter-import: %s: %s\n", path, strerror(errno));
        return AIROUTER_IMPORT_ERROR;
    }

    line = NULL;
    cap = 0;
    comment = NULL;

    while ((n = getline(&line, &cap, f)) >= 0) {
        len = (size_t) n;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }

        eq = strchr(line, '=');

        if (line[0] == '#' || eq == NULL
            || !airouter_import_env_name_ok(line, (size_t) (eq - line)))
        {
            /* lines not ours are kept as they are; a comment directly
             * above a variable belongs to it (it is written again there) */
            if (comment != NULL
                && airouter_import_list_add(a, &ef->lines, comment,
                                            (size_t) -1)
                   != AIROUTER_IMPORT_OK)
            {
                break;
            }

            comment = NULL;

            if (strncmp(line, "# ", 2) == 0) {
                comment = airouter_arena_strdup(a, line);
                if (comment == NULL) {
                    break;
                }

                continue;
            }

            if (airouter_import_list_add(a, &ef->lines, line, len)
                != AIROUTER_IMPORT_OK)
            {
                break;
            }

            continue;
        }

        *eq = '\0';
        value = airouter_import_env_unquote(a, eq + 1,
                                            len - (size_t) (eq + 1 - line));

        if (value == NULL
            || airouter_import_env_set(a, ef, line, value,
                                       comment ? comment + 2 : NULL, 0)
               != AIROUTER_IMPORT_OK)
        {
            break;
        }

        comment = NULL;
    }

    free(line);

    if (comment != NULL) {
        (void) airouter_import_list_add(a, &ef->lines, comment, (size_t) -1);
    }

    if (ferror(f) || !feof(f)) {
        fprintf(stderr, "airouter-import: %s: cannot read it\n", path);
        fclose(f);
        return AIROUTER_IMPORT_ERROR;
    }

    fclose(f);

    return AIROUTER_IMPORT_OK;
}


/*
 * Sets NAME.  keep: an existing non-empty value wins over an empty one
 * (the source had no key for it).
 */
int
airouter_import_env_set(airouter_arena_t *a, airouter_import_envfile_t *ef,
    const char *name, const char *value, const char *comment, int keep)
{
    size_t                  i;
    airouter_import_env_t  *v;

    for (i = 0; i < ef->n; i++) {
        if (strcmp(ef->vars[i].name, name) == 0) {
            break;
        }
    }

    if (i == ef->n) {
        if (ef->n == ef->cap) {
            ef->cap = ef->cap ? ef->cap * 2 : 16;
            v = airouter_arena_alloc(a, ef->cap
                                        * sizeof(airouter_import_env_t));
            if (v == NULL) {
                return AIROUTER_IMPORT_ERROR;
            }

            if (ef->n) {
                memcpy(v, ef->vars, ef->n * sizeof(airouter_import_env_t));
            }

            ef->vars = v;
        }

        v = &ef->vars[ef->n++];
        v->name = airouter_arena_strdup(a, name);
        v->value = NULL;
        v->comment = NULL;

        if (v->name == NULL) {
            return AIROUTER_IMPORT_ERROR;
        }

    } else {
        v = &ef->vars[i];
    }

    if (comment != NULL) {
        v->comment = airouter_arena_strdup(a, comment);
    }

    if (keep && value[0] == '\0' && v->value != NULL && v->value[0] != '\0') {
        return AIROUTER_IMPORT_OK;
    }

    v->value = airouter_arena_strdup(a, value);

    return v->value ? AIROUTER_IMPORT_OK : AIROUTER_IMPORT_ERROR;
}


const char *
airouter_import_env_get(const airouter_import_envfile_t *ef, const char *name)
{
    size_t  i;

    for (i = 0; i < ef->n; i++) {
        if (strcmp(ef->vars[i].name, name) == 0) {
            return ef->vars[i].value;
        }
    }

    return NULL;
}


/* path.tmp (0600, O_EXCL) written in full, then renamed over path */
int
airouter_import_env_write(const char *path,
    const airouter_import_envfile_t *ef)
{
    int     fd;
    FILE   *f;
    char   *tmp;
    size_t  i, len;

    len = strlen(path) + sizeof(".tmp.XXXXXX");
    tmp = malloc(len);
    if (tmp == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    snprintf(tmp, len, "%s.tmp.XXXXXX", path);

    /* mkstemp creates the file 0600 */
    fd = mkstemp(tmp);
    if (fd == -1) {
        fprintf(stderr, "airouter-import: %s: %s\n", path, strerror(errno));
        free(tmp);
        return AIROUTER_IMPORT_ERROR;
    }

    if (fchmod(fd, 0600) == -1 || (f = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "airouter-import: %s: %s\n", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return AIROUTER_IMPORT_ERROR;
    }

    for (i = 0; i < ef->lines.n; i++) {
        fprintf(f, "%s\n", ef->lines.items[i]);
    }

    for (i = 0; i < ef->n; i++) {
        if (ef->vars[i].comment != NULL) {
            fprintf(f, "# %s\n", ef->vars[i].comment);
        }

        fprintf(f, "%s=", ef->vars[i].name);
        airouter_import_env_quote(f, ef->vars[i].value);
        fputc('\n', f);
    }

    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
        fprintf(stderr, "airouter-import: %s: %s\n", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        free(tmp);
        return AIROUTER_IMPORT_ERROR;
    }

    if (fclose(f) != 0 || rename(tmp, path) == -1) {
        fprintf(stderr, "airouter-import: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return AIROUTER_IMPORT_ERROR;
    }

    free(tmp);

    return AIROUTER_IMPORT_OK;
}


/*
 * Single quotes unless the value is plain; a value with a single quote in
 * it is double-quoted with \ before " \ $ and `, which sh and systemd read
 * alike.
 */
static void
airouter_import_env_quote(FILE *f, const char *v)
{
    const char  *p;

    if (v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_.:/+@%,")] == '\0')
    {
        fputs(v, f);
        return;
    }

    if (strchr(v, '\'') == NULL) {
        fprintf(f, "'%s'", v);
        return;
    }

    fputc('"', f);

    for (p = v; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '$' || *p == '`') {
            fputc('\\', f);
        }

        fputc(*p, f);
    }

    fputc('"', f);
}


/* the reverse of airouter_import_env_quote for what it writes */
static char *
airouter_import_env_unquote(airouter_arena_t *a, const char *s, size_t len)
{
    char    *d;
    size_t   i, j;

    d = airouter_arena_alloc(a, len + 1);
    if (d == NULL) {
        return NULL;
    }

    if (len >= 2 && s[0] == '\'' && s[len - 1] == '\'') {
        memcpy(d, s + 1, len - 2);
        d[len - 2] = '\0';
        return d;
    }

    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        for (i = 1, j = 0; i < len - 1; i++) {
            if (s[i] == '\\' && i + 1 < len - 1) {
                i++;
            }

            d[j++] = s[i];
        }

        d[j] = '\0';
        return d;
    }

    memcpy(d, s, len);
    d[len] = '\0';

    return d;
}


static int
airouter_import_env_name_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || (s[0] >= '0' && s[0] <= '9')) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}
