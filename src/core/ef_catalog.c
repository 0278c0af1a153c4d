/* ef_catalog.c: the quota table (ef_catalog.def) and its index. */
#include "ef_catalog.h"

#include "ef_hash.h"
#include "ef_path_hash.h"

#include <pthread.h>
#include <stdint.h>
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
            ctype, cinstance, measurement, tags, field, description, detail,   \
            primary)                                                           \
  {pattern,     EF_FAMILY_##family, description, unit,                         \
   n_sentinels, {s1, s2, s3},       min,         max,  EF_DECODE_##decode,     \
   ctype,       cinstance,          measurement, tags, field, detail, primary},
#define QUOTA(...) ROW(__VA_ARGS__, 0, NULL)
/* A row of one value per battery cell or sensor (ef_quota.detail). */
#define DETAIL(...) ROW(__VA_ARGS__, 1, NULL)
/* A row standing in for primary's (ef_quota.primary). */
#define FALLBACK(primary, ...) ROW(__VA_ARGS__, 0, primary)
/* A value derived from the row before it, by rule (POSITIVE, NEGATIVE). */
#define DERIVED(source, rule, unit, ctype, cinstance, measurement, field,      \
                description)                                                   \
  QUOTA(source, ANY, unit, 0, 1e300, rule, NONE, ctype, cinstance,           \
        measurement, "", field, description)
// clang-format on

static const ef_quota catalog[] = {
#include "ef_catalog.def"
};

#undef DERIVED
#undef FALLBACK
#undef DETAIL
#undef QUOTA
#undef ROW
#undef NONE
#undef S1
#undef S2
#undef S3

#define N_ROWS (sizeof(catalog) / sizeof(catalog[0]))

size_t ef_catalog_size(void) { return N_ROWS; }

const ef_quota *ef_catalog_entry(size_t index) {
  /* A row is had only here or from a lookup, both after the index is
   * built: a row's own figures (its names, bits, derived rows) are read
   * without a look at it, at every value of every reading. */
  ef_catalog_init();
  return index < N_ROWS ? &catalog[index] : NULL;
}

static int is_derived(const ef_quota *row) {
  return row->decode == EF_DECODE_POSITIVE || row->decode == EF_DECODE_NEGATIVE;
}

const char *ef_catalog_rule(const ef_quota *row) {
  switch (row->decode) {
  case EF_DECODE_POSITIVE:
    return "the source's value when above 0, else 0";
  case EF_DECODE_NEGATIVE:
    return "minus the source's value when below 0, else 0";
  default:
    return NULL;
  }
}

/* The rows derived from row: those after it of its pattern. */
static uint8_t count_derived(size_t row) {
  uint8_t n = 0;
  while (row + 1 + n < N_ROWS && is_derived(&catalog[row + 1 + n]) &&
         strcmp(catalog[row + 1 + n].pattern, catalog[row].pattern) == 0)
    n++;
  return n;
}

/* ---- the index -----------------------------------------------------------
 * Patterns without a capture in a hash table of row numbers; the others
 * listed with the literal text before their first capture, in table order
 * (which decides between two that match). */

#define EXACT_SLOTS 512 /* a power of two, well above the rows */
#define MAX_CAPTURING 64

static uint16_t exact[EXACT_SLOTS]; /* row + 1; 0: empty */
/* Capturing rows grouped by their literal prefix ("bp_addr.",
 * "mpptHeartBeat["), each group's rows in table order: a path is tried
 * against the few groups whose prefix it starts with, not every row. */
static struct {
  const char *prefix;
  uint16_t prefix_len;
  uint16_t first, n; /* into group_rows */
  /* Its paths' rows do not depend on the segment after the prefix
   * (ef_catalog_shape_group): every row of it captures that segment
   * whole, and no other group's prefix begins or ends its own. */
  int shape_safe;
  int exact_below; /* a row without captures starts with its prefix */
} groups[MAX_CAPTURING];
static size_t n_groups;
static uint16_t group_rows[MAX_CAPTURING]; /* rows with more to match */
/* Rows of a group that are PREFIX{name}TAIL, TAIL without a capture (the
 * pack's values: "bp_addr.{pack}" ".bpSoc"), by (group, TAIL): one probe
 * finds the row of a path, whose first segment after the prefix is the
 * capture. */
