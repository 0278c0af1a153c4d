/* ef_catalog_doc.c: the quota catalog (ef_catalog.def) as documentation,
 * so that no page lists metrics by hand.
 *
 * `ef_catalog_doc FORMAT` prints, for the build to paste into the man page
 * sources (at their @CATALOG@ line) and into README.md:
 *   collectd  roff tables of the values ecoflow.so dispatches, per family
 *   telegraf  roff tables of the line-protocol fields, per measurement
 *   sim       roff tables of the quotas, with plausible ranges and
 *             "no reading" markers, per family
 *   markdown  README's Metrics list, in the shape of Telegraf's plugin
 *             READMEs, per measurement
 *   rows      one tab-separated line per catalog row (pattern, family,
 *             unit, collectd identifiers, measurement, tags, fields), which
 *             the tests look for in the rendered pages
 * Every catalog row appears in every format; nothing else does. */
#include "ef_catalog.h"
#include "ef_metric.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a catalog row publishes: one value, or an error row's two. */
typedef struct {
  const char *field_suffix;
  const char *lp_type;    /* line protocol: float, integer, string */
  bool collectd;          /* dispatched to collectd (numbers only) */
  const char *annotation; /* tells an error row's two metrics apart */
} metric_kind;

static size_t metric_kinds(const ef_quota *quota, const metric_kind **kinds) {
  static const metric_kind value[] = {{"", "float", true, NULL}};
  static const metric_kind any[] = {
      {"", "float", true, "numbers, and booleans as 0 or 1"},
      {EF_TEXT_SUFFIX, "string", false, "text that is no number"}};
  static const metric_kind state[] = {{"", "string", false, NULL}};
  static const metric_kind errors[] = {
      {EF_ERROR_COUNT_SUFFIX, "integer", true, "the number of active codes"},
      {EF_ERROR_CODES_SUFFIX, "string", false, "the codes, comma separated"}};
  switch (quota->decode) {
  case EF_DECODE_VALUE:
  case EF_DECODE_COUNTER:
  case EF_DECODE_POSITIVE:
  case EF_DECODE_NEGATIVE:
    *kinds = value;
    return 1;
  case EF_DECODE_ANY:
    *kinds = any;
    return 2;
  case EF_DECODE_STATE:
    *kinds = state;
    return 1;
  case EF_DECODE_ERROR_LIST:
  case EF_DECODE_ERROR_BITS:
    *kinds = errors;
    return 2;
  }
  return 0;
}

/* What a row's description leaves out: how its value is made or guarded. */
static const char *row_rule(const ef_quota *quota, char *out, size_t size) {
  const char *rule = ef_catalog_rule(quota);
  char counter[160] = "";
  if (quota->decode == EF_DECODE_COUNTER)
    snprintf(counter, sizeof(counter),
             "; a lifetime counter, guarded: 0 is no reading, glitches are "
             "held out");
  if (rule != NULL)
    snprintf(out, size, "; derived from %s: %s", quota->pattern, rule);
  else if (quota->primary != NULL)
    snprintf(out, size, "%s; stands in for %s when a device never sends it",
             counter, quota->primary);
  else if (quota->decode == EF_DECODE_COUNTER)
    snprintf(out, size, "%s", counter);
  else if (quota->decode == EF_DECODE_STATE)
    snprintf(out, size, "; a number here is no state name: not published");
  else if (quota->decode == EF_DECODE_ANY)
    snprintf(out, size,
             "; each other value, named after its key in "
             "snake_case");
  else if (quota->detail)
    snprintf(out, size, "; in collectd with CellValues true");
  else
    out[0] = '\0';
  return out;
}

/* --- text in each markup ------------------------------------------------ */

/* Characters beyond ASCII in the catalog, as roff names them: a page
 * assumes no input encoding. */
static const struct {
  const char *utf8, *roff;
} special_chars[] = {
    {"\xc2\xb0", "\\(de"},     /* degree sign */
    {"\xe2\x80\x94", "\\(em"}, /* em dash */
};

/* Writes text for roff: backslashes, minus signs, a leading control
 * character and special_chars escaped. With breakable, a line may break
 * after each '.' and ']' of a quota path, which is longer than a narrow
 * table column. */
