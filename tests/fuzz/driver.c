/*
 * A standalone driver for the fuzz targets, so that they build with gcc
 * and run without libFuzzer:
 *
 *   fuzz_x [DIR|FILE ...]            replay: every file once, each in a
 *                                    child process; prints
 *                                    "fuzz_x: N passed, M failed"
 *   fuzz_x -t SECONDS [-n MAX] [-s SEED] [-x DICT] [-a DIR] [-m LEN] DIR...
 *                                    random mode: mutates the corpus files
 *                                    (bit flips, byte edits, range copies,
 *                                    splices, dictionary tokens) and runs
 *                                    each mutant, for SECONDS or MAX runs
 *
 * Without a path the corpus compiled in (FUZZ_DEFAULT_CORPUS) is used.
 * Random mode has no coverage feedback: it keeps a ring of recent mutants
 * to stack mutations, and leans on the per-target dictionary.  When an
 * input crashes (sanitizer report, oracle abort, signal) it is written to
 * the artifact directory (-a, default ".") as crash-<hash> and the run
 * fails.  Under a sanitizer (FUZZ_SANITIZED) each input is passed in a
 * malloc'd block of exactly its size, so
 * AddressSanitizer sees a read one byte past the end; without a
 * sanitizer the input ends right before an inaccessible page, so such a
 * read faults in the plain build too.
 */

#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"


typedef struct {
    uint8_t                  *data;
    size_t                    size;
    char                     *name;
} fuzz_input_t;


typedef struct {
    fuzz_input_t             *v;
    size_t                    n;
    size_t                    cap;
} fuzz_inputs_t;


#define FUZZ_RING  256

static const char      *fuzz_name = "fuzz";
static const char      *fuzz_artifacts = ".";
static const uint8_t   *fuzz_current;
static size_t           fuzz_current_size;
static uint64_t         fuzz_rng;

static fuzz_inputs_t    fuzz_seeds;
static fuzz_inputs_t    fuzz_dict;


static int fuzz_add_path(fuzz_inputs_t *in, const char *path);
static int fuzz_add_file(fuzz_inputs_t *in, const char *path);
static int fuzz_push(fuzz_inputs_t *in, uint8_t *data, size_t size,
    const char *name);
static int fuzz_load_dict(const char *path);
static int fuzz_replay(int fork_each);
static int fuzz_random(double seconds, unsigned long max, size_t maxlen);
static size_t fuzz_mutate(uint8_t *buf, size_t len, size_t cap);
static void fuzz_run(const uint8_t *data, size_t size);
static void fuzz_save_crash(void);
static void fuzz_on_signal(int sig);
static uint64_t fuzz_rand(void);
static double fuzz_now(void);


#ifdef FUZZ_SANITIZED
void __sanitizer_set_death_callback(void (*callback)(void));
#endif


__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    return 0;
}


int
main(int argc, char **argv)
{
    int            c, i, rc;
    char          *slash;
    size_t         maxlen;
    double         seconds;
    unsigned long  max;

    slash = strrchr(argv[0], '/');
    fuzz_name = slash ? slash + 1 : argv[0];

    seconds = 0;
    max = 0;
    maxlen = 4096;
    fuzz_rng = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32);

    while ((c = getopt(argc, argv, "t:n:s:x:a:m:")) != -1) {
        switch (c) {
        case 't':
            seconds = atof(optarg);
            break;
        case 'n':
            max = strtoul(optarg, NULL, 10);
            break;
        case 's':
            fuzz_rng = strtoull(optarg, NULL, 10);
            break;
        case 'x':
            if (fuzz_load_dict(optarg) != 0) {
                return 2;
            }
            break;
        case 'a':
            fuzz_artifacts = optarg;
            break;
        case 'm':
            maxlen = strtoul(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: %s [-t seconds] [-n runs] [-s seed] "
                    "[-x dict] [-a artifact_dir] [-m max_len] "
                    "[corpus_dir|file ...]\n", fuzz_name);
            return 2;
        }
    }

    fuzz_rng = fuzz_rng * 6364136223846793005ULL + 1442695040888963407ULL;

    if (optind == argc) {
#ifdef FUZZ_DEFAULT_CORPUS
        if (fuzz_add_path(&fuzz_seeds, FUZZ_DEFAULT_CORPUS) != 0) {
            return 2;
        }
#else
        fprintf(stderr, "%s: no corpus given\n", fuzz_name);
        return 2;
#endif
    }

    for (i = optind; i < argc; i++) {
        if (fuzz_add_path(&fuzz_seeds, argv[i]) != 0) {
            return 2;
        }
    }

    LLVMFuzzerInitialize(&argc, &argv);

