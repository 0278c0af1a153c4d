/* ef_envelope.h: the {"code","message","data"} wrapper of every API answer.
 *
 * Promises: an answer becomes either its data (whole, or a list's items
 * one at a time) or an ef_error naming what was wrong: HTTP status, API
 * code (a string on the wire; a number is accepted too) and message, or
 * why the body could not be read. Never trusts the body's shape. What
 * json-c lets pass (comments, trailing commas) passes; a NUL byte, which
 * JSON never holds, does not. */
#ifndef EF_ENVELOPE_H
#define EF_ENVELOPE_H

#include "ef_error.h"

#include <stddef.h>

struct json_object;
struct json_tokener;

/* Parses body (len bytes, need not be NUL-terminated) received with
 * http_status. On success returns 0 and sets *root to the parsed answer
 * (the caller puts it with json_object_put) and *data to its "data" member
 * (NULL when absent; borrowed from *root). Otherwise returns -1 and fills
 * err. tokener: json-c's, kept by a caller that parses many answers
 * (reset here before each), or NULL for one of its own; the outcome is
 * the same either way. */
int ef_envelope_parse(const char *body, size_t len, long http_status,
                      struct json_tokener *tokener, struct json_object **root,
                      struct json_object **data, ef_error *err);

/* The JSON text body (len bytes, need not be NUL-terminated) as a whole:
 * its value (the caller puts it), or NULL with err filled (EF_ERR_PARSE,
 * EF_ERR_TOO_LARGE) when it is not one JSON text: a NUL byte, anything
 * but blanks after the value, invalid or truncated JSON. The rule of every
 * answer, and of a pushed message. tokener as for ef_envelope_parse. */
struct json_object *ef_envelope_whole_json(const char *body, size_t len,
                                           struct json_tokener *tokener,
                                           ef_error *err);

/* Takes one item of a list answer's data (NULL for a JSON null),
 * borrowed for the call (the callee takes a reference to keep it); or,
 * restart set and no item, forgets the items handed so far (an answer
 * starts, or names "data" again: the last one holds, as in
 * ef_envelope_parse). Returns 0, or -1 to stop (out of memory). */
typedef int (*ef_envelope_item_cb)(int restart, struct json_object *item,
                                   void *ctx);

/* No item of a list, and no other value of its envelope, may be longer,
 * counting the blanks and comments that follow it. */
#define EF_ENVELOPE_VALUE_MAX (64 * 1024)

/* As ef_envelope_parse, for an answer whose data is a list that grows with
 * the account (device/list): each item of data is parsed on its own and
 * handed to cb, then freed, so that memory holds the body and one item,
 * never the list's tree (json-c's objects take 10 to 250 times the bytes
 * of their text: a list of 100,000 devices would be 120 MB, a hostile one
 * of empty objects gigabytes). Data absent or null is an empty list; data
 * that is not a list, or a value longer than EF_ENVELOPE_VALUE_MAX, is an
 * unreadable answer (EF_ERR_PARSE), even one that also holds an API error.
 * Otherwise the verdict is ef_envelope_parse's;
 * on -1 the items handed out are not the answer (an API error may follow
 * its data), and the caller drops them. */
int ef_envelope_parse_items(const char *body, size_t len, long http_status,
                            ef_envelope_item_cb cb, void *ctx, ef_error *err);

#endif
