/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * auth: who may log in and how. This first part is the password policy
 * (COMMITMENT A2, A3): CNIL deliberation 2022-100 case 2 together with OWASP
 * ASVS 4.0.3 V2.1, judged after Unicode NFKC normalisation (utf8proc), with
 * zxcvbn (libzxcvbn) strength estimates and the common-password list the
 * project ships (data/common-passwords.txt, compiled in).
 *
 * Accounts, lockout, sessions, TOTP and tokens build on this module.
 * Thread safety: every function here is reentrant.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include "core/core.h"

#define AUTH_PW_MIN 12       /* characters after NFKC */
#define AUTH_PW_MIN_ADMIN 16 /* owner and admin roles */
#define AUTH_PW_MAX 128
#define AUTH_PW_MIN_BITS 50.0  /* CNIL 2022-100 case 2 */
#define AUTH_PW_MIN_SCORE 3    /* zxcvbn score 0..4 */
#define AUTH_PW_INPUT_MAX 1024 /* bytes accepted before normalisation */
#define AUTH_HINTS_MAX 6

/* A password policy. A tenant's policy may only be stricter than the
 * defaults (auth_policy_merge enforces it). */
struct auth_policy {
    unsigned min_len;       /* ordinary accounts */
    unsigned min_len_admin; /* owner and admin roles */
    unsigned max_len;
    int min_score;
};

/* Why a password is refused; several may hold. */
enum auth_pw_problem {
    AUTH_PW_TOO_SHORT = 1u << 0,
    AUTH_PW_TOO_LONG = 1u << 1,
    AUTH_PW_WEAK = 1u << 2,          /* zxcvbn score below the minimum */
    AUTH_PW_COMMON = 1u << 3,        /* in the common-password list */
    AUTH_PW_HAS_EMAIL = 1u << 4,     /* contains the e-mail local part */
    AUTH_PW_HAS_NAME = 1u << 5,      /* contains the person's name */
    AUTH_PW_HAS_TENANT = 1u << 6,    /* contains the tenant slug */
    AUTH_PW_NOT_PRINTABLE = 1u << 7, /* control or unassigned characters */
    AUTH_PW_BAD_UTF8 = 1u << 8,
    AUTH_PW_REUSED = 1u << 9, /* one of the account's recent passwords */
};

/* What the password is judged against (all may be NULL). */
struct auth_pw_context {
    const char *email;
    const char *name;
    const char *tenant_slug;
    bool privileged; /* authz_role_privileged(): the longer minimum */
};

/* The verdict on one password; no secret in it. Hints are static strings
 * (one per problem, then general advice), in French and English. */
struct auth_strength {
    bool acceptable;
    unsigned problems;   /* enum auth_pw_problem bits */
    int score;           /* zxcvbn 0..4 */
    double entropy_bits; /* zxcvbn estimate */
    unsigned length;     /* characters after NFKC */
    unsigned nhints;
    const char *hints_fr[AUTH_HINTS_MAX];
    const char *hints_en[AUTH_HINTS_MAX];
};

/* The project's defaults: 12, 16, 128, score 3. */
void auth_policy_defaults(struct auth_policy *p);
/* Apply a tenant's wishes on top of base, keeping whichever is stricter
 * for each field. */
void auth_policy_merge(struct auth_policy *base,
                       const struct auth_policy *tenant);

/*
 * Judge password_secret (len bytes, UTF-8, need not be NUL-terminated)
 * under policy and ctx into *out. Returns CF_OK whenever a verdict was
 * reached (acceptable or not), CF_ETOOBIG over AUTH_PW_INPUT_MAX bytes,
 * CF_ENOMEM. Every copy of the password made here is wiped before return;
 * the password is never logged. CF_EINVAL for NULL policy or out, a NULL
 * password with a length, or a context string that is not UTF-8 or is
 * over 1024 bytes. A password is WEAK below min_score or below
 * AUTH_PW_MIN_BITS of zxcvbn entropy.
 */
