/*
 * Rows from a One-API / New-API / One-Hub SQLite database.  The channels
 * table has grown column by column over the projects' versions (priority
 * and model_mapping in One-API 0.5, config in 0.6, New-API's channel_info,
 * One-Hub's soft-delete deleted_at), so the columns are read from PRAGMA
 * table_info and only those present are selected.  The database is opened
 * read-only.  Called by airouter-import's main.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "airouter_import.h"


/* the columns we read, in SELECT order when present */
typedef enum {
    COL_ID = 0, COL_TYPE, COL_STATUS, COL_NAME, COL_KEY, COL_BASE_URL,
    COL_MODELS, COL_MODEL_MAPPING, COL_GROUP, COL_TAG, COL_OTHER,
    COL_CONFIG, COL_CHANNEL_INFO, COL_PRIORITY, COL_WEIGHT, COL_N
} airouter_import_col_e;

static const char  *airouter_import_cols[COL_N] = {
    "id", "type", "status", "name", "key", "base_url", "models",
    "model_mapping", "group", "tag", "other", "config", "channel_info",
    "priority", "weight"
};


typedef struct {
    airouter_import_list_t    names;    /* every column of the table */
} airouter_import_schema_t;


static int airouter_import_schema_has(void *ctx, const char *field);
static char *airouter_import_col_text(airouter_arena_t *a, sqlite3_stmt *st,
    int i);