#define TAIL_SLOTS 256
static struct {
  uint16_t row; /* + 1; 0: empty */
  uint16_t group;
  uint16_t tail_at, tail_len; /* where TAIL is in the row's pattern */
} tails[TAIL_SLOTS];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

/* ---- what collectd gets --------------------------------------------------
 * The types.db types the catalog names, and the unit each holds (Debian's
 * /usr/share/collectd/types.db: the battery plugin's "charge" is in Ah);
 * "gauge" holds any, named in the instance. */
static const struct {
  const char *type, *unit;
} type_units[] = {
    {"voltage", "V"},      {"current", "A"},    {"power", "W"},
    {"temperature", "°C"}, {"frequency", "Hz"}, {"percent", "%"},
    {"energy_wh", "Wh"},   {"charge", "Ah"},    {"count", ""},
    {"gauge", NULL},
};
/* Units the API sends that collectd gets in its type's unit. */
static const struct {
  const char *unit, *type;
  double divisor;
} conversions[] = {
    {"mV", "voltage", 1000},
    {"mAh", "charge", 1000},
};

/* Per row, found once: collectd's divisor, the fallback bits, and how
 * many rows are derived from it (every value of every reading asks). */
static double divisors[N_ROWS];
static int8_t fallback_bits[N_ROWS], primary_bits[N_ROWS];
static uint8_t derived_counts[N_ROWS];

_Static_assert(N_ROWS < EXACT_SLOTS / 2, "the exact index needs more slots");
_Static_assert(N_ROWS < TAIL_SLOTS / 2, "the tail index needs more slots");

static uint32_t hash_of(const char *text, size_t len) {
  return ef_fnv32_bytes(EF_FNV32_BASIS, text, len);
}

/* The exact index's slot of a path: by its hash, which a walk finds as it
 * builds the path, so that a lookup need not hash it again. */
static uint32_t exact_start(uint64_t path_hash) {
  return (uint32_t)(path_hash ^ (path_hash >> 32)) & (EXACT_SLOTS - 1);
}

/* A capture takes one path segment or list index: it never crosses these.
 * A table: every pack value's path is scanned by it. */
static const unsigned char capture_ends[256] = {
    ['\0'] = 1, ['.'] = 1, ['['] = 1, [']'] = 1};

static int ends_capture(char c) { return capture_ends[(unsigned char)c]; }

static uint32_t tail_hash(size_t group, const char *tail, size_t len) {
  return hash_of(tail, len) ^ (uint32_t)(group * 2654435761u);
}

/* The tail slot of (group, tail): its row, or the empty slot for it. */
static size_t tail_slot(size_t group, const char *tail, size_t len) {
  for (size_t at = tail_hash(group, tail, len) & (TAIL_SLOTS - 1);;
       at = (at + 1) & (TAIL_SLOTS - 1)) {
    if (tails[at].row == 0)
      return at;
    const char *own = catalog[tails[at].row - 1].pattern + tails[at].tail_at;
    if (tails[at].group == group && tails[at].tail_len == len &&
        memcmp(own, tail, len) == 0)
      return at;
  }
}

/* The group of prefix, added (in the order their first rows have) when
 * new; MAX_CAPTURING when the table is full. */
static size_t group_of(const char *pattern, size_t prefix_len) {
  size_t g = 0, total = 0;
  for (; g < n_groups; g++) {
    if (groups[g].prefix_len == prefix_len &&
        memcmp(groups[g].prefix, pattern, prefix_len) == 0)
      return g;
    total += groups[g].n;
  }
  if (n_groups == MAX_CAPTURING)
    return MAX_CAPTURING;
  groups[n_groups] = (__typeof__(groups[0])){.prefix = pattern,
                                             .prefix_len = (uint16_t)prefix_len,
                                             .first = (uint16_t)total};
  return n_groups++;
}