#ifdef FUZZ_SANITIZED
    __sanitizer_set_death_callback(fuzz_save_crash);
#else
    signal(SIGSEGV, fuzz_on_signal);
    signal(SIGBUS, fuzz_on_signal);
    signal(SIGFPE, fuzz_on_signal);
    signal(SIGILL, fuzz_on_signal);
#endif
    signal(SIGABRT, fuzz_on_signal);

    if (seconds > 0 || max > 0) {
        rc = fuzz_random(seconds, max, maxlen);

    } else {
        rc = fuzz_replay(1);
    }

    return rc;
}


static int
fuzz_replay(int fork_each)
{
    int     status;
    size_t  i, passed, failed;
    pid_t   pid;

    passed = 0;
    failed = 0;

    for (i = 0; i < fuzz_seeds.n; i++) {
        if (!fork_each) {
            fuzz_run(fuzz_seeds.v[i].data, fuzz_seeds.v[i].size);
            passed++;
            continue;
        }

        fflush(stdout);
        fflush(stderr);

        pid = fork();

        if (pid < 0) {
            perror("fork");
            return 2;
        }

        if (pid == 0) {
            /* no artifact for a corpus file: it is already on disk */
            fuzz_artifacts = NULL;
            fuzz_run(fuzz_seeds.v[i].data, fuzz_seeds.v[i].size);
            exit(0);
        }

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            /* void */
        }

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;

        } else {
            failed++;
            fprintf(stderr, "FAIL %s: %s: %s %d\n", fuzz_name,
                    fuzz_seeds.v[i].name,
                    WIFSIGNALED(status) ? "signal" : "exit status",
                    WIFSIGNALED(status) ? WTERMSIG(status)
                                        : WEXITSTATUS(status));
        }
    }

    printf("%s: %zu passed, %zu failed\n", fuzz_name, passed, failed);

    return failed ? 1 : 0;
}


