// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The one option parser and the one usage printer (options.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli/cli.h"
#include "cli/options.h"

/* getopt_long's value for entry i: above every short option character. */
#define OPT_VAL_BASE	256
#define HELP_COLUMN	28

static bool takes_arg(const struct xb_option *o)
{
	return o->kind != XB_OPT_FLAG && o->kind != XB_OPT_COUNT && o->kind != XB_OPT_ACTION;
}

static size_t table_len(const struct xb_option *table)
{
	size_t n = 0;

	while (table[n].kind != XB_OPT_END)
		n++;
	return n;
}

static void *field_of(const struct xb_option *o, struct xb_global *g, void *opts)
{
	return (char *)(o->global ? (void *)g : opts) + o->offset;
}

/* Fills what getopt_long takes; '+': the first argument that is not an
 * option ends them (a command, a packet description); ':' tells a missing
 * value (':') from an unknown option ('?'). */
static void build_getopt(const struct xb_option *table, size_t n, struct option *longopts,
			 char *shortopts)
{
	size_t i;

	*shortopts++ = '+';
	*shortopts++ = ':';
	for (i = 0; i < n; i++) {
		const struct xb_option *o = &table[i];

		longopts[i].name = o->name;
		longopts[i].has_arg = takes_arg(o) ? required_argument : no_argument;
		longopts[i].val = OPT_VAL_BASE + i;
		if (!o->short_name)
			continue;
		*shortopts++ = o->short_name;
		if (takes_arg(o))
			*shortopts++ = ':';
	}
	*shortopts = '\0';
}

static long entry_index(const struct xb_option *table, size_t n, int val)
{
	size_t i;

	if (val >= OPT_VAL_BASE)
		return val - OPT_VAL_BASE;
	for (i = 0; i < n; i++)
		if (table[i].short_name == val)
			return i;
	return -1;
}

static void store_uint(void *p, size_t size, unsigned long v)
{
	switch (size) {
	case sizeof(unsigned char):
		*(unsigned char *)p = v;
		break;
	case sizeof(unsigned short):
		*(unsigned short *)p = v;
		break;
	case sizeof(unsigned int):
		*(unsigned int *)p = v;
		break;
	default:
		*(unsigned long *)p = v;
		break;
	}
}

/* Decimal, 0x hex or 0 octal, within [min, max]. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

/* The names of the choices: "a, b or c" for messages, "a|b|c" for usage. */
static void choices_text(const struct xb_opt_choice *c, const char *sep, const char *sep_last,
			 char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; c[i].name && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s",
				 !i ? "" : c[i + 1].name ? sep : sep_last, c[i].name);
}

/* "invalid --mode 'x' (native or skb)", with "--" as dashes on the command
 * line and "" in a config file. */
static void invalid(const struct xb_option *o, const char *dashes, const char *arg,
		    char *why, size_t len)
{
	char choices[128];

	if (o->kind == XB_OPT_ENUM && !o->expect) {
		choices_text(o->choices, ", ", " or ", choices, sizeof(choices));
		snprintf(why, len, "invalid %s%s '%s' (%s)", dashes, o->name, arg, choices);
	} else if (o->expect) {
		snprintf(why, len, "invalid %s%s '%s' (%s)", dashes, o->name, arg, o->expect);
	} else {
		snprintf(why, len, "invalid value '%s' for %s%s", arg, dashes, o->name);
	}
}

static int store_choice(const struct xb_option *o, const char *arg, void *p)
{
	int i;

	for (i = 0; o->choices[i].name; i++) {
		if (!strcmp(arg, o->choices[i].name)) {
			store_uint(p, o->size, o->choices[i].value);
			return 0;
		}
	}
	return -EINVAL;
}

static int append_string(const struct xb_option *o, const char *arg, void *p, void *opts,
			 char *why, size_t len)
{
	int *n = (int *)((char *)opts + o->count_offset);

	if ((unsigned long)*n >= o->max) {
		snprintf(why, len, "at most %lu %s", o->max, o->items);
		return -E2BIG;
	}
	((const char **)p)[(*n)++] = arg;
	return 0;
}

/* yes/no, true/false, 1/0 */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* Store arg into p, the option's field; arg is NULL for a FLAG or COUNT of
 * the command line. 0, or -errno with the message in why. */
