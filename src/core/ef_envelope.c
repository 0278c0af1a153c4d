/* ef_envelope.c: code/message/data of an API answer, or why it is unusable. */
#include "ef_envelope.h"
#include "ef_text.h"

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* What an envelope said: whether it could be read, its code, its message. */
typedef struct {
  int read; /* the body is one JSON object */
  int has_code;
  char code[EF_ERROR_CODE_LEN];
  char message[EF_ERROR_MESSAGE_LEN];
} envelope_said;

/* The documented code is a string ("0"); some answers carry a number. */
static int read_code(struct json_object *value, char *code, size_t size) {
  code[0] = '\0';
  if (json_object_is_type(value, json_type_string))
    ef_text_clean(json_object_get_string(value),
                  (size_t)json_object_get_string_len(value), code, size);
  else if (json_object_is_type(value, json_type_int))
    snprintf(code, size, "%" PRId64, json_object_get_int64(value));
  else
    return -1;
  return code[0] == '\0' ? -1 : 0;
}

static void read_message(struct json_object *value, char *message,
                         size_t size) {
  if (json_object_is_type(value, json_type_string))
    ef_text_clean(json_object_get_string(value),
                  (size_t)json_object_get_string_len(value), message, size);
  else
    snprintf(message, size, "(no message)");
}

/* The verdict on what an envelope said (err says why when it could not be
 * read): 0 when it carries its data. */
static int judge(const envelope_said *said, long http_status, ef_error *err) {
  if (http_status != 200) {
    /* Keep what the body says (405 carries an envelope), but the HTTP
     * status is the failure. */
    err->kind = EF_ERR_HTTP;
    err->message[0] = '\0';
    if (said->has_code) {
      snprintf(err->api_code, sizeof(err->api_code), "%s", said->code);
      snprintf(err->message, sizeof(err->message), "%s", said->message);
    }
    return -1;
  }
  if (!said->read)
    return -1;
  if (!said->has_code) {
    ef_error_set(err, EF_ERR_PARSE, "no \"code\" in the answer");
    return -1;
  }
  if (strcmp(said->code, "0") != 0) {
    err->kind = EF_ERR_API;
    snprintf(err->api_code, sizeof(err->api_code), "%s", said->code);
    snprintf(err->message, sizeof(err->message), "%s", said->message);
    return -1;
  }
  return 0;
}

/* Why body (len > 0 bytes) is no JSON at all: it does not start as JSON. */
static void not_json(const char *body, size_t len, ef_error *err) {
  char start[24];
  ef_text_clean(body, len, start, sizeof(start));
  ef_error_set(err, EF_ERR_PARSE, "not JSON (%zu bytes starting \"%s\")", len,
               start);
}

/* Whether body starts as JSON the API sends does (an object or a list):
 * else it is told as no JSON at all (not_json). */
static int starts_as_json(const char *body) {
  return body[0] == '{' || body[0] == '[';
}

/* JSON's whitespace; a NUL is none. */
static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Bytes json-c is not given: more than it reads (its lengths are ints),
 * or a NUL, which JSON never holds and at which json-c stops in ways of
 * its own (in a comment inside an object it hands back the inner object
 * as the whole text). 1 when body holds them, with the error set. */
static int unreadable_bytes(const char *body, size_t len, ef_error *err) {
  if (len > INT_MAX) {
    ef_error_set(err, EF_ERR_TOO_LARGE,
                 "an answer of %zu bytes, more than json-c reads", len);
    return 1;
  }
  const char *nul = memchr(body, '\0', len);
  if (nul == NULL)
    return 0;
  if (!starts_as_json(body))
    not_json(body, len, err);
  else
    ef_error_set(err, EF_ERR_PARSE, "invalid JSON: a NUL byte at byte %zu",
                 (size_t)(nul - body));
  return 1;
}