static void roff(FILE *out, const char *text, bool breakable) {
  if (text[0] == '.' || text[0] == '\'')
    fputs("\\&", out);
  for (const char *c = text; *c != '\0'; c++) {
    size_t i = 0, n = sizeof(special_chars) / sizeof(special_chars[0]);
    while (i < n &&
           strncmp(c, special_chars[i].utf8, strlen(special_chars[i].utf8)))
      i++;
    if (i < n) {
      fputs(special_chars[i].roff, out);
      c += strlen(special_chars[i].utf8) - 1;
    } else if (*c == '\\')
      fputs("\\e", out);
    else if (*c == '-')
      fputs("\\-", out);
    else
      fputc(*c, out);
    if (breakable && (*c == '.' || *c == ']') && c[1] != '\0')
      fputs("\\:", out);
  }
}

static void roff_bold(FILE *out, const char *text, bool breakable) {
  fputs("\\fB", out);
  roff(out, text, breakable);
  fputs("\\fR", out);
}

/* The tags of a row as "key=template" pairs, or NULL when it has none. */
static const char *row_tags(const ef_quota *quota) {
  return quota->tags[0] != '\0' ? quota->tags : NULL;
}

static void collectd_identifier(const ef_quota *quota, char *out, size_t size) {
  snprintf(out, size, "%s-%s", quota->collectd_type, quota->collectd_instance);
}

/* The unit collectd gets a row's value in: its type's (V for mV), or the
 * row's own under "gauge". */
static const char *collectd_unit(const ef_quota *quota) {
  const char *unit = ef_catalog_collectd_unit(quota);
  return unit != NULL ? unit : quota->unit;
}

/* --- grouping --------------------------------------------------------- */

typedef const char *(*group_key)(const ef_quota *quota);

static const char *family_key(const ef_quota *quota) {
  return ef_family_name(quota->family);
}

static const char *measurement_key(const ef_quota *quota) {
  return quota->measurement;
}

/* Rows of every family come last: they are shared, not a family's own. */
static int family_rank(const char *key) {
  return strcmp(key, ef_family_name(EF_FAMILY_ANY)) == 0;
}

static const char *family_heading(const char *key) {
  return family_rank(key) ? "Every family" : key;
}

static int no_rank(const char *key) {
  (void)key;
  return 0;
}

typedef struct {
  group_key key;
  int (*rank)(const char *key);
  void (*begin)(FILE *out, const char *key);
  void (*row)(FILE *out, const ef_quota *quota);
  void (*end)(FILE *out);
} layout;

/* Calls the layout for each group of rows with the same key: groups in
 * the order their first rows have in the catalog, by rank, rows in
 * catalog order. */
static int print_groups(FILE *out, const layout *l) {
  size_t n = ef_catalog_size();
  const char **keys = calloc(n, sizeof(*keys));
  if (keys == NULL)
    return -1;
  size_t n_keys = 0;
  for (size_t i = 0; i < n; i++) {
    const char *key = l->key(ef_catalog_entry(i));
    size_t k = 0;
    while (k < n_keys && strcmp(keys[k], key) != 0)
      k++;
    if (k == n_keys)
      keys[n_keys++] = key;
  }
  for (int rank = 0; rank <= 1; rank++)
    for (size_t k = 0; k < n_keys; k++) {
      if (l->rank(keys[k]) != rank)
        continue;
      l->begin(out, keys[k]);
      for (size_t i = 0; i < n; i++)
        if (strcmp(l->key(ef_catalog_entry(i)), keys[k]) == 0)
          l->row(out, ef_catalog_entry(i));
      l->end(out);
    }
  free(keys);
  return 0;
}

/* --- roff tables ------------------------------------------------------ */

/* A table whose last column is a text block as wide as what is left of
 * the line; cells are separated by tbl's default tab. */
static void table_begin(FILE *out, const char *heading, const char *columns) {
  fputs(".SS \"", out);
  roff(out, heading, false);
  fputs("\"\n.TS\n", out);
  size_t n = 1;
  for (const char *c = columns; *c != '\0'; c++)
    n += *c == '\t';
  for (size_t i = 0; i < n; i++)
    fputs(i + 1 < n ? "lB " : "lB\n", out);
  for (size_t i = 0; i < n; i++)
    fputs(i + 1 < n ? "l " : "lx .\n", out);
  fputs(columns, out);
  fputs("\n", out);
}

static void table_end(FILE *out) { fputs(".TE\n", out); }

static void text_block_begin(FILE *out) { fputs("\tT{\n", out); }
static void text_block_end(FILE *out) { fputs("\nT}\n", out); }

