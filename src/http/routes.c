/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The route table: every HTTP entry point of coffre, each with its
 * permission (or an explicit PUBLIC), its input whitelist and its rate
 * class (COMMITMENT B3, B4). serve refuses to start when an entry lacks
 * one (http_routes_check), and the OpenAPI document is generated from
 * this table, so documentation and code cannot drift apart.
 */
#include "core/compat.h"

#include "auth/auth.h"
#include "authz/authz.h"
#include "http/http_int.h"

const struct http_input http_input_none = {0};

static const struct http_field slug_check_body[] = {
    {"slug", HTTP_T_STRING, 64, true, "candidate tenant slug"},
};

static const struct http_input slug_check_input = {
    .body = slug_check_body,
    .nbody = CF_ARRAY_LEN(slug_check_body),
    .json_body = true,
};

static const struct http_field strength_body[] = {
    {"password", HTTP_T_STRING, 1024, true,
     "candidate password (never stored or logged)"},
    {"email", HTTP_T_STRING, 254, false, "the account's e-mail address"},
    {"name", HTTP_T_STRING, 200, false, "the account's display name"},
    {"privileged", HTTP_T_BOOL, 1, false,
     "owner or admin role: the longer minimum applies"},
};

static const struct http_input strength_input = {
    .body = strength_body,
    .nbody = CF_ARRAY_LEN(strength_body),
    .json_body = true,
};

static const struct http_field setup_body[] = {
    {"token", HTTP_T_STRING, 64, true, "the token of the setup link"},
    {"password", HTTP_T_STRING, 1024, true, "the new password"},
};

static const struct http_input setup_input = {
    .body = setup_body,
    .nbody = CF_ARRAY_LEN(setup_body),
    .json_body = true,
};

static const struct http_field login_body[] = {
    {"email", HTTP_T_STRING, 254, true, "the account's e-mail address"},
    {"password", HTTP_T_STRING, 1024, true, "the account's password"},
};

static const struct http_input login_input = {
    .body = login_body,
    .nbody = CF_ARRAY_LEN(login_body),
    .json_body = true,
};

static const struct http_field reset_body[] = {
    {"email", HTTP_T_STRING, 254, true, "the account's e-mail address"},
};

static const struct http_input reset_input = {
    .body = reset_body,
    .nbody = CF_ARRAY_LEN(reset_body),
    .json_body = true,
};

static const struct http_field password_body[] = {
    {"current", HTTP_T_STRING, 1024, true, "the current password"},
    {"new", HTTP_T_STRING, 1024, true, "the new password"},
};

static const struct http_input password_input = {
    .body = password_body,
    .nbody = CF_ARRAY_LEN(password_body),
    .json_body = true,
};

static const struct http_field logins_query[] = {
    {"before", HTTP_T_INT, (size_t)INT64_MAX, false,
     "only lines older than this id (paging)"},
    {"limit", HTTP_T_INT, 100, false, "at most this many lines (50)"},
};

/* "limit" is checked from 1 by the handlers of both journals */
static const struct http_min limit_min[] = {{"limit", 1}};

static const struct http_input logins_input = {
    .query = logins_query,
    .nquery = CF_ARRAY_LEN(logins_query),
    .mins = limit_min,
    .nmins = CF_ARRAY_LEN(limit_min),
};

static const struct http_field code_body[] = {
    {"code", HTTP_T_STRING, 32, true,
     "a 6-digit authenticator code or a recovery code"},
};

static const struct http_input code_input = {
    .body = code_body,
    .nbody = CF_ARRAY_LEN(code_body),
    .json_body = true,
};

static const struct http_field stepup_body[] = {
    {"password", HTTP_T_STRING, 1024, true, "my password"},
};

static const struct http_input stepup_input = {
    .body = stepup_body,
    .nbody = CF_ARRAY_LEN(stepup_body),
    .json_body = true,
};

static const struct http_field token_body[] = {
    {"name", HTTP_T_STRING, AUTH_TOKEN_NAME_MAX, true,
     "what the token is for (shown in the list)"},
    {"expires_days", HTTP_T_INT, AUTH_TOKEN_DAYS_MAX, false,
     "days of validity, 1 to 365 (90)"},
    {"permissions", HTTP_T_STRINGS, 16, true,
     "permission names of the catalogue that my role holds"},
};