static int store_value(const struct xb_option *o, const char *dashes, const char *arg,
		       void *p, void *opts, char *why, size_t len)
{
	unsigned long v;
	bool b;

	switch (o->kind) {
	case XB_OPT_FLAG:
		if (!arg) {
			*(bool *)p = true;
			return 0;
		}
		if (parse_bool(arg, &b)) {
			snprintf(why, len, "invalid %s%s '%s' (yes or no)", dashes, o->name, arg);
			return -EINVAL;
		}
		*(bool *)p = b;
		return 0;
	case XB_OPT_COUNT:
		if (!arg) {
			(*(unsigned int *)p)++;
			return 0;
		}
		/* a count in a file is a number */
		if (parse_ulong(arg, 0, UINT_MAX, &v))
			break;
		*(unsigned int *)p = v;
		return 0;
	case XB_OPT_UINT:
		if (parse_ulong(arg, o->min, o->max, &v))
			break;
		store_uint(p, o->size, v);
		return 0;
	case XB_OPT_STRING:
		*(const char **)p = arg;
		return 0;
	case XB_OPT_STRINGS:
		return append_string(o, arg, p, opts, why, len);
	case XB_OPT_ENUM:
		if (store_choice(o, arg, p))
			break;
		return 0;
	case XB_OPT_CUSTOM:
		why[0] = '\0';
		if (!o->parse(arg, opts, why, len))
			return 0;
		if (why[0])
			return -EINVAL;
		break;
	default:
		return 0;
	}
	invalid(o, dashes, arg, why, len);
	return -EINVAL;
}

/* Returns -1 to go on, or the exit code. */
static int parse_one(const struct xb_cmd *cmd, const struct xb_option *o, const char *arg,
		     struct xb_global *g, void *opts)
{
	char why[160];

	if (o->kind == XB_OPT_ACTION)
		return o->act(cmd, g);
	if (store_value(o, "--", arg, field_of(o, g, opts), opts, why, sizeof(why)))
		return xb_usage_error(g, cmd->name, "%s", why);
	return -1;
}

const struct xb_option *xb_config_option(const struct xb_option *table, const char *name)
{
	const struct xb_option *o;

	for (o = table; o->kind != XB_OPT_END; o++)
		if (!o->global && o->kind != XB_OPT_ACTION && !strcmp(o->name, name))
			return o;
	return NULL;
}

int xb_option_set(const struct xb_option *o, const char *value, void *opts, char *why,
		  size_t len)
{
	return store_value(o, "", value, (char *)opts + o->offset, opts, why, len);
}

/* "-i IFACE" or "--mode native|skb". */
static void synopsis(const struct xb_option *o, char *buf, size_t len)
{
	char choices[128] = "";
	const char *metavar = o->metavar;

	if (!metavar && o->kind == XB_OPT_ENUM) {
		choices_text(o->choices, "|", "|", choices, sizeof(choices));
		metavar = choices;
	}
	if (o->short_name)
		snprintf(buf, len, "-%c%s%s", o->short_name, metavar ? " " : "",
			 metavar ? metavar : "");
	else
		snprintf(buf, len, "--%s%s%s", o->name, metavar ? " " : "",
			 metavar ? metavar : "");
}

static int check_required(const struct xb_cmd *cmd, const struct xb_option *table,
			  const bool *seen, const struct xb_global *g)
{
	char syn[96];
	size_t i;

	for (i = 0; table[i].kind != XB_OPT_END; i++) {
		if (!table[i].required || seen[i])
			continue;
		synopsis(&table[i], syn, sizeof(syn));
		return xb_usage_error(g, cmd->name, "%s is required", syn);
	}
	return -1;
}

/* getopt_long returned ':': optopt is the short option, or the value of
 * the long one, that came last without its value. */
static int missing_value(const struct xb_cmd *cmd, const struct xb_option *table, size_t n,
			 const struct xb_global *g)
{
	long i = entry_index(table, n, optopt);

	if (i < 0 || (size_t)i >= n)
		return xb_usage_error(g, cmd->name, "an option needs a value");
	return xb_usage_error(g, cmd->name, "option --%s needs a value", table[i].name);
}

int xb_parse_options(const struct xb_cmd *cmd, int argc, char **argv,
		     struct xb_global *g, void *opts)
{
	const struct xb_option *table = cmd->options;
	size_t n = table_len(table);
	struct option *longopts = calloc(n + 1, sizeof(*longopts));
	char *shortopts = calloc(2 * n + 3, 1);
	bool *seen = calloc(n + 1, sizeof(*seen));
	int c, ret = -1;
	long i;

