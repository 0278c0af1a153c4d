/* oconfig_text.c: a lenient reader of collectd's configuration syntax. */
#include "oconfig_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *skip_space(char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r')
    s++;
  return s;
}

/* A "quoted" argument at s (past the quote), unescaped in place; *rest is
 * past its closing quote (or at the end of the line). */
static char *read_quoted(char *s, char **rest) {
  char *out = s, *start = s;
  while (*s != '\0' && *s != '"') {
    if (*s == '\\' && s[1] != '\0')
      s++;
    *out++ = *s++;
  }
  *rest = *s == '"' ? s + 1 : s;
  *out = '\0';
  return start;
}

static int is_boolean(const char *word, int *value) {
  static const char *const words[] = {"false", "no",  "off",
                                      "true",  "yes", "on"};
  for (int i = 0; i < 6; i++)
    if (strcasecmp(word, words[i]) == 0) {
      *value = i >= 3;
      return 1;
    }
  return 0;
}

/* Reads one argument at s into value; returns past it. */
static char *read_value(char *s, oconfig_value_t *value) {
  char *rest, *word;
  if (*s == '"') {
    word = read_quoted(s + 1, &rest);
  } else {
    size_t len = strcspn(s, " \t\r");
    rest = s + len + (s[len] != '\0');
    s[len] = '\0';
    word = s;
    char *end = NULL;
    double number = strtod(word, &end);
    if (end != word && *end == '\0') {
      value->type = OCONFIG_TYPE_NUMBER;
      value->value.number = number;
      return rest;
    }
    if (is_boolean(word, &value->value.boolean)) {
      value->type = OCONFIG_TYPE_BOOLEAN;
      return rest;
    }
  }
  /* The string is copied after rest is found: word may end where rest
   * begins. */
  value->type = OCONFIG_TYPE_STRING;
  value->value.string = strdup(word);
  return rest;
}

/* Appends a child to parent; NULL when it has no room or memory. */
static oconfig_item_t *add_child(oconfig_item_t *parent) {
  if (parent->children == NULL)
    parent->children =
        calloc(OCONFIG_TEXT_MAX_CHILDREN, sizeof(*parent->children));
  if (parent->children == NULL ||
      parent->children_num == OCONFIG_TEXT_MAX_CHILDREN)
    return NULL;
  oconfig_item_t *child = parent->children + parent->children_num++;
  *child = (oconfig_item_t){.parent = parent};
  return child;
}

/* Fills item from "Key args" at s. Returns -1 when out of memory. */
static int read_item(oconfig_item_t *item, char *s) {
  size_t len = strcspn(s, " \t\r");
  char *rest = s + len + (s[len] != '\0');
  s[len] = '\0';
  item->key = strdup(s);
  item->values = calloc(OCONFIG_TEXT_MAX_VALUES, sizeof(*item->values));
  if (item->key == NULL || item->values == NULL)
    return -1;
  for (rest = skip_space(rest);
       *rest != '\0' && item->values_num < OCONFIG_TEXT_MAX_VALUES;
       rest = skip_space(rest)) {
    oconfig_value_t *value = item->values + item->values_num++;
    rest = read_value(rest, value);
    if (value->type == OCONFIG_TYPE_STRING && value->value.string == NULL)
      return -1;
  }
  return 0;
}

static int read_line(oconfig_item_t **current, int *depth, char *line) {
  line = skip_space(line);
  size_t len = strlen(line);
  while (len > 0 && isspace((unsigned char)line[len - 1]))
    line[--len] = '\0';
  if (len == 0 || line[0] == '#')
    return 0;
  if (line[0] == '<' && line[1] == '/') {
    if (*depth > 0) {
      *current = (*current)->parent;
      --*depth;
    }
    return 0;
  }
  int opens = line[0] == '<';
  if (opens) {
    line++;
    if (len > 1 && line[len - 2] == '>')
      line[len - 2] = '\0';
  }
  oconfig_item_t *item = add_child(*current);
  if (item == NULL)
    return (*current)->children == NULL ? -1 : 0;
  if (read_item(item, line) != 0)
    return -1;
  if (opens && *depth < OCONFIG_TEXT_MAX_DEPTH) {
    *current = item;
    ++*depth;
  }
  return 0;
}

int oconfig_text_read(oconfig_item_t *root, const char *text) {
  char *copy = strdup(text);
  if (copy == NULL)
    return -1;
  oconfig_item_t *current = root;
  int depth = 0, status = 0;
  for (char *line = copy, *next; status == 0 && line != NULL; line = next) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    status = read_line(&current, &depth, line);
  }
  free(copy);
  return status;
}

static void free_item(oconfig_item_t *item) {
  oconfig_text_free(item);
  for (int i = 0; i < item->values_num; i++)
    if (item->values[i].type == OCONFIG_TYPE_STRING)
      free(item->values[i].value.string);
  free(item->values);
  free(item->key);
}

void oconfig_text_free(oconfig_item_t *root) {
  for (int i = 0; i < root->children_num; i++)
    free_item(root->children + i);
  free(root->children);
  root->children = NULL;
  root->children_num = 0;
}