struct json_object *ef_envelope_whole_json(const char *body, size_t len,
                                           struct json_tokener *kept,
                                           ef_error *err) {
  if (unreadable_bytes(body, len, err))
    return NULL;
  struct json_tokener *tokener = kept ? kept : json_tokener_new();
  if (tokener == NULL) {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    return NULL;
  }
  json_tokener_reset(tokener);
  struct json_object *root = json_tokener_parse_ex(tokener, body, (int)len);
  enum json_tokener_error status = json_tokener_get_error(tokener);
  if (root != NULL) {
    /* Trailing garbage after a complete value is not the API's JSON. */
    size_t end = json_tokener_get_parse_end(tokener);
    while (end < len && is_space(body[end]))
      end++;
    if (end < len) {
      json_object_put(root);
      root = NULL;
      status = json_tokener_error_parse_unexpected;
    }
  }
  if (kept == NULL)
    json_tokener_free(tokener);
  if (root == NULL) {
    if (status == json_tokener_continue || status == json_tokener_success)
      ef_error_set(err, EF_ERR_PARSE, "truncated JSON (%zu bytes)", len);
    else if (!starts_as_json(body))
      not_json(body, len, err);
    else
      ef_error_set(err, EF_ERR_PARSE, "invalid JSON: %s",
                   json_tokener_error_desc(status));
  }
  return root;
}

int ef_envelope_parse(const char *body, size_t len, long http_status,
                      struct json_tokener *tokener,
                      struct json_object **root_out,
                      struct json_object **data_out, ef_error *err) {
  *root_out = NULL;
  *data_out = NULL;
  memset(err, 0, sizeof(*err));
  err->http_status = http_status;

  struct json_object *root =
      len > 0 ? ef_envelope_whole_json(body, len, tokener, err) : NULL;
  if (len == 0)
    ef_error_set(err, EF_ERR_PARSE, "empty body");
  if (root != NULL && !json_object_is_type(root, json_type_object)) {
    ef_error_set(err, EF_ERR_PARSE, "the answer is not a JSON object");
    json_object_put(root);
    root = NULL;
  }

  envelope_said said = {.read = root != NULL};
  struct json_object *member = NULL;
  if (root != NULL && json_object_object_get_ex(root, "code", &member))
    said.has_code = read_code(member, said.code, sizeof(said.code)) == 0;
  if (root != NULL && json_object_object_get_ex(root, "message", &member))
    read_message(member, said.message, sizeof(said.message));
  else
    read_message(NULL, said.message, sizeof(said.message));
  if (judge(&said, http_status, err) != 0) {
    json_object_put(root);
    return -1;
  }
  struct json_object *data = NULL;
  if (json_object_object_get_ex(root, "data", &data) &&
      json_object_is_type(data, json_type_null))
    data = NULL;
  *root_out = root;
  *data_out = data;
  return 0;
}

/* ---- a list's items, one at a time -------------------------------------- */

/* One pass over an answer: the envelope's punctuation ({ : , } and the
 * data list's [ , ]) is stepped over here, every value in it is parsed by
 * json-c. */
typedef struct {
  const char *body;
  size_t len, at;
  /* Each as deep as its values may nest in ef_envelope_parse's tree: a
   * member's value sits one level below the envelope, an item two. */
  struct json_tokener *member_tokener, *item_tokener;
  ef_error *err;
  ef_envelope_item_cb cb; /* NULL: items are read and dropped */
  void *ctx;
  int data_seen;
  const char *data_type; /* the last data's type when it is no list */
  int out_of_memory;
  /* Why the last peek found no next byte: success at the end of the body,
   * else json-c's verdict on a comment. */
  enum json_tokener_error gap;
} scan;

/* Comments at the scan's place (and the whitespace between them), stepped
 * over by json-c itself, so that which comments pass stays its rule: it
 * reads them after a number of its own, "0", which they end. 1 when
 * stepped over; 0, with s->gap set, where json-c refuses them. */
