/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The password policy (COMMITMENT A2, A3): CNIL deliberation 2022-100
 * case 2 and OWASP ASVS 4.0.3 V2.1 together. A password is judged on its
 * NFKC form: 12 to 128 code points (16 for owners and admins; a run of
 * spaces counts once towards the minimum), any printable character, never
 * truncated, no composition rule; refused when
 * zxcvbn scores it below 3, when it contains the person's e-mail local
 * part, name or tenant slug, or when it is in the common-password list.
 * Every rule is checked, so the verdict lists every problem at once, with
 * one hint per problem in French and English.
 *
 * The rules, their sources and the measured costs are in
 * docs/internals/passwords.md.
 */
#include "core/compat.h"

#include <math.h>
#include <utf8proc.h>
#include <zxcvbn.h>

#include "auth/auth_int.h"

/* Context words shorter than this (in code points) are not looked for:
 * "li" or "ab" would refuse half of all passphrases. */
#define PW_WORD_MIN 3
/* Words handed to zxcvbn as its user dictionary. */
#define PW_DICT_MAX 32
/* Highest zxcvbn score; a tenant cannot ask for more. */
#define PW_SCORE_MAX 4

/* ---- policy ----------------------------------------------------------- */

void
auth_policy_defaults(struct auth_policy *p)
{
    p->min_len = AUTH_PW_MIN;
    p->min_len_admin = AUTH_PW_MIN_ADMIN;
    p->max_len = AUTH_PW_MAX;
    p->min_score = AUTH_PW_MIN_SCORE;
}

static unsigned
pw_umax(unsigned a, unsigned b)
{
    return a > b ? a : b;
}

static unsigned
pw_umin(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/*
 * COMMITMENT A2: a tenant makes the policy stricter, never weaker. Each
 * field keeps the stricter of the two. A tenant's minimum is capped at the
 * base maximum and its score at 4, so that some password always remains
 * possible; the maximum never falls below either minimum for the same
 * reason, and the admin minimum is never below the ordinary one.
 */
void
auth_policy_merge(struct auth_policy *base, const struct auth_policy *tenant)
{
    unsigned floor;

    if (tenant == NULL) {
        return;
    }
    base->min_len =
        pw_umax(base->min_len, pw_umin(tenant->min_len, base->max_len));
    base->min_len_admin = pw_umax(
        base->min_len_admin, pw_umin(tenant->min_len_admin, base->max_len));
    base->min_len_admin = pw_umax(base->min_len_admin, base->min_len);
    floor = pw_umax(base->min_len, base->min_len_admin);
    base->max_len = pw_umax(pw_umin(base->max_len, tenant->max_len), floor);
    if (tenant->min_score > base->min_score) {
        base->min_score =
            tenant->min_score < PW_SCORE_MAX ? tenant->min_score : PW_SCORE_MAX;
        if (base->min_score < 0) {
            base->min_score = 0;
        }
    }
}

/* ---- characters ------------------------------------------------------- */

/*
 * COMMITMENT A2 (ASVS 2.1.4: any printable Unicode character, spaces
 * included). Refused: controls (Cc: tab, newline, NUL...), line and
 * paragraph separators (Zl, Zp), surrogates (Cs), private use (Co: no
 * standard glyph, so it cannot be read back or typed on another device)
 * and code points unassigned in utf8proc's Unicode version (Cn, which also
 * covers the non-characters). Format characters (Cf) stay allowed: emoji
 * sequences need ZWJ and Persian needs ZWNJ.
 */
static bool
pw_cp_printable(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return false;
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
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_CF:
        return true;
    }
    return false;
}

/* Letters, marks and digits make words; everything else separates them.
 * In utf8proc's numbering these are the categories Lu to No. */
static bool
pw_cp_in_word(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);

    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
}

/* Decode the code point at s[i] of a normalised (hence valid) text; a
 * decoding failure, which cannot happen, reads as one separator byte. */
