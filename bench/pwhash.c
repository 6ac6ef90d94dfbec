/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Password hashing cost: libsodium's crypto_pwhash_str (Argon2id) called
 * directly, against coffre's cx_pwhash(), at the same cost, in the same
 * process. Prints ms per hash for each and the ratio. Reports only.
 *
 * usage: pwhash [MEMORY_MIB [PASSES [ROUNDS]]]   (default 64 2 20)
 */
#include "core/compat.h"

#include <sodium.h>

#include "crypto/crypto.h"

static double
now_ms(void)
{
    return (double)cf_time_mono_ns() / 1e6;
}

int
main(int argc, char **argv)
{
    uint64_t mib = 64;
    uint64_t passes = 2;
    uint64_t rounds = 20;
    char raw[crypto_pwhash_STRBYTES];
    char ours[CX_PWHASH_STR_MAX];
    const char pw[] = "a bench password, not a secret";
    struct cx_pwhash_cost cost;
    double t0;
    double raw_ms;
    double ours_ms;
    uint64_t i;

    if ((argc > 1 && cf_parse_u64(argv[1], 8, 4096, &mib) != CF_OK) ||
        (argc > 2 && cf_parse_u64(argv[2], 1, 16, &passes) != CF_OK) ||
        (argc > 3 && cf_parse_u64(argv[3], 1, 1000, &rounds) != CF_OK)) {
        fprintf(stderr, "usage: pwhash [MEMORY_MIB [PASSES [ROUNDS]]]\n");
        return 2;
    }
    if (cx_init() != CF_OK) {
        return 1;
    }
    cost.memory_kib = (size_t)mib * 1024;
    cost.passes = passes;
    t0 = now_ms();
    for (i = 0; i < rounds; i++) {
        if (crypto_pwhash_str_alg(raw, pw, strlen(pw), passes,
                                  (size_t)mib * 1024 * 1024,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0) {
            return 1;
        }
    }
    raw_ms = (now_ms() - t0) / (double)rounds;
    t0 = now_ms();
    for (i = 0; i < rounds; i++) {
        if (cx_pwhash(pw, strlen(pw), &cost, ours) != CF_OK) {
            return 1;
        }
    }
    ours_ms = (now_ms() - t0) / (double)rounds;
    printf("bench pwhash: Argon2id m=%llu MiB t=%llu, %llu rounds\n",
           (unsigned long long)mib, (unsigned long long)passes,
           (unsigned long long)rounds);
    printf("  libsodium crypto_pwhash_str  %8.2f ms/hash  %6.1f hashes/s/core\n",
           raw_ms, 1000.0 / raw_ms);
    printf("  coffre cx_pwhash             %8.2f ms/hash  %6.1f hashes/s/core\n",
           ours_ms, 1000.0 / ours_ms);
    printf("bench pwhash: coffre/raw hash rate ratio %.3f\n", raw_ms / ours_ms);
    return 0;
}