static int skip_comments(scan *s) {
  struct json_tokener *tokener = s->member_tokener;
  json_tokener_reset(tokener);
  json_object_put(json_tokener_parse_ex(tokener, "0", 1));
  json_object_put(
      json_tokener_parse_ex(tokener, s->body + s->at, (int)(s->len - s->at)));
  s->gap = json_tokener_get_error(tokener);
  if (s->gap != json_tokener_success)
    return 0;
  s->at += json_tokener_get_parse_end(tokener);
  return 1;
}

/* The next byte after what json-c lets stand between two tokens
 * (whitespace, comments), left in place; -1 at the end of the body or at a
 * comment json-c refuses (s->gap says which). */
static int peek(scan *s) {
  while (s->at < s->len && is_space(s->body[s->at]))
    s->at++;
  if (s->at < s->len && s->body[s->at] == '/' && !skip_comments(s))
    return -1;
  s->gap = json_tokener_success;
  return s->at < s->len ? (unsigned char)s->body[s->at] : -1;
}

/* Why a peek that found no next byte found none, as json-c would say it:
 * more was to come, or the comment's fault. */
static enum json_tokener_error no_next(const scan *s) {
  return s->gap != json_tokener_success ? s->gap : json_tokener_continue;
}

static int unreadable(scan *s, enum json_tokener_error why) {
  if (why == json_tokener_continue)
    ef_error_set(s->err, EF_ERR_PARSE, "truncated JSON (%zu bytes)", s->len);
  else
    ef_error_set(s->err, EF_ERR_PARSE, "invalid JSON: %s",
                 json_tokener_error_desc(why));
  return -1;
}

/* Steps over the next byte when it is one of expected: the byte, or -1
 * with the error set. */
static int expect(scan *s, const char *expected) {
  int c = peek(s);
  if (c <= 0 || strchr(expected, c) == NULL)
    return unreadable(s,
                      c < 0 ? no_next(s) : json_tokener_error_parse_unexpected);
  s->at++;
  return c;
}

/* The JSON value at the scan's place, by json-c, into *value (NULL for
 * null): 0, or -1 with the error set. json-c never sees more than
 * EF_ENVELOPE_VALUE_MAX bytes of it, so that its tree stays small. */
static int next_value(scan *s, struct json_tokener *tokener,
                      struct json_object **value) {
  size_t room = s->len - s->at;
  size_t take = room < EF_ENVELOPE_VALUE_MAX ? room : EF_ENVELOPE_VALUE_MAX;
  json_tokener_reset(tokener);
  *value = json_tokener_parse_ex(tokener, s->body + s->at, (int)take);
  enum json_tokener_error status = json_tokener_get_error(tokener);
  if (status == json_tokener_success) {
    s->at += json_tokener_get_parse_end(tokener);
    return 0;
  }
  json_object_put(*value);
  *value = NULL;
  if (status == json_tokener_continue && take < room) {
    ef_error_set(s->err, EF_ERR_PARSE,
                 "a value of more than %d bytes in the answer",
                 EF_ENVELOPE_VALUE_MAX);
    return -1;
  }
  return unreadable(s, status);
}

/* A list's items after its '[', each handed to the callback. Trailing
 * commas pass, as json-c lets them. */
static int read_items(scan *s) {
  s->at++;
  for (;;) {
    if (peek(s) == ']') {
      s->at++;
      return 0;
    }
    struct json_object *item = NULL;
    if (next_value(s, s->item_tokener, &item) != 0)
      return -1;
    int status = s->cb != NULL ? s->cb(0, item, s->ctx) : 0;
    json_object_put(item);
    if (status != 0) {
      s->out_of_memory = 1;
      ef_error_set(s->err, EF_ERR_INTERNAL, "out of memory");
      return -1;
    }
    int c = expect(s, ",]");
    if (c != ',')
      return c == ']' ? 0 : -1;
  }
}

