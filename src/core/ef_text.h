/* ef_text.h: text from the cloud, made safe to log and to name things by;
 * text wrapped for a terminal.
 *
 * Promises: whatever bytes the cloud sends in a name, a message or a
 * serial number, the cleaned text is one line of valid UTF-8 without
 * control characters (C0, DEL, C1 with NEL), line or paragraph separators
 * (U+2028, U+2029) or the Unicode bidi controls that reorder text (U+200E,
 * U+200F, U+061C, U+202A to U+202E, U+2066 to U+2069): each of those, and
 * each byte that is not part of valid UTF-8, becomes '?'. So a newline, a
 * carriage return, an escape sequence or a right-to-left override can
 * neither forge a log line, nor make a line show other text than it holds,
 * nor end up in a file name. Text that is already clean comes out
 * unchanged. */
#ifndef EF_TEXT_H
#define EF_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Cleans in[0, len) (stopping early at a NUL) into out (size bytes, NUL
 * terminated, cut at a character boundary when it does not fit). Returns
 * out. */
char *ef_text_clean(const char *in, size_t len, char *out, size_t size);

/* A cleaned copy of in (malloc'ed), or NULL when out of memory. */
char *ef_text_clean_dup(const char *in);

/* 1 when in is already clean (ef_text_clean would not change it). */
int ef_text_is_clean(const char *in);

/* Writes lead, then text from column indent on, wrapped at 79 columns
 * under itself (on the next line when lead reaches indent), for a person
 * at a terminal; into out, which the caller chose. */
void ef_text_wrap(FILE *out, const char *lead, int indent, const char *text);

/* text copied into out (size bytes, NUL terminated), cut to fit as
 * snprintf's "%s" cuts it (bytes, not characters); its length there. For
 * copies every reading makes, without a printf. */
size_t ef_text_copy(char *out, size_t size, const char *text);

/* A copy of text without the white space around it (malloc'ed), or NULL
 * when out of memory: a setting pasted with a newline would otherwise
 * fail (as a wrong signature, a host not found). */
char *ef_text_trimmed(const char *text);

#endif