/* Adds row to the group of its prefix: by its tail when one capture ends
 * at a segment and nothing is captured after it, else to the rows tried
 * in table order. */
static void add_capturing(uint16_t row, const char *pattern,
                          size_t prefix_len) {
  size_t g = group_of(pattern, prefix_len);
  if (g == MAX_CAPTURING)
    return;
  const char *tail = strchr(pattern + prefix_len, '}') + 1;
  if (ends_capture(*tail) && strchr(tail, '{') == NULL) {
    size_t len = strlen(tail);
    size_t at = tail_slot(g, tail, len);
    if (tails[at].row == 0) /* the first row of a pattern wins */
      tails[at] = (__typeof__(tails[0])){.row = row + 1,
                                         .group = (uint16_t)g,
                                         .tail_at = (uint16_t)(tail - pattern),
                                         .tail_len = (uint16_t)len};
    return;
  }
  size_t total = 0;
  for (size_t k = 0; k < n_groups; k++)
    total += groups[k].n;
  if (total >= MAX_CAPTURING)
    return;
  /* Make room after the group's rows; the later groups move up one. */
  size_t at = groups[g].first + groups[g].n;
  for (size_t k = total; k > at; k--)
    group_rows[k] = group_rows[k - 1];
  for (size_t later = g + 1; later < n_groups; later++)
    groups[later].first++;
  group_rows[at] = row;
  groups[g].n++;
}

static double divisor_of(const ef_quota *row) {
  if (row->collectd_type == NULL)
    return 1;
  for (size_t t = 0; t < sizeof(type_units) / sizeof(type_units[0]); t++) {
    if (strcmp(type_units[t].type, row->collectd_type) != 0)
      continue;
    if (type_units[t].unit == NULL ||
        strcmp(type_units[t].unit, row->unit) == 0)
      return 1;
    for (size_t c = 0; c < sizeof(conversions) / sizeof(conversions[0]); c++)
      if (strcmp(conversions[c].unit, row->unit) == 0 &&
          strcmp(conversions[c].type, row->collectd_type) == 0)
        return conversions[c].divisor;
  }
  return 0;
}

/* Per row, its names split (ef_row_names), their text in row_names_text:
 * no row's tags come near it (check_catalog asserts every row's are
 * valid). */
#define ROW_NAMES_TEXT 96
static ef_row_names row_names[N_ROWS];
static char row_names_text[N_ROWS][ROW_NAMES_TEXT];

/* Splits "key=template,..." into the row's keys and templates. */
static void split_names(size_t i) {
  const ef_quota *row = &catalog[i];
  ef_row_names *names = &row_names[i];
  char *text = row_names_text[i];
  size_t used = 0;
  names->field_captures = strchr(row->field, '{') != NULL;
  names->instance_captures =
      row->collectd_instance != NULL && strchr(row->collectd_instance, '{');
  for (const char *pair = row->tags; *pair != '\0';) {
    const char *equals = strchr(pair, '=');
    const char *end = strchr(pair, ',');
    if (end == NULL)
      end = pair + strlen(pair);
    if (equals == NULL || equals > end || names->n_tags == EF_CATALOG_MAX_TAGS)
      return;
    size_t key_len = (size_t)(equals - pair);
    size_t value_len = (size_t)(end - equals - 1);
    if (used + key_len + value_len + 2 > ROW_NAMES_TEXT)
      return;
    char *key = text + used;
    memcpy(key, pair, key_len);
    key[key_len] = '\0';
    char *value = key + key_len + 1;
    memcpy(value, equals + 1, value_len);
    value[value_len] = '\0';
    used += key_len + value_len + 2;
    names->tags[names->n_tags].key = key;
    names->tags[names->n_tags].value = value;
    names->tags[names->n_tags].captures = strchr(value, '{') != NULL;
    names->n_tags++;
    pair = *end == ',' ? end + 1 : end;
  }
  names->valid = 1;
}