CF_MUST_CHECK enum cf_rc auth_password_evaluate(
    const struct auth_policy *policy, const char *password_secret, size_t len,
    const struct auth_pw_context *ctx, struct auth_strength *out);

/*
 * Normalise an e-mail address for use as a login identifier (COMMITMENT
 * A1): trim spaces, NFKC, lower-case the whole address. Checks it looks
 * like local@domain with no space or control character, at most 254
 * bytes. Caller frees *out with cf_free(). CF_EINVAL when not an address.
 */
CF_MUST_CHECK enum cf_rc auth_email_normalize(const char *email, char **out);

/* ---- accounts, sessions, lockout ----------------------------------
 * COMMITMENT A1 (e-mail login), A4 (Argon2id), A5 (lockout), A6 (IP ban),
 * B5 (session cookie, CSRF), C1 (access journal). Accounts live in the
 * tenant's database; e-mail and name are sealed with the tenant's field
 * key and found through a keyed blind index (invariant 3).
 *
 * Every function here works on one tenant (invariant 2), runs a slow
 * Argon2id hash where a password is involved (call from the worker pool)
 * and writes its change and audit event in one transaction (invariant 1).
 */

#include "crypto/crypto.h"
#include "db/db.h"

#define AUTH_LINK_TTL_S ((int64_t)24 * 3600) /* setup and invitation links */
#define AUTH_LOCK_AFTER 5                    /* consecutive failures */
#define AUTH_LOCK_FIRST_S 60
#define AUTH_LOCK_MAX_S 3600
#define AUTH_CSRF_LEN 64   /* hex */
#define AUTH_STEP_UP_S 300 /* sensitive changes need a proof this recent */
#define AUTH_EMAIL_MAX 254
#define AUTH_ID_LEN 32 /* public ids: hex of 128 random bits */
#define AUTH_RESET_TTL_S ((int64_t)30 * 60) /* password-reset links */
#define AUTH_RESET_PER_HOUR 3 /* reset mails to one account, at most */

struct auth_ipban;

/* Settings of accounts and sessions, from coffre.conf ([auth]). */
struct auth_config {
    struct cx_pwhash_cost cost;
    unsigned session_idle_s;
    unsigned session_max_s;
    unsigned ipban_failures; /* more than this many in the window: ban */
    unsigned ipban_window_s;
    unsigned ipban_s;
    bool mfa_optional; /* the operator lets tenants make 2FA optional */
};
void auth_config_from(const struct cf_config *cfg, struct auth_config *out);

#define AUTH_PAT_PREFIX "coffre_pat_"
#define AUTH_PAT_LEN (sizeof(AUTH_PAT_PREFIX) - 1 + CX_TOKEN_LEN)
#define AUTH_TOKEN_ID_LEN 32    /* hex of 128 random bits */
#define AUTH_TOKEN_NAME_MAX 64  /* characters */
#define AUTH_TOKEN_DAYS_MAX 365 /* COMMITMENT A10: at most a year */
#define AUTH_TOKEN_DAYS_DEFAULT 90
#define AUTH_TOKENS_MAX 50 /* live tokens per account */
#define AUTH_PERMS_MAX 512 /* space-separated permission names */

/* A tenant's 2FA policy (COMMITMENT A12). */
enum auth_mfa_policy {
    AUTH_MFA_ADMINS = 0, /* owners and admins need 2FA (the default) */
    AUTH_MFA_OPTIONAL,
    AUTH_MFA_ALL,
};

