/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS for SIP over TLS with OpenSSL: one server and one client context
 * from the config (certificate and key, CA file, TLS 1.2 and 1.3 only),
 * and non-blocking handshakes, reads and writes on a connected socket.
 */
#ifndef SPL_APP_TLS_H
#define SPL_APP_TLS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

typedef struct ssl_st SSL;
struct spl_tls;

/* NULL with err naming the file or setting at fault. */
struct spl_tls *spl_tls_create(const struct spl_config *c, char *err, unsigned errlen);
void spl_tls_free(struct spl_tls *t);

/* A server side for an accepted socket. */
SSL *spl_tls_accept(struct spl_tls *t, int fd);
/* A client side for a connecting socket; verifies the server against the
 * CA and `name` (a host name, when the target was a name) or the address
 * `ip` (family AF_INET/AF_INET6) when verify_server is on. */
SSL *spl_tls_connect(struct spl_tls *t, int fd, const char *name, int family, const uint8_t *ip);

enum spl_tls_io {
	SPL_TLS_DONE = 0,       /* handshake complete / bytes moved */
	SPL_TLS_WANT_READ,
	SPL_TLS_WANT_WRITE,
	SPL_TLS_EOF,            /* clean close_notify or TCP FIN */
	SPL_TLS_FAIL,           /* error; spl_tls_error() says what */
};
enum spl_tls_io spl_tls_handshake(SSL *ssl);
/* *n: bytes read or written when DONE. */
enum spl_tls_io spl_tls_read(SSL *ssl, void *buf, size_t len, size_t *n);
enum spl_tls_io spl_tls_write(SSL *ssl, const void *buf, size_t len, size_t *n);
/* The last failure of this thread, for the log ("certificate verify failed"). */
const char *spl_tls_error(void);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for conn list; "" before the handshake. */
const char *spl_tls_describe(SSL *ssl, char *buf, size_t len);
void spl_tls_close(SSL *ssl);

#endif
