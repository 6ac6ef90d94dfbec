/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * auth/ private declarations shared by policy.c and email.c: Unicode
 * normalisation of untrusted text into owned, wipeable buffers (utf8proc),
 * and the common-password list compiled in from data/common-passwords.txt
 * (build/gen/common_passwords.c, written by tools/wordlist).
 *
 * No other module includes this header.
 */
#ifndef AUTH_AUTH_INT_H
#define AUTH_AUTH_INT_H

#include "auth/auth.h"

/* ---- normalised text ------------------------------------------------ */

enum auth_text_flags {
    /* Unicode case folding during the decomposition (NFKC_Casefold-like):
     * the form in which passwords and context strings are compared. */
    AUTH_TEXT_FOLD = 1u << 0,
    /* utf8proc_tolower() on each code point after composition: the form
     * of e-mail addresses (lower case, ß kept, unlike folding). */
    AUTH_TEXT_LOWER = 1u << 1,
};

/*
 * Text after NFKC. The buffer comes from cf_malloc and may hold a secret
 * (a password): auth_text_release() wipes all of it, capacity included,
 * before freeing it. utf8proc works in place in this one buffer, so no
 * other copy of the input is left in freed memory by the normalisation.
 */
struct auth_text {
    char *s;    /* NUL-terminated UTF-8 (may hold an inner NUL if the
                   input did); NULL until normalised */
    size_t len; /* bytes, NUL excluded */
    size_t ncp; /* code points */
    size_t cap; /* bytes allocated at s */
};

#define AUTH_TEXT_INIT                                                         \
    {                                                                          \
        NULL, 0, 0, 0                                                          \
    }

/*
 * Normalise in[0..len) (UTF-8, need not be NUL-terminated; NULL with
 * len 0 is the empty string) to NFKC, with the extra steps of flags
 * (enum auth_text_flags), into *out, which must be released (or never
 * filled: AUTH_TEXT_INIT). Returns CF_EINVAL for invalid UTF-8 (overlong
 * forms, surrogates, bytes past U+10FFFF), CF_ETOOBIG when the result
 * would not fit size_t, CF_ENOMEM. *out is written only on CF_OK.
 */
CF_MUST_CHECK enum cf_rc auth_text_normalize(const char *in, size_t len,
                                             unsigned flags,
                                             struct auth_text *out);
/* Wipe and free t's buffer; t is left empty (AUTH_TEXT_INIT). NULL and
 * empty texts are no-ops. */
void auth_text_release(struct auth_text *t);

/* A name people give to something (an API token): NFKC, 1 to max_cp code
 * points, printable (no control or format character), no space at either
 * end. CF_EINVAL otherwise; *out as for auth_text_normalize(). */
CF_MUST_CHECK enum cf_rc auth_label_normalize(const char *in, size_t max_cp,
                                              struct auth_text *out);

/* ---- the common-password list (COMMITMENT A2) ------------------------- */

/* Generated from data/common-passwords.txt: lower-case ASCII entries,
 * sorted bytewise, no duplicates. */
extern const char *const auth_common_passwords[];
extern const size_t auth_common_passwords_count;

/* True when s[0..len) (the case-folded NFKC form of a password; may hold
 * inner NULs) is exactly one of the entries. Binary search: about 15
 * comparisons for 30,000 entries. */
bool auth_common_contains(const char *s, size_t len);

/* ---- accounts and sessions (account.c, login.c, session.c, store.c) -- */

/* Is ip banned now? Sets *retry_after (seconds) when it is. */
bool auth_ipban_banned(struct auth_ipban *b, const char *ip, int64_t now,
                       unsigned *retry_after);
/* Count one failed login from ip; bans it past cfg's limit. */
void auth_ipban_failed(struct auth_ipban *b, const struct auth_config *cfg,
                       const char *ip, int64_t now);

/* Sub-keys of one request, borrowed from the tenant's keyset (valid
 * while ctx->keys is). */
