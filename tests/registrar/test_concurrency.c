/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One writer shard re-registering a few AORs as fast as it can, reader
 * threads looking them up without locks. Every lookup must see one
 * committed binding set: all three bindings of one REGISTER, or none,
 * never a mix of two REGISTERs and never freed memory (the record pool is
 * small, so slots are reused constantly; under ASan a freed slot is
 * poisoned, so a read after reuse is a report).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_util.h"

#define NAORS 8
#define NREADERS 2
#define WRITES 30000
#define SLACK 64

struct shared {
	struct fx *f;
	atomic_bool stop;
	atomic_ulong reads, full_sets, empty_sets, bad, writes, busy;
	char why[256];
	atomic_flag why_set;
};

static void note_bad(struct shared *s, const char *fmt, unsigned a, unsigned b)
{
	atomic_fetch_add(&s->bad, 1);
	if (!atomic_flag_test_and_set(&s->why_set))
		snprintf(s->why, sizeof(s->why), fmt, a, b);
}

static void *writer(void *arg)
{
	struct shared *s = arg;
	struct fx *f = s->f;
	unsigned cseq[NAORS] = { 0 };
	char user[16], extra[512], text[2048], out[8192];
	struct spl_sipmsg *m = malloc(sizeof(*m));

	for (unsigned it = 0; it < WRITES; it++) {
		unsigned k = it % NAORS;
		unsigned c = ++cseq[k];
		snprintf(user, sizeof(user), "w%u", k);
		if (c % 7 == 0)
			snprintf(extra, sizeof(extra), "Contact: *\r\nExpires: 0\r\n");
		else
			snprintf(extra, sizeof(extra),
				 "Path: <sip:p%u@edge.example.net;lr>\r\n"
				 "Contact: <sip:%s@10.0.0.1>;gen=%u, <sip:%s@10.0.0.2>;q=0.5;gen=%u, "
				 "<sip:%s@10.0.0.3>;q=0.2;gen=%u\r\n",
				 c, user, c, user, c, user, c);
		mk_register(text, sizeof(text), "example.com", user, "call-w", c, extra);
		struct spl_sipmsg_verdict v;
		struct spl_registrar_result res;
		for (;;) {
			spl_sipmsg_validate(m, spl_sipmsg_scan(m, text, (uint32_t)strlen(text)), &v);
			if (v.kind != SPL_SIPMSG_OK) {
				note_bad(s, "validate %u/%u", k, c);
				break;
			}
			f->now += 1000;
			int rc = spl_registrar_process(f->reg, m, NULL, f->now, out, sizeof(out), &res);
			if (rc == 0 && res.status == 503) {
				/* A reader preempted by the OS still holds its epoch
				 * and with it the pool: that is an answer. Sleep so
				 * the reader gets a CPU back (this box may have fewer
				 * CPUs than threads; the appliance pins one per core). */
				atomic_fetch_add(&s->busy, 1);
				nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
				continue;
			}
			if (rc != 0 || res.status != 200)
				note_bad(s, "writer got status %u for cseq %u", res.status, c);
			break;
		}
		atomic_fetch_add(&s->writes, 1);
	}
	free(m);
	atomic_store(&s->stop, true);
	return NULL;
}

