/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the password policy (auth_password_evaluate in
 * src/auth/policy.c, COMMITMENT A2, A3) and e-mail normalisation
 * (auth_email_normalize in src/auth/email.c, COMMITMENT A1), which both see
 * raw client input. The whole input (in an exact-size buffer with no NUL
 * after it) is the password, judged under three fixed policies and
 * contexts; the verdict must be internally consistent and agree with a
 * small reference written from the header's contract: CF_ETOOBIG exactly
 * over AUTH_PW_INPUT_MAX bytes (with *out untouched), BAD_UTF8 exactly when
 * a naive RFC 3629 decoder refuses the bytes (and then alone, with length
 * 0), acceptable exactly when no problem is set, TOO_LONG exactly from the
 * reported length, TOO_SHORT under the minimum (and over it only with the
 * hint that a run of spaces counts once), WEAK exactly from the score, a
 * length between 1 and 18 times the input's code points (NFKC expands
 * U+FDFA to 18), NOT_PRINTABLE whenever an ASCII control byte is present, a
 * longer minimum never helping, a context only adding problems, hints
 * present exactly when refused, and the same verdict twice. The input is
 * also an e-mail address: on success the result is at most 254 bytes, has
 * one '@' with text on both sides, no ASCII upper case, space or control
 * byte, and normalises to itself.
 */
#include "core/compat.h"

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PROBLEMS 0x1ffu
#define FUZZ_NFKC_MAX_EXPANSION 18

static const struct auth_pw_context fuzz_ctx_user = {
    .email = "alice.martin+coffre@example.com",
    .name = "Alice Martin",
    .tenant_slug = "acme",
    .privileged = false,
};

static const struct auth_pw_context fuzz_ctx_admin = {
    .email = "Ｒoot@Example.ORG",
    .name = "Élodie Ça-Va O'Brien",
    .tenant_slug = "zeta-42",
    .privileged = true,
};

static void __attribute__((noreturn))
fuzz_fail(const char *what, unsigned problems)
{
    fprintf(stderr, "fuzz_password: %s (problems 0x%03x)\n", what, problems);
    abort();
}

/* RFC 3629, the obvious way: the number of code points, or -1. */
static long
ref_utf8_count(const uint8_t *s, size_t len)
{
    long n = 0;
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t k;
        size_t need;

        if (c < 0x80) {
            i++;
            n++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if (len - i - 1 < need) {
            return -1;
        }
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return -1;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return -1;
        }
        i += need + 1;
        n++;
    }
    return n;
}

static bool
ref_has_ascii_control(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return true;
        }
    }
    return false;
}

#define FUZZ_HINT_SPACES "Consecutive spaces count as one character."

static bool
fuzz_has_hint(const struct auth_strength *st, const char *en)
{
    for (unsigned i = 0; i < st->nhints; i++) {
        if (strcmp(st->hints_en[i], en) == 0) {
            return true;
        }
    }
    return false;
}

static unsigned
fuzz_min(const struct auth_policy *p, const struct auth_pw_context *ctx)
{
    if (ctx != NULL && ctx->privileged && p->min_len_admin > p->min_len) {
        return p->min_len_admin;
    }
    return p->min_len;
}

static void
fuzz_check(const struct auth_policy *p, const struct auth_pw_context *ctx,
           const char *pw, size_t size, long ncp, bool control, bool twice,
           struct auth_strength *st_out)
{
    struct auth_strength st;
    struct auth_strength again;
    unsigned min = fuzz_min(p, ctx);
    enum cf_rc rc;