static size_t
pw_next_cp(const char *s, size_t len, size_t i, utf8proc_int32_t *cp)
{
    utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                             (utf8proc_ssize_t)(len - i), cp);

    if (CF_NEVER(step <= 0)) {
        *cp = ' ';
        return 1;
    }
    return (size_t)step;
}

static bool
pw_printable(const struct auth_text *t)
{
    size_t i = 0;

    while (i < t->len) {
        utf8proc_int32_t cp = 0;

        i += pw_next_cp(t->s, t->len, i, &cp);
        if (!pw_cp_printable(cp)) {
            return false;
        }
    }
    return true;
}

static size_t
pw_count_cp(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

/*
 * Code points of t with each run of spaces counted once: the length the
 * minimum applies to (ASVS 2.1.1: "after multiple spaces are combined"),
 * so that "ab" and ten spaces and "c" is not 13 characters. NFKC has
 * already turned no-break, ideographic and the other wide spaces into
 * U+0020. The password itself is never changed.
 */
static size_t
pw_count_collapsed(const struct auth_text *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->s[i];

        if ((c & 0xc0) == 0x80 || (c == ' ' && i > 0 && t->s[i - 1] == ' ')) {
            continue;
        }
        n++;
    }
    return n;
}

/* One word of a text: bytes [start, start+len), ncp code points. */
struct pw_word {
    size_t start;
    size_t len;
    size_t ncp;
};

/* The next word of s[*pos..len) into *w; false when there is none. */
static bool
pw_next_word(const char *s, size_t len, size_t *pos, struct pw_word *w)
{
    size_t i = *pos;
    bool in = false;

    w->start = 0;
    w->len = 0;
    w->ncp = 0;
    while (i < len) {
        utf8proc_int32_t cp = 0;
        size_t step = pw_next_cp(s, len, i, &cp);

        if (pw_cp_in_word(cp)) {
            if (!in) {
                in = true;
                w->start = i;
            }
            w->ncp++;
        } else if (in) {
            break;
        }
        i += step;
    }
    *pos = i;
    if (in) {
        w->len = i - w->start;
    }
    return in;
}

/* ---- what the password is judged against --------------------------- */

/* A stretch of a context text, [start, start+len). */
struct pw_span {
    size_t start;
    size_t len;
};

/* The context, case-folded NFKC, and the zxcvbn user dictionary built
 * from it. None of it is secret. */
struct pw_ctx {
    struct auth_text email;
    struct auth_text name;
    struct auth_text slug;
    struct pw_span local;  /* e-mail local part, trimmed */
    struct pw_span domain; /* after the last '@' */
    struct cf_buf words;   /* dictionary words, NUL after each */
    size_t offsets[PW_DICT_MAX];
    const char *dict[PW_DICT_MAX + 1]; /* into words; NULL-terminated */
    size_t ndict;
};

static void
pw_ctx_init(struct pw_ctx *pc)
{
    memset(pc, 0, sizeof(*pc));
    cf_buf_init(&pc->words, 3 * (size_t)AUTH_PW_INPUT_MAX * 18 + 64);
}

static void
pw_ctx_release(struct pw_ctx *pc)
{
    auth_text_release(&pc->email);
    auth_text_release(&pc->name);
    auth_text_release(&pc->slug);
    cf_buf_release(&pc->words);
}

/* Normalise one context string; a missing one stays empty. Over
 * AUTH_PW_INPUT_MAX bytes or not UTF-8 is the caller's bad input. */
static enum cf_rc
pw_ctx_text(const char *s, struct auth_text *t)
{
    size_t len;

    if (s == NULL) {
        return CF_OK;
    }
    len = strnlen(s, AUTH_PW_INPUT_MAX + 1);
    if (len > AUTH_PW_INPUT_MAX) {
        return CF_ERR(CF_EINVAL);
    }
    return auth_text_normalize(s, len, AUTH_TEXT_FOLD, t);
}

static void
pw_span_trim(const char *s, struct pw_span *sp)
{
    while (sp->len > 0 && (s[sp->start] == ' ' || s[sp->start] == '\t')) {
        sp->start++;
        sp->len--;
    }
    while (sp->len > 0 && (s[sp->start + sp->len - 1] == ' ' ||
                           s[sp->start + sp->len - 1] == '\t')) {
        sp->len--;
    }
}

