/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The web UI files embedded at build time: tools/embed turns every file
 * under web/ into an entry of http_assets[] (build/gen/web_assets.c).
 */
#ifndef HTTP_ASSETS_H
#define HTTP_ASSETS_H

#include <stddef.h>

struct http_asset {
    const char *path; /* "/assets/style.css": relative to web/, leading '/' */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

extern const struct http_asset http_assets[];
extern const size_t http_assets_count;

#endif
