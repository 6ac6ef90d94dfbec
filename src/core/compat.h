/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * First include of every source file: feature macros, the standard headers
 * every module uses, attribute shorthands, and the banned-function list.
 */
#ifndef CF_COMPAT_H
#define CF_COMPAT_H

#ifndef _GNU_SOURCE
#    define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CF_MUST_CHECK __attribute__((warn_unused_result))
#define CF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CF_UNUSED __attribute__((unused))
#define CF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "core/banned.h"

#endif