/* Add s[0..len) to the dictionary when it is long enough and there is
 * room; a full dictionary only makes the estimate a little kinder. */
static enum cf_rc
pw_dict_add(struct pw_ctx *pc, const char *s, size_t len)
{
    enum cf_rc rc = CF_EINTERNAL;

    if (pw_count_cp(s, len) < PW_WORD_MIN || pc->ndict == PW_DICT_MAX ||
        memchr(s, '\0', len) != NULL) {
        return CF_OK; /* nothing to add, nothing held */
    }
    pc->offsets[pc->ndict] = pc->words.len;
    rc = cf_buf_add(&pc->words, s, len);
    if (rc != CF_OK) {
        goto out;
    }
    rc = cf_buf_addch(&pc->words, '\0');
    if (rc != CF_OK) {
        goto out;
    }
    pc->ndict++;
    rc = CF_OK;
out:
    return rc;
}

/* Add the whole of sp (when with_whole) and each of its words. */
static enum cf_rc
pw_dict_add_span(struct pw_ctx *pc, const struct auth_text *t,
                 struct pw_span sp, bool with_whole)
{
    const char *s = t->s + sp.start;
    struct pw_word w;
    size_t pos = 0;
    enum cf_rc rc = CF_EINTERNAL;

    if (with_whole) {
        rc = pw_dict_add(pc, s, sp.len);
        if (rc != CF_OK) {
            goto out;
        }
    }
    while (pw_next_word(s, sp.len, &pos, &w)) {
        if (with_whole && w.len == sp.len) {
            continue; /* already added whole */
        }
        rc = pw_dict_add(pc, s + w.start, w.len);
        if (rc != CF_OK) {
            goto out;
        }
    }
    rc = CF_OK;
out:
    return rc;
}

static enum cf_rc
pw_ctx_load(const struct auth_pw_context *ctx, struct pw_ctx *pc)
{
    struct pw_span all;
    const char *at;
    enum cf_rc rc = CF_EINTERNAL;

    if (ctx == NULL) {
        return CF_OK; /* no context: an empty dictionary */
    }
    rc = pw_ctx_text(ctx->email, &pc->email);
    if (rc != CF_OK) {
        goto out;
    }
    rc = pw_ctx_text(ctx->name, &pc->name);
    if (rc != CF_OK) {
        goto out;
    }
    rc = pw_ctx_text(ctx->tenant_slug, &pc->slug);
    if (rc != CF_OK) {
        goto out;
    }
    /* local@domain, split at the last '@'; no '@' is all local part */
    if (pc->email.s != NULL) {
        at = memrchr(pc->email.s, '@', pc->email.len);
        pc->local.len = at != NULL ? (size_t)(at - pc->email.s) : pc->email.len;
        if (at != NULL) {
            pc->domain.start = pc->local.len + 1;
            pc->domain.len = pc->email.len - pc->domain.start;
        }
        pw_span_trim(pc->email.s, &pc->local);
        pw_span_trim(pc->email.s, &pc->domain);
        rc = pw_dict_add_span(pc, &pc->email, pc->local, true);
        if (rc != CF_OK) {
            goto out;
        }
        rc = pw_dict_add_span(pc, &pc->email, pc->domain, false);
        if (rc != CF_OK) {
            goto out;
        }
    }
    if (pc->name.s != NULL) {
        all.start = 0;
        all.len = pc->name.len;
        rc = pw_dict_add_span(pc, &pc->name, all, false);
        if (rc != CF_OK) {
            goto out;
        }
    }
    if (pc->slug.s != NULL) {
        all.start = 0;
        all.len = pc->slug.len;
        pw_span_trim(pc->slug.s, &all);
        rc = pw_dict_add_span(pc, &pc->slug, all, true);
        if (rc != CF_OK) {
            goto out;
        }
    }
    /* the buffer no longer moves: point into it */
    for (size_t i = 0; i < pc->ndict; i++) {
        pc->dict[i] = pc->words.data + pc->offsets[i];
    }
    pc->dict[pc->ndict] = NULL;
    rc = CF_OK;
out:
    return rc;
}