/* The account behind a valid session or API token. */
struct auth_session {
    int64_t id; /* row numbers: internal, never shown */
    int64_t user_id;
    char pid[AUTH_ID_LEN + 1];      /* the session's public id */
    char user_pid[AUTH_ID_LEN + 1]; /* the account's public id */
    char role[16];
    /* the account's e-mail, sealed (auth_session_email() opens it); 0
     * bytes for an API token's */
    size_t email_len;
    unsigned char email_sealed[AUTH_EMAIL_MAX + CX_FIELD_OVERHEAD];
    bool mfa_ok; /* passed the second factor, or has none */
    bool totp;   /* the account has 2FA on */
    int64_t created;
    int64_t auth_at; /* last proof of identity: login, code, step-up */
    int64_t expires; /* the earlier of the idle and absolute limits */
    char csrf[AUTH_CSRF_LEN + 1];
    enum auth_mfa_policy mfa_policy; /* the tenant's */
    bool password_expired; /* older than the tenant's maximum age (A8) */
    bool admin_ip_ok;      /* the client address may use admin routes (A12) */
    bool via_token;        /* an API token, not a cookie */
    char token_id[AUTH_TOKEN_ID_LEN + 1];
    char permissions[AUTH_PERMS_MAX]; /* the token's, space-separated */
};

/*
 * Create an owner account without a password and a single-use setup link
 * valid AUTH_LINK_TTL_S; token_out receives the link's token (shown once,
 * only its keyed hash is stored). CF_EINVAL for a bad address, CF_ECONFLICT
 * if the e-mail already has an account.
 */
CF_MUST_CHECK enum cf_rc auth_owner_create(const struct cf_ctx *ctx,
                                           const char *email,
                                           char token_out[CX_TOKEN_LEN + 1]);

/*
 * Complete a setup (or later invitation/reset) link: check the password
 * against the policy for the account's role, hash it, store it, use up the
 * link. CF_EINVAL with *verdict filled when the policy refuses (the link
 * stays valid); CF_ENOTFOUND for an unknown, used or expired link.
 */
CF_MUST_CHECK enum cf_rc auth_setup_complete(const struct cf_ctx *ctx,
                                             const char *token,
                                             const char *password_secret,
                                             size_t len,
                                             struct auth_strength *verdict);

/*
 * Log in: on success a new session and its token (shown once) in
 * token_out, *mfa_required set. Any failure (unknown e-mail, wrong
 * password, locked, no password yet) is CF_EAUTH, indistinguishable, and
 * costs one Argon2id hash; a banned client IP is CF_ELOCKED with
 * *retry_after seconds. Every attempt goes to the access journal.
 */
CF_MUST_CHECK enum cf_rc auth_login(const struct cf_ctx *ctx, const char *email,
                                    const char *password_secret, size_t len,
                                    char token_out[CX_TOKEN_LEN + 1],
                                    bool *mfa_required, unsigned *retry_after);

/*
 * Ask for a password reset of email (COMMITMENT A1): when an active
 * account has this address, a single-use link valid AUTH_RESET_TTL_S is
 * mailed to it (at most AUTH_RESET_PER_HOUR an hour). CF_OK whether or
 * not the address has an account, so nobody learns which addresses do;
 * CF_EINVAL only when email is not an address. Journaled either way.
 * Completing the link (auth_setup_complete) ends every session of the
 * account and mails a notice.
 */
CF_MUST_CHECK enum cf_rc auth_reset_request(const struct cf_ctx *ctx,
                                            const char *email);

/* The session of token, refreshing its idle timer. CF_EAUTH when unknown
 * or expired (an expired session is deleted). */
CF_MUST_CHECK enum cf_rc auth_session_get(const struct cf_ctx *ctx,
                                          const char *token,
                                          struct auth_session *out);

/* The clear e-mail address of the account of session s into out (cap
 * bytes). The session carries it sealed: only the pages that show it
 * open it (from the account's row for an API token's session). */
CF_MUST_CHECK enum cf_rc auth_session_email(const struct cf_ctx *ctx,
                                            const struct auth_session *s,
                                            char *out, size_t cap);

/* End the session of token (journaled). CF_EAUTH when unknown. */
CF_MUST_CHECK enum cf_rc auth_logout(const struct cf_ctx *ctx,
                                     const char *token);

/* Write a device label ("Firefox on Linux") for a User-Agent header
 * (NULL: "unknown device") into out (cap bytes); returns out. Fuzzed. */
const char *auth_device_label(const char *user_agent, char *out, size_t cap);

/* A name people give to a thing (a role, a group, a space): NFKC, 1 to
 * max_cp code points, no space at either end, no control or format
 * character, into out. CF_EINVAL when refused, CF_ETOOBIG when out is too
 * small. */