static bool eq(struct spl_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static void check_set(struct shared *s, unsigned k, const struct spl_binding *b, int n)
{
	if (n == 0) {
		atomic_fetch_add(&s->empty_sets, 1);
		return;
	}
	if (n != 3) {
		note_bad(s, "aor %u: %u bindings", k, (unsigned)n);
		return;
	}
	unsigned c = b[0].cseq;
	char want[128];
	static const uint16_t qs[3] = { 1000, 500, 200 };
	for (int i = 0; i < 3; i++) {
		if (b[i].cseq != c)
			note_bad(s, "mixed cseqs %u and %u", c, b[i].cseq);
		if (b[i].q != qs[i])
			note_bad(s, "q order: %u at %u", b[i].q, (unsigned)i);
		snprintf(want, sizeof(want), "gen=%u", c);
		if (!eq(b[i].params, want))
			note_bad(s, "params of cseq %u at %u", c, (unsigned)i);
		snprintf(want, sizeof(want), "<sip:p%u@edge.example.net;lr>", c);
		if (!eq(b[i].path, want))
			note_bad(s, "path of cseq %u at %u", c, (unsigned)i);
		snprintf(want, sizeof(want), "sip:w%u@10.0.0.%d", k, i + 1);
		if (!eq(b[i].contact, want))
			note_bad(s, "contact %u at %u", k, (unsigned)i);
		if (!eq(b[i].call_id, "call-w"))
			note_bad(s, "call-id %u/%u", k, c);
	}
	atomic_fetch_add(&s->full_sets, 1);
}

static void *reader(void *arg)
{
	struct shared *s = arg;
	struct spl_location *loc = s->f->loc;
	int id = spl_location_reader_register(loc);
	if (id < 0) {
		note_bad(s, "register %u %u", 0, 0);
		return NULL;
	}
	char aor[64];
	struct spl_binding b[8];
	unsigned long n = 0;
	while (!atomic_load(&s->stop)) {
		unsigned k = (unsigned)(n % NAORS);
		int len = snprintf(aor, sizeof(aor), "sip:w%u@example.com", k);
		/* the clock only matters for expiry, which is far away here */
		int got = spl_location_lookup(loc, (struct spl_str){ aor, (uint32_t)len }, b, 8, T0);
		check_set(s, k, b, got);
		n++;
		spl_location_quiescent(loc, id);
		if (n % 1024 == 0) {
			/* a reader's loop may block now and then: offline meanwhile */
			spl_qsbr_offline(spl_location_qsbr(loc), id);
			sched_yield();
			spl_qsbr_online(spl_location_qsbr(loc), id);
		}
	}
	spl_qsbr_unregister(spl_location_qsbr(loc), id);
	atomic_fetch_add(&s->reads, n);
	return NULL;
}

Test(registrar_mt, readers_always_see_one_committed_set, .timeout = 120)
{
	struct fx f;
	/* a pool barely larger than the live AORs: slots are reused all the time */
	struct fx_opts o = { .max_aors = NAORS, .pool_records = NAORS + SLACK };
	fx_init(&f, &o);
	/* the fixture's own reader slot would pin every record: take it offline */
	spl_qsbr_offline(spl_location_qsbr(f.loc), f.reader);

	struct shared *s = calloc(1, sizeof(*s));
	s->f = &f;
	pthread_t w, r[NREADERS];
	for (int i = 0; i < NREADERS; i++)
		cr_assert_eq(pthread_create(&r[i], NULL, reader, s), 0);
	cr_assert_eq(pthread_create(&w, NULL, writer, s), 0);
	pthread_join(w, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);

	cr_assert_eq(atomic_load(&s->bad), 0, "%lu inconsistent reads; first: %s",
		     atomic_load(&s->bad), s->why);
	cr_assert_eq(atomic_load(&s->writes), WRITES);
	cr_assert_gt(atomic_load(&s->full_sets), 0);
	cr_log_info("reads %lu (full %lu, empty %lu), writer busy retries %lu",
		    atomic_load(&s->reads), atomic_load(&s->full_sets), atomic_load(&s->empty_sets),
		    atomic_load(&s->busy));

	struct spl_location_stats ls;
	spl_location_get_stats(f.loc, 0, &ls);
	cr_assert_leq(ls.aors, NAORS);
	/* with every reader gone, everything retired can be freed */
	spl_registrar_reclaim(f.reg);
	spl_location_get_stats(f.loc, 0, &ls);
	cr_assert_eq(ls.pool_grace, 0);
	cr_assert_eq(ls.pool_free + ls.aors, NAORS + SLACK);
	free(s);
	fx_fini(&f);
}