/* True when needle (from a context text) is long enough and occurs in the
 * folded password. */
static bool
pw_has(const struct auth_text *folded, const char *needle, size_t len)
{
    return len > 0 && pw_count_cp(needle, len) >= PW_WORD_MIN &&
           memmem(folded->s, folded->len, needle, len) != NULL;
}

/*
 * COMMITMENT A2 (CNIL 2022-100: nothing tied to the person's identity).
 * HAS_EMAIL: the whole local part, and its part before a '+' sub-address
 * tag; HAS_NAME: any word of the name; HAS_TENANT: the whole slug. Only
 * pieces of at least PW_WORD_MIN code points count.
 */
static unsigned
pw_contains(const struct pw_ctx *pc, const struct auth_text *folded)
{
    unsigned problems = 0;
    struct pw_word w;
    size_t pos = 0;

    if (pc->local.len > 0) {
        const char *local = pc->email.s + pc->local.start;
        const char *plus = memchr(local, '+', pc->local.len);

        if (pw_has(folded, local, pc->local.len) ||
            (plus != NULL && pw_has(folded, local, (size_t)(plus - local)))) {
            problems |= AUTH_PW_HAS_EMAIL;
        }
    }
    while (pc->name.s != NULL &&
           pw_next_word(pc->name.s, pc->name.len, &pos, &w)) {
        if (pw_has(folded, pc->name.s + w.start, w.len)) {
            problems |= AUTH_PW_HAS_NAME;
            break;
        }
    }
    if (pc->slug.s != NULL) {
        struct pw_span all = {0, pc->slug.len};

        pw_span_trim(pc->slug.s, &all);
        if (pw_has(folded, pc->slug.s + all.start, all.len)) {
            problems |= AUTH_PW_HAS_TENANT;
        }
    }
    return problems;
}

/* ---- strength ------------------------------------------------------- */

/* zxcvbn.js guesses_to_score() (DELTA 5) with guesses = 2^bits. */
static int
pw_score_from_bits(double bits)
{
    double guesses = exp2(bits);

    if (guesses < 1e3 + 5) {
        return 0;
    }
    if (guesses < 1e6 + 5) {
        return 1;
    }
    if (guesses < 1e8 + 5) {
        return 2;
    }
    if (guesses < 1e10 + 5) {
        return 3;
    }
    return 4;
}

/*
 * COMMITMENT A2: zxcvbn on the NFKC form (case kept: zxcvbn prices
 * capitals itself), with the context words as user dictionary. zxcvbn-c
 * reads a C string, so an inner NUL ends its view; such a password is
 * refused as not printable anyway. zxcvbn-c details only the first 100
 * bytes and counts the rest as a sequence, which bounds its cost
 * (docs/internals/passwords.md has the timings).
 *
 * NEEDSWORK: zxcvbn-c allocates with plain malloc and keeps a reversed
 * copy of the first 100 bytes, which it frees without wiping; only a
 * patched or vendored zxcvbn could fix that. Its 100-byte cut also lets a
 * short pattern repeated to 101-128 characters score 4.
 */
static void
pw_strength(const struct auth_text *nfkc, struct pw_ctx *pc,
            struct auth_strength *st)
{
    double bits = 0.0;

    if (nfkc->len > 0) {
        bits = ZxcvbnMatch(nfkc->s, pc->dict, NULL);
    }
    if (!(bits >= 0.0)) {
        bits = 0.0; /* NaN or negative: never from the library */
    }
    st->entropy_bits = bits;
    st->score = pw_score_from_bits(bits);
}

/* ---- hints ---------------------------------------------------------- */

struct pw_hint {
    unsigned key; /* the problem bit, or the length a length hint names */
    const char *fr;
    const char *en;
};

/* One per problem, in the order they are shown. TOO_SHORT and TOO_LONG
 * are looked up by value below. */
