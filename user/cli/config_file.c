// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Options from a file (config_file.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/config_file.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A '#' at the start of the line or after whitespace starts a comment:
 * no value of ours holds whitespace. */
static void cut_comment(char *line)
{
	char *p;

	for (p = line; *p; p++) {
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static int line_error(char *err, size_t err_len, const char *name, int lineno,
		      const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int line_error(char *err, size_t err_len, const char *name, int lineno,
		      const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, err_len, "%s:%d: %s", name, lineno, msg);
	return -EINVAL;
}

/* One `key = value` line, cut and trimmed already. */
static int apply_line(struct xb_config *cf, const char *name, int lineno, char *line,
		      const struct xb_cmd *cmd, void *opts, unsigned long long keep,
		      char *err, size_t err_len)
{
	const struct xb_option *o, *table = cmd->options;
	char *eq = strchr(line, '='), *key, *value, why[160];
	void *into = opts;
	size_t i;
	int ret;

	if (!eq)
		return line_error(err, err_len, name, lineno, "expected 'key = value', got '%s'",
				  line);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!*key)
		return line_error(err, err_len, name, lineno, "expected 'key = value'");
	/* pin-dir is a global option; the file names no other file */
	if (!strcmp(key, "pin-dir"))
		o = NULL;
	else if (!strcmp(key, "config") || !(o = xb_config_option(table, key)))
		return line_error(err, err_len, name, lineno, "unknown key '%s'", key);
	if (!*value)
		return line_error(err, err_len, name, lineno, "'%s' needs a value", key);
	if (!o) {
		cf->pin_dir = value;
		return 0;
	}
	/* What the command line gave stays, but the file's value must be
	 * valid all the same (checked on a copy); lists take both. */
	i = o - table;
	if (i < 64 && (keep & (1ULL << i)) && o->kind != XB_OPT_STRINGS && !o->repeat) {
		into = malloc(cmd->opts_size);
		if (!into)
			return line_error(err, err_len, name, lineno, "out of memory");
		memcpy(into, opts, cmd->opts_size);
	}
	ret = xb_option_set(o, value, into, why, sizeof(why));
	if (into != opts)
		free(into);
	if (ret)
		return line_error(err, err_len, name, lineno, "%s", why);
	return 0;
}

int xb_config_parse(struct xb_config *cf, char *text, const char *name,
		    const struct xb_cmd *cmd, void *opts, unsigned long long keep,
		    char *err, size_t err_len)
{
	char *line = text, *next, *t;
	int lineno, ret;

	memset(cf, 0, sizeof(*cf));
	cf->text = text;
	for (lineno = 1; line; lineno++, line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		cut_comment(line);
		t = trim(line);
		if (!*t)
			continue;
		ret = apply_line(cf, name, lineno, t, cmd, opts, keep, err, err_len);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_text(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	size_t n;
	char *buf;
	int err = 0;

	if (!f)
		return -errno;
	buf = malloc(XB_CONFIG_MAX_SIZE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, XB_CONFIG_MAX_SIZE + 1, f);
	if (ferror(f))
		err = errno ? -errno : -EIO;
	else if (n > XB_CONFIG_MAX_SIZE)
		err = -EFBIG;
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

int xb_config_load(struct xb_config *cf, const char *path, const struct xb_cmd *cmd,
		   void *opts, unsigned long long keep, char *err, size_t err_len)
{
	char *text = NULL;
	int ret = read_text(path, &text);

	memset(cf, 0, sizeof(*cf));
	if (ret == -EFBIG) {
		snprintf(err, err_len, "%s: larger than %d bytes", path, XB_CONFIG_MAX_SIZE);
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "%s: couldn't read it: %s", path, strerror(-ret));
		return ret;
	}
	return xb_config_parse(cf, text, path, cmd, opts, keep, err, err_len);
}

void xb_config_free(struct xb_config *cf)
{
	free(cf->text);
	cf->text = NULL;
	cf->pin_dir = NULL;
}
