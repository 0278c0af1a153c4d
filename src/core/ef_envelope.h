/* ef_envelope.h: the {"code","message","data"} wrapper of every API answer.
 *
 * Promises: an answer becomes either its data or an ef_error naming what
 * was wrong: HTTP status, API code (a string on the wire; a number is
 * accepted too) and message, or why the body could not be read. Never
 * trusts the body's shape. */
#ifndef EF_ENVELOPE_H
#define EF_ENVELOPE_H

#include "ef_error.h"

#include <stddef.h>

struct json_object;

/* Parses body (len bytes, need not be NUL-terminated) received with
 * http_status. On success returns 0 and sets *root to the parsed answer
 * (the caller puts it with json_object_put) and *data to its "data" member
 * (NULL when absent; borrowed from *root). Otherwise returns -1 and fills
 * err. */
int ef_envelope_parse(const char *body, size_t len, long http_status,
                      struct json_object **root, struct json_object **data,
                      ef_error *err);

#endif