static const struct pw_hint pw_hints[] = {
    {AUTH_PW_BAD_UTF8, "Le mot de passe n’est pas du texte UTF-8 valide.",
     "The password is not valid UTF-8 text."},
    {AUTH_PW_NOT_PRINTABLE,
     "N’utilisez que des caractères imprimables (pas de caractère de "
     "contrôle, privé ou non attribué).",
     "Use printable characters only (no control, private-use or "
     "unassigned character)."},
    {AUTH_PW_TOO_SHORT, NULL, NULL},
    {AUTH_PW_TOO_LONG, NULL, NULL},
    {AUTH_PW_COMMON, "Ce mot de passe fait partie des plus courants.",
     "This is one of the most common passwords."},
    {AUTH_PW_HAS_EMAIL, "N’utilisez pas votre adresse e-mail.",
     "Do not use your e-mail address."},
    {AUTH_PW_HAS_NAME, "N’utilisez pas votre nom.", "Do not use your name."},
    {AUTH_PW_HAS_TENANT, "N’utilisez pas le nom de votre organisation.",
     "Do not use your organisation’s name."},
    {AUTH_PW_WEAK, "Trop facile à deviner.", "Too easy to guess."},
    {AUTH_PW_REUSED,
     "Vous avez déjà utilisé ce mot de passe : choisissez-en un nouveau.",
     "You have used this password before: choose a new one."},
};

static const struct pw_hint pw_hint_advice = {
    0,
    "Choisissez une phrase de passe de plusieurs mots sans rapport entre "
    "eux.",
    "Use a passphrase of several unrelated words."};

/* Problems after which the general advice helps. */
#define PW_ADVICE_FOR                                                          \
    (AUTH_PW_TOO_SHORT | AUTH_PW_COMMON | AUTH_PW_HAS_EMAIL |                  \
     AUTH_PW_HAS_NAME | AUTH_PW_HAS_TENANT | AUTH_PW_WEAK)

/* Hints are static strings, so each length they name has its own. A
 * minimum or maximum outside these tables gets the generic sentence. */
#define PW_HINT_MIN(n)                                                         \
    {                                                                          \
        n, "Au moins " #n " caractères.", "At least " #n " characters."        \
    }
#define PW_HINT_MAX(n)                                                         \
    {                                                                          \
        n, "Au plus " #n " caractères.", "At most " #n " characters."          \
    }

static const struct pw_hint pw_hints_min[] = {
    PW_HINT_MIN(8),  PW_HINT_MIN(9),  PW_HINT_MIN(10), PW_HINT_MIN(11),
    PW_HINT_MIN(12), PW_HINT_MIN(13), PW_HINT_MIN(14), PW_HINT_MIN(15),
    PW_HINT_MIN(16), PW_HINT_MIN(17), PW_HINT_MIN(18), PW_HINT_MIN(19),
    PW_HINT_MIN(20), PW_HINT_MIN(21), PW_HINT_MIN(22), PW_HINT_MIN(23),
    PW_HINT_MIN(24), PW_HINT_MIN(25), PW_HINT_MIN(26), PW_HINT_MIN(27),
    PW_HINT_MIN(28), PW_HINT_MIN(29), PW_HINT_MIN(30), PW_HINT_MIN(31),
    PW_HINT_MIN(32), PW_HINT_MIN(40), PW_HINT_MIN(48), PW_HINT_MIN(64),
};

static const struct pw_hint pw_hints_max[] = {
    PW_HINT_MAX(32), PW_HINT_MAX(40),  PW_HINT_MAX(48),
    PW_HINT_MAX(64), PW_HINT_MAX(100), PW_HINT_MAX(128),
};

/* Added when the password is only short because of a run of spaces. */
static const struct pw_hint pw_hint_spaces = {
    0, "Plusieurs espaces à la suite ne comptent que pour un caractère.",
    "Consecutive spaces count as one character."};

static const struct pw_hint pw_hint_min_other = {
    0, "Trop court pour la politique de votre organisation : allongez-le.",
    "Too short for your organisation’s policy: make it longer."};