static const struct http_min token_min[] = {{"expires_days", 1}};

static const struct http_input token_input = {
    .body = token_body,
    .nbody = CF_ARRAY_LEN(token_body),
    .json_body = true,
    .mins = token_min,
    .nmins = CF_ARRAY_LEN(token_min),
};

static const struct http_field admin_logins_query[] = {
    {"user", HTTP_T_STRING, 32, false, "only this account's lines (its id)"},
    {"outcome", HTTP_T_STRING, 16, false,
     "only lines with this outcome (success, bad_password, locked, ...)"},
    {"before", HTTP_T_INT, (size_t)INT64_MAX, false,
     "only lines older than this id (paging)"},
    {"limit", HTTP_T_INT, 100, false, "at most this many lines (50)"},
};

static const struct http_input admin_logins_input = {
    .query = admin_logins_query,
    .nquery = CF_ARRAY_LEN(admin_logins_query),
    .mins = limit_min,
    .nmins = CF_ARRAY_LEN(limit_min),
};

static const struct http_field invite_body[] = {
    {"email", HTTP_T_STRING, 254, true, "the address to invite"},
    {"role", HTTP_T_STRING, 32, true,
     "owner, admin, member, guest or auditor (one the actor's role covers)"},
};

static const struct http_input invite_input = {
    .body = invite_body,
    .nbody = CF_ARRAY_LEN(invite_body),
    .json_body = true,
};

static const struct http_field user_patch_body[] = {
    {"role", HTTP_T_STRING, 32, false, "the new role"},
    {"state", HTTP_T_STRING, 16, false, "active or disabled"},
};

static const struct http_input user_patch_input = {
    .body = user_patch_body,
    .nbody = CF_ARRAY_LEN(user_patch_body),
    .json_body = true,
};

static const struct http_field role_body[] = {
    {"name", HTTP_T_STRING, 256, true,
     "1 to 64 printable characters, unique in the tenant"},
    {"permissions", HTTP_T_STRINGS, 16, true,
     "permission names of the catalogue, each once"},
};

static const struct http_input role_input = {
    .body = role_body,
    .nbody = CF_ARRAY_LEN(role_body),
    .json_body = true,
};

static const struct http_field role_patch_body[] = {
    {"name", HTTP_T_STRING, 256, false, "a new name"},
    {"permissions", HTTP_T_STRINGS, 16, false, "the new permission list"},
};

static const struct http_input role_patch_input = {
    .body = role_patch_body,
    .nbody = CF_ARRAY_LEN(role_patch_body),
    .json_body = true,
};

static const struct http_field group_body[] = {
    {"name", HTTP_T_STRING, 256, true,
     "1 to 64 printable characters, unique in the tenant"},
    {"members", HTTP_T_STRINGS, AUTHZ_GROUP_USERS_MAX, false, "account ids"},
    {"groups", HTTP_T_STRINGS, AUTHZ_GROUP_GROUPS_MAX, false,
     "ids of groups whose members belong to this one"},
};

static const struct http_input group_input = {
    .body = group_body,
    .nbody = CF_ARRAY_LEN(group_body),
    .json_body = true,
};

static const struct http_field group_patch_body[] = {
    {"name", HTTP_T_STRING, 256, false, "a new name"},
    {"members", HTTP_T_STRINGS, AUTHZ_GROUP_USERS_MAX, false,
     "account ids (replaces the list)"},
    {"groups", HTTP_T_STRINGS, AUTHZ_GROUP_GROUPS_MAX, false,
     "group ids (replaces the list)"},
};

static const struct http_input group_patch_input = {
    .body = group_patch_body,
    .nbody = CF_ARRAY_LEN(group_patch_body),
    .json_body = true,
};

