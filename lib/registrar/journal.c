/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Journal writer: the owning shard appends records into a ring of
 * buffers (single producer); one consumer thread writes committed buffers
 * to the file and syncs it (single consumer). Buffers change hands through
 * two monotonic counters, `published` (producer → consumer) and
 * `consumed` (consumer → producer), each stored with release and loaded
 * with acquire, so a buffer is only ever touched by one side at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_priv.h"

struct jbuf {
	unsigned char *data;
	uint32_t len;
	uint64_t last_seq;
};

struct spl_journal {
	/* producer (owning shard) */
	uint64_t p_count;            /* buffer being filled: bufs[p_count % nbufs] */
	uint32_t p_len;
	uint64_t p_seq;              /* last seq appended */
	uint64_t st_records, st_bytes, st_full;

	_Atomic uint64_t published __attribute__((aligned(SPL_CACHE_LINE)));
	_Atomic uint64_t consumed __attribute__((aligned(SPL_CACHE_LINE)));
	_Atomic uint64_t durable_seq __attribute__((aligned(SPL_CACHE_LINE)));

	/* consumer */
	uint64_t c_count __attribute__((aligned(SPL_CACHE_LINE)));
	uint32_t c_off;              /* bytes of the head buffer already written */
	uint64_t written_seq;
	uint64_t synced_seq;
	int fd;
	char *path;
	uint64_t st_writes, st_syncs, st_errors, st_compactions;

	uint32_t buf_bytes, nbufs;
	struct jbuf *bufs;
};

/* ------------------------------------------------------------------ */
/* Producer                                                            */

static bool slot_free(const struct spl_journal *j, uint64_t count)
{
	return count - atomic_load_explicit(&j->consumed, memory_order_acquire) < j->nbufs;
}

int spl_journal_commit(struct spl_journal *j)
{
	if (j->p_len == 0)
		return 0;
	struct jbuf *b = &j->bufs[j->p_count % j->nbufs];
	b->len = j->p_len;
	b->last_seq = j->p_seq;
	atomic_store_explicit(&j->published, j->p_count + 1, memory_order_release);
	j->p_count++;
	j->p_len = 0;
	return 0;
}

bool jnl_can_append(struct spl_journal *j, uint32_t payload)
{
	uint64_t need = JNL_REC_HDR + (uint64_t)payload;
	bool ok;
	if (need > j->buf_bytes)
		ok = false;
	else if (j->p_len + need <= j->buf_bytes)
		ok = j->p_len > 0 || slot_free(j, j->p_count);
	else
		ok = slot_free(j, j->p_count + 1);
	if (!ok)
		j->st_full++;
	return ok;
}

uint32_t jnl_rec_payload_bytes(const struct loc_rec *r, struct spl_str aor)
{
	struct spl_binding b[SPL_LOCATION_MAX_BINDINGS];
	unsigned nb = r ? jnl_rec_views(r, b) : 0;
	return jnl_payload_bytes(aor, b, nb);
}

uint64_t jnl_append_rec(struct spl_journal *j, const struct loc_rec *r, struct spl_str aor)
{
	struct spl_binding b[SPL_LOCATION_MAX_BINDINGS];
	unsigned nb = r ? jnl_rec_views(r, b) : 0;
	uint32_t payload = jnl_payload_bytes(aor, b, nb);
	if (!jnl_can_append(j, payload))
		return 0;
	if (j->p_len + JNL_REC_HDR + payload > j->buf_bytes)
		spl_journal_commit(j);
	struct jbuf *buf = &j->bufs[j->p_count % j->nbufs];
	uint64_t seq = ++j->p_seq;
	uint32_t n = jnl_encode(buf->data + j->p_len, r ? JNL_PUT : JNL_DEL, seq, aor, b, nb);
	j->p_len += n;
	j->st_records++;
	j->st_bytes += n;
	return seq;
}

uint64_t spl_journal_durable_seq(const struct spl_journal *j)
{
	return atomic_load_explicit(&j->durable_seq, memory_order_acquire);
}

uint64_t spl_journal_last_seq(const struct spl_journal *j)
{
	return j->p_seq;
}

/* ------------------------------------------------------------------ */
/* Consumer                                                            */

