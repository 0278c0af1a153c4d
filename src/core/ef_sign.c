/* ef_sign.c: canonical string, HMAC-SHA256 and nonce for the open API. */
#include "ef_sign.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* Copies text to at; where the copy ends. */
static char *append(char *at, const char *text, size_t len) {
  memcpy(at, text, len);
  return at + len;
}

char *ef_sign_canonical(ef_params *params, const char *access_key,
                        const char *nonce, const char *timestamp) {
  ef_params_sort(params);
  static const char access_name[] = "accessKey=", nonce_name[] = "&nonce=",
                    timestamp_name[] = "&timestamp=";
  size_t access_len = strlen(access_key), nonce_len = strlen(nonce),
         timestamp_len = strlen(timestamp);
  /* Measured first, written once: every request is signed. */
  size_t size = sizeof(access_name) - 1 + access_len + sizeof(nonce_name) - 1 +
                nonce_len + sizeof(timestamp_name) - 1 + timestamp_len + 1;
  for (size_t i = 0; i < params->len; i++)
    size += strlen(params->items[i].key) + strlen(params->items[i].value) + 2;
  char *text = malloc(size);
  if (text == NULL)
    return NULL;
  char *at = text;
  for (size_t i = 0; i < params->len; i++) {
    const char *key = params->items[i].key, *value = params->items[i].value;
    at = append(at, key, strlen(key));
    *at++ = '=';
    at = append(at, value, strlen(value));
    *at++ = '&';
  }
  at = append(at, access_name, sizeof(access_name) - 1);
  at = append(at, access_key, access_len);
  at = append(at, nonce_name, sizeof(nonce_name) - 1);
  at = append(at, nonce, nonce_len);
  at = append(at, timestamp_name, sizeof(timestamp_name) - 1);
  at = append(at, timestamp, timestamp_len);
  *at = '\0';
  return text;
}

struct ef_signer {
  /* HMAC-SHA256 with the key set, never used itself: each signature is
   * made with a copy. (Restarting it with EVP_MAC_init and no key does
   * nothing in OpenSSL 3.0.0 to 3.0.2, openssl/openssl#17811: every
   * signature after the first would be wrong.) */
  EVP_MAC_CTX *keyed;
  /* Random bytes the nonces are drawn from: one call of the CSPRNG, whose
   * fixed cost is near an HMAC's, serves many requests. Filled at the
   * first nonce: a process forked after it would draw the same nonces in
   * both, and none does (collectd goes to the background before the
   * plugin's init, where engines and their signers are made). */
  unsigned char random[192];
  size_t random_used; /* all used up: refilled before the next draw */
};

ef_signer *ef_signer_new(const char *secret_key) {
  ef_signer *signer = calloc(1, sizeof(*signer));
  EVP_MAC *hmac = signer != NULL ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
  if (hmac != NULL)
    signer->keyed = EVP_MAC_CTX_new(hmac);
  if (signer != NULL)
    signer->random_used = sizeof(signer->random);
  EVP_MAC_free(hmac); /* the context holds its own reference */
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
      OSSL_PARAM_construct_end()};
  if (signer == NULL || signer->keyed == NULL ||
      EVP_MAC_init(signer->keyed, (const unsigned char *)secret_key,
                   strlen(secret_key), params) != 1) {
    ef_signer_free(signer);
    ERR_clear_error();
    return NULL;
  }
  return signer;
}

void ef_signer_free(ef_signer *signer) {
  if (signer == NULL)
    return;
  EVP_MAC_CTX_free(signer->keyed); /* cleanses the key */
  OPENSSL_cleanse(signer->random, sizeof(signer->random));
  free(signer);
}

int ef_signer_sign(ef_signer *signer, const char *canonical,
                   char out[EF_SIGN_HEX_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t digest_len = 0;
  EVP_MAC_CTX *mac = EVP_MAC_CTX_dup(signer->keyed);
  int ok = mac != NULL &&
           EVP_MAC_update(mac, (const unsigned char *)canonical,
                          strlen(canonical)) == 1 &&
           EVP_MAC_final(mac, digest, &digest_len, sizeof(digest)) == 1 &&
           digest_len * 2 == EF_SIGN_HEX_LEN;
  EVP_MAC_CTX_free(mac); /* cleanses its copy of the key */
  if (!ok) {
    ERR_clear_error(); /* nothing of it is left for the next caller */
    return -1;
  }
  for (size_t i = 0; i < digest_len; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xF];
  }
  out[EF_SIGN_HEX_LEN] = '\0';
  OPENSSL_cleanse(digest, sizeof(digest));
  return 0;
}

int ef_sign_hmac(const char *secret_key, const char *canonical,
                 char out[EF_SIGN_HEX_LEN + 1]) {
  ef_signer *signer = ef_signer_new(secret_key);
  int status = signer != NULL ? ef_signer_sign(signer, canonical, out) : -1;
  ef_signer_free(signer);
  return status;
}

/* A random byte from the signer's store, refilled when used up. */
static int random_byte(ef_signer *signer, unsigned char *byte) {
  if (signer->random_used == sizeof(signer->random)) {
    if (RAND_bytes(signer->random, sizeof(signer->random)) != 1)
      return -1;
    signer->random_used = 0;
  }
  *byte = signer->random[signer->random_used];
  signer->random[signer->random_used++] = 0; /* never drawn twice */
  return 0;
}

int ef_signer_nonce(ef_signer *signer, char out[EF_NONCE_LEN + 1]) {
  /* 250 is the largest multiple of 10 under 256: bytes above it are
   * skipped so that every digit is equally likely. */
  for (size_t i = 0; i < EF_NONCE_LEN; i++) {
    unsigned char byte = 0;
    do {
      if (random_byte(signer, &byte) != 0)
        return -1;
    } while (byte >= 250);
    out[i] = (char)('0' + byte % 10);
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
