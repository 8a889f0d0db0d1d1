/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Another process's socket, found by its inode (the idiag_inode of a
 * sock_diag answer): which process holds it (/proc/PID/fd, "socket:[N]"),
 * and a socket option read through a short-lived duplicate of its fd
 * (pidfd_open + pidfd_getfd, Linux 5.6). sock_diag does not report every
 * option (UDP_ENCAP among them); getsockopt on the socket itself does.
 *
 * The duplicate lives for one getsockopt: holding it longer would keep the
 * socket (and its port) alive after its owner closed it.
 */
#ifndef XFRMBPF_SOCK_OWNER_H
#define XFRMBPF_SOCK_OWNER_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

/* Where one socket was found: a pidfd of a process that holds it, and the
 * fd number there. pidfd is -1 while not found. */
struct xb_sock_owner {
	pid_t pid;
	int fd;
	int pidfd;
};

/* Searches /proc for holders of the n sockets in inodes[] whose owner[i]
 * has no pidfd; found ones get one (a process that holds it, one of its
 * fds). Returns how many it found, or -errno if /proc cannot be read. */
int xb_sock_owners_find(const __u32 *inodes, struct xb_sock_owner *owners, size_t n);

/* getsockopt(level, opt) of the int option of socket inode, through its
 * owner. Returns 0 with *val set, -ESTALE when the owner's fd no longer
 * is that socket, or -errno (ESRCH: the process is gone; EBADF: the fd
 * closed; EPERM: no ptrace access to it; ENOSYS: no pidfd_getfd). */
int xb_sock_owner_getsockopt(const struct xb_sock_owner *o, __u32 inode, int level,
			     int opt, int *val);

/* Closes the pidfd; the owner is "not found" again. */
void xb_sock_owner_forget(struct xb_sock_owner *o);

#endif