/* Numbers the fallback rows and the rows they stand in for. */
static void number_fallbacks(void) {
  memset(fallback_bits, -1, sizeof(fallback_bits));
  memset(primary_bits, -1, sizeof(primary_bits));
  int8_t next = 0;
  for (size_t i = 0; i < N_ROWS && next < EF_MAX_FALLBACKS; i++) {
    if (catalog[i].primary == NULL)
      continue;
    for (size_t p = 0; p < N_ROWS; p++)
      if (catalog[p].primary == NULL && !is_derived(&catalog[p]) &&
          strcmp(catalog[p].pattern, catalog[i].primary) == 0) {
        primary_bits[p] = fallback_bits[i] = next++;
        break;
      }
  }
}

static void build_rows(void) {
  number_fallbacks();
  for (size_t i = 0; i < N_ROWS; i++) {
    divisors[i] = divisor_of(&catalog[i]);
    split_names(i);
    derived_counts[i] = count_derived(i);
  }
  for (size_t i = 0; i < N_ROWS; i++) {
    const char *pattern = catalog[i].pattern;
    if (is_derived(&catalog[i]))
      continue;
    const char *brace = strchr(pattern, '{');
    if (brace != NULL) {
      add_capturing((uint16_t)i, pattern, (size_t)(brace - pattern));
      continue;
    }
    for (uint32_t at = exact_start(ef_path_hash(pattern, strlen(pattern)));;
         at = (at + 1) & (EXACT_SLOTS - 1)) {
      if (exact[at] == 0) {
        exact[at] = (uint16_t)(i + 1);
        break;
      }
      if (strcmp(catalog[exact[at] - 1].pattern, pattern) == 0)
        break; /* the first row of a pattern wins */
    }
  }
}

/* Whether every capturing row of prefix group g captures the whole segment
 * after the prefix (its first capture followed by a segment's end), and
 * no other group's prefix is a prefix of g's or has g's as its own. */
static int shape_safe(size_t g) {
  const char *prefix = groups[g].prefix;
  size_t len = groups[g].prefix_len;
  if (len == 0 || !ends_capture(prefix[len - 1]))
    return 0;
  for (size_t other = 0; other < n_groups; other++) {
    size_t shorter =
        groups[other].prefix_len < len ? groups[other].prefix_len : len;
    if (other != g && memcmp(groups[other].prefix, prefix, shorter) == 0)
      return 0;
  }
  for (size_t i = 0; i < N_ROWS; i++) {
    const char *pattern = catalog[i].pattern;
    if (is_derived(&catalog[i]) || strncmp(pattern, prefix, len) != 0 ||
        pattern[len] != '{')
      continue;
    const char *close = strchr(pattern + len, '}');
    if (close == NULL || !ends_capture(close[1]))
      return 0;
  }
  return 1;
}

/* Whether a row without captures starts with group g's prefix: only then
 * can a path of the group have an exact row. */
static int exact_below(size_t g) {
  for (size_t i = 0; i < N_ROWS; i++)
    if (!is_derived(&catalog[i]) && strchr(catalog[i].pattern, '{') == NULL &&
        strncmp(catalog[i].pattern, groups[g].prefix, groups[g].prefix_len) ==
            0)
      return 1;
  return 0;
}

static void build_index(void) {
  build_rows();
  for (size_t g = 0; g < n_groups; g++) {
    groups[g].shape_safe = shape_safe(g);
    groups[g].exact_below = exact_below(g);
  }
}

void ef_catalog_init(void) { pthread_once(&index_once, build_index); }

int ef_catalog_shape_group(const char *path, size_t parent_len,
                           size_t *value_at) {
  ef_catalog_init();
  size_t at = parent_len;
  while (at > 0 && !ends_capture(path[at - 1]))
    at--;
  if (at == 0 || at == parent_len)
    return -1;
  for (size_t g = 0; g < n_groups; g++)
    if (groups[g].shape_safe && groups[g].prefix_len == at &&
        memcmp(groups[g].prefix, path, at) == 0) {
      *value_at = at;
      return (int)g;
    }
  return -1;
}

/* The row without captures whose pattern is path (path_hash: its hash,
 * ef_path_hash.h), or NULL; the index built. */
