/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server transaction hash (layout in txn_priv.h): bucketized open
 * addressing with 32-bit slot indices into the preallocated slot array,
 * bounded linear probing and per-bucket overflow counts.
 */
#include "txn_priv.h"

size_t txn_hash_bytes_for(uint32_t capacity, uint32_t *nbuckets)
{
	uint32_t nb = (capacity + TXN_SLOTS_PER_BUCKET - 1) / TXN_SLOTS_PER_BUCKET;
	if (nb == 0)
		nb = 1;
	*nbuckets = nb;
	return (size_t)nb * sizeof(struct txn_bucket);
}

void txn_hash_init(struct spl_txn_table *tbl)
{
	for (uint32_t b = 0; b < tbl->nbuckets; b++) {
		struct txn_bucket *bk = &tbl->buckets[b];
		memset(bk, 0, sizeof(*bk));
		for (int w = 0; w < TXN_WAYS; w++)
			bk->slot[w] = TXN_NIL;
	}
}

static uint32_t max_probe(const struct spl_txn_table *tbl)
{
	return tbl->nbuckets < TXN_MAX_PROBE ? tbl->nbuckets : TXN_MAX_PROBE;
}

bool txn_hash_insert(struct spl_txn_table *tbl, struct txn *t)
{
	uint32_t b = txn_home(tbl, t->fp), n = max_probe(tbl);
	for (uint32_t p = 0; p < n; p++) {
		struct txn_bucket *bk = &tbl->buckets[b];
		for (int w = 0; w < TXN_WAYS; w++) {
			if (bk->slot[w] == TXN_NIL) {
				bk->slot[w] = txn_slot(tbl, t);
				bk->sig[w] = txn_sig(t->fp);
				t->hpos = b * 8 + (uint32_t)w;
				t->flags |= TXN_F_HASHED;
				return true;
			}
		}
		bk->ovf++;
		b = txn_next_bucket(tbl, b);
	}
	/* No room within the bound: undo the overflow marks. */
	b = txn_home(tbl, t->fp);
	for (uint32_t p = 0; p < n; p++) {
		tbl->buckets[b].ovf--;
		b = txn_next_bucket(tbl, b);
	}
	return false;
}

void txn_hash_remove(struct spl_txn_table *tbl, struct txn *t)
{
	/* The position was noted at insert: removal is a store, not a
	 * search (the bucket is usually cold by the time a transaction ends). */
	uint32_t at = t->hpos >> 3;
	assert(tbl->buckets[at].slot[t->hpos & 7] == txn_slot(tbl, t));
	tbl->buckets[at].slot[t->hpos & 7] = TXN_NIL;
	for (uint32_t b = txn_home(tbl, t->fp); b != at; b = txn_next_bucket(tbl, b))
		tbl->buckets[b].ovf--;  /* passed on insert */
	t->flags &= (uint8_t)~TXN_F_HASHED;
}
