/* SPDX-License-Identifier: BSD-3-Clause */
/* Journal and snapshot: replay equals the original, torn tails, CRC
 * damage, compaction, durability sequence numbers, a full ring. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg_util.h"

uint32_t reg_crc32c(uint32_t crc, const void *buf, size_t len);   /* library internal */

static char dir[64];
static char jpath[128];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/spl-jnl-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(jpath, sizeof(jpath), "%s/reg0.jnl", dir);
}

static void rm_tmp(void)
{
	char p[160];
	const char *names[] = { "reg0.jnl", "reg0.jnl.snap", "reg0.jnl.snap.tmp", "copy.jnl",
				"copy.jnl.snap" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static off_t fsize(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

static void copy_file(const char *from, const char *to, off_t len)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	cr_assert(a && b);
	char buf[4096];
	while (len > 0) {
		size_t n = fread(buf, 1, len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf), a);
		cr_assert_gt(n, 0);
		cr_assert_eq(fwrite(buf, 1, n, b), n);
		len -= (off_t)n;
	}
	fclose(a);
	fclose(b);
}

static bool str_eq(struct spl_str a, struct spl_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Every AOR of a is in b with the same bindings, and b has no others. */
static void assert_loc_equal(struct spl_location *a, struct spl_location *b, uint64_t now)
{
	struct spl_location_cursor cur = { 0 };
	struct spl_location_aor page[16];
	int n, na = 0, nb = 0;
	while ((n = spl_location_list(a, &cur, page, 16, now)) > 0) {
		for (int i = 0; i < n; i++) {
			if (page[i].nbindings == 0)
				continue;
			na++;
			struct spl_binding x[SPL_LOCATION_MAX_BINDINGS], y[SPL_LOCATION_MAX_BINDINGS];
			int kx = spl_location_aor_bindings(&page[i], x, SPL_LOCATION_MAX_BINDINGS, now);
			int ky = spl_location_lookup(b, page[i].aor, y, SPL_LOCATION_MAX_BINDINGS, now);
			cr_assert_eq(kx, ky, "%.*s: %d vs %d bindings", (int)page[i].aor.len,
				     page[i].aor.p, kx, ky);
			for (int k = 0; k < kx; k++) {
				cr_assert(str_eq(x[k].contact, y[k].contact));
				cr_assert(str_eq(x[k].params, y[k].params));
				cr_assert(str_eq(x[k].path, y[k].path));
				cr_assert(str_eq(x[k].call_id, y[k].call_id));
				cr_assert_eq(x[k].expires_at, y[k].expires_at);
				cr_assert_eq(x[k].registered_at, y[k].registered_at);
				cr_assert_eq(x[k].cseq, y[k].cseq);
				cr_assert_eq(x[k].q, y[k].q);
				cr_assert_eq(memcmp(&x[k].received, &y[k].received, sizeof(x[k].received)), 0);
			}
		}
	}
	cur = (struct spl_location_cursor){ 0 };
	while ((n = spl_location_list(b, &cur, page, 16, now)) > 0)
		for (int i = 0; i < n; i++)
			nb += page[i].nbindings > 0;
	cr_assert_eq(na, nb, "AOR counts differ: %d vs %d", na, nb);
}

static struct spl_location *fresh_loc(void)
{
	struct spl_location_conf lc = { .nshards = 1, .max_aors = 1000 };
	struct spl_location *l = spl_location_create(&lc);
	cr_assert_not_null(l);
	return l;
}

static unsigned changes;

static void reg_user(struct fx *f, const char *user, const char *callid, unsigned cseq,
		     const char *extra)
{
	char text[4096];
	struct rsp *r = malloc(sizeof(*r));
	mk_register(text, sizeof(text), "example.com", user, callid, cseq, extra);
	do_process(f, text, r);
	cr_assert_eq(r->res.status, 200, "%s", r->out);
	if (r->res.journal_seq)
		changes++;
	free(r);
}

/* A mix of adds, refreshes, partial and total removals, operator adds. */
static void workload(struct fx *f, int n)
{
	char user[32], extra[512];
	for (int i = 0; i < n; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		snprintf(extra, sizeof(extra),
			 "Path: <sip:edge%d.example.net;lr>\r\n"
			 "Contact: <sip:%s@10.0.%d.1>;q=0.%d;+sip.instance=\"<urn:uuid:%d>\", "
			 "<sip:%s@10.0.%d.2>;expires=%d\r\n",
			 i % 3, user, i, i % 10, i, user, i, 100 + i);
		reg_user(f, user, "call-a", 1, extra);
		fx_advance(f, SEC(1) / 3);
	}
	for (int i = 0; i < n; i += 3) {
		snprintf(user, sizeof(user), "u%d", i);
		snprintf(extra, sizeof(extra), "Contact: <sip:%s@10.0.%d.2>;expires=0\r\n", user, i);
		reg_user(f, user, "call-a", 2, extra);
	}
	for (int i = 1; i < n; i += 4) {
		snprintf(user, sizeof(user), "u%d", i);
		reg_user(f, user, "call-b", 1, "Contact: *\r\nExpires: 0\r\n");
	}
	cr_assert_eq(spl_location_add(f->reg, SPL_STR_LIT("sip:static@example.com"),
				      SPL_STR_LIT("sip:pbx@10.9.9.9"), 0, f->now), 0);
	changes++;
}

Test(registrar_journal, crc32c_known_vector)
{
	cr_assert_eq(reg_crc32c(0, "123456789", 9), 0xE3069283u);
	cr_assert_eq(reg_crc32c(reg_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

Test(registrar_journal, replay_into_fresh_location_equals_original)
{
	mkdir_tmp();
	struct fx f;
	struct fx_opts o = { .journal_path = jpath };
	fx_init(&f, &o);
	cr_assert_eq(f.rep.records, 0);
	changes = 0;
	workload(&f, 24);
	cr_assert_eq(spl_journal_commit(f.jnl), 0);
	cr_assert_eq(spl_journal_sync(f.jnl), 0);
	cr_assert_eq(spl_journal_durable_seq(f.jnl), changes);

	struct spl_location *l2 = fresh_loc();
	struct spl_journal_report rep;
	cr_assert_eq(spl_journal_replay(l2, jpath, f.now, &rep), 0);
	cr_assert_eq(rep.records, changes);
	cr_assert(!rep.torn_tail && !rep.corrupt);
	cr_assert_eq(rep.last_seq, changes);
	assert_loc_equal(f.loc, l2, f.now);
	assert_loc_equal(l2, f.loc, f.now);

	/* replay drops what has expired in the meantime */
	struct spl_location *l3 = fresh_loc();
	cr_assert_eq(spl_journal_replay(l3, jpath, f.now + SEC(200), &rep), 0);
	struct spl_binding b[4];
	cr_assert_eq(spl_location_lookup(l3, SPL_STR_LIT("sip:u2@example.com"), b, 4, f.now + SEC(200)), 1);
	spl_location_free(l3);

	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.journal_records, changes);
	cr_assert_gt(st.journal_bytes, changes * 30);
	spl_location_free(l2);
	fx_fini(&f);

	/* reopening continues the sequence after what was replayed */
	fx_init(&f, &o);
	cr_assert_eq(f.rep.records, changes);
	cr_assert_eq(spl_journal_last_seq(f.jnl), changes);
	reg_user(&f, "late", "c", 1, "Contact: <sip:late@10.1.1.1>\r\n");
	cr_assert_eq(spl_journal_last_seq(f.jnl), changes);
	fx_fini(&f);
	rm_tmp();
}

Test(registrar_journal, torn_tail_replays_every_complete_record)
{
	mkdir_tmp();
	struct fx f;
	struct fx_opts o = { .journal_path = jpath };
	fx_init(&f, &o);
	changes = 0;
	workload(&f, 10);
	spl_journal_commit(f.jnl);
	spl_journal_sync(f.jnl);
	off_t good = fsize(jpath);
	char copy[160];
	snprintf(copy, sizeof(copy), "%s/copy.jnl", dir);
	copy_file(jpath, copy, good);

	unsigned before = changes;
	reg_user(&f, "last", "c", 1, "Contact: <sip:last@10.1.1.1>, <sip:last@10.1.1.2>\r\n");
	spl_journal_commit(f.jnl);
	spl_journal_sync(f.jnl);
	off_t full = fsize(jpath);
	cr_assert_gt(full, good + 20);
	uint64_t now = f.now;
	fx_fini(&f);

	/* the crash cut the last record in the middle */
	cr_assert_eq(truncate(jpath, good + (full - good) / 2), 0);
	struct spl_location *a = fresh_loc(), *b = fresh_loc();
	struct spl_journal_report rep, rep2;
	cr_assert_eq(spl_journal_replay(a, jpath, now, &rep), 0);
	cr_assert(rep.torn_tail);
	cr_assert(!rep.corrupt);
	cr_assert_eq(rep.records, before);
	cr_assert_eq((off_t)rep.good_bytes, good);
	cr_assert_eq(spl_journal_replay(b, copy, now, &rep2), 0);
	cr_assert(!rep2.torn_tail);
	assert_loc_equal(a, b, now);
	assert_loc_equal(b, a, now);

	/* a header and 3 bytes of a record: also torn */
	cr_assert_eq(truncate(copy, good + 3), 0);
	struct spl_location *c = fresh_loc();
	cr_assert_eq(spl_journal_replay(c, copy, now, &rep2), 0);
	cr_assert(rep2.torn_tail);
	spl_location_free(c);

	/* opening cuts the torn tail, so what is appended next is reachable */
	fx_init(&f, &o);
	cr_assert(f.rep.torn_tail);
	cr_assert_eq(fsize(jpath), good);
	reg_user(&f, "after", "c", 1, "Contact: <sip:after@10.1.1.1>\r\n");
	fx_fini(&f);
	struct spl_location *d = fresh_loc();
	cr_assert_eq(spl_journal_replay(d, jpath, now, &rep), 0);
	cr_assert(!rep.torn_tail && !rep.corrupt);
	cr_assert_eq(rep.records, before + 1);
	struct spl_binding bb[2];
	cr_assert_eq(spl_location_lookup(d, SPL_STR_LIT("sip:after@example.com"), bb, 2, now), 1);
	spl_location_free(a);
	spl_location_free(b);
	spl_location_free(d);
	rm_tmp();
}

/* Offsets of the records in a journal file. */
static int record_offsets(const char *path, off_t *offs, int max)
{
	FILE *fp = fopen(path, "rb");
	cr_assert_not_null(fp);
	off_t off = 32;
	int n = 0;
	unsigned char h[8];
	fseeko(fp, off, SEEK_SET);
	while (n < max && fread(h, 1, 8, fp) == 8) {
		uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
		offs[n++] = off;
		off += 8 + len;
		fseeko(fp, off, SEEK_SET);
	}
	fclose(fp);
	return n;
}

Test(registrar_journal, crc_damage_in_the_middle_is_detected)
{
	mkdir_tmp();
	struct fx f;
	struct fx_opts o = { .journal_path = jpath };
	fx_init(&f, &o);
	changes = 0;
	workload(&f, 8);
	uint64_t now = f.now;
	fx_fini(&f);

	off_t offs[64];
	int n = record_offsets(jpath, offs, 64);
	cr_assert_eq((unsigned)n, changes);
	/* flip one byte inside the payload of record 5 */
	int fd = open(jpath, O_RDWR);
	unsigned char byte;
	cr_assert_eq(pread(fd, &byte, 1, offs[5] + 8 + 20), 1);
	byte ^= 0x40;
	cr_assert_eq(pwrite(fd, &byte, 1, offs[5] + 8 + 20), 1);
	close(fd);

	struct spl_location *a = fresh_loc();
	struct spl_journal_report rep;
	cr_assert_eq(spl_journal_replay(a, jpath, now, &rep), -EBADMSG);
	cr_assert(rep.corrupt);
	cr_assert(!rep.torn_tail);
	cr_assert_eq((off_t)rep.bad_offset, offs[5]);
	cr_assert_eq(rep.records, 5, "the records before the damage are applied");
	spl_location_free(a);

	/* the shard refuses to start on it ... */
	a = fresh_loc();
	struct spl_journal_conf jc = { .path = jpath };
	errno = 0;
	cr_assert_null(spl_journal_open(&jc, a, now, &rep));
	cr_assert_eq(errno, EBADMSG);
	spl_location_free(a);
	/* ... unless told to cut the file where the damage starts */
	a = fresh_loc();
	jc.truncate_corrupt = true;
	struct spl_journal *j = spl_journal_open(&jc, a, now, &rep);
	cr_assert_not_null(j);
	cr_assert_eq(fsize(jpath), offs[5]);
	cr_assert_eq(spl_journal_last_seq(j), 5);
	spl_journal_close(j);
	spl_location_free(a);

	/* a damaged header is not a journal at all */
	fd = open(jpath, O_RDWR);
	cr_assert_eq(pwrite(fd, "X", 1, 0), 1);
	close(fd);
	a = fresh_loc();
	cr_assert_eq(spl_journal_replay(a, jpath, now, &rep), -EBADMSG);
	spl_location_free(a);
	rm_tmp();
}

Test(registrar_journal, snapshot_and_compaction_then_replay_equals)
{
	mkdir_tmp();
	struct fx f;
	struct fx_opts o = { .journal_path = jpath };
	fx_init(&f, &o);
	changes = 0;
	workload(&f, 20);
	spl_journal_commit(f.jnl);
	spl_journal_sync(f.jnl);
	char copy[160];
	snprintf(copy, sizeof(copy), "%s/copy.jnl", dir);
	copy_file(jpath, copy, fsize(jpath));   /* the pre-compaction journal */

	cr_assert_eq(spl_journal_compact(f.jnl, f.loc, 0, f.now), 0);
	cr_assert_eq(fsize(jpath), 32, "compaction leaves only the header");
	char snap[160];
	snprintf(snap, sizeof(snap), "%s.snap", jpath);
	cr_assert_gt(fsize(snap), 32);

	/* changes after the snapshot land in the journal again */
	reg_user(&f, "u0", "call-a", 3, "Contact: <sip:u0@10.0.0.1>;expires=0\r\n");
	reg_user(&f, "new", "c", 1, "Contact: <sip:new@10.7.7.7>;q=0.3\r\n");
	spl_journal_commit(f.jnl);
	spl_journal_sync(f.jnl);

	struct spl_location *a = fresh_loc();
	struct spl_journal_report rep;
	cr_assert_eq(spl_journal_replay(a, jpath, f.now, &rep), 0);
	cr_assert_gt(rep.snapshot_records, 0);
	cr_assert_eq(rep.records, 2);
	cr_assert_eq(rep.base_seq, changes - 2);
	assert_loc_equal(f.loc, a, f.now);
	assert_loc_equal(a, f.loc, f.now);
	spl_location_free(a);

	/* a crash between the snapshot's rename and the truncation leaves
	 * old records behind it: replay skips them by seq */
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	uint64_t now = f.now;
	fx_fini(&f);
	char snapcopy[160];
	snprintf(snapcopy, sizeof(snapcopy), "%s/copy.jnl.snap", dir);
	copy_file(snap, snapcopy, fsize(snap));
	a = fresh_loc();
	cr_assert_eq(spl_journal_replay(a, copy, now, &rep), 0);
	cr_assert_eq(rep.records, 0);
	cr_assert_eq(rep.skipped, changes - 2);
	struct spl_binding b[4];
	cr_assert_eq(spl_location_lookup(a, SPL_STR_LIT("sip:u2@example.com"), b, 4, now), 2);
	spl_location_free(a);

	/* and the snapshot + journal reopen into the same state */
	struct spl_location *c = fresh_loc();
	cr_assert_eq(spl_journal_replay(c, jpath, now, &rep), 0);
	fx_init(&f, &o);
	f.now = now;
	assert_loc_equal(c, f.loc, now);
	assert_loc_equal(f.loc, c, now);
	cr_assert_eq(spl_journal_last_seq(f.jnl), changes);
	fx_fini(&f);
	spl_location_free(c);
	rm_tmp();
}

Test(registrar_journal, sync_mode_holds_until_durable)
{
	mkdir_tmp();
	struct fx f;
	struct fx_opts o = { .journal_path = jpath };
	fx_init(&f, &o);
	struct rsp *r = malloc(sizeof(*r));
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>\r\n", r);
	cr_assert_eq(r->res.status, 200);
	uint64_t seq = r->res.journal_seq;
	cr_assert_eq(seq, 1);
	cr_assert_lt(spl_journal_durable_seq(f.jnl), seq, "not durable yet: hold the 200");
	/* the consumer cannot see what the producer has not committed */
	cr_assert_eq(spl_journal_sync(f.jnl), 0);
	cr_assert_lt(spl_journal_durable_seq(f.jnl), seq);
	do_reg(&f, "c1", 2, NULL, r);   /* a fetch shows undurable state: it waits too */
	cr_assert_eq(r->res.journal_seq, seq);
	/* group commit: one commit + sync releases everything before it */
	do_reg(&f, "c1", 3, "Contact: <sip:b@10.0.0.1>\r\n", r);
	cr_assert_eq(r->res.journal_seq, 2);
	spl_journal_commit(f.jnl);
	cr_assert_eq(spl_journal_sync(f.jnl), 0);
	cr_assert_geq(spl_journal_durable_seq(f.jnl), 2);
	do_reg(&f, "c1", 4, NULL, r);
	cr_assert_eq(r->res.journal_seq, 0, "nothing pending: send at once");
	free(r);
	fx_fini(&f);
	rm_tmp();
}

Test(registrar_journal, full_ring_is_503_until_the_consumer_catches_up)
{
	mkdir_tmp();
	struct fx f;
	struct fx_opts o = { .journal_path = jpath, .record_bytes = 1024, .jnl_buf_bytes = 2048,
			     .jnl_nbufs = 2 };
	fx_init(&f, &o);
	struct rsp *r = malloc(sizeof(*r));
	unsigned i;
	for (i = 1; i < 200; i++) {
		do_reg(&f, "c1", i, "Contact: <sip:a@10.0.0.1>\r\n", r);
		if (r->res.status != 200)
			break;
	}
	cr_assert_eq(r->res.status, 503);
	cr_assert_eq(r->res.reason, SPL_REGISTRAR_R_JOURNAL_FULL);
	cr_assert_gt(i, 5);
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, "sip:alice@example.com", b, 2), 1);
	cr_assert_eq(b[0].cseq, i - 1, "the refused REGISTER changed nothing");
	cr_assert_eq(spl_journal_flush(f.jnl), 0);
	do_reg(&f, "c1", i + 1, "Contact: <sip:a@10.0.0.1>\r\n", r);
	cr_assert_eq(r->res.status, 200);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.journal_full, 1);
	free(r);
	uint64_t now = f.now;
	fx_fini(&f);
	struct spl_location *a = fresh_loc();
	struct spl_journal_report rep;
	cr_assert_eq(spl_journal_replay(a, jpath, now, &rep), 0);
	cr_assert_eq(spl_location_lookup(a, SPL_STR_LIT("sip:alice@example.com"), b, 2, now), 1);
	cr_assert_eq(b[0].cseq, i + 1);
	spl_location_free(a);
	rm_tmp();
}
