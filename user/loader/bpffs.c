// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "loader/bpffs.h"

bool xb_is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

void xb_path_parent(const char *path, char *out, size_t len)
{
	size_t n;
	char *slash;

	snprintf(out, len, "%s", path);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		snprintf(out, len, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

void xb_libxdp_use_bpffs(const char *pin_dir)
{
	char parent[PATH_MAX];

	if (getenv("LIBXDP_BPFFS") || xb_is_bpffs(XB_SYS_BPFFS))
		return;
	xb_path_parent(pin_dir, parent, sizeof(parent));
	if (strcmp(parent, "/") && xb_is_bpffs(parent))
		setenv("LIBXDP_BPFFS", parent, 0);
}

bool xb_under_ip_netns_exec(char *name, size_t len)
{
	char line[1024], mnt[PATH_MAX], fstype[64], source[256], path[PATH_MAX];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *sep;

	if (!f)
		return false;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE
	 * SOURCE SUPEROPTS"; the last mount on /sys is the one seen. */
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s", fstype, source) != 2)
			continue;
		if (!strcmp(mnt, "/sys"))
			found = !strcmp(fstype, "sysfs") && strcmp(source, "sysfs") &&
				!strchr(source, '/') &&
				snprintf(name, len, "%s", source) < (int)len;
	}
	fclose(f);
	if (!found)
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return !access(path, F_OK);
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* Could a bpffs be mounted on dir without hiding anything: not /, not a
 * mount point, empty (or not there yet: mkdir -p makes it)? NULL when it
 * could, else why not. */
static const char *unfit_for_bpffs(const char *dir)
{
	char parent[PATH_MAX];
	struct stat st, pst;

	if (dir[0] != '/' || !strcmp(dir, "/"))
		return "is the root directory";
	if (stat(dir, &st))
		return errno == ENOENT ? NULL : "cannot be looked at";
	xb_path_parent(dir, parent, sizeof(parent));
	if (!S_ISDIR(st.st_mode))
		return "is no directory";
	if (stat(parent, &pst) || pst.st_dev != st.st_dev)
		return "is a mount point";
	return dir_is_empty(dir) ? NULL : "holds other files";
}

void xb_bpffs_hint(const char *pin_dir, char *buf, size_t len)
{
	char parent[PATH_MAX], ns[128];
	bool netns = xb_under_ip_netns_exec(ns, sizeof(ns));
	const char *why_not;

	xb_path_parent(pin_dir, parent, sizeof(parent));
	if (netns && !strncmp(parent, "/sys/", 5)) {
		snprintf(buf, len, "`ip netns exec %s` mounts a fresh /sys, without the host's "
			 "bpffs, and a bpffs mounted in it would vanish with this command: use a "
			 "pin dir outside /sys on a bpffs mounted once from the host, e.g. "
			 "`mkdir -p %s && mount -t bpf -o mode=0700 bpf %s`, then --pin-dir "
			 "%s/%s for every command", ns, XB_RUN_BPFFS, XB_RUN_BPFFS, XB_RUN_BPFFS,
			 ns);
		return;
	}
	why_not = strcmp(parent, XB_SYS_BPFFS) ? unfit_for_bpffs(parent) : NULL;
	if (!why_not)
		snprintf(buf, len, "mount one with: mkdir -p %s && "
			 "mount -t bpf -o mode=0700 bpf %s", parent, parent);
	else if (!unfit_for_bpffs(pin_dir))
		snprintf(buf, len, "its parent %s %s, no place for a bpffs: make %s one with "
			 "`mkdir -p %s && mount -t bpf -o mode=0700 bpf %s`, then use --pin-dir "
			 "%s/xfrmbpf", parent, why_not, pin_dir, pin_dir, pin_dir, pin_dir);
	else
		snprintf(buf, len, "its parent %s %s, no place for a bpffs: mount one with "
			 "`mkdir -p %s && mount -t bpf -o mode=0700 bpf %s`, then use --pin-dir "
			 "%s/xfrmbpf", parent, why_not, XB_RUN_BPFFS, XB_RUN_BPFFS, XB_RUN_BPFFS);
	if (netns) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, " (from the host: under `ip netns exec %s` a "
			 "mount vanishes with the command)", ns);
	}
}

/* Owned by root or by us, writable by nobody else (sticky: allowed for
 * the directories above the pin dir). */
static int check_owner_mode(const char *pin_dir, const char *dir, const struct stat *st,
			    bool sticky_ok, char *why, size_t len)
{
	if (st->st_uid && st->st_uid != geteuid()) {
		snprintf(why, len, "refusing the pin dir %s: %s is owned by uid %u, not root "
			 "(another user may have made it to confuse or block xfrmbpf): remove it "
			 "or use another --pin-dir", pin_dir, dir, (unsigned int)st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(sticky_ok && (st->st_mode & S_ISVTX))) {
		snprintf(why, len, "refusing the pin dir %s: %s has mode %04o, writable by group "
			 "or others (%s): `chmod go-w %s`, or use another --pin-dir", pin_dir, dir,
			 (unsigned int)(st->st_mode & 07777),
			 sticky_ok ? "not sticky, they could swap the directories below it" :
				     "they could add or swap pins",
			 dir);
		return -EPERM;
	}
	return 0;
}

int xb_pin_dir_safe(const char *pin_dir, char *why, size_t len)
{
	char dir[PATH_MAX], up[PATH_MAX];
	struct stat st, ust;
	int err;

	why[0] = '\0';
	if (pin_dir[0] != '/') {
		snprintf(why, len, "the pin dir must be an absolute path, not '%s'", pin_dir);
		return -EINVAL;
	}
	if (lstat(pin_dir, &st)) {
		if (errno != ENOENT) {
			err = -errno;
			snprintf(why, len, "couldn't look at the pin dir %s: %s", pin_dir,
				 strerror(errno));
			return err;
		}
		/* not there yet: made 0700 by `run` */
	} else if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "refusing the pin dir %s: it is %s, not a directory", pin_dir,
			 S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
		return -ENOTDIR;
	} else {
		err = check_owner_mode(pin_dir, pin_dir, &st, false, why, len);
		if (err)
			return err;
	}
	/* Up to the root of the bpffs: the first directory whose parent is
	 * on another device. */
	xb_path_parent(pin_dir, dir, sizeof(dir));
	while (xb_is_bpffs(dir) && !stat(dir, &st)) {
		err = check_owner_mode(pin_dir, dir, &st, true, why, len);
		if (err)
			return err;
		xb_path_parent(dir, up, sizeof(up));
		if (!strcmp(dir, up) || stat(up, &ust) || ust.st_dev != st.st_dev)
			break;
		snprintf(dir, sizeof(dir), "%s", up);
	}
	return 0;
}