CF_MUST_CHECK enum cf_rc auth_label(const char *in, size_t max_cp, char *out,
                                    size_t cap);

/* The whole server's per-IP failure windows (in memory, bounded). */
CF_MUST_CHECK enum cf_rc auth_ipban_new(size_t slots, struct auth_ipban **out);
void auth_ipban_free(struct auth_ipban *b);

/* ---- my account: sessions, journal, password change --------------- */

/* One session of an account, for the owner's list (no token in it). */
struct auth_session_info {
    int64_t id;
    char pid[AUTH_ID_LEN + 1]; /* what the API shows */
    int64_t created;
    int64_t last_seen;
    char client_ip[64];
    char device[64];
    bool current;
};

/* One line of an account's access journal. */
struct auth_login_info {
    int64_t id;
    int64_t user_id;                /* 0: no account matched */
    char user_pid[AUTH_ID_LEN + 1]; /* "" when no account matched */
    char time[CF_TIME_RFC3339_LEN];
    char outcome[16];
    char client_ip[64];
    char device[64];
};

typedef enum cf_rc (*auth_session_fn)(const struct auth_session_info *s,
                                      void *arg);
typedef enum cf_rc (*auth_login_fn)(const struct auth_login_info *l, void *arg);

/* Call fn for each live session of user_id, newest first; current_id
 * marks the caller's own. */
CF_MUST_CHECK enum cf_rc auth_sessions_list(const struct cf_ctx *ctx,
                                            int64_t user_id, int64_t current_id,
                                            auth_session_fn fn, void *arg);
/* End the session of public id pid of user_id (CF_ENOTFOUND when it is
 * not theirs), or, with pid NULL, every session of user_id but keep_id;
 * *count gets how many ended. Audited. */
CF_MUST_CHECK enum cf_rc auth_sessions_revoke(const struct cf_ctx *ctx,
                                              int64_t user_id, const char *pid,
                                              int64_t keep_id, int64_t *count);
/* Call fn for at most limit journal lines of user_id older than before
 * (0: from the newest), newest first (COMMITMENT C1). */
CF_MUST_CHECK enum cf_rc auth_logins_list(const struct cf_ctx *ctx,
                                          int64_t user_id, int64_t before,
                                          unsigned limit, auth_login_fn fn,
                                          void *arg);
/*
 * Change user_id's password: current must match (CF_EAUTH, counted as a
 * failure like a login), new_pw must pass the policy (CF_EINVAL with
 * *verdict). On success every other session of the account ends
 * (keep_id is kept). Two Argon2id hashes: call from the worker pool.
 */
CF_MUST_CHECK enum cf_rc
auth_password_change(const struct cf_ctx *ctx, int64_t user_id, int64_t keep_id,
                     const char *current_secret, size_t current_len,
                     const char *new_secret, size_t new_len,
                     struct auth_strength *verdict);

/* ---- second factor: TOTP (COMMITMENT A7) ----------------------
 * RFC 6238 with liboath: SHA-1, 6 digits, 30 s steps, one step of drift
 * either way. The 160-bit secret is sealed with the tenant's field key; a
 * code is accepted once (its step is remembered); ten single-use recovery
 * codes are stored as keyed hashes. Password and code failures share the
 * lockout counter.
 */
#define AUTH_RECOVERY_CODES 10
#define AUTH_RECOVERY_LEN 14 /* "xxxx-xxxx-xxxx" */
#define AUTH_OTPAUTH_MAX 512

/* Start (or restart) enrolment for user_id: a new pending secret; *uri
 * gets the otpauth:// URI and svg an SVG QR code of it. Active 2FA stays
 * as it is until auth_totp_confirm(). */
CF_MUST_CHECK enum cf_rc auth_totp_begin(const struct cf_ctx *ctx,
                                         int64_t user_id,
                                         char uri[AUTH_OTPAUTH_MAX],
                                         struct cf_buf *svg);
