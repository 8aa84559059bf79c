/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL contexts and non-blocking I/O for SIP over TLS (see tls.h).
 * Errors are read off OpenSSL's per-thread queue into one buffer for the
 * log; the queue is cleared before every operation so that an old error
 * never explains a new failure.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct spl_tls {
	SSL_CTX *server;
	SSL_CTX *client;
	bool verify_server;
};

static __thread char last_err[256];

const char *spl_tls_error(void) { return last_err[0] ? last_err : "unknown TLS error"; }

static void take_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(last_err, sizeof(last_err), "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

static int ctx_common(SSL_CTX *ctx, const struct spl_config *c, char *err, unsigned errlen)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	/* Writes come from queued buffers that may move between retries. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* A peer that closes without close_notify is a close, not a TLS failure. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (c->tls_cert[0]) {
		if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
			take_error("");
			snprintf(err, errlen, "tls.certificate %s: %s", c->tls_cert, last_err);
			return -1;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			take_error("");
			snprintf(err, errlen, "tls.private_key %s: %s", c->tls_key, last_err);
			return -1;
		}
	}
	if (c->tls_ca[0] && SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1) {
		take_error("");
		snprintf(err, errlen, "tls.ca_file %s: %s", c->tls_ca, last_err);
		return -1;
	}
	return 0;
}

struct spl_tls *spl_tls_create(const struct spl_config *c, char *err, unsigned errlen)
{
	struct spl_tls *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->server = SSL_CTX_new(TLS_server_method());
	t->client = SSL_CTX_new(TLS_client_method());
	if (!t->server || !t->client) {
		snprintf(err, errlen, "OpenSSL: cannot create contexts");
		goto fail;
	}
	if (ctx_common(t->server, c, err, errlen) || ctx_common(t->client, c, err, errlen))
		goto fail;
	if (c->tls_verify_client)
		SSL_CTX_set_verify(t->server, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else
		SSL_CTX_set_verify(t->server, SSL_VERIFY_NONE, NULL);
	/* Sessions are not resumed across restarts; a small cache helps
	 * trunks that reconnect. */
	SSL_CTX_set_session_id_context(t->server, (const unsigned char *)"sipline", 7);
	t->verify_server = c->tls_verify_server;
	SSL_CTX_set_verify(t->client, c->tls_verify_server ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	return t;
fail:
	spl_tls_free(t);
	return NULL;
}

void spl_tls_free(struct spl_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->server);
	SSL_CTX_free(t->client);
	free(t);
}

SSL *spl_tls_accept(struct spl_tls *t, int fd)
{
	SSL *ssl = SSL_new(t->server);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		take_error("SSL_new");
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

SSL *spl_tls_connect(struct spl_tls *t, int fd, const char *name, int family, const uint8_t *ip)
{
	SSL *ssl = SSL_new(t->client);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		take_error("SSL_new");
		SSL_free(ssl);
		return NULL;
	}
	if (name && *name) {
		SSL_set_tlsext_host_name(ssl, name);
		if (t->verify_server && SSL_set1_host(ssl, name) != 1)
			goto fail;
	} else if (t->verify_server) {
		/* No name: the certificate must carry the address (SAN IP). */
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip(vp, ip, family == AF_INET6 ? 16 : 4) != 1)
			goto fail;
	}
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	take_error("server name check");
	SSL_free(ssl);
	return NULL;
}

static enum spl_tls_io io_result(SSL *ssl, int rc, const char *what)
{
	int e = SSL_get_error(ssl, rc);
	switch (e) {
	case SSL_ERROR_WANT_READ: return SPL_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE: return SPL_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN: return SPL_TLS_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (errno == 0 || errno == EPIPE || errno == ECONNRESET)
				return SPL_TLS_EOF;
			snprintf(last_err, sizeof(last_err), "%s: %s", what, strerror(errno));
			return SPL_TLS_FAIL;
		}
		/* fall through */
	default: {
		take_error(what);
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK) {
			size_t l = strlen(last_err);
			snprintf(last_err + l, sizeof(last_err) - l, " (%s)", X509_verify_cert_error_string(v));
		}
		return SPL_TLS_FAIL;
	}
	}
}

enum spl_tls_io spl_tls_handshake(SSL *ssl)
{
	ERR_clear_error();
	errno = 0;
	int rc = SSL_do_handshake(ssl);
	return rc == 1 ? SPL_TLS_DONE : io_result(ssl, rc, "handshake");
}

enum spl_tls_io spl_tls_read(SSL *ssl, void *buf, size_t len, size_t *n)
{
	ERR_clear_error();
	errno = 0;
	int rc = SSL_read_ex(ssl, buf, len, n);
	return rc == 1 ? SPL_TLS_DONE : io_result(ssl, rc, "read");
}

enum spl_tls_io spl_tls_write(SSL *ssl, const void *buf, size_t len, size_t *n)
{
	ERR_clear_error();
	errno = 0;
	int rc = SSL_write_ex(ssl, buf, len, n);
	return rc == 1 ? SPL_TLS_DONE : io_result(ssl, rc, "write");
}

const char *spl_tls_describe(SSL *ssl, char *buf, size_t len)
{
	if (!ssl || !SSL_is_init_finished(ssl)) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	snprintf(buf, len, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	return buf;
}

void spl_tls_close(SSL *ssl)
{
	if (!ssl)
		return;
	/* One close_notify, best effort: the socket is non-blocking and is
	 * closed next whatever the peer does. */
	if (SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	SSL_free(ssl);
}
