/* ef_lookup.h: a host's addresses, looked up in a thread of its own, so
 * that whoever waits for them can stop waiting at any time (a deadline, a
 * stop) however long the resolver takes.
 *
 * Promises: ef_lookup_start hands back at once; the lookup's descriptor
 * becomes readable when it is done, and ef_lookup_addresses then gives
 * the addresses as numeric text (IPv4 or IPv6, the resolver's order) or
 * getaddrinfo's error. A numeric host needs no thread and is done at
 * once. ef_lookup_release may come at any time, done or not: the thread,
 * still blocked in the resolver perhaps, frees what is left when it
 * returns (or never, when the process ends first). The thread takes the
 * caller's signal mask. Nothing here prints. */
#ifndef EF_LOOKUP_H
#define EF_LOOKUP_H

#include <netinet/in.h>

#define EF_ADDRESS_TEXT_LEN INET6_ADDRSTRLEN

typedef struct ef_lookup ef_lookup;

/* Starts looking host up. NULL when memory or a thread could not be had. */
ef_lookup *ef_lookup_start(const char *host);

/* Readable once the lookup is done. */
int ef_lookup_fd(const ef_lookup *lookup);

/* Up to max addresses into addresses once done: returns how many, or -1
 * while the lookup runs; *error is getaddrinfo's (0: none). */
int ef_lookup_addresses(ef_lookup *lookup,
                        char addresses[][EF_ADDRESS_TEXT_LEN], int max,
                        int *error);

/* 1 when host is a numeric address (no lookup needed). */
int ef_lookup_numeric(const char *host);

/* Lets go of lookup, done or not. NULL is fine. */
void ef_lookup_release(ef_lookup *lookup);

#endif