/* Activate the pending secret if code matches it; codes receives the new
 * recovery codes (shown once). CF_EAUTH on a wrong code, CF_ENOTFOUND
 * with nothing pending. */
CF_MUST_CHECK enum cf_rc
auth_totp_confirm(const struct cf_ctx *ctx, int64_t user_id, const char *code,
                  char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1]);
/* Turn 2FA off for user_id (recovery codes dropped). */
CF_MUST_CHECK enum cf_rc auth_totp_disable(const struct cf_ctx *ctx,
                                           int64_t user_id);
/* Second step of a login: code is a TOTP code or a recovery code; on
 * success the session of token is marked as having passed 2FA. CF_EAUTH
 * otherwise (a replayed code included; journaled, counted toward lockout,
 * a replay logged as such). */
CF_MUST_CHECK enum cf_rc auth_totp_verify(const struct cf_ctx *ctx,
                                          const char *token, const char *code);
/* Does user_id have 2FA on? */
CF_MUST_CHECK enum cf_rc auth_totp_enabled(const struct cf_ctx *ctx,
                                           int64_t user_id, bool *on);

/* What a person typed at the second step. */
enum auth_code_kind {
    AUTH_CODE_INVALID = 0,
    AUTH_CODE_TOTP,     /* 6 digits */
    AUTH_CODE_RECOVERY, /* 12 characters of the recovery alphabet */
};
#define AUTH_CODE_NORM_MAX 12

/* Classify in (spaces and, for recovery codes, dashes ignored; any case)
 * and write its canonical form to norm. Bounded, allocation-free, fuzzed
 * (tests/fuzz/fuzz_code.c). */
enum auth_code_kind auth_code_parse(const char *in,
                                    char norm[AUTH_CODE_NORM_MAX + 1]);

/* Step-up: check password_secret for the session of token and record
 * the proof (sensitive changes need one within AUTH_STEP_UP_S). CF_EAUTH
 * for a wrong password (counted like a failed login). Argon2id: call from
 * the worker pool. */
CF_MUST_CHECK enum cf_rc auth_step_up(const struct cf_ctx *ctx,
                                      const char *token,
                                      const char *password_secret, size_t len);

/* ---- personal API tokens (COMMITMENT A10) --------------------------
 * "coffre_pat_" + 43 base64url characters (256 bits), shown once; only a
 * keyed hash is stored. Each carries a name, an expiry of at most a year
 * and a subset of its account's permissions (checked by the caller
 * against authz/, which auth does not see).
 */
struct auth_token_info {
    char id[AUTH_TOKEN_ID_LEN + 1];
    char name[AUTH_TOKEN_NAME_MAX * 4 + 1];
    char permissions[AUTH_PERMS_MAX];
    int64_t created;
    int64_t expires;
    int64_t last_used; /* 0: never */
};
typedef enum cf_rc (*auth_token_fn)(const struct auth_token_info *t, void *arg);

/*
 * Create a token for user_id: name (1-AUTH_TOKEN_NAME_MAX characters,
 * printable), valid days (1-AUTH_TOKEN_DAYS_MAX), permissions (non-empty,
 * space-separated names of the catalogue). token_out gets the token
 * (shown once), *info what is stored. CF_EINVAL for a bad name or days,
 * CF_EPERM when the account (ctx->actor) does not hold every permission
 * somewhere, CF_ECONFLICT past AUTH_TOKENS_MAX live tokens. Audited.
 */
CF_MUST_CHECK enum cf_rc auth_token_create(const struct cf_ctx *ctx,
                                           int64_t user_id, const char *name,
                                           unsigned days,
                                           const char *permissions,
                                           char token_out[AUTH_PAT_LEN + 1],
                                           struct auth_token_info *info);
/* Call fn for each live token of user_id, newest first. */
CF_MUST_CHECK enum cf_rc auth_tokens_list(const struct cf_ctx *ctx,
                                          int64_t user_id, auth_token_fn fn,
                                          void *arg);