static void roff_unit(FILE *out, const ef_quota *quota) {
  roff(out, quota->unit, false);
}

/* A row of what a quota becomes: its name in the first column, second
 * beside it, then the quota and its meaning, and note. */
static void quota_row(FILE *out, const char *first, const char *second,
                      const ef_quota *quota, const char *note) {
  roff(out, first, false);
  fputs("\t", out);
  roff(out, second, false);
  text_block_begin(out);
  char rule[512];
  roff_bold(out, quota->pattern, true);
  fputs(": ", out);
  roff(out, quota->description, false);
  roff(out, row_rule(quota, rule, sizeof(rule)), true);
  roff(out, note, false);
  text_block_end(out);
}

static void collectd_begin(FILE *out, const char *family) {
  table_begin(out, family_heading(family),
              "TYPE\\-INSTANCE\tUNIT\tQUOTA: MEANING");
}

/* A row collectd gets no value of (text) is still listed, so that every
 * quota is found on the page. */
static void collectd_row(FILE *out, const ef_quota *quota) {
  const metric_kind *kinds;
  size_t n = metric_kinds(quota, &kinds);
  bool dispatched = false;
  for (size_t k = 0; k < n; k++) {
    if (!kinds[k].collectd || quota->collectd_type == NULL)
      continue;
    char identifier[2 * EF_NAME_LEN], note[256] = "";
    collectd_identifier(quota, identifier, sizeof(identifier));
    if (n > 1)
      snprintf(note, sizeof(note), "; %s (the codes are text, not dispatched)",
               kinds[k].annotation);
    quota_row(out, identifier, collectd_unit(quota), quota, note);
    dispatched = true;
  }
  if (!dispatched)
    quota_row(out, "\xe2\x80\x94", quota->unit, quota,
              " (text, not dispatched)");
}

static void telegraf_begin(FILE *out, const char *measurement) {
  table_begin(out, measurement, "FIELD\tTYPE, UNIT\tQUOTA: MEANING");
}

static void telegraf_row(FILE *out, const ef_quota *quota) {
  const metric_kind *kinds;
  size_t n = metric_kinds(quota, &kinds);
  for (size_t k = 0; k < n; k++) {
    char field[2 * EF_NAME_LEN], type[64], note[512];
    snprintf(field, sizeof(field), "%s%s", quota->field, kinds[k].field_suffix);
    snprintf(type, sizeof(type), "%s%s%s", kinds[k].lp_type,
             quota->unit[0] ? ", " : "", quota->unit);
    snprintf(note, sizeof(note), "%s%s%s%s", n > 1 ? "; " : "",
             n > 1 ? kinds[k].annotation : "", row_tags(quota) ? "; tags " : "",
             row_tags(quota) ? quota->tags : "");
    quota_row(out, field, type, quota, note);
  }
}

static void sim_begin(FILE *out, const char *family) {
  table_begin(out, family_heading(family),
              "QUOTA\tUNIT\tMEANING, PLAUSIBLE RANGE");
}

static void sim_row(FILE *out, const ef_quota *quota) {
  roff(out, quota->pattern, false);
  fputs("\t", out);
  roff_unit(out, quota);
  text_block_begin(out);
  roff(out, quota->description, false);
  char rule[512];
  roff(out, row_rule(quota, rule, sizeof(rule)), true);
  if (quota->decode == EF_DECODE_STATE)
    fputs("; text", out);
  else if (quota->decode == EF_DECODE_ERROR_LIST ||
           quota->decode == EF_DECODE_ERROR_BITS)
    fputs("; error codes", out);
  else if (quota->decode == EF_DECODE_VALUE ||
           quota->decode == EF_DECODE_COUNTER) {
    char range[128];
    snprintf(range, sizeof(range), "; %.15g to %.15g", quota->min, quota->max);
    roff(out, range, false);
  }
  for (unsigned s = 0; s < quota->n_sentinels; s++) {
    char sentinel[64];
    snprintf(sentinel, sizeof(sentinel), "%.15g", quota->sentinels[s]);
    fputs(s == 0 ? "; no reading: " : ", ", out);
    roff(out, sentinel, false);
  }
  text_block_end(out);
}

/* --- markdown ------------------------------------------------------- */

