/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * embed: turn the web/ folder into a C source file at build time.
 *
 *     embed OUT.c DIR
 *
 * walks DIR recursively (dotfiles and dot-folders skipped), sorts the files
 * by their path so the output is byte-for-byte deterministic, and writes
 * OUT.c with one `static const unsigned char data_N[]` array per file
 * (followed by a NUL byte that is not counted in the length, so text assets
 * can be used as C strings) and the table `http_assets[]` declared by
 * src/http/assets.h. The content type of each file comes from its
 * extension; an unknown extension is an error, so a stray file never ships
 * with a guessed type. The output is written to OUT.c.tmp and renamed, so a
 * failed run never leaves a partial OUT.c behind. Errors go to stderr and
 * the exit status is 1.
 *
 * This is a build tool, not part of the server: it uses plain libc and
 * POSIX, and allocation failure simply ends the run.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Bytes of a data array written on one output line. */
#define EMBED_BYTES_PER_LINE 12

struct content_type {
    const char *ext; /* without the dot, compared case-insensitively */
    const char *type;
};

static const struct content_type content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
};

/* One file found under DIR. */
struct entry {
    char *rel;        /* path relative to DIR, without leading '/' */
    char *full;       /* path to open: DIR/rel */
    const char *type; /* borrowed from content_types[] */
};

struct entry_list {
    struct entry *items;
    size_t len;
    size_t cap;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fputs("embed: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        fail("out of memory");
        exit(1);
    }
    return p;
}

/* Returns a new string "a" + sep + "b" (sep may be NUL for none). */
static char *
path_join(const char *a, char sep, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t ls = sep != '\0' ? 1 : 0;
    char *s;

    if (la > SIZE_MAX - lb - ls - 1) {
        fail("path too long");
        exit(1);
    }
    s = xmalloc(la + ls + lb + 1);
    memcpy(s, a, la);
    if (ls) {
        s[la] = sep;
    }
    memcpy(s + la + ls, b, lb);
    s[la + ls + lb] = '\0';
    return s;
}

/*
 * A name is served as a URL path and written inside a C string literal, so
 * only characters that need no escaping in either place are accepted.
 */
static bool
name_is_safe(const char *name)
{
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
                  c == '~';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static const char *
type_for(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash != NULL ? slash + 1 : rel;
    const char *dot = strrchr(base, '.');

    if (dot == NULL || dot == base) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]);
         i++) {
        if (strcasecmp(dot + 1, content_types[i].ext) == 0) {
            return content_types[i].type;
        }
    }
    return NULL;
}

/* Makes room for one more entry, so that list_push() cannot fail. */
static void
list_reserve(struct entry_list *list)
{
    if (list->len == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        struct entry *items;

        if (cap > SIZE_MAX / sizeof(*items)) {
            fail("too many files");
            exit(1);
        }
        items = realloc(list->items, cap * sizeof(*items));
        if (items == NULL) {
            fail("out of memory");
            exit(1);
        }
        list->items = items;
        list->cap = cap;
    }
}

/* Appends an entry; takes rel and full. list_reserve() must come first. */
static void
list_push(struct entry_list *list, char *rel, char *full, const char *type)
{
    list->items[list->len].rel = rel;
    list->items[list->len].full = full;
    list->items[list->len].type = type;
    list->len++;
}

static void
list_clear(struct entry_list *list)
{
    for (size_t i = 0; i < list->len; i++) {
        free(list->items[i].rel);
        free(list->items[i].full);
    }
    free(list->items);
    list->items = NULL;
    list->len = 0;
    list->cap = 0;
}

/*
 * Adds every file under full (whose path relative to the root is rel, ""
 * for the root itself) to list. Returns 0, or -1 after printing an error.
 */
static int
walk(const char *full, const char *rel, struct entry_list *list)
{
    DIR *dir = opendir(full);
    struct dirent *de;
    int rc = -1;

    if (dir == NULL) {
        fail("cannot open directory '%s': %s", full, strerror(errno));
        return -1;
    }
    for (;;) {
        struct stat st;
        char *child_full;
        char *child_rel;

        errno = 0;
        de = readdir(dir);
        if (de == NULL) {
            if (errno != 0) {
                fail("cannot read directory '%s': %s", full, strerror(errno));
                goto out;
            }
            break;
        }
        if (de->d_name[0] == '.') {
            continue; /* ".", ".." and dotfiles such as .gitkeep */
        }
        list_reserve(list);
        child_full = path_join(full, '/', de->d_name);
        child_rel = rel[0] != '\0' ? path_join(rel, '/', de->d_name)
                                   : path_join(de->d_name, '\0', "");
        if (!name_is_safe(de->d_name)) {
            fail("'%s': unsupported character in name (allowed: A-Z a-z "
                 "0-9 . _ - ~)",
                 child_full);
            free(child_full);
            free(child_rel);
            goto out;
        }
        if (lstat(child_full, &st) != 0) {
            fail("cannot stat '%s': %s", child_full, strerror(errno));
            free(child_full);
            free(child_rel);
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = walk(child_full, child_rel, list);

            free(child_full);
            free(child_rel);
            if (sub != 0) {
                goto out;
            }
        } else if (S_ISREG(st.st_mode)) {
            const char *type = type_for(child_rel);

            if (type == NULL) {
                fail("'%s': unknown file extension, no content type (known: "
                     ".html .css .js .json .svg .png .ico .woff2 .txt)",
                     child_full);
                free(child_full);
                free(child_rel);
                goto out;
            }
            list_push(list, child_rel, child_full, type); /* transferred */
        } else {
            fail("'%s': not a regular file or directory (symbolic links "
                 "are not followed)",
                 child_full);
            free(child_full);
            free(child_rel);
            goto out;
        }
    }
    rc = 0;
out:
    closedir(dir);
    return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
    const struct entry *ea = a;
    const struct entry *eb = b;

    return strcmp(ea->rel, eb->rel);
}