static const struct http_field grant_body[] = {
    {"user", HTTP_T_STRING, 64, false, "the account's id (or group)"},
    {"group", HTTP_T_STRING, 64, false, "the group's id (or user)"},
    {"role", HTTP_T_STRING, 64, true,
     "a built-in role's name or a custom role's id"},
    {"space", HTTP_T_STRING, 64, false,
     "the space's id; absent for the whole tenant"},
};

static const struct http_input grant_input = {
    .body = grant_body,
    .nbody = CF_ARRAY_LEN(grant_body),
    .json_body = true,
};

static const struct http_field grants_query[] = {
    {"user", HTTP_T_STRING, 64, false, "only the grants of this account"},
    {"group", HTTP_T_STRING, 64, false, "only the grants of this group"},
    {"space", HTTP_T_STRING, 64, false, "only the grants on this space"},
};

static const struct http_input grants_input = {
    .query = grants_query,
    .nquery = CF_ARRAY_LEN(grants_query),
};

static const struct http_field space_body[] = {
    {"name", HTTP_T_STRING, 800, true, "1 to 200 printable characters"},
};

static const struct http_input space_input = {
    .body = space_body,
    .nbody = CF_ARRAY_LEN(space_body),
    .json_body = true,
};

static const struct http_field settings_body[] = {
    {"mfa", HTTP_T_STRING, 16, false,
     "who must use 2FA: admins, all, optional"},
    {"password_min", HTTP_T_INT, AUTH_PW_MAX, false,
     "characters for ordinary accounts, 12 or more"},
    {"password_min_admin", HTTP_T_INT, AUTH_PW_MAX, false,
     "characters for owners and admins, 16 or more"},
    {"password_score", HTTP_T_INT, 4, false, "lowest zxcvbn score, 3 or 4"},
    {"max_age_days", HTTP_T_INT, 365, false,
     "password age before a change is due; 0: no maximum"},
    {"max_age_days_admin", HTTP_T_INT, 365, false,
     "the same for owners and admins, 1 or more"},
    {"history", HTTP_T_INT, AUTH_HISTORY_MAX, false,
     "earlier passwords that cannot be chosen again"},
    {"session_idle_minutes", HTTP_T_INT, 30, false,
     "idle minutes before a session ends, 1 or more"},
    {"session_max_hours", HTTP_T_INT, 12, false,
     "a session's longest life in hours, 1 or more"},
    {"lockout_failures", HTTP_T_INT, AUTH_LOCK_AFTER, false,
     "consecutive failures that lock an account, 3 or more"},
    {"admin_ips", HTTP_T_STRINGS, AUTH_ADMIN_IPS_COUNT, false,
     "addresses or CIDRs allowed on administration routes; [] for any"},
    {"upload_types", HTTP_T_STRINGS, 14, false,
     "file types accepted for upload, among pdf png jpeg gif webp txt csv md "
     "docx xlsx pptx odt ods odp; [] for none"},
};

/* the domain's lower bounds (auth_tenant_policy_update: invalid_setting) */
static const struct http_min settings_min[] = {
    {"password_min", AUTH_PW_MIN},
    {"password_min_admin", AUTH_PW_MIN_ADMIN},
    {"password_score", AUTH_PW_MIN_SCORE},
    {"max_age_days_admin", 1},
    {"history", AUTH_HISTORY_DEFAULT},
    {"session_idle_minutes", 1},
    {"session_max_hours", 1},
    {"lockout_failures", 3},
};

static const struct http_input settings_input = {
    .body = settings_body,
    .nbody = CF_ARRAY_LEN(settings_body),
    .json_body = true,
    .mins = settings_min,
    .nmins = CF_ARRAY_LEN(settings_min),
};

/* An empty JSON object. */
static const struct http_input empty_object_input = {.json_body = true};

