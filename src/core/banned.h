/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Functions that are too easy to misuse. Using one is a compile error; the
 * replacement is named in the error. Pulled in by core/compat.h, which every
 * source file includes first.
 */
#ifndef CF_BANNED_H
#define CF_BANNED_H

#define CF_BANNED(func) sorry_##func##_is_banned_see_core_banned_h

#undef strcpy
#define strcpy(x, y) CF_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CF_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CF_BANNED(strncpy)
#undef sprintf
#define sprintf(...) CF_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CF_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CF_BANNED(strtok)
#undef atoi
#define atoi(x) CF_BANNED(atoi)
#undef atol
#define atol(x) CF_BANNED(atol)
#undef gmtime
#define gmtime(t) CF_BANNED(gmtime)
#undef localtime
#define localtime(t) CF_BANNED(localtime)
#undef mktemp
#define mktemp(x) CF_BANNED(mktemp)

#endif
