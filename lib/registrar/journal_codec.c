/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Journal and snapshot format: CRC32C, record encoding, and replay into a
 * location service. Layout in journal_priv.h; rules in doc/registrar.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_priv.h"

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

/* CRC32C (Castagnoli), the iSCSI/ext4 polynomial: SSE4.2 has it in
 * hardware (x86-64-v2 is the project's baseline); elsewhere bitwise,
 * which is plenty for a journal that writes a few MB/s at most. */
uint32_t reg_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;
#ifdef __SSE4_2__
	uint64_t c64 = c;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c64 = _mm_crc32_u64(c64, w);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len--)
		c = _mm_crc32_u8(c, *p++);
#else
	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (UINT32_C(0x82F63B78) & (0u - (c & 1u)));
	}
#endif
	return ~c;
}

static void le16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void le32(unsigned char *p, uint32_t v) { le16(p, (uint16_t)v); le16(p + 2, (uint16_t)(v >> 16)); }
static void le64(unsigned char *p, uint64_t v) { le32(p, (uint32_t)v); le32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

void jnl_header_encode(unsigned char *out, unsigned kind, uint64_t base_seq)
{
	memset(out, 0, JNL_HDR_LEN);
	memcpy(out, JNL_MAGIC, 8);
	le16(out + 8, JNL_VERSION);
	le16(out + 10, (uint16_t)kind);
	le32(out + 12, JNL_HDR_LEN);
	le64(out + 16, base_seq);
	le32(out + 28, reg_crc32c(0, out, 28));
}

uint32_t jnl_payload_bytes(struct spl_str aor, const struct spl_binding *b, unsigned nb)
{
	uint64_t s = JNL_PAYLOAD_FIXED + aor.len;
	for (unsigned i = 0; i < nb; i++)
		s += JNL_BIND_FIXED + (uint64_t)b[i].contact.len + b[i].params.len + b[i].path.len +
		     b[i].call_id.len;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static unsigned char *put_str(unsigned char *p, struct spl_str s)
{
	if (s.len)
		memcpy(p, s.p, s.len);
	return p + s.len;
}

uint32_t jnl_encode(unsigned char *out, unsigned type, uint64_t seq, struct spl_str aor,
		    const struct spl_binding *b, unsigned nb)
{
	unsigned char *pl = out + JNL_REC_HDR, *p = pl;
	p[0] = (unsigned char)type;
	p[1] = 0;
	le16(p + 2, (uint16_t)nb);
	le16(p + 4, (uint16_t)aor.len);
	le16(p + 6, 0);
	le64(p + 8, seq);
	p = put_str(p + JNL_PAYLOAD_FIXED, aor);
	for (unsigned i = 0; i < nb; i++) {
		const struct spl_binding *x = &b[i];
		le64(p, x->expires_at);
		le64(p + 8, x->registered_at);
		le32(p + 16, x->cseq);
		le16(p + 20, x->q);
		p[22] = x->received.family;
		p[23] = x->received.transport;
		le16(p + 24, x->received.port);
		memcpy(p + 26, x->received.addr, 16);
		le16(p + 42, (uint16_t)x->contact.len);
		le16(p + 44, (uint16_t)x->params.len);
		le16(p + 46, (uint16_t)x->path.len);
		le16(p + 48, (uint16_t)x->call_id.len);
		p += JNL_BIND_FIXED;
		p = put_str(p, x->contact);
		p = put_str(p, x->params);
		p = put_str(p, x->path);
		p = put_str(p, x->call_id);
	}
	uint32_t plen = (uint32_t)(p - pl);
	le32(out, plen);
	le32(out + 4, reg_crc32c(0, pl, plen));
	return JNL_REC_HDR + plen;
}

unsigned jnl_rec_views(const struct loc_rec *r, struct spl_binding *out)
{
	unsigned n = r->nb < SPL_LOCATION_MAX_BINDINGS ? r->nb : SPL_LOCATION_MAX_BINDINGS;
	for (unsigned i = 0; i < n; i++)
		loc_rec_binding(r, i, &out[i]);
	return n;
}

/* A payload whose CRC matched: decode and check every length. */
static int decode(const unsigned char *p, uint32_t len, unsigned *type, uint64_t *seq,
		  struct spl_str *aor, struct spl_binding *b, unsigned *nb)
{
	const unsigned char *end = p + len;
	if (len < JNL_PAYLOAD_FIXED)
		return -1;
	*type = p[0];
	*nb = rd16(p + 2);
	uint16_t alen = rd16(p + 4);
	*seq = rd64(p + 8);
	if ((*type != JNL_PUT && *type != JNL_DEL) || *nb > SPL_LOCATION_MAX_BINDINGS ||
	    alen == 0 || (*type == JNL_DEL && *nb != 0))
		return -1;
	p += JNL_PAYLOAD_FIXED;
	if ((size_t)(end - p) < alen)
		return -1;
	*aor = reg_str((const char *)p, alen);
	p += alen;
	for (unsigned i = 0; i < *nb; i++) {
		struct spl_binding *x = &b[i];
		if ((size_t)(end - p) < JNL_BIND_FIXED)
			return -1;
		memset(x, 0, sizeof(*x));
		x->expires_at = rd64(p);
		x->registered_at = rd64(p + 8);
		x->cseq = rd32(p + 16);
		x->q = rd16(p + 20);
		x->received.family = p[22];
		x->received.transport = p[23];
		x->received.port = rd16(p + 24);
		memcpy(x->received.addr, p + 26, 16);
		uint32_t l[4] = { rd16(p + 42), rd16(p + 44), rd16(p + 46), rd16(p + 48) };
		p += JNL_BIND_FIXED;
		if ((size_t)(end - p) < (size_t)l[0] + l[1] + l[2] + l[3] || l[0] == 0 || x->q > 1000)
			return -1;
		x->contact = reg_str((const char *)p, l[0]);
		p += l[0];
		x->params = reg_str((const char *)p, l[1]);
		p += l[1];
		x->path = reg_str((const char *)p, l[2]);
		p += l[2];
		x->call_id = reg_str((const char *)p, l[3]);
		p += l[3];
	}
	return p == end ? 0 : -1;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int jnl_replay_buf(struct spl_location *loc, const unsigned char *buf, size_t len,
		   unsigned kind_expected, uint64_t now, uint64_t min_seq,
		   struct spl_journal_report *rep, uint64_t *base_seq, uint64_t *good_bytes,
		   bool *torn, bool *corrupt, uint64_t *bad_off)
{
	struct spl_binding b[SPL_LOCATION_MAX_BINDINGS];

	*torn = *corrupt = false;
	*good_bytes = 0;
	*base_seq = 0;
	if (len < JNL_HDR_LEN) {
		/* a crash between create and the header write */
		*torn = len > 0;
		return 0;
	}
	if (memcmp(buf, JNL_MAGIC, 8) != 0 || rd16(buf + 8) != JNL_VERSION ||
	    rd16(buf + 10) != kind_expected || rd32(buf + 12) != JNL_HDR_LEN ||
	    rd32(buf + 28) != reg_crc32c(0, buf, 28)) {
		*corrupt = true;
		*bad_off = 0;
		return -EBADMSG;
	}
	*base_seq = rd64(buf + 16);
	size_t off = JNL_HDR_LEN;
	*good_bytes = off;
	while (off < len) {
		size_t rest = len - off;
		const unsigned char *r = buf + off;
		if (rest < JNL_REC_HDR || all_zero(r, rest)) {
			*torn = true;   /* a partial header, or space allocated but never written */
			break;
		}
		uint32_t plen = rd32(r);
		if (plen < JNL_PAYLOAD_FIXED || plen > JNL_MAX_PAYLOAD) {
			*corrupt = true;
			break;
		}
		if (rest < JNL_REC_HDR + (size_t)plen) {
			*torn = true;   /* the last write did not complete */
			break;
		}
		bool last = rest == JNL_REC_HDR + (size_t)plen;
		unsigned type, nb;
		uint64_t seq;
		struct spl_str aor;
		if (rd32(r + 4) != reg_crc32c(0, r + JNL_REC_HDR, plen) ||
		    decode(r + JNL_REC_HDR, plen, &type, &seq, &aor, b, &nb) != 0) {
			/* At the very end a bad record is a write the crash cut
			 * short inside a block; anywhere else the file is damaged. */
			if (last)
				*torn = true;
			else
				*corrupt = true;
			break;
		}
		off += JNL_REC_HDR + plen;
		*good_bytes = off;
		if (seq > rep->last_seq)
			rep->last_seq = seq;
		if (kind_expected == JNL_KIND_JOURNAL && seq <= min_seq) {
			rep->skipped++;
			continue;
		}
		int rc = loc_apply(loc, aor, b, type == JNL_PUT ? nb : 0, now);
		if (rc != 0)
			rep->dropped++;
		else if (kind_expected == JNL_KIND_SNAPSHOT)
			rep->snapshot_records++;
		else
			rep->records++;
	}
	if (*corrupt) {
		*bad_off = off;
		return -EBADMSG;
	}
	return 0;
}

int jnl_read_file(const char *path, unsigned char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	size_t cap = (size_t)st.st_size;
	unsigned char *b = malloc(cap ? cap : 1);
	if (b == NULL) {
		close(fd);
		return -ENOMEM;
	}
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(b);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

int jnl_replay_all(struct spl_location *loc, const char *path, uint64_t now,
		   struct spl_journal_report *rep, bool *snap_bad)
{
	unsigned char *buf;
	size_t len;
	uint64_t base = 0, good, bad_off = 0, ignore;
	bool torn, corrupt;
	char snap[4096];
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((size_t)snprintf(snap, sizeof(snap), "%s.snap", path) >= sizeof(snap))
		return -ENAMETOOLONG;

	rc = jnl_read_file(snap, &buf, &len);
	if (rc == 0) {
		rc = jnl_replay_buf(loc, buf, len, JNL_KIND_SNAPSHOT, now, 0, rep, &base, &ignore,
				    &torn, &corrupt, &bad_off);
		free(buf);
		/* A snapshot is renamed into place whole: any fault is damage. */
		if (rc != 0 || torn) {
			*snap_bad = true;
			rep->corrupt = true;
			rep->bad_offset = bad_off;
			return -EBADMSG;
		}
		rep->base_seq = base;
		if (base > rep->last_seq)
			rep->last_seq = base;
	} else if (rc != -ENOENT) {
		return rc;
	}

	rc = jnl_read_file(path, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	rc = jnl_replay_buf(loc, buf, len, JNL_KIND_JOURNAL, now, rep->base_seq, rep, &ignore,
			    &good, &torn, &corrupt, &bad_off);
	free(buf);
	rep->good_bytes = good;
	rep->torn_tail = torn;
	rep->corrupt = corrupt;
	rep->bad_offset = corrupt ? bad_off : 0;
	return rc;
}

int spl_journal_replay(struct spl_location *loc, const char *path, uint64_t now,
		       struct spl_journal_report *rep)
{
	bool snap_bad = false;
	return jnl_replay_all(loc, path, now, rep, &snap_bad);
}