/* Every point's tags, then those the measurement's rows add. */
static void markdown_begin(FILE *out, const char *measurement) {
  fprintf(out,
          "- %s\n  - tags:\n    - sn (the serial number)\n    - name\n"
          "    - product (when the cloud gives it)\n",
          measurement);
  const char *seen[EF_MAX_TAGS * 8];
  size_t n_seen = 0;
  for (size_t i = 0; i < ef_catalog_size(); i++) {
    const ef_quota *quota = ef_catalog_entry(i);
    if (strcmp(quota->measurement, measurement) != 0)
      continue;
    for (const char *pair = quota->tags; *pair != '\0';) {
      size_t len = strcspn(pair, "=");
      size_t s = 0;
      while (s < n_seen && strncmp(seen[s], pair, len + 1) != 0)
        s++;
      if (s == n_seen && n_seen < sizeof(seen) / sizeof(seen[0])) {
        seen[n_seen++] = pair;
        fprintf(out, "    - %.*s\n", (int)len, pair);
      }
      pair += strcspn(pair, ",");
      pair += *pair == ',';
    }
  }
  fputs("  - fields:\n", out);
}

static void markdown_row(FILE *out, const ef_quota *quota) {
  const metric_kind *kinds;
  size_t n = metric_kinds(quota, &kinds);
  for (size_t k = 0; k < n; k++) {
    fprintf(out, "    - %s%s (%s%s%s)", quota->field, kinds[k].field_suffix,
            kinds[k].lp_type, quota->unit[0] ? ", " : "", quota->unit);
    if (row_tags(quota) != NULL)
      fprintf(out, ", `%s`", quota->tags);
    char rule[512];
    fprintf(out, ": %s%s", quota->description,
            row_rule(quota, rule, sizeof(rule)));
    if (n > 1)
      fprintf(out, "; %s", kinds[k].annotation);
    fprintf(out, ". Quota `%s`", quota->pattern);
    if (kinds[k].collectd && quota->collectd_type != NULL) {
      char identifier[2 * EF_NAME_LEN];
      collectd_identifier(quota, identifier, sizeof(identifier));
      fprintf(out, ", collectd `%s`", identifier);
      if (ef_catalog_collectd_divisor(quota) != 1)
        fprintf(out, " (in %s)", collectd_unit(quota));
    }
    fputs(".\n", out);
  }
}

static void markdown_end(FILE *out) { (void)out; }

/* --- rows, for the tests ------------------------------------------------ */

static int print_rows(FILE *out) {
  for (size_t i = 0; i < ef_catalog_size(); i++) {
    const ef_quota *quota = ef_catalog_entry(i);
    const metric_kind *kinds;
    size_t n = metric_kinds(quota, &kinds);
    char identifier[2 * EF_NAME_LEN] = "-";
    if (quota->collectd_type != NULL)
      collectd_identifier(quota, identifier, sizeof(identifier));
    fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t", quota->pattern,
            ef_family_name(quota->family), quota->unit[0] ? quota->unit : "-",
            identifier, quota->measurement,
            row_tags(quota) ? quota->tags : "-");
    for (size_t k = 0; k < n; k++)
      fprintf(out, "%s%s%s", k ? "," : "", quota->field, kinds[k].field_suffix);
    fputs("\n", out);
  }
  return 0;
}

/* --- formats ---------------------------------------------------------- */

static const layout layouts[] = {
    {family_key, family_rank, collectd_begin, collectd_row, table_end},
    {measurement_key, no_rank, telegraf_begin, telegraf_row, table_end},
    {family_key, family_rank, sim_begin, sim_row, table_end},
    {measurement_key, no_rank, markdown_begin, markdown_row, markdown_end},
};

static const struct {
  const char *name;
  const layout *layout; /* NULL: print instead */
  int (*print)(FILE *out);
} formats[] = {
    {"collectd", &layouts[0], NULL}, {"telegraf", &layouts[1], NULL},
    {"sim", &layouts[2], NULL},      {"markdown", &layouts[3], NULL},
    {"rows", NULL, print_rows},
};

int main(int argc, char **argv) {
  for (size_t f = 0; argc == 2 && f < sizeof(formats) / sizeof(formats[0]);
       f++) {
    if (strcmp(argv[1], formats[f].name) != 0)
      continue;
    int status = formats[f].layout != NULL
                     ? print_groups(stdout, formats[f].layout)
                     : formats[f].print(stdout);
    return status == 0 && fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
  }
  fputs("usage: ef_catalog_doc collectd|telegraf|sim|markdown|rows\n", stderr);
  return 2;
}