	if (!longopts || !shortopts || !seen) {
		ret = xb_error(g, XB_EXIT_FAIL, "out of memory");
		goto out;
	}
	build_getopt(table, n, longopts, shortopts);
	optind = 1;
	opterr = 0;
	while (ret < 0 && (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		i = c == '?' || c == ':' ? -1 : entry_index(table, n, c);
		if (c == ':') {
			ret = missing_value(cmd, table, n, g);
			break;
		}
		if (i < 0) {
			ret = xb_usage_error(g, cmd->name, "unknown option '%s'", argv[optind - 1]);
			break;
		}
		seen[i] = true;
		/* "--pin-dir --json": the value is missing, the next option
		 * taken for it. No value of ours starts with "--". */
		if (takes_arg(&table[i]) && !strncmp(optarg, "--", 2) && optarg[2]) {
			ret = xb_usage_error(g, cmd->name, "option --%s needs a value (got '%s')",
					     table[i].name, optarg);
			break;
		}
		ret = parse_one(cmd, &table[i], takes_arg(&table[i]) ? optarg : NULL, g, opts);
	}
	g->given = 0;
	for (i = 0; i < (long)n && i < 64; i++)
		if (seen[i])
			g->given |= 1ULL << i;
	if (ret < 0)
		ret = check_required(cmd, table, seen, g);
	if (ret < 0 && cmd->max_args >= 0 && argc - optind > cmd->max_args)
		ret = xb_usage_error(g, cmd->name, "unexpected argument '%s'",
				     argv[optind + cmd->max_args]);
out:
	free(longopts);
	free(shortopts);
	free(seen);
	return ret;
}

static size_t append(char *buf, size_t len, size_t used, const char *fmt, ...)
{
	va_list ap;

	if (used >= len)
		return used;
	va_start(ap, fmt);
	used += vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	return used;
}

void xb_usage_line(const struct xb_cmd *cmd, char *buf, size_t len)
{
	const struct xb_option *o;
	char syn[96];
	size_t used = 0;

	buf[0] = '\0';
	for (o = cmd->options; o->kind != XB_OPT_END; o++) {
		if (o->kind == XB_OPT_ACTION)
			continue;
		synopsis(o, syn, sizeof(syn));
		used = append(buf, len, used, "%s%s%s%s%s", used ? " " : "",
			      o->required ? "" : "[", syn,
			      o->kind == XB_OPT_STRINGS || o->repeat ? " ..." : "",
			      o->required ? "" : "]");
	}
	if (cmd->args)
		append(buf, len, used, "%s%s", used ? " " : "", cmd->args);
}

/* The help text, its later lines indented to the help column. */
static void print_help_text(FILE *f, const char *help)
{
	const char *nl;

	while ((nl = strchr(help, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - help), help, HELP_COLUMN, "");
		help = nl + 1;
	}
	fprintf(f, "%s\n", help);
}

void xb_print_options(FILE *f, const struct xb_option *table)
{
	const struct xb_option *o;
	char syn[96];
	int width;

	for (o = table; o->kind != XB_OPT_END; o++) {
		synopsis(o, syn, sizeof(syn));
		/* "-i IFACE" shown as "-i, --interface IFACE" */
		if (o->short_name)
			width = fprintf(f, "  -%c, --%s%s", o->short_name, o->name, syn + 2);
		else
			width = fprintf(f, "      %s", syn);
		if (width < HELP_COLUMN - 1)
			fprintf(f, "%*s", HELP_COLUMN - width, "");
		else
			fprintf(f, "\n%*s", HELP_COLUMN, "");
		print_help_text(f, o->help ? o->help : "");
	}
}

int xb_print_cmd_help(const struct xb_cmd *cmd, const struct xb_global *g)
{
	char usage[512];

	xb_usage_line(cmd, usage, sizeof(usage));
	printf("Usage: %s %s %s\n  %s\n\nOptions:\n", g->prog, cmd->name, usage, cmd->summary);
	xb_print_options(stdout, cmd->options);
	if (cmd->notes)
		printf("\n%s", cmd->notes);
	return XB_EXIT_OK;
}
