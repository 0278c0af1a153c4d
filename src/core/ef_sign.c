/* ef_sign.c: canonical string, HMAC-SHA256 and nonce for the open API. */
#include "ef_sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ef_sign_canonical(ef_params *params, const char *access_key,
                        const char *nonce, const char *timestamp) {
  ef_params_sort(params);
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < params->len; i++)
    fprintf(out, "%s=%s&", params->items[i].key, params->items[i].value);
  fprintf(out, "accessKey=%s&nonce=%s&timestamp=%s", access_key, nonce,
          timestamp);
  if (fclose(out) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

int ef_sign_hmac(const char *secret_key, const char *canonical,
                 char out[EF_SIGN_HEX_LEN + 1]) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (HMAC(EVP_sha256(), secret_key, (int)strlen(secret_key),
           (const unsigned char *)canonical, strlen(canonical), digest,
           &digest_len) == NULL ||
      digest_len * 2 != EF_SIGN_HEX_LEN)
    return -1;
  for (unsigned int i = 0; i < digest_len; i++)
    snprintf(out + 2 * i, 3, "%02x", digest[i]);
  OPENSSL_cleanse(digest, sizeof(digest));
  return 0;
}

int ef_sign_nonce(char out[EF_NONCE_LEN + 1]) {
  unsigned char bytes[EF_NONCE_LEN];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1)
    return -1;
  /* 250 is the largest multiple of 10 under 256: bytes above it are
   * redrawn so that every digit is equally likely. */
  for (size_t i = 0; i < EF_NONCE_LEN; i++) {
    while (bytes[i] >= 250)
      if (RAND_bytes(&bytes[i], 1) != 1)
        return -1;
    out[i] = (char)('0' + bytes[i] % 10);
  }
  out[EF_NONCE_LEN] = '\0';
  return 0;
}

int ef_sign_equal(const char *a, const char *b) {
  size_t len = strlen(a);
  if (len != strlen(b))
    return 0;
  return CRYPTO_memcmp(a, b, len) == 0;
}