static const ef_quota *exact_row(const char *path, uint64_t path_hash) {
  for (uint32_t at = exact_start(path_hash); exact[at] != 0;
       at = (at + 1) & (EXACT_SLOTS - 1))
    if (strcmp(catalog[exact[at] - 1].pattern, path) == 0)
      return &catalog[exact[at] - 1];
  return NULL;
}

int ef_catalog_exact_row(const char *path, uint64_t path_hash) {
  ef_catalog_init();
  return exact_row(path, path_hash) != NULL;
}

int ef_catalog_shape_may_be_exact(int group) {
  ef_catalog_init();
  return group >= 0 && (size_t)group < n_groups && groups[group].exact_below;
}

int ef_catalog_fallback_bit(const ef_quota *row) {
  return fallback_bits[row - catalog];
}

size_t ef_catalog_derived(const ef_quota *row, const ef_quota **first) {
  *first = row + 1;
  return derived_counts[row - catalog];
}

int ef_catalog_primary_bit(const ef_quota *row) {
  return primary_bits[row - catalog];
}

const ef_row_names *ef_catalog_names(const ef_quota *row) {
  return &row_names[row - catalog];
}

double ef_catalog_collectd_divisor(const ef_quota *row) {
  return divisors[row - catalog];
}

const char *ef_catalog_collectd_unit(const ef_quota *row) {
  for (size_t t = 0; row->collectd_type != NULL &&
                     t < sizeof(type_units) / sizeof(type_units[0]);
       t++)
    if (strcmp(type_units[t].type, row->collectd_type) == 0)
      return type_units[t].unit;
  return NULL;
}

/* Whether pattern, from its first capture on, matches path, from the
 * segment that capture takes on, its captures into caps. first_end: where
 * that segment ends (a lookup's group found it already), which is where
 * the capture ends when a segment's end follows it in pattern. */
static int match_from(const char *pattern, const char *path,
                      const char *first_end, ef_captures *caps) {
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
    if (caps->n == 0 && ends_capture(close[1]))
      path = first_end;
    else
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
  size_t len = strlen(path);
  return ef_catalog_lookup_hashed(path, len, ef_path_hash(path, len), caps);
}

const ef_quota *ef_catalog_lookup_hashed(const char *path, size_t len,
                                         uint64_t path_hash,
                                         ef_captures *caps) {
  ef_captures scratch;
  if (caps == NULL)
    caps = &scratch;
  caps->n = 0;
  ef_catalog_init();
  const ef_quota *whole = exact_row(path, path_hash);
  if (whole != NULL)
    return whole;
  /* The first row in table order that matches, among the groups whose
   * prefix the path starts with. */
  const ef_quota *best = NULL;
  ef_captures found;
  for (size_t g = 0; g < n_groups; g++) {
    if (groups[g].prefix_len > len || groups[g].prefix[0] != path[0] ||
        memcmp(groups[g].prefix, path, groups[g].prefix_len) != 0)
      continue;
    const char *value = path + groups[g].prefix_len;
    const char *tail = value;
    while (!ends_capture(*tail))
      tail++;
    if (tail > value) {
      size_t at = tail_slot(g, tail, len - (size_t)(tail - path));
      if (tails[at].row != 0 &&
          (best == NULL || &catalog[tails[at].row - 1] < best)) {
        best = &catalog[tails[at].row - 1];
        /* PREFIX{name}TAIL */
        size_t name_at = groups[g].prefix_len + 1;
        *caps = (ef_captures){
            .n = 1,
            .items = {{.name = best->pattern + name_at,
                       .name_len = tails[at].tail_at - 1 - name_at,
                       .value = value,
                       .value_len = (size_t)(tail - value)}}};
      }
    }
    for (size_t k = 0; k < groups[g].n; k++) {
      const ef_quota *row = &catalog[group_rows[groups[g].first + k]];
      if (best != NULL && row > best)
        break;
      /* The prefix is the path's, and so is where the first capture
       * ends: only the rest is compared. */
      if (match_from(row->pattern + groups[g].prefix_len, value, tail,
                     &found)) {
        best = row;
        *caps = found;
        break;
      }
    }
  }
  if (best == NULL)
    caps->n = 0;
  return best;
}