static int
fuzz_random(double seconds, unsigned long max, size_t maxlen)
{
    size_t          len, k, cap;
    uint8_t        *buf;
    double          start, now, last;
    unsigned long   runs;
    fuzz_input_t   *src;
    fuzz_input_t    ring[FUZZ_RING];
    size_t          nring;

    cap = maxlen + 64;
    buf = malloc(cap);
    if (buf == NULL) {
        return 2;
    }

    memset(ring, 0, sizeof(ring));
    nring = 0;

    /* the seeds themselves first */
    for (k = 0; k < fuzz_seeds.n; k++) {
        fuzz_run(fuzz_seeds.v[k].data, fuzz_seeds.v[k].size);
    }

    start = fuzz_now();
    last = start;
    runs = 0;

    for ( ;; ) {
        if (max > 0 && runs >= max) {
            break;
        }

        if ((runs & 63) == 0) {
            now = fuzz_now();

            if (seconds > 0 && now - start >= seconds) {
                break;
            }

            if (now - last >= 10) {
                fprintf(stderr, "%s: %lu runs, %.0f s, %.0f runs/s\n",
                        fuzz_name, runs, now - start,
                        runs / (now - start));
                last = now;
            }
        }

        /* a seed, a recent mutant, or nothing at all */
        k = fuzz_rand() % 16;

        if (k < 9 && fuzz_seeds.n > 0) {
            src = &fuzz_seeds.v[fuzz_rand() % fuzz_seeds.n];

        } else if (k < 15 && nring > 0) {
            src = &ring[fuzz_rand() % nring];

        } else {
            src = NULL;
        }

        len = 0;

        if (src != NULL) {
            len = src->size < maxlen ? src->size : maxlen;
            memcpy(buf, src->data, len);
        }

        len = fuzz_mutate(buf, len, maxlen);

        fuzz_run(buf, len);
        runs++;

        /* keep some mutants to mutate again */
        if (fuzz_rand() % 8 == 0) {
            k = nring < FUZZ_RING ? nring++ : fuzz_rand() % FUZZ_RING;
            free(ring[k].data);
            ring[k].data = malloc(len ? len : 1);
            if (ring[k].data == NULL) {
                return 2;
            }
            memcpy(ring[k].data, buf, len);
            ring[k].size = len;
        }
    }

    now = fuzz_now();
    printf("%s: random mode: %lu runs in %.1f s (%.0f runs/s), "
           "%zu seeds, no crash\n", fuzz_name, runs, now - start,
           runs / (now - start > 0 ? now - start : 1), fuzz_seeds.n);

    for (k = 0; k < nring; k++) {
        free(ring[k].data);
    }

    free(buf);

    return 0;
}


static size_t
fuzz_mutate(uint8_t *buf, size_t len, size_t cap)
{
    int              m, n;
    size_t           i, j, l, room;
    const fuzz_input_t *in;

    static const uint8_t  special[] = {
        0, 0xff, 0x7f, 0x80, 0xc3, 0xe2, 0xf0, '"', '\\', '{', '}', '[',
        ']', ':', ',', '\n', '\r', ' ', '-', '0', '9', 'e', '.', '\t', '#',
        '&', '*', '!', '|', '>', '\'', 'u'
    };

    n = 1 + (int) (fuzz_rand() % 8);

    for (m = 0; m < n; m++) {
        switch (fuzz_rand() % 12) {

        case 0:                                 /* flip a bit */
            if (len) {
                buf[fuzz_rand() % len] ^= (uint8_t) (1u << (fuzz_rand() % 8));
            }
            break;

        case 1:                                 /* a random byte */
            if (len) {
                buf[fuzz_rand() % len] = (uint8_t) fuzz_rand();
            }
            break;

        case 2:                                 /* a byte that matters */
            if (len) {
                buf[fuzz_rand() % len] =
                    special[fuzz_rand() % sizeof(special)];
            }
            break;

        case 3:                                 /* delete a range */
            if (len) {
                i = fuzz_rand() % len;
                l = 1 + fuzz_rand() % (fuzz_rand() % 4 ? 4 : len - i);
                l = l > len - i ? len - i : l;
                memmove(buf + i, buf + i + l, len - i - l);
                len -= l;
            }
            break;

        case 4:                                 /* copy a range elsewhere */
            if (len && len < cap) {
                uint8_t  *tmp;

                i = fuzz_rand() % len;
                l = 1 + fuzz_rand() % (len - i);
                l = l > cap - len ? cap - len : l;
                tmp = malloc(l);
                if (tmp != NULL) {
                    memcpy(tmp, buf + i, l);
                    j = fuzz_rand() % (len + 1);
                    memmove(buf + j + l, buf + j, len - j);
                    memcpy(buf + j, tmp, l);
                    len += l;
                    free(tmp);
                }
            }
            break;

        case 5:                                 /* insert a dictionary token */
        case 6:
            if (fuzz_dict.n) {
                in = &fuzz_dict.v[fuzz_rand() % fuzz_dict.n];
                l = in->size;
                if (len + l <= cap) {
                    j = fuzz_rand() % (len + 1);
                    memmove(buf + j + l, buf + j, len - j);
                    memcpy(buf + j, in->data, l);
                    len += l;
                }
            }
            break;

        case 7:                                 /* overwrite with a token */
            if (fuzz_dict.n && len) {
                in = &fuzz_dict.v[fuzz_rand() % fuzz_dict.n];
                j = fuzz_rand() % len;
                l = in->size < len - j ? in->size : len - j;
                memcpy(buf + j, in->data, l);
            }
            break;

        case 8:                                 /* insert random bytes */
            room = cap - len;
            l = 1 + fuzz_rand() % 8;
            if (l <= room) {
                j = fuzz_rand() % (len + 1);
                memmove(buf + j + l, buf + j, len - j);
                for (i = 0; i < l; i++) {
                    buf[j + i] = fuzz_rand() % 2
                                 ? special[fuzz_rand() % sizeof(special)]
                                 : (uint8_t) fuzz_rand();
                }
                len += l;
            }
            break;

        case 9:                                 /* splice with a seed */
            if (fuzz_seeds.n) {
                in = &fuzz_seeds.v[fuzz_rand() % fuzz_seeds.n];
                if (in->size) {
                    i = fuzz_rand() % in->size;
                    j = len ? fuzz_rand() % len : 0;
                    l = in->size - i;
                    l = l > cap - j ? cap - j : l;
                    memcpy(buf + j, in->data + i, l);
                    len = j + l;
                }
            }
            break;

        case 10:                                /* truncate */
            if (len) {
                len = fuzz_rand() % len;
            }
            break;

        default:                                /* a number */
            {
                char      num[32];
                static const char *fmt[] = { "%llu", "-%llu", "%llu.5",
                                             "1e%llu" };
                unsigned long long  v;

                v = fuzz_rand() % 4 == 0 ? fuzz_rand()
                                         : fuzz_rand() % 1000;
                l = (size_t) snprintf(num, sizeof(num),
                                      fmt[fuzz_rand() % 4], v);
                if (len + l <= cap) {
                    j = fuzz_rand() % (len + 1);
                    memmove(buf + j + l, buf + j, len - j);
                    memcpy(buf + j, num, l);
                    len += l;
                }
            }
            break;
        }
    }

    return len;
}