struct auth_keys {
    const struct cx_data_key *field; /* seals e-mail and name */
    const struct cx_data_key *index; /* e-mail blind index */
    const struct cx_data_key *token; /* hashes of tokens */
    const struct cx_data_key *csrf;  /* CSRF tokens */
    const struct cx_data_key *audit; /* audit details */
};
CF_MUST_CHECK enum cf_rc auth_keys_open(const struct cf_ctx *ctx,
                                        struct auth_keys *k);
void auth_keys_close(struct auth_keys *k);

/* A user row, without secrets. */
struct auth_user {
    int64_t id;
    char pid[AUTH_ID_LEN + 1];
    int64_t password_set; /* when the password was chosen; 0: none */
    char role[16];
    char state[16]; /* as stored; read it with auth_user_state() */
    bool has_password;
    unsigned failed_count;
    int64_t locked_until;
    bool has_totp;
};

/* The state of u: the stored one parsed, invited for an active account
 * without a password. A stored state that does not parse is logged and
 * reads as disabled (fail closed). */
enum auth_state auth_user_state(const struct auth_user *u);
/* Neither disabled nor removed: active or invited. */
bool auth_user_enabled(const struct auth_user *u);

/* store.c: the SQL of accounts, links, sessions and the journal. */
CF_MUST_CHECK enum cf_rc auth_store_user_by_index(struct db *db,
                                                  const unsigned char *idx,
                                                  struct auth_user *out,
                                                  char *hash, size_t hashcap);
CF_MUST_CHECK enum cf_rc auth_store_user_by_id(struct db *db, int64_t id,
                                               struct auth_user *out);
/* A new account with an empty sealed address (bound to the row id:
 * auth_store_user_email_set() it in the same transaction). */
CF_MUST_CHECK enum cf_rc auth_store_user_insert(struct db *db,
                                                const unsigned char *idx,
                                                const char *role, int64_t now,
                                                int64_t *id);
CF_MUST_CHECK enum cf_rc auth_store_user_email_set(struct db *db, int64_t id,
                                                   const struct cf_buf *sealed);
/* Seal (open) a value of the registered column col in the row whose id is
 * row, or id when row is NULL: bound to table, column and row (db/sealed.c,
 * invariant 3); appended to out. */
CF_MUST_CHECK enum cf_rc auth_field_seal(const struct auth_keys *k,
                                         enum db_sealed_col col, int64_t id,
                                         const char *row, const void *pt,
                                         size_t len, struct cf_buf *out);
CF_MUST_CHECK enum cf_rc auth_field_open(const struct auth_keys *k,
                                         enum db_sealed_col col, int64_t id,
                                         const char *row, const void *ct,
                                         size_t len, struct cf_buf *out);
CF_MUST_CHECK enum cf_rc auth_store_user_email(struct db *db, int64_t id,
                                               struct cf_buf *sealed);
CF_MUST_CHECK enum cf_rc auth_store_set_password(struct db *db, int64_t id,
                                                 const char *hash, int score,
                                                 int64_t now);
CF_MUST_CHECK enum cf_rc auth_store_set_failures(struct db *db, int64_t id,
                                                 unsigned count,
                                                 int64_t locked_until);
CF_MUST_CHECK enum cf_rc auth_store_link_insert(struct db *db,
                                                const unsigned char *hash,
                                                int64_t user_id,
                                                const char *purpose,
                                                int64_t expires, int64_t now);
/* The user of an unused, unexpired link (CF_ENOTFOUND otherwise). */
CF_MUST_CHECK enum cf_rc auth_store_link_find(struct db *db,
                                              const unsigned char *hash,
                                              int64_t now, int64_t *user_id,
                                              char purpose[16]);
/* How many links of purpose user_id received since since. */
CF_MUST_CHECK enum cf_rc auth_store_links_since(struct db *db, int64_t user_id,
                                                const char *purpose,
                                                int64_t since, int64_t *count);
