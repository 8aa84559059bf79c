/* SPDX-License-Identifier: BSD-3-Clause */
/* Timing helpers shared by the sipline-bench subcommands. Figures are
 * medians of repeated timed loops, taken in one run so that ratios between
 * implementations measured side by side are meaningful on a noisy host. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* A timed body: performs `iters` operations on `arg`. */
typedef void (*bench_fn)(void *arg, uint64_t iters);

/* Runs fn once untimed (warm-up), then `reps` timed runs of `iters`
 * operations; returns the median nanoseconds per operation. */
double bench_median_ns(bench_fn fn, void *arg, uint64_t iters, int reps);

/* Keeps the compiler from discarding a computed value. */
#define BENCH_KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

/* Common flags: --json; returns true when present (and removes nothing). */
bool bench_has_flag(int argc, char **argv, const char *flag);

int bench_parse_main(int argc, char **argv);
int bench_timer_main(int argc, char **argv);
int bench_txn_main(int argc, char **argv);
int bench_proxy_main(int argc, char **argv);
int bench_dns_main(int argc, char **argv);

#endif
