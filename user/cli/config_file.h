/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A command's options from a file (`run --config FILE`): one `key = value`
 * per line, the key an option's long name; blank lines and lines starting
 * with '#' are skipped, and a '#' after whitespace starts a comment. The
 * values go through the command line's own checks (options.h).
 */
#ifndef XFRMBPF_CONFIG_FILE_H
#define XFRMBPF_CONFIG_FILE_H

#include <stddef.h>
#include "cli/options.h"

/* The longest file read: a config is a few dozen lines. */
#define XB_CONFIG_MAX_SIZE	(64 * 1024)

struct xb_config {
	/* The file's text, its lines cut in place: the string values stored
	 * into the options point into it, so it lives as long as they do. */
	char *text;
	const char *pin_dir;	/* `pin-dir = DIR`, or NULL */
};

struct xb_cmd;

/* Apply text (modified in place, owned by cf from now on) to opts, cmd's
 * options struct. An option whose bit is set in keep (bit i: the i-th of
 * cmd's options, as struct xb_global's given) keeps its value, though the
 * file's is checked, and a repeatable one takes the file's items too. On
 * error returns -errno and err says "FILE:LINE: message"; name is FILE.
 * Call xb_config_free() in every case. */
int xb_config_parse(struct xb_config *cf, char *text, const char *name,
		    const struct xb_cmd *cmd, void *opts, unsigned long long keep,
		    char *err, size_t err_len);
/* xb_config_parse() of the file at path; err "FILE: message" when it
 * cannot be read. */
int xb_config_load(struct xb_config *cf, const char *path, const struct xb_cmd *cmd,
		   void *opts, unsigned long long keep, char *err, size_t err_len);
/* Free what cf holds (the values stored from it go with it). */
void xb_config_free(struct xb_config *cf);

#endif
