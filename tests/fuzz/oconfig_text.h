/* oconfig_text.h: collectd's configuration syntax to an oconfig tree,
 * without the daemon, so that a fuzz target can hand the plugin the trees
 * collectd would.
 *
 * Promises: one item per line. `<Key args>` opens a block, `</Key>` closes
 * the innermost one, `# ...` and blank lines are skipped, anything else is
 * an option `Key args`. Arguments are "quoted strings" (with \" and \\),
 * numbers, booleans (true/false/yes/no/on/off) or bare words (strings), as
 * collectd's lexer reads them. Whatever else the text holds is read
 * somehow, never refused: the plugin is what is being tested. Blocks nest
 * at most OCONFIG_TEXT_MAX_DEPTH deep; items beyond
 * OCONFIG_TEXT_MAX_CHILDREN children or OCONFIG_TEXT_MAX_VALUES values are
 * dropped. */
#ifndef EF_FUZZ_OCONFIG_TEXT_H
#define EF_FUZZ_OCONFIG_TEXT_H

#include "liboconfig/oconfig.h"

#define OCONFIG_TEXT_MAX_DEPTH 8
#define OCONFIG_TEXT_MAX_CHILDREN 32
#define OCONFIG_TEXT_MAX_VALUES 8

/* Reads text into the children of root, whose key and values the caller
 * sets. Returns 0, or -1 when out of memory (root then holds what was
 * read). */
int oconfig_text_read(oconfig_item_t *root, const char *text);

/* Frees the children of root, which oconfig_text_read added; root's own
 * key and values stay the caller's. */
void oconfig_text_free(oconfig_item_t *root);

#endif