int ef_catalog_keeps_list(const char *path, size_t len, uint64_t path_hash) {
  const ef_quota *row = ef_catalog_lookup_hashed(path, len, path_hash, NULL);
  return row != NULL && row->decode == EF_DECODE_ERROR_LIST;
}

/* ---- names ---------------------------------------------------------------
 */

/* ASCII only, whatever the locale: names are the same everywhere. A
 * table, as every unknown value of every reading is named by it. */
enum { OTHER_CHAR, LOWER_OR_DIGIT, UPPER };
static const unsigned char char_class[256] = {
    ['0' ... '9'] = LOWER_OR_DIGIT,
    ['a' ... 'z'] = LOWER_OR_DIGIT,
    ['A' ... 'Z'] = UPPER,
};

size_t ef_catalog_generic_name(const char *path, size_t len, char *out,
                               size_t size) {
  size_t n = 0;
  unsigned char previous = OTHER_CHAR; /* the class of the character before */
  for (size_t i = 0; i < len && n + 1 < size; i++) {
    unsigned char c = (unsigned char)path[i];
    unsigned char class = char_class[c];
    if (class == LOWER_OR_DIGIT) {
      out[n++] = (char)c;
    } else if (class == UPPER) {
      if (previous == LOWER_OR_DIGIT && n + 2 < size)
        out[n++] = '_';
      out[n++] = (char)(c - 'A' + 'a');
    } else if (n > 0 && out[n - 1] != '_') {
      out[n++] = '_';
    }
    previous = class;
  }
  while (n > 0 && out[n - 1] == '_')
    n--;
  if (n == 0 && size > 1)
    out[n++] = '_';
  if (size > 0)
    out[n] = '\0';
  return n;
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

/* Whether the capture "{...}" at open (close: its '}') is name, plain or
 * generic ("{name:g}"), as ef_catalog_expand reads it. */
static int names_capture(const char *open, const char *close, const char *name,
                         size_t name_len) {
  size_t len = (size_t)(close - open - 1);
  if (len > 2 && memcmp(close - 2, ":g", 2) == 0)
    len -= 2;
  return len == name_len && memcmp(open + 1, name, name_len) == 0;
}

ef_template_use ef_catalog_template_use(const char *template_, const char *name,
                                        size_t name_len) {
  for (const char *open = template_ ? strchr(template_, '{') : NULL;
       open != NULL; open = strchr(open + 1, '{')) {
    const char *close = strchr(open, '}');
    if (close == NULL)
      break;
    if (names_capture(open, close, name, name_len))
      return open == template_ && close[1] == '\0' &&
                     close - open - 1 == (ptrdiff_t)name_len
                 ? EF_TEMPLATE_IS
                 : EF_TEMPLATE_WITHIN;
  }
  return EF_TEMPLATE_WITHOUT;
}

int ef_catalog_expand(const char *template_, const ef_captures *caps, char *out,
                      size_t size) {
  size_t n = 0;
  for (const char *t = template_; *t != '\0';) {
    const char *close = *t == '{' ? strchr(t, '}') : NULL;
    if (close == NULL) {
      if (n + 1 >= size)
        return -1;
      out[n++] = *t++;
      continue;
    }
    size_t name_len = (size_t)(close - t - 1);
    int generic = name_len > 2 && memcmp(close - 2, ":g", 2) == 0;
    size_t value_len = 0;
    const char *value =
        captured(caps, t + 1, generic ? name_len - 2 : name_len, &value_len);
    if (value == NULL)
      return -1;
    if (generic) {
      if (n + 1 >= size)
        return -1;
      n += ef_catalog_generic_name(value, value_len, out + n, size - n);
      if (n + 1 >= size)
        return -1;
    } else {
      if (n + value_len >= size)
        return -1;
      memcpy(out + n, value, value_len);
      n += value_len;
    }
    t = close + 1;
  }
  if (size == 0)
    return -1;
  out[n] = '\0';
  return (int)n;
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