/* Has user_id signed in before (*any), and from the device whose keyed
 * hash is mac (*seen)? */
CF_MUST_CHECK enum cf_rc
auth_store_device_seen(struct db *db, int64_t user_id,
                       const unsigned char mac[CX_MAC_BYTES], bool *any,
                       bool *seen);
CF_MUST_CHECK enum cf_rc auth_store_link_use(struct db *db,
                                             const unsigned char *hash);
/* A new session without its place (auth_session_place() seals it, bound
 * to the row id, in the same transaction). */
CF_MUST_CHECK enum cf_rc auth_store_session_insert(struct db *db,
                                                   const unsigned char *hash,
                                                   int64_t user_id, int64_t now,
                                                   int64_t expires, bool mfa_ok,
                                                   int64_t *id);
/* The sealed client address, user agent and device label of row id of
 * access_log (journal, with the label's keyed hash) or sessions. */
CF_MUST_CHECK enum cf_rc auth_store_place_set(struct db *db, bool journal,
                                              int64_t id,
                                              const struct cf_buf *ip,
                                              const struct cf_buf *ua,
                                              const struct cf_buf *device,
                                              const unsigned char *device_mac);
/* The session of hash, in one query: id, user, created, expires, mfa_ok,
 * public id, auth_at into *out; its last use into *last_seen. */
CF_MUST_CHECK enum cf_rc auth_store_session_find(struct db *db,
                                                 const unsigned char *hash,
                                                 struct auth_session *out,
                                                 int64_t *last_seen);
CF_MUST_CHECK enum cf_rc auth_store_session_touch(struct db *db, int64_t id,
                                                  int64_t now);
CF_MUST_CHECK enum cf_rc auth_store_session_delete(struct db *db, int64_t id);
/* A journal line without its place (see auth_journal()). */
CF_MUST_CHECK enum cf_rc
auth_store_journal_insert(struct db *db, int64_t user_id,
                          const unsigned char *email_index, const char *outcome,
                          int64_t *id);

/* place.c: where a request came from (client address, user agent, device
 * label) is personal data, sealed at rest bound to its row (invariant 3);
 * the device label's keyed hash is kept for the new-device check. */
/* Journal an attempt of user_id (0: no account; email_index then says
 * which address was tried) with ctx's place. */
CF_MUST_CHECK enum cf_rc auth_journal(struct db *db, const struct auth_keys *k,
                                      int64_t user_id,
                                      const unsigned char *email_index,
                                      const char *outcome,
                                      const struct cf_ctx *ctx);
/* Seal ctx's place into session id. */
CF_MUST_CHECK enum cf_rc auth_session_place(struct db *db,
                                            const struct auth_keys *k,
                                            const struct cf_ctx *ctx,
                                            int64_t id);
/* The keyed hash of a device label (for auth_store_device_seen). */
CF_MUST_CHECK enum cf_rc auth_device_mac(const struct auth_keys *k,
                                         const char *device,
                                         unsigned char mac[CX_MAC_BYTES]);
/* A list of sessions or journal lines whose place is opened before fn
 * (sfn or lfn) sees each; auth_login_row() is the journal's row callback
 * for auth_store_logins_each() (arg: a struct auth_place_walk). */
struct auth_place_walk {
    const struct auth_keys *k;
    auth_session_fn sfn;
    auth_login_fn lfn;
    void *arg;
};
CF_MUST_CHECK enum cf_rc auth_login_row(struct auth_login_info *l,
                                        const void *ip, size_t iplen,
                                        const void *dev, size_t devlen,
                                        void *arg);
/* Open a sealed place value of col in row id as text into out (cap
 * bytes); an empty value reads "". */
CF_MUST_CHECK enum cf_rc auth_place_open(const struct auth_keys *k,
                                         enum db_sealed_col col, int64_t id,
                                         const void *v, size_t len, char *out,
                                         size_t cap);

/* account.c helpers shared with login.c and session.c; auth_audit's
 * principal NULL means "user:<user_id>" (the account acts on itself) */