/* Revoke user_id's token id (CF_ENOTFOUND when it is not theirs). */
CF_MUST_CHECK enum cf_rc auth_token_revoke(const struct cf_ctx *ctx,
                                           int64_t user_id, const char *id);
/* The account behind a live token (via_token set, permissions filled).
 * CF_EAUTH when malformed, unknown, expired or the account is not
 * active. */
CF_MUST_CHECK enum cf_rc auth_token_get(const struct cf_ctx *ctx,
                                        const char *token,
                                        struct auth_session *out);

/* ---- tenant security policy (COMMITMENT A2, A8, A12) ---------------
 * What a tenant may set, each only stricter than the server's defaults:
 * longer passwords or a higher zxcvbn score, a maximum password age for
 * ordinary accounts (off by default) and for owners and admins (365 days
 * by default), how many earlier passwords may not be reused, and who must
 * use 2FA. Stored in the tenant's settings table; every change audited
 * with its old and new value.
 */
#define AUTH_MAX_AGE_ADMIN_DAYS 365
#define AUTH_HISTORY_DEFAULT 5
#define AUTH_HISTORY_MAX 24
#define AUTH_ADMIN_IPS_MAX 1024 /* up to 32 CIDRs */
#define AUTH_ADMIN_IPS_COUNT 32
/* The file types the server knows how to take (the documents' upload
 * allow-list); a tenant accepts all of them or fewer. */
#define AUTH_UPLOAD_TYPES                                                      \
    "pdf png jpeg gif webp txt csv md docx xlsx pptx odt ods odp"
#define AUTH_UPLOAD_TYPES_MAX 128
/* Check in (names separated by "," and spaces, each of AUTH_UPLOAD_TYPES,
 * each once) and write it in the catalogue's order, comma-separated, to
 * out. CF_EINVAL for an unknown or repeated name, CF_ETOOBIG when out is
 * too small. */
CF_MUST_CHECK enum cf_rc auth_upload_types_canon(const char *in, char *out,
                                                 size_t cap);

struct auth_tenant_policy {
    struct auth_policy pw; /* merged: never weaker than the defaults */
    enum auth_mfa_policy mfa;
    unsigned max_age_days;         /* ordinary accounts; 0: no maximum */
    unsigned max_age_days_admin;   /* owners and admins, 1-365 */
    unsigned history;              /* earlier passwords refused, 0-24 */
    unsigned session_idle_minutes; /* 1-30; the server's if shorter */
    unsigned session_max_hours;    /* 1-12; the server's if shorter */
    unsigned lockout_failures;     /* 3-5 consecutive failures lock */
    /* COMMITMENT A12: addresses allowed on /api/v1/admin/ routes,
     * canonical CIDRs separated by ","; "" allows any address */
    char admin_ips[AUTH_ADMIN_IPS_MAX];
    /* the file types accepted for upload, comma-separated in the order
     * of AUTH_UPLOAD_TYPES; "" accepts none */
    char upload_types[AUTH_UPLOAD_TYPES_MAX];
};

/* The tenant's policy (defaults for what was never set). */
CF_MUST_CHECK enum cf_rc auth_tenant_policy_get(const struct cf_ctx *ctx,
                                                struct auth_tenant_policy *out);
/*
 * Set one field by its name: "mfa" (admins, all; optional only when the
 * operator allows it: ctx->cfg->mfa_optional), "password_min" (12-128),
 * "password_min_admin" (16-128), "password_score" (3-4), "max_age_days"
 * (0-365), "max_age_days_admin" (1-365), "history" (5-24),
 * "session_idle_minutes" (1-30), "session_max_hours" (1-12). Each floor
 * is the server's own value: a tenant is only ever stricter. CF_EINVAL
 * with nothing changed for an unknown name or a value out of range.
 * Audited (settings.<name>) with the old and new values.
 */
CF_MUST_CHECK enum cf_rc auth_tenant_policy_set(const struct cf_ctx *ctx,
                                                const char *name,
                                                const char *value);
