/* SPDX-License-Identifier: BSD-3-Clause */
/* A drivers-cfg/ profile: how to open one kind of port (EAL devices,
 * descriptors, offloads). Chosen by eal.profile in the config. */
#ifndef SPL_APP_PROFILE_H
#define SPL_APP_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#define SPL_PROFILE_MAX_DEVS 8

struct spl_profile {
	char name[64];
	char description[256];
	uint8_t nvdevs, npci;
	char vdevs[SPL_PROFILE_MAX_DEVS][256];
	char pci[SPL_PROFILE_MAX_DEVS][32];
	uint16_t rx_desc, tx_desc;
	bool rss;
	bool rx_checksum, tx_checksum;
};

/* Loads DIR/NAME.conf. Returns 0 or -1 with a "FILE:LINE: problem" message. */
int spl_profile_load(const char *dir, const char *name, struct spl_profile *p, char *err, unsigned errlen);

#endif