static void
fuzz_run(const uint8_t *data, size_t size)
{
    uint8_t  *copy;

#ifdef FUZZ_SANITIZED

    /* exactly size bytes: AddressSanitizer sees one byte past the end */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

#else

    /*
     * Without a sanitizer the input ends where an inaccessible page
     * starts, so a read past its end is a SIGSEGV even in `make test`.
     */
    static uint8_t  *region;
    static size_t    region_size;
    size_t           page, need;

    page = (size_t) sysconf(_SC_PAGESIZE);
    need = (size + page - 1) / page * page;
    need = need ? need : page;

    if (need > region_size) {
        if (region != NULL) {
            munmap(region, region_size + page);
        }

        region = mmap(NULL, need + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED
            || mprotect(region + need, page, PROT_NONE) != 0)
        {
            abort();
        }

        region_size = need;
    }

    copy = region + region_size - size;

#endif

    memcpy(copy, data, size);

    fuzz_current = copy;
    fuzz_current_size = size;

    LLVMFuzzerTestOneInput(copy, size);

    fuzz_current = NULL;

#ifdef FUZZ_SANITIZED
    free(copy);
#endif
}


static void
fuzz_save_crash(void)
{
    int       fd;
    size_t    i;
    uint64_t  h;
    char      path[4096];

    if (fuzz_current == NULL || fuzz_artifacts == NULL) {
        return;
    }

    h = 1469598103934665603ULL;
    for (i = 0; i < fuzz_current_size; i++) {
        h = (h ^ fuzz_current[i]) * 1099511628211ULL;
    }

    snprintf(path, sizeof(path), "%s/crash-%s-%016llx", fuzz_artifacts,
             fuzz_name, (unsigned long long) h);

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, fuzz_current, fuzz_current_size) < 0) {
            /* nothing more to do in a dying process */
        }
        close(fd);
        fprintf(stderr, "%s: crashing input (%zu bytes) written to %s\n",
                fuzz_name, fuzz_current_size, path);
    }

    fuzz_current = NULL;
}


