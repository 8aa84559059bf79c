/* SPDX-License-Identifier: BSD-3-Clause */
#include "profile.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

static int list(config_t *cfg, const char *key, char *dst, size_t stride, unsigned max, uint8_t *n,
		const char *file, char *err, unsigned errlen)
{
	config_setting_t *s = config_lookup(cfg, key);
	*n = 0;
	if (!s)
		return 0;
	if (!config_setting_is_array(s) || (unsigned)config_setting_length(s) > max) {
		snprintf(err, errlen, "%s:%u: %s must be a list of at most %u strings", file,
			 config_setting_source_line(s), key, max);
		return -1;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string_elem(s, i);
		if (!v || strlen(v) >= stride) {
			snprintf(err, errlen, "%s:%u: %s[%d] must be a string shorter than %zu", file,
				 config_setting_source_line(s), key, i, stride);
			return -1;
		}
		memcpy(dst + (size_t)i * stride, v, strlen(v) + 1);
		(*n)++;
	}
	return 0;
}

int spl_profile_load(const char *dir, const char *name, struct spl_profile *p, char *err, unsigned errlen)
{
	char file[512];
	memset(p, 0, sizeof(*p));
	if (!*name || strchr(name, '/')) {
		snprintf(err, errlen, "profile name '%s' must be a plain name like \"tap\"", name);
		return -1;
	}
	snprintf(file, sizeof(file), "%s/%s.conf", dir, name);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->rx_desc = p->tx_desc = 1024;
	config_t cfg;
	config_init(&cfg);
	if (config_read_file(&cfg, file) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read driver profile '%s'", file, name);
		else
			snprintf(err, errlen, "%s:%d: %s", file, config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	int rc = -1;
	const char *s;
	int v;
	if (config_lookup_string(&cfg, "description", &s) == CONFIG_TRUE)
		snprintf(p->description, sizeof(p->description), "%s", s);
	if (list(&cfg, "vdevs", &p->vdevs[0][0], sizeof(p->vdevs[0]), SPL_PROFILE_MAX_DEVS, &p->nvdevs, file, err, errlen) ||
	    list(&cfg, "pci", &p->pci[0][0], sizeof(p->pci[0]), SPL_PROFILE_MAX_DEVS, &p->npci, file, err, errlen))
		goto out;
	if (p->nvdevs + p->npci == 0) {
		snprintf(err, errlen, "%s: profile names no device (vdevs or pci)", file);
		goto out;
	}
	if (config_lookup_int(&cfg, "rx_desc", &v) == CONFIG_TRUE) {
		if (v < 64 || v > 32768) {
			snprintf(err, errlen, "%s: rx_desc = %d is out of range [64, 32768]", file, v);
			goto out;
		}
		p->rx_desc = (uint16_t)v;
	}
	if (config_lookup_int(&cfg, "tx_desc", &v) == CONFIG_TRUE) {
		if (v < 64 || v > 32768) {
			snprintf(err, errlen, "%s: tx_desc = %d is out of range [64, 32768]", file, v);
			goto out;
		}
		p->tx_desc = (uint16_t)v;
	}
	if (config_lookup_bool(&cfg, "rss", &v) == CONFIG_TRUE)
		p->rss = v;
	if (config_lookup_bool(&cfg, "rx_checksum", &v) == CONFIG_TRUE)
		p->rx_checksum = v;
	if (config_lookup_bool(&cfg, "tx_checksum", &v) == CONFIG_TRUE)
		p->tx_checksum = v;
	rc = 0;
out:
	config_destroy(&cfg);
	return rc;
}