/*
 * Writes the bytes of e->full as the array data_<index>. Stores the number
 * of bytes in *len. Returns 0, or -1 after printing an error.
 */
static int
write_data(FILE *out, size_t index, const struct entry *e, size_t *len)
{
    unsigned char buf[65536];
    FILE *in = fopen(e->full, "rb");
    size_t total = 0;
    size_t n;

    if (in == NULL) {
        fail("cannot open '%s': %s", e->full, strerror(errno));
        return -1;
    }
    fprintf(out, "/* /%s */\nstatic const unsigned char data_%zu[] = {", e->rel,
            index);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if ((total + i) % EMBED_BYTES_PER_LINE == 0) {
                fputs("\n   ", out);
            }
            fprintf(out, " 0x%02x,", buf[i]);
        }
        total += n;
    }
    if (ferror(in)) {
        fail("cannot read '%s': %s", e->full, strerror(errno));
        fclose(in);
        return -1;
    }
    fclose(in);
    fputs("\n    0x00 /* terminator, not counted */\n};\n\n", out);
    *len = total;
    return 0;
}

static int
write_output(FILE *out, const struct entry_list *list)
{
    size_t *lens = xmalloc(list->len * sizeof(*lens));
    int rc = -1;

    fputs("/* Generated by tools/embed from the web/ folder. Do not edit. */\n"
          "#include <stddef.h>\n\n"
          "#include \"http/assets.h\"\n\n",
          out);
    for (size_t i = 0; i < list->len; i++) {
        if (write_data(out, i, &list->items[i], &lens[i]) != 0) {
            goto out;
        }
    }
    fputs("const struct http_asset http_assets[] = {\n", out);
    for (size_t i = 0; i < list->len; i++) {
        fprintf(out, "    {\"/%s\", \"%s\", data_%zu, %zu},\n",
                list->items[i].rel, list->items[i].type, i, lens[i]);
    }
    if (list->len == 0) {
        /* ISO C has no empty initialiser; the count below stays 0. */
        fputs("    {NULL, NULL, NULL, 0},\n", out);
    }
    fprintf(out, "};\n\nconst size_t http_assets_count = %zu;\n", list->len);
    rc = 0;
out:
    free(lens);
    return rc;
}

int
main(int argc, char **argv)
{
    struct entry_list list = {NULL, 0, 0};
    struct stat st;
    const char *out_path;
    const char *dir_path;
    char *tmp_path = NULL;
    FILE *out = NULL;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: embed OUT.c DIR\n");
        return 1;
    }
    out_path = argv[1];
    dir_path = argv[2];
    if (stat(dir_path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fail("'%s' is not a directory", dir_path);
        return 1;
    }
    if (walk(dir_path, "", &list) != 0) {
        goto out;
    }
    qsort(list.items, list.len, sizeof(*list.items), entry_cmp);

    tmp_path = path_join(out_path, '\0', ".tmp");
    out = fopen(tmp_path, "w");
    if (out == NULL) {
        fail("cannot create '%s': %s", tmp_path, strerror(errno));
        goto out;
    }
    if (write_output(out, &list) != 0) {
        goto out;
    }
    if (ferror(out) || fflush(out) != 0) {
        fail("cannot write '%s': %s", tmp_path, strerror(errno));
        goto out;
    }
    if (fclose(out) != 0) {
        out = NULL;
        fail("cannot write '%s': %s", tmp_path, strerror(errno));
        goto out;
    }
    out = NULL;
    if (rename(tmp_path, out_path) != 0) {
        fail("cannot rename '%s' to '%s': %s", tmp_path, out_path,
             strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (out != NULL) {
        fclose(out);
    }
    if (rc != 0 && tmp_path != NULL) {
        remove(tmp_path);
    }
    free(tmp_path);
    list_clear(&list);
    return rc;
}
