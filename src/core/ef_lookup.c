/* ef_lookup.c: getaddrinfo in a detached thread, shared with the caller
 * until both let go. */
#include "ef_lookup.h"

#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ef_lookup {
  pthread_mutex_t lock;
  int refs; /* the caller and the thread */
  int done;
  int error; /* getaddrinfo's */
  struct addrinfo *found;
  int done_fds[2]; /* readable once done */
  char host[];
};

static void finish(ef_lookup *l, int error, struct addrinfo *found) {
  pthread_mutex_lock(&l->lock);
  l->error = error;
  l->found = found;
  l->done = 1;
  pthread_mutex_unlock(&l->lock);
  char byte = 1;
  ssize_t written = write(l->done_fds[1], &byte, 1);
  (void)written; /* a byte is all it ever holds */
}

void ef_lookup_release(ef_lookup *l) {
  if (l == NULL)
    return;
  pthread_mutex_lock(&l->lock);
  int last = --l->refs == 0;
  pthread_mutex_unlock(&l->lock);
  if (!last)
    return;
  if (l->found != NULL)
    freeaddrinfo(l->found);
  for (int i = 0; i < 2; i++)
    if (l->done_fds[i] >= 0)
      close(l->done_fds[i]);
  pthread_mutex_destroy(&l->lock);
  free(l);
}

static int resolve(const char *host, int flags, struct addrinfo **found) {
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
  *found = NULL;
  return getaddrinfo(host, NULL, &hints, found);
}

static void *run(void *arg) {
  ef_lookup *l = arg;
  struct addrinfo *found;
  int error = resolve(l->host, AI_ADDRCONFIG, &found);
  finish(l, error, found);
  ef_lookup_release(l);
  return NULL;
}

int ef_lookup_numeric(const char *host) {
  struct addrinfo *found;
  int error = resolve(host, AI_NUMERICHOST, &found);
  if (found != NULL)
    freeaddrinfo(found);
  return error == 0;
}

ef_lookup *ef_lookup_start(const char *host) {
  size_t len = strlen(host);
  ef_lookup *l = calloc(1, sizeof(*l) + len + 1);
  if (l == NULL)
    return NULL;
  memcpy(l->host, host, len + 1);
  l->refs = 1;
  l->done_fds[0] = l->done_fds[1] = -1;
  pthread_mutex_init(&l->lock, NULL);
  if (pipe2(l->done_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    ef_lookup_release(l);
    return NULL;
  }
  if (ef_lookup_numeric(host)) {
    struct addrinfo *found;
    int error = resolve(host, AI_NUMERICHOST, &found);
    finish(l, error, found);
    return l;
  }
  pthread_attr_t attr;
  pthread_t thread;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  l->refs = 2;
  if (pthread_create(&thread, &attr, run, l) != 0) {
    l->refs = 1;
    ef_lookup_release(l);
    l = NULL;
  }
  pthread_attr_destroy(&attr);
  return l;
}

int ef_lookup_fd(const ef_lookup *l) { return l->done_fds[0]; }

int ef_lookup_addresses(ef_lookup *l, char addresses[][EF_ADDRESS_TEXT_LEN],
                        int max, int *error) {
  pthread_mutex_lock(&l->lock);
  int done = l->done;
  pthread_mutex_unlock(&l->lock);
  if (!done)
    return -1;
  /* Done: the thread touches nothing but refs from here on. */
  *error = l->error;
  int n = 0;
  for (const struct addrinfo *a = l->found; a != NULL && n < max;
       a = a->ai_next)
    if (getnameinfo(a->ai_addr, a->ai_addrlen, addresses[n],
                    EF_ADDRESS_TEXT_LEN, NULL, 0, NI_NUMERICHOST) == 0)
      n++;
  return n;
}
