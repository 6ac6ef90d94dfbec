/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The messages an account receives about itself: a password-reset link,
 * and the alerts a person needs to notice someone else using their
 * account (password changed, account locked, sign-in from a new device, a
 * replayed 2FA code). Each is written in French, then English, and handed
 * to the tenant context's mailer after the change is committed: a mail
 * that cannot be queued is logged and never undoes the change.
 */
#include "core/compat.h"

#include "auth/auth_int.h"

#define NOTIFY_BODY_MAX 4096

struct notice_text {
    const char *subject;
    /* printf formats: %1$s tenant, %2$s detail, %3$s base URL */
    const char *fr;
    const char *en;
};

static const struct notice_text notice_texts[] = {
    [AUTH_NOTICE_RESET] =
        {"Réinitialisation du mot de passe / Password reset",
         "Une réinitialisation du mot de passe de votre compte sur l'espace "
         "%1$s a été demandée.\nPour choisir un nouveau mot de passe, ouvrez "
         "ce lien dans les 30 minutes (il ne sert qu'une fois) :\n\n%2$s\n\n"
         "Si vous n'avez rien demandé, ignorez ce message : votre mot de "
         "passe ne change pas.\n",
         "Someone asked to reset the password of your account on the %1$s "
         "workspace.\nTo choose a new password, open this link within 30 "
         "minutes (it works once):\n\n%2$s\n\nIf you did not ask, ignore "
         "this message: your password stays as it is.\n"},
    [AUTH_NOTICE_PASSWORD_CHANGED] =
        {"Mot de passe modifié / Password changed",
         "Le mot de passe de votre compte sur l'espace %1$s vient d'être "
         "modifié ; vos autres sessions ont été fermées.\nSi ce n'est pas "
         "vous, demandez tout de suite une réinitialisation : %3$s/login\n",
         "The password of your account on the %1$s workspace has just been "
         "changed; your other sessions were closed.\nIf this was not you, "
         "ask for a reset right away: %3$s/login\n"},
    [AUTH_NOTICE_LOCKED] =
        {"Compte verrouillé / Account locked",
         "Après plusieurs échecs de connexion, votre compte sur l'espace %1$s "
         "est verrouillé pour un moment.\nSi ce n'est pas vous, quelqu'un "
         "essaie de deviner votre mot de passe : choisissez-en un nouveau "
         "depuis %3$s/login et activez la double authentification.\n",
         "After several failed sign-ins, your account on the %1$s workspace "
         "is locked for a while.\nIf this was not you, someone is trying to "
         "guess your password: choose a new one from %3$s/login and turn on "
         "two-factor authentication.\n"},
    [AUTH_NOTICE_NEW_DEVICE] =
        {"Nouvelle connexion / New sign-in",
         "Une connexion à votre compte sur l'espace %1$s a eu lieu depuis un "
         "appareil inhabituel : %2$s.\nSi ce n'est pas vous, changez votre "
         "mot de passe et fermez vos sessions : %3$s/account\n",
         "Your account on the %1$s workspace was used from a device it had "
         "not seen before: %2$s.\nIf this was not you, change your password "
         "and end your sessions: %3$s/account\n"},
    [AUTH_NOTICE_CODE_REPLAY] =
        {"Code de double authentification réutilisé / 2FA code reused",
         "Un code de double authentification déjà utilisé a été présenté "
         "pour votre compte sur l'espace %1$s ; il a été refusé.\nSi ce "
         "n'est pas vous, quelqu'un connaît votre mot de passe : changez-le "
         "depuis %3$s/account\n",
         "A two-factor code that had already been used was presented for "
         "your account on the %1$s workspace; it was refused.\nIf this was "
         "not you, someone knows your password: change it from "
         "%3$s/account\n"},
};

/* The message of what for the tenant, as one bilingual body. */
static enum cf_rc
notify_compose(const struct auth_ctx *ctx, enum auth_notice what,
               const char *detail, char *body, size_t cap)
{
    const struct notice_text *t = &notice_texts[what];
    const char *base = ctx->base_url != NULL ? ctx->base_url : "";
    const char *slug = ctx->tenant_slug != NULL ? ctx->tenant_slug : "";
    const char *d = detail != NULL ? detail : "";
    size_t n = 0;
    int w;

    w = snprintf(body, cap, "Bonjour,\n\n");
    n += w > 0 ? (size_t)w : 0;
    /* the formats are the constant table above */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    w = snprintf(body + n, cap - n, t->fr, slug, d, base);
    n += w > 0 ? (size_t)w : 0;
    if (n < cap) {
        w = snprintf(body + n, cap - n, "\n-- \nHello,\n\n");
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < cap) {
        w = snprintf(body + n, cap - n, t->en, slug, d, base);
        n += w > 0 ? (size_t)w : 0;
    }
#pragma GCC diagnostic pop
    if (n >= cap) {
        return CF_ERR(CF_ETOOBIG);
    }
    return CF_OK;
}

void
auth_notify(const struct auth_ctx *ctx, struct db *db,
            const struct auth_keys *k, int64_t user_id, enum auth_notice what,
            const char *detail)
{
    char email[AUTH_EMAIL_MAX + 1] = "";
    char body[NOTIFY_BODY_MAX];
    struct cf_mail m;
    enum cf_rc rc;

    if (ctx->mailer == NULL || ctx->mailer->send == NULL ||
        (size_t)what >= CF_ARRAY_LEN(notice_texts)) {
        return;
    }
    rc = auth_user_email(db, k, user_id, email, sizeof(email));
    if (rc == CF_OK) {
        rc = notify_compose(ctx, what, detail, body, sizeof(body));
    }
    if (rc == CF_OK) {
        m.to = email;
        m.subject = notice_texts[what].subject;
        m.body = body;
        rc = ctx->mailer->send(ctx->mailer->arg, &m);
    }
    if (rc != CF_OK) {
        char uid[24];

        snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
        cf_log_warn_rc(rc, "account notice not queued", "user", uid);
    }
    /* a reset body holds a single-use link */
    cf_memzero(body, sizeof(body));
    cf_memzero(email, sizeof(email));
}
