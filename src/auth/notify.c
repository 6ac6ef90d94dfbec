/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The messages an account receives about itself: a password-reset link,
 * and the alerts a person needs to notice someone else using their
 * account (password changed, account locked, sign-in from a new device, a
 * replayed 2FA code, a second factor turned off by an administrator).
 * Each is written in French, then English, and handed
 * to the tenant context's mailer after the change is committed: a mail
 * that cannot be queued is logged and never undoes the change.
 */
#include "core/compat.h"

#include "auth/auth_int.h"

#define NOTIFY_BODY_MAX 4096

struct notice_text {
    const char *subject;
    /* {t} the tenant, {d} the detail, {u} the base URL */
    const char *fr;
    const char *en;
};

static const struct notice_text notice_texts[] = {
    [AUTH_NOTICE_RESET] =
        {"Réinitialisation du mot de passe / Password reset",
         "Une réinitialisation du mot de passe de votre compte sur l'espace "
         "{t} a été demandée.\nPour choisir un nouveau mot de passe, ouvrez "
         "ce lien dans les 30 minutes (il ne sert qu'une fois) :\n\n{d}\n\n"
         "Si vous n'avez rien demandé, ignorez ce message : votre mot de "
         "passe ne change pas.\n",
         "Someone asked to reset the password of your account on the {t} "
         "workspace.\nTo choose a new password, open this link within 30 "
         "minutes (it works once):\n\n{d}\n\nIf you did not ask, ignore "
         "this message: your password stays as it is.\n"},
    [AUTH_NOTICE_PASSWORD_CHANGED] =
        {"Mot de passe modifié / Password changed",
         "Le mot de passe de votre compte sur l'espace {t} vient d'être "
         "modifié ; vos autres sessions ont été fermées et vos jetons d'API "
         "révoqués.\nSi ce n'est pas vous, demandez tout de suite une "
         "réinitialisation : {u}/login\n",
         "The password of your account on the {t} workspace has just been "
         "changed; your other sessions were closed and your API tokens "
         "revoked.\nIf this was not you, ask for a reset right away: "
         "{u}/login\n"},
    [AUTH_NOTICE_TOTP_RESET] =
        {"Double authentification désactivée / Two-factor authentication "
         "turned off",
         "Un administrateur a désactivé la double authentification de votre "
         "compte sur l'espace {t} ; vos sessions ont été fermées et vos "
         "jetons d'API révoqués.\nActivez-la de nouveau depuis "
         "{u}/account. Si vous n'avez rien demandé, prévenez votre "
         "administrateur.\n",
         "An administrator turned off two-factor authentication for your "
         "account on the {t} workspace; your sessions were closed and your "
         "API tokens revoked.\nTurn it on again from {u}/account. If you "
         "did not ask for this, tell your administrator.\n"},
    [AUTH_NOTICE_LOCKED] =
        {"Compte verrouillé / Account locked",
         "Après plusieurs échecs de connexion, votre compte sur l'espace {t} "
         "est verrouillé pour un moment.\nSi ce n'est pas vous, quelqu'un "
         "essaie de deviner votre mot de passe : choisissez-en un nouveau "
         "depuis {u}/login et activez la double authentification.\n",
         "After several failed sign-ins, your account on the {t} workspace "
         "is locked for a while.\nIf this was not you, someone is trying to "
         "guess your password: choose a new one from {u}/login and turn on "
         "two-factor authentication.\n"},
    [AUTH_NOTICE_NEW_DEVICE] =
        {"Nouvelle connexion / New sign-in",
         "Une connexion à votre compte sur l'espace {t} a eu lieu depuis un "
         "appareil inhabituel : {d}.\nSi ce n'est pas vous, changez votre "
         "mot de passe et fermez vos sessions : {u}/account\n",
         "Your account on the {t} workspace was used from a device it had "
         "not seen before: {d}.\nIf this was not you, change your password "
         "and end your sessions: {u}/account\n"},
    [AUTH_NOTICE_INVITE] =
        {"Invitation à rejoindre l'espace {t} / Invitation to join {t}",
         "Vous êtes invité à rejoindre l'espace {t}.\nPour choisir votre mot "
         "de passe, ouvrez ce lien dans les 7 jours (il ne sert qu'une "
         "fois) :\n\n{d}\n\nSi vous n'attendiez pas cette invitation, "
         "ignorez ce message.\n",
         "You are invited to join the {t} workspace.\nTo choose your "
         "password, open this link within 7 days (it works once):\n\n{d}\n\n"
         "If you did not expect this invitation, ignore this message.\n"},
    [AUTH_NOTICE_CODE_REPLAY] =
        {"Code de double authentification réutilisé / 2FA code reused",
         "Un code de double authentification déjà utilisé a été présenté "
         "pour votre compte sur l'espace {t} ; il a été refusé.\nSi ce "
         "n'est pas vous, quelqu'un connaît votre mot de passe : changez-le "
         "depuis {u}/account\n",
         "A two-factor code that had already been used was presented for "
         "your account on the {t} workspace; it was refused.\nIf this was "
         "not you, someone knows your password: change it from "
         "{u}/account\n"},
};

/* Append tmpl to out with {t}, {d} and {u} replaced; no printf format
 * ever sees text that is not a constant. False when cap is too small. */
static bool
notify_fill(const char *tmpl, const char *t, const char *d, const char *u,
            char *out, size_t cap, size_t *n)
{
    const char *p;

    for (p = tmpl; *p != '\0'; p++) {
        const char *sub = NULL;
        size_t len;

        if (p[0] == '{' && p[1] != '\0' && p[2] == '}') {
            sub = p[1] == 't' ? t : p[1] == 'd' ? d : p[1] == 'u' ? u : NULL;
        }
        if (sub != NULL) {
            len = strlen(sub);
            p += 2;
        } else {
            sub = p;
            len = 1;
        }
        if (*n + len >= cap) {
            return false;
        }
        memcpy(out + *n, sub, len);
        *n += len;
    }
    out[*n] = '\0';
    return true;
}

/* The message of what for the tenant, as one bilingual body. */
static enum cf_rc
notify_compose(const struct cf_ctx *ctx, enum auth_notice what,
               const char *detail, char *body, size_t cap)
{
    const struct notice_text *nt = &notice_texts[what];
    const char *u = ctx->base_url != NULL ? ctx->base_url : "";
    const char *t = ctx->tenant_slug != NULL ? ctx->tenant_slug : "";
    const char *d = detail != NULL ? detail : "";
    size_t n = 0;

    if (!notify_fill("Bonjour,\n\n", t, d, u, body, cap, &n) ||
        !notify_fill(nt->fr, t, d, u, body, cap, &n) ||
        !notify_fill("\n-- \nHello,\n\n", t, d, u, body, cap, &n) ||
        !notify_fill(nt->en, t, d, u, body, cap, &n)) {
        return CF_ERR(CF_ETOOBIG);
    }
    return CF_OK;
}

void
auth_notify(const struct cf_ctx *ctx, struct db *db, const struct auth_keys *k,
            int64_t user_id, enum auth_notice what, const char *detail)
{
    char email[AUTH_EMAIL_MAX + 1] = "";
    char body[NOTIFY_BODY_MAX];
    char subject[256];
    size_t sn = 0;
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
    if (rc == CF_OK &&
        !notify_fill(notice_texts[what].subject,
                     ctx->tenant_slug != NULL ? ctx->tenant_slug : "", "", "",
                     subject, sizeof(subject), &sn)) {
        rc = CF_ERR(CF_ETOOBIG);
    }
    if (rc == CF_OK) {
        m.to = email;
        m.subject = subject;
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