/*
 * Set several fields at once, all or nothing (one transaction, one audit
 * event each): names[i] = values[i] as for auth_tenant_policy_set(), plus
 * "lockout_failures" (3-5) and "admin_ips" (comma-separated IPv4/IPv6
 * addresses or CIDRs, at most 32; "" for any) and "upload_types"
 * (comma-separated names of AUTH_UPLOAD_TYPES; "" for none). *bad is set to the
 * index of the first refused pair on CF_EINVAL. When keep_ip is not NULL, an
 * allow-list that would refuse keep_ip (the caller's own address) is
 * refused with CF_ECONFLICT: nobody locks themself out.
 */
CF_MUST_CHECK enum cf_rc
auth_tenant_policy_update(const struct cf_ctx *ctx, const char *const *names,
                          const char *const *values, size_t n,
                          const char *keep_ip, size_t *bad);
/* What name accepts, for people: "from 5 to 24 (the server's floor is
 * 5)", "admins or all (...)"; into out. "" for an unknown name. */
void auth_tenant_policy_range(const struct cf_ctx *ctx, const char *name,
                              char *out, size_t cap);
/* Is ip in list (canonical CIDRs, "," separated)? An empty list holds
 * every address; an unparsable ip none. */
bool auth_ip_in_list(const char *list, const char *ip);
/* Write the policy as "name: value" lines (the names above) to f. */
void auth_tenant_policy_print(const struct auth_tenant_policy *p, FILE *f);
/* "optional", "admins", "all"; and back (CF_EINVAL when unknown). */
const char *auth_mfa_policy_name(enum auth_mfa_policy p);
CF_MUST_CHECK enum cf_rc auth_mfa_policy_parse(const char *s,
                                               enum auth_mfa_policy *out);

/* ---- administration of accounts ---------------------------------- */

/*
 * An account's state. users.state stores active, disabled or removed;
 * invited is never stored: it is an active account without a password
 * yet. The API shows the names of auth_state_name().
 */
enum auth_state {
    AUTH_STATE_ACTIVE = 0,
    AUTH_STATE_INVITED,
    AUTH_STATE_DISABLED,
    AUTH_STATE_REMOVED,
};
/* "active", "invited", "disabled" or "removed" (static storage). */
const char *auth_state_name(enum auth_state s);
/* The state named s into *out; CF_EINVAL for NULL or any other string. */
CF_MUST_CHECK enum cf_rc auth_state_parse(const char *s, enum auth_state *out);

/* An account as an administrator sees it. */
struct auth_account {
    int64_t id;                /* internal */
    char pid[AUTH_ID_LEN + 1]; /* what the API shows */
    char email[AUTH_EMAIL_MAX + 1];
    char role[16];
    char state[16]; /* auth_state_name(): active, invited or disabled */
    bool totp;
    int64_t locked_until; /* unix time; past: not locked */
    int64_t created;
    char last_login[CF_TIME_RFC3339_LEN]; /* "" when never */
};
typedef enum cf_rc (*auth_account_fn)(const struct auth_account *a, void *arg);

#define AUTH_INVITE_TTL_S ((int64_t)7 * 24 * 3600)

/* Each account of the tenant, oldest first. */
CF_MUST_CHECK enum cf_rc auth_accounts_list(const struct cf_ctx *ctx,
                                            auth_account_fn fn, void *arg);
/* The account of public id pid (CF_ENOTFOUND, also for a removed one). */
CF_MUST_CHECK enum cf_rc auth_account_get(const struct cf_ctx *ctx,
                                          const char *pid,
                                          struct auth_account *out);
/*
 * Invite email with role: an account without password and a single-use
 * link valid AUTH_INVITE_TTL_S, mailed; when no mail leaves (no mailer,
 * or one that is off) the link goes to link_out (cap bytes) for the
 * inviter to hand over, else link_out is "". CF_EINVAL for a bad address
 * or an unknown role, CF_EPERM when ctx->actor does not hold every
 * permission of role (narrowed to its token's), CF_ECONFLICT when the
 * address has an account. *out is the new account.
 */