int
airouter_import_sqlite(airouter_arena_t *a, const airouter_import_opts_t *opts,
    airouter_import_source_t *src)
{
    int                        rc, i, n, idx[COL_N];
    char                      *sql, *p;
    size_t                     len;
    sqlite3                   *db;
    sqlite3_stmt              *st;
    airouter_import_row_t     *row;
    airouter_import_schema_t   schema;

    memset(&schema, 0, sizeof(airouter_import_schema_t));
    db = NULL;
    st = NULL;

    rc = sqlite3_open_v2(opts->source, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "airouter-import: %s: %s\n", opts->source,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return AIROUTER_IMPORT_ERROR;
    }

    rc = sqlite3_prepare_v2(db, "PRAGMA table_info(\"channels\")", -1, &st,
                            NULL);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_text(st, 1) != NULL
            && airouter_import_list_add(a, &schema.names,
                   (const char *) sqlite3_column_text(st, 1), (size_t) -1)
               != AIROUTER_IMPORT_OK)
        {
            sqlite3_finalize(st);
            sqlite3_close(db);
            return AIROUTER_IMPORT_ERROR;
        }
    }

    sqlite3_finalize(st);
    st = NULL;

    if (rc != SQLITE_DONE) {
        goto failed;
    }

    if (!airouter_import_schema_has(&schema, "id")
        || !airouter_import_schema_has(&schema, "type"))
    {
        fprintf(stderr, "airouter-import: %s: no \"channels\" table with id "
                "and type: not a One-API, New-API or One-Hub database\n",
                opts->source);
        sqlite3_close(db);
        return AIROUTER_IMPORT_ERROR;
    }

    src->flavor = opts->flavor;

    if (src->flavor == AIROUTER_IMPORT_UNKNOWN) {
        src->flavor = airouter_import_flavor_by_fields(
                                      airouter_import_schema_has, &schema);
    }

    src->keys_given = airouter_import_schema_has(&schema, "key");

    /* SELECT "id", "type", ... FROM "channels" [WHERE deleted_at IS NULL] */
    len = 64 + sizeof(" WHERE \"deleted_at\" IS NULL ORDER BY \"id\"");
    for (i = 0; i < COL_N; i++) {
        len += strlen(airouter_import_cols[i]) + 4;
    }

    sql = airouter_arena_alloc(a, len);
    if (sql == NULL) {
        sqlite3_close(db);
        return AIROUTER_IMPORT_ERROR;
    }

    p = sql + sprintf(sql, "SELECT ");
    n = 0;

    for (i = 0; i < COL_N; i++) {
        idx[i] = -1;

        if (airouter_import_schema_has(&schema, airouter_import_cols[i])) {
            p += sprintf(p, "%s\"%s\"", n ? ", " : "",
                         airouter_import_cols[i]);
            idx[i] = n++;
        }
    }

    p += sprintf(p, " FROM \"channels\"");

    /* One-Hub deletes softly */
    if (airouter_import_schema_has(&schema, "deleted_at")) {
        p += sprintf(p, " WHERE \"deleted_at\" IS NULL");
    }

    sprintf(p, " ORDER BY \"id\"");

    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row = airouter_import_row_add(a, src);
        if (row == NULL) {
            sqlite3_finalize(st);
            sqlite3_close(db);
            return AIROUTER_IMPORT_ERROR;
        }

        row->id = sqlite3_column_int64(st, idx[COL_ID]);
        row->type = sqlite3_column_int(st, idx[COL_TYPE]);
        row->status = (idx[COL_STATUS] >= 0)
                      ? sqlite3_column_int(st, idx[COL_STATUS]) : 1;

        row->name = airouter_import_col_text(a, st, idx[COL_NAME]);
        row->key = airouter_import_col_text(a, st, idx[COL_KEY]);
        row->base_url = airouter_import_col_text(a, st, idx[COL_BASE_URL]);
        row->models = airouter_import_col_text(a, st, idx[COL_MODELS]);
        row->model_mapping = airouter_import_col_text(a, st,
                                                      idx[COL_MODEL_MAPPING]);
        row->group = airouter_import_col_text(a, st, idx[COL_GROUP]);
        row->tag = airouter_import_col_text(a, st, idx[COL_TAG]);
        row->other = airouter_import_col_text(a, st, idx[COL_OTHER]);
        row->config = airouter_import_col_text(a, st, idx[COL_CONFIG]);
        row->channel_info = airouter_import_col_text(a, st,
                                                     idx[COL_CHANNEL_INFO]);

        if (idx[COL_PRIORITY] >= 0
            && sqlite3_column_type(st, idx[COL_PRIORITY]) != SQLITE_NULL)
        {
            row->has_priority = 1;
            row->priority = sqlite3_column_int64(st, idx[COL_PRIORITY]);
        }

        if (idx[COL_WEIGHT] >= 0
            && sqlite3_column_type(st, idx[COL_WEIGHT]) != SQLITE_NULL)
        {
            row->has_weight = 1;
            row->weight = sqlite3_column_double(st, idx[COL_WEIGHT]);
        }
    }

    sqlite3_finalize(st);
    st = NULL;

    if (rc != SQLITE_DONE) {
        goto failed;
    }

    sqlite3_close(db);

    src->what = airouter_import_printf(a, "%s database %s",
                                       airouter_import_flavor_name(
                                           src->flavor),
                                       opts->source);

    return AIROUTER_IMPORT_OK;

failed:

    /* SQLite's messages name tables and columns, never values */
    fprintf(stderr, "airouter-import: %s: %s\n", opts->source,
            sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);

    return AIROUTER_IMPORT_ERROR;
}


static int
airouter_import_schema_has(void *ctx, const char *field)
{
    size_t                     i;
    airouter_import_schema_t  *s;

    s = ctx;

    for (i = 0; i < s->names.n; i++) {
        if (strcmp(s->names.items[i], field) == 0) {
            return 1;
        }
    }

    return 0;
}


/* NULL for an absent column or SQL NULL */
static char *
airouter_import_col_text(airouter_arena_t *a, sqlite3_stmt *st, int i)
{
    int                   n;
    const unsigned char  *s;

    if (i < 0 || sqlite3_column_type(st, i) == SQLITE_NULL) {
        return NULL;
    }

    s = sqlite3_column_text(st, i);
    n = sqlite3_column_bytes(st, i);

    if (s == NULL) {
        return NULL;
    }

    return airouter_arena_strndup(a, (const char *) s, (size_t) n);
}
