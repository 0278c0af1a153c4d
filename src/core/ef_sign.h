/* ef_sign.h: the EcoFlow open API request signature (shared/api/signing.md).
 *
 * Promises: the canonical string and the HMAC-SHA256 exactly as the cloud
 * computes them (pinned by the official test vector in the unit tests), and
 * a fresh nonce from a CSPRNG. Used by the client to sign and by the
 * simulator to verify. */
#ifndef EF_SIGN_H
#define EF_SIGN_H

#include "ef_params.h"

#include <stdint.h>

#define EF_SIGN_HEX_LEN 64
#define EF_NONCE_LEN 6

/* The string to sign: the parameters sorted by key as key=value joined by
 * '&', then accessKey, nonce and timestamp appended in that order. Sorts
 * params in place. Returns a malloc'ed string, or NULL when out of memory. */
char *ef_sign_canonical(ef_params *params, const char *access_key,
                        const char *nonce, const char *timestamp);

/* Lowercase hex HMAC-SHA256 of canonical, keyed by secret_key, into
 * out[EF_SIGN_HEX_LEN + 1]. Returns 0, or -1 on a crypto failure. */
int ef_sign_hmac(const char *secret_key, const char *canonical,
                 char out[EF_SIGN_HEX_LEN + 1]);

/* The same for many requests: the key is made ready once (HMAC's padded
 * key schedule), not for every signature. Used by one thread at a time;
 * the key is cleansed when it is freed. NULL when out of memory or the
 * crypto library fails. */
typedef struct ef_signer ef_signer;
ef_signer *ef_signer_new(const char *secret_key);
int ef_signer_sign(ef_signer *signer, const char *canonical,
                   char out[EF_SIGN_HEX_LEN + 1]);
void ef_signer_free(ef_signer *signer);

/* EF_NONCE_LEN random decimal digits into out[EF_NONCE_LEN + 1], drawn
 * from random bytes the signer keeps (one call of the CSPRNG for dozens of
 * nonces; each byte used once). Returns 0, or -1 when the CSPRNG fails. */
int ef_signer_nonce(ef_signer *signer, char out[EF_NONCE_LEN + 1]);

/* Compares two hex signatures in constant time: 1 when equal. */
int ef_sign_equal(const char *a, const char *b);

#endif