static const struct pw_hint pw_hint_max_other = {
    0, "Trop long pour la politique de votre organisation : raccourcissez-le.",
    "Too long for your organisation’s policy: make it shorter."};

static const struct pw_hint *
pw_hint_len(const struct pw_hint *table, size_t n, unsigned value,
            const struct pw_hint *other)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].key == value) {
            return &table[i];
        }
    }
    return other;
}

static void
pw_hint_push(struct auth_strength *st, const struct pw_hint *h)
{
    if (CF_NEVER(st->nhints >= AUTH_HINTS_MAX)) {
        return;
    }
    st->hints_fr[st->nhints] = h->fr;
    st->hints_en[st->nhints] = h->en;
    st->nhints++;
}

/* One hint per problem in the order of pw_hints[], then the advice when
 * it helps; the advice keeps its place when problems are many. */
static void
pw_fill_hints(const struct auth_policy *policy, unsigned min,
              struct auth_strength *st)
{
    bool advice = (st->problems & PW_ADVICE_FOR) != 0;
    unsigned room = advice ? AUTH_HINTS_MAX - 1 : AUTH_HINTS_MAX;

    for (size_t i = 0; i < CF_ARRAY_LEN(pw_hints) && st->nhints < room; i++) {
        const struct pw_hint *h = &pw_hints[i];

        if (!(st->problems & h->key)) {
            continue;
        }
        if (h->key == AUTH_PW_TOO_SHORT) {
            pw_hint_push(st,
                         pw_hint_len(pw_hints_min, CF_ARRAY_LEN(pw_hints_min),
                                     min, &pw_hint_min_other));
            h = st->length >= min ? &pw_hint_spaces : NULL;
        } else if (h->key == AUTH_PW_TOO_LONG) {
            h = pw_hint_len(pw_hints_max, CF_ARRAY_LEN(pw_hints_max),
                            policy->max_len, &pw_hint_max_other);
        }
        if (h != NULL && st->nhints < room) {
            pw_hint_push(st, h);
        }
    }
    if (advice) {
        pw_hint_push(st, &pw_hint_advice);
    }
}

/* ---- the verdict ---------------------------------------------------- */

/* COMMITMENT A2: owners and admins need the longer of the two minimums. */
static unsigned
pw_min_len(const struct auth_policy *policy, const struct auth_pw_context *ctx)
{
    if (ctx != NULL && ctx->privileged) {
        return pw_umax(policy->min_len, policy->min_len_admin);
    }
    return policy->min_len;
}

/* Every rule on the NFKC form nfkc of the password pw[0..len). */
static enum cf_rc
pw_judge(const struct auth_policy *policy, unsigned min,
         const struct auth_pw_context *ctx, const struct auth_text *nfkc,
         const char *pw, size_t len, struct auth_strength *st)
{
    struct auth_text folded = AUTH_TEXT_INIT; /* secret */
    struct pw_ctx pc;
    enum cf_rc rc = CF_EINTERNAL;

    pw_ctx_init(&pc);
    rc = auth_text_normalize(pw, len, AUTH_TEXT_FOLD, &folded);
    if (rc != CF_OK) {
        goto out;
    }
    rc = pw_ctx_load(ctx, &pc);
    if (rc != CF_OK) {
        goto out;
    }
    /* COMMITMENT A2: code points after NFKC, never truncated; for the
     * minimum, a run of spaces counts once (ASVS 2.1.1) */
    st->length = nfkc->ncp > UINT_MAX ? UINT_MAX : (unsigned)nfkc->ncp;
    if (pw_count_collapsed(nfkc) < min) {
        st->problems |= AUTH_PW_TOO_SHORT;
    }
    if (st->length > policy->max_len) {
        st->problems |= AUTH_PW_TOO_LONG;
    }
    if (!pw_printable(nfkc)) {
        st->problems |= AUTH_PW_NOT_PRINTABLE;
    }
    if (auth_common_contains(folded.s, folded.len)) {
        st->problems |= AUTH_PW_COMMON;
    }
    st->problems |= pw_contains(&pc, &folded);
    pw_strength(nfkc, &pc, st);
    /* CNIL 2022-100 case 2 asks for 50 bits; zxcvbn's estimate (log2 of
     * its guesses) is the measure, so 12 random digits (about 40 bits) are
     * refused although zxcvbn scores them 4 */
    if (st->score < policy->min_score || st->entropy_bits < AUTH_PW_MIN_BITS) {
        st->problems |= AUTH_PW_WEAK;
    }
    rc = CF_OK;
out:
    auth_text_release(&folded);
    pw_ctx_release(&pc);
    return rc;
}

