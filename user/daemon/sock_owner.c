// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "daemon/sock_owner.h"

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_getfd(int pidfd, int fd)
{
	return syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

/* "socket:[12345]" -> 12345, anything else -> 0 */
static __u32 socket_inode(const char *link)
{
	unsigned long ino;
	char *end;

	if (strncmp(link, "socket:[", 8))
		return 0;
	errno = 0;
	ino = strtoul(link + 8, &end, 10);
	if (errno || end[0] != ']' || end[1] || ino > 0xffffffffUL)
		return 0;
	return ino;
}

static long parse_num(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v > 0x7fffffff ? -1 : v;
}

/* The fds of one process: the ones that are a wanted socket not found yet
 * get this process as owner. Returns how many it found. */
static int scan_process(int proc_fd, pid_t pid, const __u32 *inodes,
			struct xb_sock_owner *owners, size_t n)
{
	char path[32], link[64];
	struct dirent *de;
	int dfd, found = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%d/fd", (int)pid);
	dfd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;	/* gone, or a kernel thread's */
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(dir))) {
		long fd = parse_num(de->d_name);
		ssize_t len;
		__u32 ino;
		size_t i;

		if (fd < 0)
			continue;
		len = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		ino = socket_inode(link);
		if (!ino)
			continue;
		for (i = 0; i < n; i++) {
			int pidfd;

			if (inodes[i] != ino || owners[i].pidfd >= 0)
				continue;
			/* The pid may be reused before this; reads check
			 * the inode through the fd, so a stranger's fd is
			 * never taken for this socket. */
			pidfd = pidfd_open(pid);
			if (pidfd < 0)
				continue;
			owners[i] = (struct xb_sock_owner){ .pid = pid, .fd = fd, .pidfd = pidfd };
			found++;
		}
	}
	closedir(dir);
	return found;
}

int xb_sock_owners_find(const __u32 *inodes, struct xb_sock_owner *owners, size_t n)
{
	size_t i, missing = 0;
	struct dirent *de;
	int proc_fd, found = 0;
	DIR *proc;

	for (i = 0; i < n; i++)
		missing += owners[i].pidfd < 0;
	if (!missing)
		return 0;
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return -errno;
	proc = fdopendir(dup(proc_fd));
	if (!proc) {
		int err = -errno;

		close(proc_fd);
		return err;
	}
	while ((size_t)found < missing && (de = readdir(proc))) {
		long pid = parse_num(de->d_name);

		if (pid > 0)
			found += scan_process(proc_fd, pid, inodes, owners, n);
	}
	closedir(proc);
	close(proc_fd);
	return found;
}

int xb_sock_owner_getsockopt(const struct xb_sock_owner *o, __u32 inode, int level,
			     int opt, int *val)
{
	socklen_t len = sizeof(*val);
	struct stat st;
	int fd, err = 0;

	if (o->pidfd < 0)
		return -ENOENT;
	fd = pidfd_getfd(o->pidfd, o->fd);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISSOCK(st.st_mode) || st.st_ino != inode)
		err = -ESTALE;
	else if (getsockopt(fd, level, opt, val, &len))
		err = -errno;
	else if (len != sizeof(*val))
		err = -EPROTO;
	close(fd);
	return err;
}

void xb_sock_owner_forget(struct xb_sock_owner *o)
{
	if (o->pidfd >= 0)
		close(o->pidfd);
	*o = (struct xb_sock_owner){ .pidfd = -1 };
}