const struct http_route http_routes[] = {
    {"GET", "/healthz", HTTP_HOST_ANY, http_h_healthz, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_PROBE, "Liveness: the process answers.", 0},
    {"GET", "/readyz", HTTP_HOST_PLATFORM, http_h_readyz, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_PROBE,
     "Readiness: databases open, master key loaded.", 0},
    {"GET", "/metrics", HTTP_HOST_PLATFORM, http_h_metrics, HTTP_PERM_METRICS,
     &http_input_none, HTTP_RATE_READ,
     "Prometheus metrics; bearer token from coffre.conf.", 0},
    {"GET", "/api/v1/openapi.json", HTTP_HOST_ANY, http_h_openapi, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ,
     "This document, generated from the route table.", 0},
    {"POST", "/api/v1/slug/check", HTTP_HOST_PLATFORM, http_h_slug_check,
     HTTP_PUBLIC, &slug_check_input, HTTP_RATE_WRITE,
     "Whether a slug is acceptable (syntax only; never tells whether a "
     "tenant exists).",
     0},
    {"POST", "/api/v1/password/strength", HTTP_HOST_ANY, http_h_pw_strength,
     HTTP_PUBLIC, &strength_input, HTTP_RATE_WRITE,
     "Judge a candidate password against the policy (COMMITMENT A2, A3): "
     "zxcvbn score, entropy, problems and hints in French and English.",
     0},
    {"POST", "/api/v1/auth/setup", HTTP_HOST_TENANT, http_h_auth_setup,
     HTTP_PUBLIC, &setup_input, HTTP_RATE_AUTH,
     "Complete a setup link with a password (COMMITMENT A2, A4).", 0},
    {"POST", "/api/v1/auth/login", HTTP_HOST_TENANT, http_h_auth_login,
     HTTP_PUBLIC, &login_input, HTTP_RATE_AUTH,
     "Log in with e-mail and password: session cookie; 401 for any "
     "failure, 429 when the address is banned (COMMITMENT A5, A6).",
     0},
    {"POST", "/api/v1/auth/reset", HTTP_HOST_TENANT, http_h_auth_reset,
     HTTP_PUBLIC, &reset_input, HTTP_RATE_AUTH,
     "Ask for a password-reset link by e-mail: the same answer whether or "
     "not the address has an account; the link works once, for 30 "
     "minutes, and ends every session when used.",
     0},
    {"POST", "/api/v1/auth/logout", HTTP_HOST_TENANT, http_h_auth_logout,
     HTTP_PERM_SESSION_PARTIAL, &empty_object_input, HTTP_RATE_WRITE,
     "End the current session.", HTTP_OPEN_ALL},
    {"POST", "/api/v1/auth/totp", HTTP_HOST_TENANT, http_h_auth_totp,
     HTTP_PERM_SESSION_PARTIAL, &code_input, HTTP_RATE_AUTH,
     "Second step of a login: an authenticator or recovery code "
     "(COMMITMENT A7).",
     HTTP_OPEN_ALL},
    {"POST", "/api/v1/auth/step-up", HTTP_HOST_TENANT, http_h_auth_step_up,
     HTTP_PERM_SESSION, &stepup_input, HTTP_RATE_AUTH,
     "Confirm my password: 2FA changes need this within 5 minutes "
     "(a login or a code counts too).",
     HTTP_OPEN_ALL},
    {"POST", "/api/v1/me/totp", HTTP_HOST_TENANT, http_h_me_totp_begin,
     HTTP_PERM_SESSION, &empty_object_input, HTTP_RATE_WRITE,
     "Start 2FA enrolment: otpauth URI and QR code (SVG).",
     HTTP_OPEN_MFA_ENROL | HTTP_STEP_UP},
    {"POST", "/api/v1/me/totp/confirm", HTTP_HOST_TENANT,
     http_h_me_totp_confirm, HTTP_PERM_SESSION, &code_input, HTTP_RATE_AUTH,
     "Activate 2FA with a first code; returns the recovery codes once.",
     HTTP_OPEN_MFA_ENROL | HTTP_STEP_UP},
    {"DELETE", "/api/v1/me/totp", HTTP_HOST_TENANT, http_h_me_totp_delete,
     HTTP_PERM_SESSION, &http_input_none, HTTP_RATE_WRITE, "Turn 2FA off.",
     HTTP_OPEN_MFA_ENROL | HTTP_STEP_UP},
    {"GET", "/api/v1/me", HTTP_HOST_TENANT, http_h_me, HTTP_PERM_SESSION,
     &http_input_none, HTTP_RATE_READ,
     "The signed-in account, its session and its CSRF token.", HTTP_OPEN_ALL},
    {"GET", "/api/v1/me/sessions", HTTP_HOST_TENANT, http_h_me_sessions,
     HTTP_PERM_SESSION, &http_input_none, HTTP_RATE_READ,
     "My live sessions: device, address, created, last seen.", 0},
    {"DELETE", "/api/v1/me/sessions/{id}", HTTP_HOST_TENANT,
     http_h_me_session_delete, HTTP_PERM_SESSION, &http_input_none,
     HTTP_RATE_WRITE, "End one of my sessions.", 0},
    {"DELETE", "/api/v1/me/sessions", HTTP_HOST_TENANT,
     http_h_me_sessions_delete, HTTP_PERM_SESSION, &http_input_none,
     HTTP_RATE_WRITE, "End all my sessions but this one.", 0},
    {"GET", "/api/v1/me/logins", HTTP_HOST_TENANT, http_h_me_logins,
     HTTP_PERM_SESSION, &logins_input, HTTP_RATE_READ,
     "My access journal, newest first (COMMITMENT C1).", 0},
    {"POST", "/api/v1/me/password", HTTP_HOST_TENANT, http_h_me_password,
     HTTP_PERM_SESSION, &password_input, HTTP_RATE_AUTH,
     "Change my password; my other sessions end (COMMITMENT A2, A4).",
     HTTP_OPEN_PW_CHANGE},
    {"GET", "/api/v1/permissions", HTTP_HOST_TENANT, http_h_permissions,
     HTTP_PERM_PRINCIPAL, &http_input_none, HTTP_RATE_READ,
     "The permission catalogue and the built-in roles (COMMITMENT B1).", 0},
    {"GET", "/api/v1/me/tokens", HTTP_HOST_TENANT, http_h_me_tokens,
     HTTP_PERM_SESSION, &http_input_none, HTTP_RATE_READ,
     "My personal API tokens (never the tokens themselves).", 0},
    {"POST", "/api/v1/me/tokens", HTTP_HOST_TENANT, http_h_me_token_create,
     HTTP_PERM_SESSION, &token_input, HTTP_RATE_WRITE,
     "Create a personal API token, shown once (COMMITMENT A10); needs a "
     "step-up.",
     HTTP_STEP_UP},
    {"DELETE", "/api/v1/me/tokens/{id}", HTTP_HOST_TENANT,
     http_h_me_token_delete, HTTP_PERM_SESSION, &http_input_none,
     HTTP_RATE_WRITE, "Revoke one of my API tokens.", 0},
    {"GET", "/api/v1/admin/logins", HTTP_HOST_TENANT, http_h_admin_logins,
     "audit.read", &admin_logins_input, HTTP_RATE_READ,
     "The access journal of every account, filtered and paged "
     "(COMMITMENT C1).",
     HTTP_ADMIN},
    {"GET", "/api/v1/admin/settings/security", HTTP_HOST_TENANT,
     http_h_admin_settings, "settings.security", &http_input_none,
     HTTP_RATE_READ,
     "The tenant's security policy (COMMITMENT A2, A5, A8, A12, B5).",
     HTTP_ADMIN},
    {"PATCH", "/api/v1/admin/settings/security", HTTP_HOST_TENANT,
     http_h_admin_settings_patch, "settings.security", &settings_input,
     HTTP_RATE_WRITE,
     "Make the security policy stricter (all or nothing, audited with old "
     "and new values; needs a step-up).",
     HTTP_ADMIN | HTTP_STEP_UP},
    {"GET", "/api/v1/admin/users", HTTP_HOST_TENANT, http_h_admin_users,
     "user.manage", &http_input_none, HTTP_RATE_READ,
     "Every account of the tenant: role, state, 2FA, lock, last sign-in.",
     HTTP_ADMIN},
    {"POST", "/api/v1/admin/users", HTTP_HOST_TENANT, http_h_admin_invite,
     "user.manage", &invite_input, HTTP_RATE_WRITE,
     "Invite an address with a role: a single-use link valid 7 days is "
     "mailed (COMMITMENT B1).",
     HTTP_ADMIN},
    {"PATCH", "/api/v1/admin/users/{id}", HTTP_HOST_TENANT,
     http_h_admin_user_patch, "user.manage", &user_patch_input, HTTP_RATE_WRITE,
     "Change an account's role or state; disabling ends its sessions and "
     "revokes its tokens.",
     HTTP_ADMIN},
    {"DELETE", "/api/v1/admin/users/{id}", HTTP_HOST_TENANT,
     http_h_admin_user_delete, "user.manage", &http_input_none, HTTP_RATE_WRITE,
     "Remove an account (needs a step-up).", HTTP_ADMIN | HTTP_STEP_UP},
    {"POST", "/api/v1/admin/users/{id}/reset-totp", HTTP_HOST_TENANT,
     http_h_admin_user_totp, "user.manage", &empty_object_input,
     HTTP_RATE_WRITE,
     "Turn off an account's 2FA, e.g. a lost phone (needs a step-up).",
     HTTP_ADMIN | HTTP_STEP_UP},
    {"POST", "/api/v1/admin/users/{id}/logout", HTTP_HOST_TENANT,
     http_h_admin_user_logout, "user.manage", &empty_object_input,
     HTTP_RATE_WRITE, "End every session of an account.", HTTP_ADMIN},
    {"GET", "/api/v1/admin/users/{id}/permissions", HTTP_HOST_TENANT,
     http_h_admin_user_perms, "user.manage", &http_input_none, HTTP_RATE_READ,
     "The effective permissions of an account.", HTTP_ADMIN},
    {"POST", "/api/v1/admin/users/{id}/unlock", HTTP_HOST_TENANT,
     http_h_admin_unlock, "user.manage", &empty_object_input, HTTP_RATE_WRITE,
     "Unlock a locked account (COMMITMENT A5).", HTTP_ADMIN},
    {"GET", "/api/v1/admin/roles", HTTP_HOST_TENANT, http_h_admin_roles,
     "role.manage", &http_input_none, HTTP_RATE_READ,
     "Built-in and custom roles with their permissions (COMMITMENT B1).",
     HTTP_ADMIN},
    {"POST", "/api/v1/admin/roles", HTTP_HOST_TENANT, http_h_admin_role_create,
     "role.manage", &role_input, HTTP_RATE_WRITE,
     "Create a custom role from permissions the actor holds.", HTTP_ADMIN},
    {"PATCH", "/api/v1/admin/roles/{id}", HTTP_HOST_TENANT,
     http_h_admin_role_patch, "role.manage", &role_patch_input, HTTP_RATE_WRITE,
     "Rename a custom role or change its permissions.", HTTP_ADMIN},
    {"DELETE", "/api/v1/admin/roles/{id}", HTTP_HOST_TENANT,
     http_h_admin_role_delete, "role.manage", &http_input_none, HTTP_RATE_WRITE,
     "Delete a custom role no grant names.", HTTP_ADMIN},
    {"GET", "/api/v1/admin/groups", HTTP_HOST_TENANT, http_h_admin_groups,
     "role.manage", &http_input_none, HTTP_RATE_READ,
     "Groups with their members and nested groups.", HTTP_ADMIN},
    {"POST", "/api/v1/admin/groups", HTTP_HOST_TENANT,
     http_h_admin_group_create, "role.manage", &group_input, HTTP_RATE_WRITE,
     "Create a group.", HTTP_ADMIN},
    {"PATCH", "/api/v1/admin/groups/{id}", HTTP_HOST_TENANT,
     http_h_admin_group_patch, "role.manage", &group_patch_input,
     HTTP_RATE_WRITE, "Rename a group or replace its members; never a cycle.",
     HTTP_ADMIN},
    {"DELETE", "/api/v1/admin/groups/{id}", HTTP_HOST_TENANT,
     http_h_admin_group_delete, "role.manage", &http_input_none,
     HTTP_RATE_WRITE, "Delete a group, its memberships and its grants.",
     HTTP_ADMIN},
    {"GET", "/api/v1/admin/grants", HTTP_HOST_TENANT, http_h_admin_grants,
     "role.manage", &grants_input, HTTP_RATE_READ,
     "Grants, filtered by account, group or space.", HTTP_ADMIN},
    {"POST", "/api/v1/admin/grants", HTTP_HOST_TENANT,
     http_h_admin_grant_create, "role.manage", &grant_input, HTTP_RATE_WRITE,
     "Grant a role to an account or a group, tenant-wide or in a space "
     "(never beyond the actor's own permissions there).",
     HTTP_ADMIN},
    {"DELETE", "/api/v1/admin/grants/{id}", HTTP_HOST_TENANT,
     http_h_admin_grant_delete, "role.manage", &http_input_none,
     HTTP_RATE_WRITE, "Revoke a grant.", HTTP_ADMIN},
    {"GET", "/api/v1/spaces", HTTP_HOST_TENANT, http_h_spaces, "doc.read",
     &http_input_none, HTTP_RATE_READ,
     "The spaces I can read, with my permissions in each.", HTTP_IN_SPACE},
    {"POST", "/api/v1/spaces", HTTP_HOST_TENANT, http_h_space_create,
     "space.manage", &space_input, HTTP_RATE_WRITE, "Create a space.", 0},
    {"GET", "/api/v1/spaces/{id}", HTTP_HOST_TENANT, http_h_space_get,
     "doc.read", &http_input_none, HTTP_RATE_READ, "One space I can read.",
     HTTP_IN_SPACE},
    {"PATCH", "/api/v1/spaces/{id}", HTTP_HOST_TENANT, http_h_space_patch,
     "space.manage", &space_input, HTTP_RATE_WRITE, "Rename a space I manage.",
     HTTP_IN_SPACE},
    {"DELETE", "/api/v1/spaces/{id}", HTTP_HOST_TENANT, http_h_space_delete,
     "space.manage", &http_input_none, HTTP_RATE_WRITE,
     "Delete a space I manage, and the grants on it.", HTTP_IN_SPACE},
    {"GET", "/setup", HTTP_HOST_TENANT, http_h_setup_page, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "Password setup page.", 0},
    {"GET", "/account", HTTP_HOST_TENANT, http_h_account_page, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "My account page.", 0},
    {"GET", "/admin", HTTP_HOST_TENANT, http_h_admin_page, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "Administration page.", 0},
    {"GET", "/", HTTP_HOST_TENANT, http_h_tenant_home, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "Tenant home page.", 0},
    {"GET", "/login", HTTP_HOST_TENANT, http_h_login_page, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "Sign-in page.", 0},
    {"GET", "/", HTTP_HOST_PLATFORM, http_h_platform_home, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "Platform home page.", 0},
    {"GET", "/assets/{path*}", HTTP_HOST_ANY, http_h_asset, HTTP_PUBLIC,
     &http_input_none, HTTP_RATE_READ, "Embedded web assets.", 0},
};