CF_MUST_CHECK enum cf_rc auth_audit(struct db *db, const struct auth_keys *k,
                                    const struct cf_ctx *ctx,
                                    const char *principal, const char *action,
                                    int64_t user_id, bool success);
CF_MUST_CHECK enum cf_rc auth_user_email(struct db *db,
                                         const struct auth_keys *k, int64_t id,
                                         char *out, size_t cap);

/* me.c's SQL (store.c) */
CF_MUST_CHECK enum cf_rc auth_store_user_hash(struct db *db, int64_t id,
                                              char *hash, size_t cap);
/* Rows of sessions and journal lines with their sealed client address
 * and device label (v, len) for the caller to open. */
typedef enum cf_rc (*auth_store_session_row_fn)(struct auth_session_info *s,
                                                const void *ip, size_t iplen,
                                                const void *dev, size_t devlen,
                                                void *arg);
typedef enum cf_rc (*auth_store_login_row_fn)(struct auth_login_info *l,
                                              const void *ip, size_t iplen,
                                              const void *dev, size_t devlen,
                                              void *arg);
CF_MUST_CHECK enum cf_rc
auth_store_sessions_each(struct db *db, int64_t user_id, int64_t idle_since,
                         int64_t now, int64_t current_id,
                         auth_store_session_row_fn fn, void *arg);
/* user_id < 0: every account's lines; user_pid (when not NULL): only the
 * account of that public id; outcome NULL: every outcome */
CF_MUST_CHECK enum cf_rc
auth_store_logins_each(struct db *db, int64_t user_id, const char *user_pid,
                       const char *outcome, int64_t before, unsigned limit,
                       auth_store_login_row_fn fn, void *arg);
/* pid: that session of user_id; NULL: all of user_id but keep_id */
CF_MUST_CHECK enum cf_rc
auth_store_sessions_delete(struct db *db, int64_t user_id, const char *pid,
                           int64_t keep_id, int64_t *count);

/* session.c: the live session of token (expired ones are deleted), by
 * the server's limits and the tenant's shorter ones; pol_out (may be
 * NULL) receives the tenant's policy read on the way. */
CF_MUST_CHECK enum cf_rc
auth_session_find(const struct cf_ctx *ctx, struct db *db,
                  const struct auth_keys *k, const char *token, int64_t now,
                  struct auth_session *out, struct auth_tenant_policy *pol_out);
/* login.c: count a failure of user (lockout, journal, ban) */
CF_MUST_CHECK enum cf_rc
auth_login_failed(const struct cf_ctx *ctx, struct db *db,
                  const struct auth_keys *k, const struct auth_user *user,
                  const unsigned char *idx, const char *outcome, int64_t now);

/* totp.c's SQL (store.c) */
CF_MUST_CHECK enum cf_rc auth_store_totp_get(struct db *db, int64_t id,
                                             struct cf_buf *active,
                                             struct cf_buf *pending,
                                             int64_t *last_step);
CF_MUST_CHECK enum cf_rc auth_store_totp_pending(struct db *db, int64_t id,
                                                 const struct cf_buf *sealed);
CF_MUST_CHECK enum cf_rc auth_store_totp_activate(struct db *db, int64_t id,
                                                  int64_t step);
CF_MUST_CHECK enum cf_rc auth_store_totp_clear(struct db *db, int64_t id);
CF_MUST_CHECK enum cf_rc auth_store_totp_step(struct db *db, int64_t id,
                                              int64_t step);
CF_MUST_CHECK enum cf_rc auth_store_recovery_add(struct db *db, int64_t id,
                                                 const unsigned char *hash);
CF_MUST_CHECK enum cf_rc auth_store_recovery_clear(struct db *db, int64_t id);
CF_MUST_CHECK enum cf_rc auth_store_recovery_use(struct db *db, int64_t id,
                                                 const unsigned char *hash);
CF_MUST_CHECK enum cf_rc auth_store_session_mfa(struct db *db,
                                                int64_t session_id);