CF_MUST_CHECK enum cf_rc auth_account_invite(const struct cf_ctx *ctx,
                                             const char *email,
                                             const char *role,
                                             struct auth_account *out,
                                             char *link_out, size_t link_cap);
/* What auth_account_update does to the state. */
enum {
    AUTH_ACCOUNT_KEEP = 0,
    AUTH_ACCOUNT_ENABLE,
    AUTH_ACCOUNT_DISABLE, /* ends its sessions, revokes its tokens */
};
/*
 * The changes below act on account id, each in one transaction with its
 * audit event (principal ctx->principal) and under the rules no
 * interface may skip (COMMITMENT B1): ctx->actor, when set, must hold
 * everything the account holds, its role and every grant reaching it,
 * tenant-wide and in each space (CF_EPERM otherwise); the tenant keeps
 * an active owner, by role or by grant (CF_ECONFLICT otherwise);
 * CF_ENOTFOUND for no such account. Nothing changes on a refusal.
 */
/* Change id's role (NULL: keep; ctx->actor must hold all of it) and
 * state (AUTH_ACCOUNT_*), all or nothing. */
CF_MUST_CHECK enum cf_rc auth_account_update(const struct cf_ctx *ctx,
                                             int64_t id, const char *role,
                                             int state);
/* Remove id with its sessions, tokens, links, codes and password
 * history. */
CF_MUST_CHECK enum cf_rc auth_account_remove(const struct cf_ctx *ctx,
                                             int64_t id);
/* May ctx->actor act on account id of built-in role (read-only: the
 * preview of its permissions)? CF_OK or CF_EPERM. */
CF_MUST_CHECK enum cf_rc auth_account_covered(const struct cf_ctx *ctx,
                                              int64_t id, const char *role);
/* Turn id's 2FA off and revoke its API tokens (a notice is mailed);
 * end id's sessions (*ended). */
CF_MUST_CHECK enum cf_rc auth_account_totp_reset(const struct cf_ctx *ctx,
                                                 int64_t id);
CF_MUST_CHECK enum cf_rc auth_account_logout(const struct cf_ctx *ctx,
                                             int64_t id, int64_t *ended);

/* fn of auth_admin_logins: a line and its account's address ("" when
 * no account matched). */
typedef enum cf_rc (*auth_login_admin_fn)(const struct auth_login_info *l,
                                          const char *email, void *arg);
/* Call fn for at most limit lines older than before (0: newest), of the
 * account of public id user_pid only when not NULL, of outcome only when
 * not NULL, newest first. */
CF_MUST_CHECK enum cf_rc auth_admin_logins(const struct cf_ctx *ctx,
                                           const char *user_pid,
                                           const char *outcome, int64_t before,
                                           unsigned limit,
                                           auth_login_admin_fn fn, void *arg);
/* Record a refused attempt of user_id (an audit event with outcome
 * failure, action e.g. "admin.ip_refused"; principal ctx->principal or
 * "user:<id>"). */
CF_MUST_CHECK enum cf_rc auth_admin_refused(const struct cf_ctx *ctx,
                                            int64_t user_id,
                                            const char *action);
/* Clear user_id's failure counter and lock (audited user.unlock), under
 * the rules above. */
CF_MUST_CHECK enum cf_rc auth_admin_unlock(const struct cf_ctx *ctx,
                                           int64_t user_id);

/*
 * A fresh single-use setup link, valid AUTH_LINK_TTL_S, for the owner
 * email who never chose a password (relink.c). Every older unused link of
 * the account stops working; the change and its audit event
 * (user.setup_link, by ctx->principal) are one transaction. token_out
 * receives the link's token (shown once, only its keyed hash is stored),
 * written only on success. CF_EINVAL for a bad address, CF_ENOTFOUND when
 * the address has no account, CF_ECONFLICT when the account has a
 * password (a reset is the way back), CF_EPERM when it is not an active
 * owner.
 */
CF_MUST_CHECK enum cf_rc auth_owner_relink(const struct cf_ctx *ctx,
                                           const char *email,
                                           char token_out[CX_TOKEN_LEN + 1]);

#endif