static void
fuzz_on_signal(int sig)
{
    fuzz_save_crash();
    signal(sig, SIG_DFL);
    raise(sig);
}


static int
fuzz_add_path(fuzz_inputs_t *in, const char *path)
{
    int             i, n;
    char            sub[4096];
    struct stat     st;
    struct dirent **names;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", fuzz_name, path, strerror(errno));
        return -1;
    }

    if (!S_ISDIR(st.st_mode)) {
        return fuzz_add_file(in, path);
    }

    n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: %s: %s\n", fuzz_name, path, strerror(errno));
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);

            if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)
                && fuzz_add_file(in, sub) != 0)
            {
                return -1;
            }
        }

        free(names[i]);
    }

    free(names);

    return 0;
}


static int
fuzz_add_file(fuzz_inputs_t *in, const char *path)
{
    FILE     *f;
    long      size;
    uint8_t  *data;

    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "%s: %s: %s\n", fuzz_name, path, strerror(errno));
        if (f) {
            fclose(f);
        }
        return -1;
    }

    data = malloc(size ? (size_t) size : 1);
    if (data == NULL
        || fread(data, 1, (size_t) size, f) != (size_t) size)
    {
        fprintf(stderr, "%s: %s: read failed\n", fuzz_name, path);
        fclose(f);
        free(data);
        return -1;
    }

    fclose(f);

    return fuzz_push(in, data, (size_t) size, path);
}


static int
fuzz_push(fuzz_inputs_t *in, uint8_t *data, size_t size, const char *name)
{
    fuzz_input_t  *v;

    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 64;
        v = realloc(in->v, in->cap * sizeof(fuzz_input_t));
        if (v == NULL) {
            return -1;
        }
        in->v = v;
    }

    in->v[in->n].data = data;
    in->v[in->n].size = size;
    in->v[in->n].name = strdup(name);
    in->n++;

    return 0;
}


/* libFuzzer's dictionary format: one "token" per line, \\ \" \xNN escapes,
 * optionally name="token"; # comments. */
static int
fuzz_load_dict(const char *path)
{
    FILE     *f;
    char      line[4096], *p;
    size_t    n;
    uint8_t  *tok;
    unsigned  v;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", fuzz_name, path, strerror(errno));
        return -1;
    }

    while (fgets(line, sizeof(line), f) != NULL) {
        p = strchr(line, '"');
        if (line[0] == '#' || p == NULL) {
            continue;
        }

        tok = malloc(strlen(p) + 1);
        if (tok == NULL) {
            fclose(f);
            return -1;
        }

        n = 0;

        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1] == 'x' && sscanf(p + 2, "%2x", &v) == 1) {
                tok[n++] = (uint8_t) v;
                p += 3;

            } else if (*p == '\\' && p[1] != '\0') {
                tok[n++] = (uint8_t) *++p;

            } else {
                tok[n++] = (uint8_t) *p;
            }
        }

        if (n == 0 || fuzz_push(&fuzz_dict, tok, n, "dict") != 0) {
            free(tok);
        }
    }

    fclose(f);

    return 0;
}


static uint64_t
fuzz_rand(void)
{
    /* xorshift64* */
    fuzz_rng ^= fuzz_rng >> 12;
    fuzz_rng ^= fuzz_rng << 25;
    fuzz_rng ^= fuzz_rng >> 27;

    return fuzz_rng * 2685821657736338717ULL;
}


static double
fuzz_now(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return tv.tv_sec + tv.tv_usec / 1e6;
}