const size_t http_routes_count = CF_ARRAY_LEN(http_routes);

/* Does path match pattern? Sets the {param} span on success. */
static bool
route_path_match(const char *pattern, const char *path, const char **param,
                 size_t *param_len)
{
    const char *p = pattern;
    const char *s = path;

    *param = NULL;
    *param_len = 0;
    while (*p) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            bool rest;
            size_t n;

            if (end == NULL) {
                return false;
            }
            rest = end > p + 1 && end[-1] == '*';
            n = rest ? strlen(s) : strcspn(s, "/");
            if (n == 0) {
                return false;
            }
            *param = s;
            *param_len = n;
            s += n;
            p = end + 1;
            continue;
        }
        if (*p != *s) {
            return false;
        }
        p++;
        s++;
    }
    return *s == '\0';
}

static bool
route_scope_ok(enum http_host_scope route, enum http_host_scope req)
{
    return route == HTTP_HOST_ANY || route == req;
}

const struct http_route *
http_route_match(const char *method, const char *path,
                 enum http_host_scope scope, size_t *idx, const char **param,
                 size_t *param_len, bool *path_known, char *allow,
                 size_t allowlen)
{
    size_t i;
    size_t alen = 0;

    *path_known = false;
    allow[0] = '\0';
    for (i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        const char *pv;
        size_t pl;

        if (!route_scope_ok(r->host, scope) ||
            !route_path_match(r->pattern, path, &pv, &pl)) {
            continue;
        }
        if (strcmp(r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            *idx = i;
            *param = pv;
            *param_len = pl;
            return r;
        }
        *path_known = true;
        if (strstr(allow, r->method) == NULL &&
            alen + strlen(r->method) + 3 < allowlen) {
            alen += (size_t)snprintf(allow + alen, allowlen - alen, "%s%s",
                                     alen ? ", " : "", r->method);
        }
    }
    return NULL;
}

static bool
route_fields_ok(const struct http_field *f, size_t n)
{
    size_t i;

    if (n > 0 && f == NULL) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (f[i].name == NULL || f[i].name[0] == '\0' || f[i].type == 0 ||
            f[i].max == 0 || f[i].doc == NULL) {
            return false;
        }
    }
    return true;
}

