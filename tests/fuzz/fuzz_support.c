/* fuzz_support.c: fuzz inputs as NUL-separated C strings; promises. */
#include "fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_input_init(fuzz_input *input, const uint8_t *data, size_t size) {
  input->text = malloc(size + 1);
  input->next = input->end = NULL;
  if (input->text == NULL)
    return;
  if (size > 0)
    memcpy(input->text, data, size);
  input->text[size] = '\0';
  input->next = input->text;
  input->end = input->text + size;
}

void fuzz_input_free(fuzz_input *input) {
  free(input->text);
  *input = (fuzz_input){0};
}

const char *fuzz_input_token(fuzz_input *input) {
  if (input->next == NULL || input->next > input->end)
    return NULL;
  const char *token = input->next;
  input->next = token + strlen(token) + 1;
  return token;
}

void fuzz_require(int promise, const char *what) {
  if (promise)
    return;
  fprintf(stderr, "broken promise: %s\n", what);
  abort();
}
