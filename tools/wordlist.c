/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * wordlist: turn a word list (one entry a line) into a C source file at
 * build time, for the common-password list of auth/ (COMMITMENT A2).
 *
 *     wordlist OUT.c LIST NAME HEADER
 *
 * reads LIST, checks every line, sorts the entries bytewise (as strcmp
 * and memcmp order them, so the server can bsearch the table) and writes
 * OUT.c with `const char *const NAME[]` and `const size_t NAME_count`,
 * declared by HEADER (an include path such as auth/auth_int.h). An entry
 * must be 1 to 128 bytes of printable ASCII without spaces or upper-case
 * letters: the server compares the list with the case-folded NFKC form of
 * a password, which for ASCII is lower case, so an entry that is not
 * already in that form could never match and is refused here rather than
 * shipped dead. Non-ASCII entries would need the same folding at build
 * time; none are needed yet. An empty line or a duplicate is an error too.
 * The output is deterministic, written to OUT.c.tmp and renamed, so a
 * failed run never leaves a partial OUT.c behind. Errors go to stderr and
 * the exit status is 1.
 *
 * This is a build tool, not part of the server: it uses plain libc, and
 * allocation failure simply ends the run.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest entry accepted: the longest password the policy accepts. */
#define WORDLIST_ENTRY_MAX 128

struct word_list {
    char **items;
    size_t len;
    size_t cap;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fputs("wordlist: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void
list_push(struct word_list *list, const char *s, size_t len)
{
    char *copy;

    if (list->len == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 1024;
        char **items;

        if (cap > SIZE_MAX / sizeof(*items)) {
            fail("too many entries");
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
    copy = malloc(len + 1);
    if (copy == NULL) {
        fail("out of memory");
        exit(1);
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    list->items[list->len++] = copy;
}

static void
list_clear(struct word_list *list)
{
    for (size_t i = 0; i < list->len; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->len = 0;
    list->cap = 0;
}

/* Why line (len bytes) cannot be an entry, or NULL when it can. */
static const char *
entry_problem(const char *line, size_t len)
{
    if (len == 0) {
        return "empty line";
    }
    if (len > WORDLIST_ENTRY_MAX) {
        return "longer than 128 bytes";
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if (c < 0x21 || c > 0x7e) {
            return "not printable ASCII without spaces";
        }
        if (c >= 'A' && c <= 'Z') {
            return "upper-case letter (entries must be lower case)";
        }
    }
    return NULL;
}

/* Reads every line of path into list. Returns 0, or -1 after an error. */
static int
read_list(const char *path, struct word_list *list)
{
    FILE *in = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    size_t lineno = 0;
    ssize_t n;
    int rc = -1;

    if (in == NULL) {
        fail("cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        const char *why;

        lineno++;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        if (memchr(line, '\0', len) != NULL) {
            fail("%s:%zu: NUL byte", path, lineno);
            goto out;
        }
        why = entry_problem(line, len);
        if (why != NULL) {
            fail("%s:%zu: %s", path, lineno, why);
            goto out;
        }
        list_push(list, line, len);
    }
    if (ferror(in)) {
        fail("cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(in);
    return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
    const char *const *ea = a;
    const char *const *eb = b;

    return strcmp(*ea, *eb);
}

/* Writes s as the body of a C string literal. '?' is escaped so that no
 * trigraph can form under -std=c17. */
static void
write_literal(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\' || *s == '?') {
            fputc('\\', out);
        }
        fputc(*s, out);
    }
}

static void
write_output(FILE *out, const struct word_list *list, const char *src,
             const char *name, const char *header)
{
    fprintf(out,
            "/* Generated by tools/wordlist from %s. Do not edit. */\n"
            "#include \"core/compat.h\"\n\n"
            "#include \"%s\"\n\n"
            "/* %zu entries, sorted bytewise. */\n"
            "const char *const %s[] = {\n",
            src, header, list->len, name);
    for (size_t i = 0; i < list->len; i++) {
        fputs("    \"", out);
        write_literal(out, list->items[i]);
        fputs("\",\n", out);
    }
    if (list->len == 0) {
        /* ISO C has no empty initialiser; the count below stays 0. */
        fputs("    \"\",\n", out);
    }
    fprintf(out, "};\n\nconst size_t %s_count = %zu;\n", name, list->len);
}

/* A C identifier, so that NAME can be pasted into the output as is. */
static bool
name_is_identifier(const char *s)
{
    if (*s == '\0' || (*s >= '0' && *s <= '9')) {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_')) {
            return false;
        }
    }
    return true;
}

/* An include path that needs no escaping inside quotes. */
static bool
header_is_safe(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '/' || *s == '.' ||
              *s == '-')) {
            return false;
        }
    }
    return true;
}

int
main(int argc, char **argv)
{
    struct word_list list = {NULL, 0, 0};
    const char *out_path;
    char *tmp_path = NULL;
    FILE *out = NULL;
    size_t plen;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: wordlist OUT.c LIST NAME HEADER\n");
        return 1;
    }
    out_path = argv[1];
    if (!name_is_identifier(argv[3])) {
        fail("'%s' is not a C identifier", argv[3]);
        return 1;
    }
    if (!header_is_safe(argv[4])) {
        fail("'%s': unsupported character in header path", argv[4]);
        return 1;
    }
    if (read_list(argv[2], &list) != 0) {
        goto out;
    }
    qsort(list.items, list.len, sizeof(*list.items), entry_cmp);
    for (size_t i = 1; i < list.len; i++) {
        if (strcmp(list.items[i - 1], list.items[i]) == 0) {
            fail("%s: duplicate entry '%s'", argv[2], list.items[i]);
            goto out;
        }
    }

    plen = strlen(out_path);
    tmp_path = malloc(plen + sizeof(".tmp"));
    if (tmp_path == NULL) {
        fail("out of memory");
        goto out;
    }
    memcpy(tmp_path, out_path, plen);
    memcpy(tmp_path + plen, ".tmp", sizeof(".tmp"));
    out = fopen(tmp_path, "w");
    if (out == NULL) {
        fail("cannot create '%s': %s", tmp_path, strerror(errno));
        goto out;
    }
    write_output(out, &list, argv[2], argv[3], argv[4]);
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