/* PUBLIC, one of the pseudo-permissions, or a catalogue name. */
static bool
route_permission_ok(const struct http_route *r)
{
    static const char *const pseudo[] = {
        HTTP_PUBLIC,         HTTP_PERM_METRICS,
        HTTP_PERM_SESSION,   HTTP_PERM_SESSION_PARTIAL,
        HTTP_PERM_PRINCIPAL,
    };
    size_t i;

    for (i = 0; i < CF_ARRAY_LEN(pseudo); i++) {
        if (strcmp(r->permission, pseudo[i]) == 0) {
            return true;
        }
    }
    return authz_perm_find(r->permission) != NULL;
}

enum cf_rc
http_routes_check(char *err, size_t errlen)
{
    size_t i;
    size_t j;

    for (i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        const char *missing = NULL;

        if (r->method == NULL || r->method[0] == '\0') {
            missing = "method";
        } else if (r->pattern == NULL || r->pattern[0] != '/') {
            missing = "path pattern";
        } else if (r->host == 0) {
            missing = "host scope";
        } else if (r->handler == NULL) {
            missing = "handler";
        } else if (r->permission == NULL || !route_permission_ok(r)) {
            missing = "a known permission (or explicit PUBLIC)";
        } else if (r->input == NULL) {
            missing = "input whitelist";
        } else if (!route_fields_ok(r->input->query, r->input->nquery) ||
                   !route_fields_ok(r->input->body, r->input->nbody) ||
                   (r->input->nbody > 0 && !r->input->json_body)) {
            missing = "a complete input whitelist";
        } else if (r->rate == 0) {
            missing = "rate class";
        } else if (r->summary == NULL) {
            missing = "summary";
        } else if (((r->open & HTTP_ADMIN) != 0) !=
                   (strncmp(r->pattern, "/api/v1/admin/", 14) == 0)) {
            missing = "HTTP_ADMIN exactly on /api/v1/admin/ routes";
        } else if ((r->open & HTTP_STEP_UP) &&
                   (r->host != HTTP_HOST_TENANT ||
                    strcmp(r->permission, HTTP_PUBLIC) == 0 ||
                    strcmp(r->permission, HTTP_PERM_SESSION_PARTIAL) == 0)) {
            missing = "a signed-in principal for HTTP_STEP_UP";
        }
        if (missing != NULL) {
            snprintf(err, errlen, "route %zu (%s %s) lacks %s", i,
                     r->method ? r->method : "?", r->pattern ? r->pattern : "?",
                     missing);
            return CF_ERR(CF_EINVAL);
        }
        for (j = 0; j < i; j++) {
            if (strcmp(http_routes[j].method, r->method) == 0 &&
                strcmp(http_routes[j].pattern, r->pattern) == 0 &&
                (route_scope_ok(http_routes[j].host, r->host) ||
                 route_scope_ok(r->host, http_routes[j].host))) {
                snprintf(err, errlen, "route %zu (%s %s) is declared twice", i,
                         r->method, r->pattern);
                return CF_ERR(CF_EINVAL);
            }
        }
    }
    return CF_OK;
}
