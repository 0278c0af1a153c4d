/* ef_catalog.c: the quota table (ef_catalog.def) and pattern lookup. */
#include "ef_catalog.h"

#include <stdio.h>
#include <string.h>

/* Ranges and sentinel lists are macros that expand to several arguments,
 * so QUOTA passes its arguments on to ROW once they are expanded. */
// clang-format off
#define NONE 0, 0, 0, 0
#define S1(a) 1, a, 0, 0
#define S2(a, b) 2, a, b, 0
#define S3(a, b, c) 3, a, b, c
#define ROW(pattern, family, unit, min, max, decode, n_sentinels, s1, s2, s3,  \
            ctype, cinstance, measurement, tags, field, description)           \
  {pattern,     EF_FAMILY_##family, description, unit,                         \
   n_sentinels, {s1, s2, s3},       min,         max,  EF_DECODE_##decode,     \
   ctype,       cinstance,          measurement, tags, field},
#define QUOTA(...) ROW(__VA_ARGS__)
// clang-format on

static const ef_quota catalog[] = {
#include "ef_catalog.def"
};

#undef QUOTA
#undef ROW
#undef NONE
#undef S1
#undef S2
#undef S3

size_t ef_catalog_size(void) { return sizeof(catalog) / sizeof(catalog[0]); }

const ef_quota *ef_catalog_entry(size_t index) {
  return index < ef_catalog_size() ? &catalog[index] : NULL;
}

/* A capture takes one path segment or list index: it never crosses these. */
static int ends_capture(char c) {
  return c == '\0' || c == '.' || c == '[' || c == ']';
}

static int match(const char *pattern, const char *path, ef_captures *caps) {
  caps->n = 0;
  while (*pattern != '\0') {
    if (*pattern != '{') {
      if (*pattern++ != *path++)
        return 0;
      continue;
    }
    const char *name = pattern + 1;
    const char *close = strchr(name, '}');
    if (close == NULL || caps->n == EF_MAX_CAPTURES)
      return 0;
    const char *value = path;
    while (!ends_capture(*path) && *path != close[1])
      path++;
    if (path == value)
      return 0;
    caps->items[caps->n].name = name;
    caps->items[caps->n].name_len = (size_t)(close - name);
    caps->items[caps->n].value = value;
    caps->items[caps->n].value_len = (size_t)(path - value);
    caps->n++;
    pattern = close + 1;
  }
  return *path == '\0';
}

const ef_quota *ef_catalog_lookup(const char *path, ef_captures *caps) {
  ef_captures scratch;
  if (caps == NULL)
    caps = &scratch;
  for (size_t i = 0; i < ef_catalog_size(); i++)
    if (match(catalog[i].pattern, path, caps))
      return &catalog[i];
  caps->n = 0;
  return NULL;
}

static const char *captured(const ef_captures *caps, const char *name,
                            size_t name_len, size_t *value_len) {
  for (size_t i = 0; caps != NULL && i < caps->n; i++)
    if (caps->items[i].name_len == name_len &&
        memcmp(caps->items[i].name, name, name_len) == 0) {
      *value_len = caps->items[i].value_len;
      return caps->items[i].value;
    }
  return NULL;
}

int ef_catalog_expand(const char *template_, const ef_captures *caps, char *out,
                      size_t size) {
  size_t n = 0;
  for (const char *t = template_; *t != '\0';) {
    const char *piece = t;
    size_t piece_len = 1;
    const char *close = *t == '{' ? strchr(t, '}') : NULL;
    if (close != NULL) {
      piece = captured(caps, t + 1, (size_t)(close - t - 1), &piece_len);
      if (piece == NULL)
        return -1;
      t = close + 1;
    } else {
      t++;
    }
    if (n + piece_len >= size)
      return -1;
    memcpy(out + n, piece, piece_len);
    n += piece_len;
  }
  if (size == 0)
    return -1;
  out[n] = '\0';
  return 0;
}

const char *ef_family_name(ef_family family) {
  static const char *const names[] = {
      [EF_FAMILY_ANY] = "any",
      [EF_FAMILY_POWEROCEAN] = "PowerOcean",
      [EF_FAMILY_POWERHEAT] = "PowerHeat",
      [EF_FAMILY_POWERGLOW] = "PowerGlow",
      [EF_FAMILY_POWERPULSE] = "PowerPulse",
  };
  return family <= EF_FAMILY_POWERPULSE ? names[family] : "unknown";
}