/* One member's value; name is its key. */
static int read_member(scan *s, const char *name, envelope_said *said) {
  int is_data = strcmp(name, "data") == 0;
  if (is_data) {
    if (s->data_seen && s->cb != NULL && s->cb(1, NULL, s->ctx) != 0) {
      s->out_of_memory = 1;
      ef_error_set(s->err, EF_ERR_INTERNAL, "out of memory");
      return -1;
    }
    s->data_seen = 1;
    s->data_type = NULL;
  }
  /* The blanks before a value are not its bytes (EF_ENVELOPE_VALUE_MAX). */
  int c = peek(s);
  if (is_data && c == '[')
    return read_items(s);
  struct json_object *value = NULL;
  if (next_value(s, s->member_tokener, &value) != 0)
    return -1;
  if (is_data && value != NULL)
    s->data_type = json_type_to_name(json_object_get_type(value));
  else if (strcmp(name, "code") == 0)
    said->has_code = read_code(value, said->code, sizeof(said->code)) == 0;
  else if (strcmp(name, "message") == 0)
    read_message(value, said->message, sizeof(said->message));
  json_object_put(value);
  return 0;
}

/* The envelope: one object, then what json-c lets follow it. 0 when read. */
static int read_envelope(scan *s, envelope_said *said) {
  if (unreadable_bytes(s->body, s->len, s->err))
    return -1;
  int c = peek(s);
  if (c != '{') {
    /* In the order ef_envelope_parse tells what it found. */
    enum json_tokener_error why =
        c < 0 ? no_next(s) : json_tokener_error_parse_unexpected;
    if (c == '[')
      ef_error_set(s->err, EF_ERR_PARSE, "the answer is not a JSON object");
    else if (why != json_tokener_continue && !starts_as_json(s->body))
      not_json(s->body, s->len, s->err);
    else
      return unreadable(s, why);
    return -1;
  }
  s->at++;
  /* Members until the '}'; a trailing comma passes, as json-c lets it. */
  while (peek(s) != '}') {
    struct json_object *key = NULL;
    if (next_value(s, s->member_tokener, &key) != 0)
      return -1;
    if (!json_object_is_type(key, json_type_string)) {
      json_object_put(key);
      return unreadable(s, json_tokener_error_parse_object_key_name);
    }
    int status = expect(s, ":") < 0 ||
                 read_member(s, json_object_get_string(key), said) != 0;
    json_object_put(key);
    if (status != 0)
      return -1;
    c = peek(s);
    if (c == '}')
      break;
    if (expect(s, ",") < 0)
      return -1;
  }
  s->at++;
  c = peek(s);
  if (c >= 0)
    return unreadable(s, json_tokener_error_parse_unexpected);
  return s->gap != json_tokener_success ? unreadable(s, s->gap) : 0;
}

int ef_envelope_parse_items(const char *body, size_t len, long http_status,
                            ef_envelope_item_cb cb, void *ctx, ef_error *err) {
  memset(err, 0, sizeof(*err));
  err->http_status = http_status;
  /* An error's body is read for its code; its items are no list. */
  scan s = {.body = body,
            .len = len,
            .err = err,
            .cb = http_status == 200 ? cb : NULL,
            .ctx = ctx};
  envelope_said said = {0};
  read_message(NULL, said.message, sizeof(said.message));
  if (cb != NULL && cb(1, NULL, ctx) != 0) {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    return -1;
  }
  if (len == 0) {
    ef_error_set(err, EF_ERR_PARSE, "empty body");
  } else {
    s.member_tokener = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 1);
    s.item_tokener = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 2);
    if (s.member_tokener != NULL && s.item_tokener != NULL)
      said.read = read_envelope(&s, &said) == 0;
    else
      s.out_of_memory = 1;
    /* json-c 0.16's json_tokener_free takes no NULL. */
    if (s.member_tokener != NULL)
      json_tokener_free(s.member_tokener);
    if (s.item_tokener != NULL)
      json_tokener_free(s.item_tokener);
    if (s.out_of_memory && err->kind == EF_OK)
      ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
  }
  if (s.out_of_memory || judge(&said, http_status, err) != 0)
    return -1;
  if (s.data_type != NULL) {
    ef_error_set(err, EF_ERR_PARSE, "\"data\" is %s, not a list", s.data_type);
    return -1;
  }
  return 0;
}