static int write_all(int fd, const unsigned char *p, uint32_t len, uint32_t *done)
{
	while (*done < len) {
		ssize_t w = write(fd, p + *done, len - *done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		*done += (uint32_t)w;
	}
	return 0;
}

int spl_journal_flush(struct spl_journal *j)
{
	uint64_t pub = atomic_load_explicit(&j->published, memory_order_acquire);
	while (j->c_count < pub) {
		struct jbuf *b = &j->bufs[j->c_count % j->nbufs];
		j->st_writes++;
		int rc = write_all(j->fd, b->data, b->len, &j->c_off);
		if (rc != 0) {
			j->st_errors++;
			return rc;   /* the rest of the buffer is retried next call */
		}
		j->written_seq = b->last_seq;
		j->c_off = 0;
		j->c_count++;
		atomic_store_explicit(&j->consumed, j->c_count, memory_order_release);
	}
	return 0;
}

int spl_journal_sync(struct spl_journal *j)
{
	int rc = spl_journal_flush(j);
	if (j->written_seq > j->synced_seq) {
		j->st_syncs++;
		if (fdatasync(j->fd) != 0) {
			j->st_errors++;
			return -errno;
		}
		j->synced_seq = j->written_seq;
		atomic_store_explicit(&j->durable_seq, j->synced_seq, memory_order_release);
	}
	return rc;
}

static int fsync_dir_of(const char *path)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

struct snap_out {
	int fd;
	unsigned char *buf;
	size_t len, cap;
	int err;
};

static void snap_flush(struct snap_out *s)
{
	uint32_t done = 0;
	if (s->err == 0 && s->len)
		s->err = write_all(s->fd, s->buf, (uint32_t)s->len, &done);
	s->len = 0;
}

/* Every AOR of the partition with its live bindings, read like any
 * lock-free reader would: each record is one consistent state. */
static int snap_write(struct snap_out *s, struct spl_location *loc, unsigned part,
		      uint64_t base_seq, uint64_t now)
{
	struct spl_binding b[SPL_LOCATION_MAX_BINDINGS];
	const struct loc_part *p = loc_part_of(loc, part);

	jnl_header_encode(s->buf, JNL_KIND_SNAPSHOT, base_seq);
	s->len = JNL_HDR_LEN;
	for (uint64_t k = 0; k <= p->mask && s->err == 0; k++) {
		const struct loc_rec *r = atomic_load_explicit(&p->buckets[k], memory_order_acquire);
		for (; r != NULL; r = atomic_load_explicit(&r->next, memory_order_acquire)) {
			unsigned n = 0;
			for (unsigned i = 0; i < r->nb; i++)
				if (r->b[i].expires_at > now)
					loc_rec_binding(r, i, &b[n++]);
			if (n == 0)
				continue;
			struct spl_str aor = loc_rec_aor(r);
			uint32_t need = JNL_REC_HDR + jnl_payload_bytes(aor, b, n);
			if (s->len + need > s->cap)
				snap_flush(s);
			if (need > s->cap)
				return -E2BIG;
			s->len += jnl_encode(s->buf + s->len, JNL_PUT, base_seq, aor, b, n);
		}
	}
	snap_flush(s);
	return s->err;
}

int spl_journal_compact(struct spl_journal *j, struct spl_location *loc, unsigned part,
			uint64_t now)
{
	char tmp[4096], snap[4096];
	int rc;

	if (part >= spl_location_nshards(loc))
		return -EINVAL;
	if ((rc = spl_journal_sync(j)) != 0)
		return rc;
	/* Everything up to base is on disk in the journal; changes after it
	 * wait in the ring until we are done, and are replayed on top of the
	 * snapshot (whole-state records make that idempotent even when the
	 * scan below already saw them). */
	uint64_t base = j->written_seq;
	if ((size_t)snprintf(snap, sizeof(snap), "%s.snap", j->path) >= sizeof(snap) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.snap.tmp", j->path) >= sizeof(tmp))
		return -ENAMETOOLONG;

	struct snap_out s = { .cap = 1u << 20 };
	if (s.cap < JNL_REC_HDR + loc->record_bytes * 2u)
		s.cap = JNL_REC_HDR + loc->record_bytes * 2u;
	s.buf = malloc(s.cap);
	if (s.buf == NULL)
		return -ENOMEM;
	s.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (s.fd < 0) {
		rc = -errno;
		free(s.buf);
		return rc;
	}
	rc = snap_write(&s, loc, part, base, now);
	free(s.buf);
	if (rc == 0 && fsync(s.fd) != 0)
		rc = -errno;
	close(s.fd);
	if (rc == 0 && rename(tmp, snap) != 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir_of(snap);
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	/* The snapshot now covers every record in the journal: drop them. A
	 * crash before this leaves records <= base that replay skips. */
	if (ftruncate(j->fd, JNL_HDR_LEN) != 0 || fdatasync(j->fd) != 0)
		return -errno;
	j->st_compactions++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open / close                                                        */

static int write_header(int fd)
{
	unsigned char h[JNL_HDR_LEN];
	uint32_t done = 0;
	jnl_header_encode(h, JNL_KIND_JOURNAL, 0);
	if (ftruncate(fd, 0) != 0)
		return -errno;
	int rc = write_all(fd, h, JNL_HDR_LEN, &done);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	return rc;
}

static void journal_free(struct spl_journal *j)
{
	if (j->bufs)
		for (uint32_t i = 0; i < j->nbufs; i++)
			free(j->bufs[i].data);
	free(j->bufs);
	free(j->path);
	free(j);
}

struct spl_journal *spl_journal_open(const struct spl_journal_conf *conf,
				     struct spl_location *loc, uint64_t now,
				     struct spl_journal_report *rep)
{
	struct spl_journal_report local;
	if (rep == NULL)
		rep = &local;
	if (conf == NULL || conf->path == NULL || loc == NULL) {
		errno = EINVAL;
		return NULL;
	}
	uint32_t buf_bytes = conf->buf_bytes ? conf->buf_bytes : (256u << 10);
	uint32_t nbufs = conf->nbufs ? conf->nbufs : 4;
	/* a buffer must hold the largest record the location can produce */
	uint64_t max_rec = JNL_REC_HDR + JNL_PAYLOAD_FIXED + (uint64_t)loc->record_bytes +
			   (uint64_t)loc->max_bindings * JNL_BIND_FIXED;
	if (buf_bytes < max_rec || nbufs < 2 || nbufs > 1024) {
		errno = EINVAL;
		return NULL;
	}

	bool snap_bad = false;
	int rc = jnl_replay_all(loc, conf->path, now, rep, &snap_bad);
	/* A damaged journal may be cut where the damage starts, when the
	 * operator allows it; a damaged snapshot never (it is the base). */
	if (rc != 0 && !(rc == -EBADMSG && conf->truncate_corrupt && !snap_bad)) {
		errno = -rc;
		return NULL;
	}

	struct spl_journal *j = aligned_alloc(SPL_CACHE_LINE, sizeof(*j));
	if (j == NULL)
		return NULL;
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->buf_bytes = buf_bytes;
	j->nbufs = nbufs;
	j->path = strdup(conf->path);
	j->bufs = calloc(nbufs, sizeof(*j->bufs));
	if (j->path == NULL || j->bufs == NULL)
		goto nomem;
	for (uint32_t i = 0; i < nbufs; i++)
		if ((j->bufs[i].data = malloc(buf_bytes)) == NULL)
			goto nomem;

	j->fd = open(conf->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (j->fd < 0)
		goto fail;
	struct stat st;
	if (fstat(j->fd, &st) != 0)
		goto fail;
	if ((uint64_t)st.st_size < JNL_HDR_LEN || rep->good_bytes < JNL_HDR_LEN) {
		/* new, a header the crash cut, or a bad header we may cut */
		if ((rc = write_header(j->fd)) != 0 || (rc = fsync_dir_of(conf->path)) != 0) {
			errno = -rc;
			goto fail;
		}
	} else if ((uint64_t)st.st_size > rep->good_bytes) {
		/* A torn tail (or, when allowed, everything from a bad record
		 * on) must go: appending behind it would turn it into damage
		 * in the middle of the file. */
		if (ftruncate(j->fd, (off_t)rep->good_bytes) != 0 || fdatasync(j->fd) != 0)
			goto fail;
	}
	j->p_seq = rep->last_seq;
	j->written_seq = j->synced_seq = j->p_seq;
	atomic_init(&j->published, 0);
	atomic_init(&j->consumed, 0);
	atomic_init(&j->durable_seq, j->p_seq);
	return j;
nomem:
	errno = ENOMEM;
fail:;
	int e = errno;
	if (j->fd >= 0)
		close(j->fd);
	journal_free(j);
	errno = e;
	return NULL;
}

void spl_journal_close(struct spl_journal *j)
{
	if (j == NULL)
		return;
	spl_journal_commit(j);
	spl_journal_sync(j);
	if (j->fd >= 0)
		close(j->fd);
	journal_free(j);
}

void spl_journal_get_stats(const struct spl_journal *j, struct spl_journal_stats *st)
{
	st->records = j->st_records;
	st->bytes = j->st_bytes;
	st->full = j->st_full;
	st->writes = j->st_writes;
	st->syncs = j->st_syncs;
	st->write_errors = j->st_errors;
	st->compactions = j->st_compactions;
}