/* step-up (store.c) */
CF_MUST_CHECK enum cf_rc auth_store_session_proved(struct db *db, int64_t id,
                                                   int64_t now);

/* ---- notices by mail (notify.c) ----------------------------------- */

enum auth_notice {
    AUTH_NOTICE_RESET = 0,        /* detail: the reset link */
    AUTH_NOTICE_PASSWORD_CHANGED, /* detail unused */
    AUTH_NOTICE_LOCKED,           /* at the first lock */
    AUTH_NOTICE_NEW_DEVICE,       /* detail: "Firefox on Linux, 192.0.2.1" */
    AUTH_NOTICE_CODE_REPLAY,      /* a used 2FA code was presented */
    AUTH_NOTICE_INVITE,           /* detail: the invitation link */
    AUTH_NOTICE_TOTP_RESET,       /* an administrator turned 2FA off */
    AUTH_NOTICE_NONE,             /* no mail */
};

/* Mail notice what to user_id's address through ctx->mailer (nothing
 * when there is none). Call after the change is committed, outside any
 * transaction; a failure is logged, never returned. */
void auth_notify(const struct cf_ctx *ctx, struct db *db,
                 const struct auth_keys *k, int64_t user_id,
                 enum auth_notice what, const char *detail);

/* API tokens (store.c); fn gets each token with its sealed name */
typedef enum cf_rc (*auth_store_token_fn)(struct auth_token_info *t,
                                          const void *name_sealed,
                                          size_t name_len, void *arg);
CF_MUST_CHECK enum cf_rc
auth_store_token_insert(struct db *db, const struct auth_token_info *t,
                        int64_t user_id, const unsigned char *hash,
                        const struct cf_buf *name_sealed);
CF_MUST_CHECK enum cf_rc auth_store_tokens_count(struct db *db, int64_t user_id,
                                                 int64_t now, int64_t *count);
CF_MUST_CHECK enum cf_rc auth_store_tokens_each(struct db *db, int64_t user_id,
                                                int64_t now,
                                                auth_store_token_fn fn,
                                                void *arg);
CF_MUST_CHECK enum cf_rc auth_store_token_delete(struct db *db, int64_t user_id,
                                                 const char *id,
                                                 int64_t *count);
CF_MUST_CHECK enum cf_rc
auth_store_token_find(struct db *db, const unsigned char *hash, int64_t now,
                      struct auth_token_info *t, int64_t *user_id);
CF_MUST_CHECK enum cf_rc auth_store_token_used(struct db *db, const char *id,
                                               int64_t now);
/* The tenant's settings table (CF_ENOTFOUND: never set). */
CF_MUST_CHECK enum cf_rc auth_store_setting_get(struct db *db, const char *key,
                                                char *out, size_t cap);
CF_MUST_CHECK enum cf_rc auth_store_setting_set(struct db *db, const char *key,
                                                const char *value);
/* The tenant's policy as read from db (defaults for what is unset). */
CF_MUST_CHECK enum cf_rc
auth_tenant_policy_read(struct db *db, struct auth_tenant_policy *out);
/* Is a password set at set_at too old for an account of role? */
bool auth_password_too_old(const struct auth_tenant_policy *p, const char *role,
                           int64_t set_at, int64_t now);
/* Settings rows, each given to fn (store.c). */
typedef enum cf_rc (*auth_setting_fn)(const char *key, const char *value,
                                      void *arg);
CF_MUST_CHECK enum cf_rc
auth_store_settings_each(struct db *db, auth_setting_fn fn, void *arg);
/* Password history (store.c): keep hash as one of user_id's earlier
 * passwords, keeping only the newest keep of them; each earlier hash,
 * newest first, at most limit. */
CF_MUST_CHECK enum cf_rc auth_store_history_add(struct db *db, int64_t user_id,
                                                const char *hash, int64_t now,
                                                unsigned keep);
