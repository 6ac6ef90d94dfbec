/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * E-mail addresses as login identifiers (COMMITMENT A1): one spelling per
 * address, whatever the case, width or spacing the person typed, so that
 * the blind index finds the account. The check is deliberately loose (any
 * local@domain without space or invisible character): deliverability is
 * proven by the setup link, not by a grammar.
 */
#include "core/compat.h"

#include <utf8proc.h>

#include "auth/auth_int.h"

/* RFC 5321 path limit, in bytes of the normalised address. */
#define AUTH_EMAIL_MAX 254
/* Longest input looked at: bounds the work on hostile input. */
#define AUTH_EMAIL_INPUT_MAX 1024

static bool
email_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Narrow [*start, *end) to leave out ASCII white space at both ends. */
static void
email_trim(const char *s, size_t *start, size_t *end)
{
    while (*start < *end && email_space(s[*start])) {
        (*start)++;
    }
    while (*end > *start && email_space(s[*end - 1])) {
        (*end)--;
    }
}

/*
 * True for a code point an identifier may not hold: control (Cc), format
 * (Cf: invisible, a spoofing aid), white space and separators (Zs, Zl,
 * Zp), private use (Co), surrogates (Cs) and unassigned (Cn).
 */
static bool
email_cp_refused(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return true;
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return false;
    }
    return true;
}

/* The shape check on s[0..len): exactly one '@' with something on each
 * side, and no refused code point. */
static bool
email_valid(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    size_t i = 0;

    if (len == 0 || len > AUTH_EMAIL_MAX || at == NULL || at == s ||
        at == s + len - 1 ||
        memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL) {
        return false;
    }
    while (i < len) {
        utf8proc_int32_t cp = -1;
        utf8proc_ssize_t step = utf8proc_iterate(
            (const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);

        /* the characters of quoted local parts and address lists:
         * legal in RFC 5321 in quotes, refused here (and by the mail
         * transport), so every address that has an account can be mailed */
        if (step <= 0 || email_cp_refused(cp) ||
            (cp < 0x80 && strchr("\"(),:;<>[\\]", (int)cp) != NULL &&
             cp != 0)) {
            return false;
        }
        i += (size_t)step;
    }
    return true;
}

enum cf_rc
auth_email_normalize(const char *email, char **out)
{
    struct auth_text norm = AUTH_TEXT_INIT;
    char *copy = NULL;
    size_t start = 0;
    size_t end;
    enum cf_rc rc = CF_EINTERNAL;

    if (email == NULL) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    end = strnlen(email, AUTH_EMAIL_INPUT_MAX + 1);
    if (end > AUTH_EMAIL_INPUT_MAX) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    email_trim(email, &start, &end);
    rc =
        auth_text_normalize(email + start, end - start, AUTH_TEXT_LOWER, &norm);
    if (rc != CF_OK) {
        goto out;
    }
    /* NFKC turns the ideographic and other wide spaces into ASCII ones:
     * trim once more so that what the person could not see goes too. */
    start = 0;
    end = norm.len;
    email_trim(norm.s, &start, &end);
    if (!email_valid(norm.s + start, end - start)) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    copy = cf_strndup(norm.s + start, end - start);
    if (copy == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    *out = copy;
    copy = NULL; /* transferred */
    rc = CF_OK;
out:
    auth_text_release(&norm);
    cf_free(copy);
    return rc;
}