    memset(&st, 0x5a, sizeof(st));
    rc = auth_password_evaluate(p, pw, size, ctx, &st);
    if (size > AUTH_PW_INPUT_MAX) {
        unsigned char *raw = (unsigned char *)&st;

        if (rc != CF_ETOOBIG) {
            fuzz_fail("over the input limit but not CF_ETOOBIG", 0);
        }
        for (size_t i = 0; i < sizeof(st); i++) {
            if (raw[i] != 0x5a) {
                fuzz_fail("verdict written on CF_ETOOBIG", 0);
            }
        }
        return;
    }
    if (rc != CF_OK) {
        fuzz_fail("no verdict on input within the limit", 0);
    }
    if (st.problems & ~FUZZ_PROBLEMS) {
        fuzz_fail("unknown problem bit", st.problems);
    }
    if (st.acceptable != (st.problems == 0)) {
        fuzz_fail("acceptable disagrees with problems", st.problems);
    }
    if (st.nhints > AUTH_HINTS_MAX || (st.nhints == 0) != st.acceptable) {
        fuzz_fail("hints missing, extra or over the cap", st.problems);
    }
    for (unsigned i = 0; i < st.nhints; i++) {
        if (st.hints_fr[i] == NULL || st.hints_en[i] == NULL ||
            st.hints_fr[i][0] == '\0' || st.hints_en[i][0] == '\0') {
            fuzz_fail("empty hint", st.problems);
        }
    }
    if (ncp < 0) {
        if (st.problems != AUTH_PW_BAD_UTF8 || st.length != 0) {
            fuzz_fail("invalid UTF-8 not reported alone", st.problems);
        }
        *st_out = st;
        return;
    }
    if (st.problems & AUTH_PW_BAD_UTF8) {
        fuzz_fail("valid UTF-8 reported as invalid", st.problems);
    }
    if ((size > 0 && st.length == 0) ||
        st.length > (unsigned long)ncp * FUZZ_NFKC_MAX_EXPANSION) {
        fuzz_fail("length out of the NFKC range", st.problems);
    }
    if (st.length < min && !(st.problems & AUTH_PW_TOO_SHORT)) {
        fuzz_fail("TOO_SHORT missing under the minimum", st.problems);
    }
    if ((st.problems & AUTH_PW_TOO_SHORT) && st.length >= min &&
        !fuzz_has_hint(&st, FUZZ_HINT_SPACES)) {
        /* only a run of spaces, counted once, can make it short */
        fuzz_fail("TOO_SHORT at or over the minimum, spaces unexplained",
                  st.problems);
    }
    if (((st.problems & AUTH_PW_TOO_LONG) != 0) != (st.length > p->max_len)) {
        fuzz_fail("TOO_LONG disagrees with the length", st.problems);
    }
    if (st.score < 0 || st.score > 4 || !(st.entropy_bits >= 0.0)) {
        fuzz_fail("score or entropy out of range", st.problems);
    }
    if (((st.problems & AUTH_PW_WEAK) != 0) !=
        (st.score < p->min_score || st.entropy_bits < AUTH_PW_MIN_BITS)) {
        fuzz_fail("WEAK disagrees with the score", st.problems);
    }
    if (control && !(st.problems & AUTH_PW_NOT_PRINTABLE)) {
        fuzz_fail("control character not reported", st.problems);
    }
    if ((st.problems & AUTH_PW_COMMON) && st.length > AUTH_PW_MAX) {
        fuzz_fail("a common password longer than any entry", st.problems);
    }
    if (ctx == NULL && (st.problems & (AUTH_PW_HAS_EMAIL | AUTH_PW_HAS_NAME |
                                       AUTH_PW_HAS_TENANT))) {
        fuzz_fail("context problem without a context", st.problems);
    }
    if (!twice) {
        *st_out = st;
        return;
    }
    rc = auth_password_evaluate(p, pw, size, ctx, &again);
    if (rc != CF_OK || again.problems != st.problems ||
        again.score != st.score || again.length != st.length ||
        again.entropy_bits != st.entropy_bits) {
        fuzz_fail("a second evaluation disagrees", st.problems);
    }
    *st_out = st;
}

static void
fuzz_email(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    char *out = NULL;
    char *again = NULL;
    enum cf_rc rc;
    const char *at;
    size_t len;

    if (in == NULL) {
        return;
    }
    if (size > 0) {
        memcpy(in, data, size);
    }
    in[size] = '\0';
    rc = auth_email_normalize(in, &out);
    if (rc != CF_OK) {
        if (rc != CF_EINVAL) {
            fuzz_fail("auth_email_normalize: unexpected code", 0);
        }
        if (out != NULL) {
            fuzz_fail("auth_email_normalize: out written on failure", 0);
        }
        free(in);
        return;
    }
    len = strlen(out);
    at = strchr(out, '@');
    if (len == 0 || len > 254 || at == NULL || at == out || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL) {
        fuzz_fail("auth_email_normalize: not local@domain", 0);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];

        if (c <= 0x20 || c == 0x7f || (c >= 'A' && c <= 'Z')) {
            fuzz_fail("auth_email_normalize: space, control or capital", 0);
        }
    }
    if (ref_utf8_count((const uint8_t *)out, len) < 0) {
        fuzz_fail("auth_email_normalize: output not UTF-8", 0);
    }
    if (auth_email_normalize(out, &again) != CF_OK || strcmp(out, again) != 0) {
        fuzz_fail("auth_email_normalize: not idempotent", 0);
    }
    cf_free(again);
    cf_free(out);
    free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact size, no NUL after: the API takes a length */
    char *pw = malloc(size ? size : 1);
    struct auth_policy def;
    struct auth_policy strict;
    struct auth_policy tenant = {14, 20, 64, 4};
    struct auth_strength user;
    struct auth_strength admin;
    struct auth_strength bare;
    long ncp;
    bool control;

    if (pw == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(pw, data, size);
    }
    ncp = ref_utf8_count(data, size);
    control = ref_has_ascii_control(data, size);
    auth_policy_defaults(&def);
    strict = def;
    auth_policy_merge(&strict, &tenant);

    memset(&user, 0, sizeof(user));
    memset(&admin, 0, sizeof(admin));
    memset(&bare, 0, sizeof(bare));
    fuzz_check(&def, NULL, pw, size, ncp, control, false, &bare);
    fuzz_check(&def, &fuzz_ctx_user, pw, size, ncp, control, true, &user);
    fuzz_check(&strict, &fuzz_ctx_admin, pw, size, ncp, control, false, &admin);
    if (size <= AUTH_PW_INPUT_MAX) {
        /* the context only adds problems; a stricter policy only more */
        if ((user.problems & bare.problems) != bare.problems) {
            fuzz_fail("a context removed a problem", user.problems);
        }
        if ((bare.problems & AUTH_PW_TOO_SHORT) &&
            !(admin.problems & AUTH_PW_TOO_SHORT)) {
            fuzz_fail("a longer minimum accepted a shorter password",
                      admin.problems);
        }
        if ((bare.problems & AUTH_PW_COMMON) !=
            (admin.problems & AUTH_PW_COMMON)) {
            fuzz_fail("COMMON depends on the context", admin.problems);
        }
    }
    free(pw);
    if (size <= 2048) {
        fuzz_email(data, size);
    }
    return 0;
}