typedef enum cf_rc (*auth_hash_fn)(const char *hash, void *arg);
CF_MUST_CHECK enum cf_rc auth_store_history_each(struct db *db, int64_t user_id,
                                                 unsigned limit,
                                                 auth_hash_fn fn, void *arg);
/* Set user_id's password to hash, keeping the one it replaces in the
 * history (history: how many passwords, the new one included, may not be
 * reused); every API token of the account is revoked and every link it
 * has is used up. In the caller's transaction. */
CF_MUST_CHECK enum cf_rc auth_password_store(struct db *db, int64_t user_id,
                                             const char *hash, int score,
                                             int64_t now, unsigned history);
/* Refuse with rc, naming why (a code of the contract) in *ctx->why when
 * the caller asked for reasons. Returns rc. */
enum cf_rc auth_refuse(const struct cf_ctx *ctx, const char *why,
                       enum cf_rc rc);
/* Apply what the server's configuration says to a policy read from the
 * tenant's table (optional 2FA only while the operator allows it). */
void auth_tenant_policy_floor(const struct cf_ctx *ctx,
                              struct auth_tenant_policy *p);
/* Mark verdict as refused for reuse (with its hint). */
void auth_strength_reused(struct auth_strength *verdict);
/*
 * Has user_id used new_secret recently (the current password and the
 * policy's history)? Gives the database back during the Argon2id
 * checks like auth_db_release(). *reused set.
 */
CF_MUST_CHECK enum cf_rc auth_password_reused(const struct cf_ctx *ctx,
                                              struct db **db, int64_t user_id,
                                              unsigned history,
                                              const char *new_secret,
                                              size_t new_len, bool *reused);

/* The frame of a change: the keys opened, the tenant database borrowed and
 * a transaction begun (everything released again on failure); then
 * committed when rc is CF_OK (a failed commit becomes the result) or
 * rolled back, the database given back and the keys closed. */
CF_MUST_CHECK enum cf_rc auth_tx_open(const struct cf_ctx *ctx,
                                      struct auth_keys *k, struct db **db);
CF_MUST_CHECK enum cf_rc auth_tx_close(const struct cf_ctx *ctx,
                                       struct auth_keys *k, struct db **db,
                                       enum cf_rc rc);

/* Accounts for administrators (store.c); pid NULL: every account. fn gets
 * each with its sealed e-mail. */
typedef enum cf_rc (*auth_store_account_fn)(struct auth_account *a,
                                            const void *email_sealed,
                                            size_t len, void *arg);
CF_MUST_CHECK enum cf_rc auth_store_accounts_each(struct db *db,
                                                  const char *pid,
                                                  auth_store_account_fn fn,
                                                  void *arg);
/* Owners with a password and state active. */
CF_MUST_CHECK enum cf_rc auth_store_owners_active(struct db *db,
                                                  int64_t *count);
/* users.role or users.state (field is "role" or "state"). */
CF_MUST_CHECK enum cf_rc auth_store_user_set(struct db *db, int64_t id,
                                             const char *field,
                                             const char *value);
CF_MUST_CHECK enum cf_rc auth_store_tokens_delete_all(struct db *db,
                                                      int64_t user_id);
CF_MUST_CHECK enum cf_rc auth_store_user_delete(struct db *db, int64_t id);

/* Give *db back to the pool for the duration of a slow hash and borrow
 * it again: auth_db_release() then auth_db_reacquire(). Other requests of
 * the tenant are not held behind an Argon2id computation. */
void auth_db_release(const struct cf_ctx *ctx, struct db **db);
CF_MUST_CHECK enum cf_rc auth_db_reacquire(const struct cf_ctx *ctx,
                                           struct db **db);

/* Every unused link of user_id stops working, or (purpose not NULL) only
 * those of that purpose ("reset"). In the caller's transaction. */
CF_MUST_CHECK enum cf_rc auth_store_links_invalidate(struct db *db,
                                                     int64_t user_id,
                                                     const char *purpose);

#endif