enum cf_rc
auth_password_evaluate(const struct auth_policy *policy,
                       const char *password_secret, size_t len,
                       const struct auth_pw_context *ctx,
                       struct auth_strength *out)
{
    struct auth_text nfkc = AUTH_TEXT_INIT; /* secret */
    struct auth_strength st;
    unsigned min;
    enum cf_rc rc = CF_EINTERNAL;

    memset(&st, 0, sizeof(st));
    if (policy == NULL || out == NULL ||
        (password_secret == NULL && len != 0)) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (len > AUTH_PW_INPUT_MAX) {
        rc = CF_ERR(CF_ETOOBIG);
        goto out;
    }
    min = pw_min_len(policy, ctx);
    rc = auth_text_normalize(password_secret, len, 0, &nfkc);
    if (rc == CF_EINVAL) {
        /* not text: no length, no score, nothing else to say */
        st.problems = AUTH_PW_BAD_UTF8;
    } else if (rc != CF_OK) {
        goto out;
    } else {
        rc = pw_judge(policy, min, ctx, &nfkc, password_secret, len, &st);
        if (rc != CF_OK) {
            goto out;
        }
    }
    pw_fill_hints(policy, min, &st);
    st.acceptable = st.problems == 0;
    *out = st;
    rc = CF_OK;
out:
    auth_text_release(&nfkc);
    return rc;
}

enum cf_rc
auth_label_normalize(const char *in, size_t max_cp, struct auth_text *out)
{
    utf8proc_int32_t cp;
    size_t i = 0;
    enum cf_rc rc;

    rc = auth_text_normalize(in, strlen(in), 0, out);
    if (rc != CF_OK) {
        return rc;
    }
    if (out->ncp == 0 || out->ncp > max_cp || out->s[0] == ' ' ||
        out->s[out->len - 1] == ' ') {
        auth_text_release(out);
        return CF_ERR(CF_EINVAL);
    }
    while (i < out->len) {
        i += pw_next_cp(out->s, out->len, i, &cp);
        /* format characters (CF) are fine inside a password, not in a
         * label shown to people */
        if (!pw_cp_printable(cp) ||
            utf8proc_category(cp) == UTF8PROC_CATEGORY_CF) {
            auth_text_release(out);
            return CF_ERR(CF_EINVAL);
        }
    }
    return CF_OK;
}

enum cf_rc
auth_label(const char *in, size_t max_cp, char *out, size_t cap)
{
    struct auth_text t = AUTH_TEXT_INIT;
    enum cf_rc rc;

    rc = auth_label_normalize(in != NULL ? in : "", max_cp, &t);
    if (rc == CF_OK && (t.len >= cap || memchr(t.s, '\0', t.len) != NULL)) {
        rc = t.len >= cap ? CF_ERR(CF_ETOOBIG) : CF_ERR(CF_EINVAL);
    }
    if (rc == CF_OK) {
        memcpy(out, t.s, t.len + 1);
    }
    auth_text_release(&t);
    return rc;
}

void
auth_strength_reused(struct auth_strength *verdict)
{
    verdict->acceptable = false;
    verdict->problems |= AUTH_PW_REUSED;
    if (verdict->nhints < AUTH_HINTS_MAX) {
        pw_hint_push(verdict, &pw_hints[CF_ARRAY_LEN(pw_hints) - 1]);
    }
}
