/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces and the tools that configure them: running `ip`, `tc`
 * and `nft` with their error text kept, entering a named namespace and
 * coming back, and the ethtool ioctl (offloads, driver) done directly, so
 * no ethtool binary is needed.  Everything copylab creates carries the
 * prefix NETNS_PREFIX, and a namespace's name carries its owner's pid, so
 * `copylab cleanup` can tell a leftover from a run still in progress.
 */
#ifndef COPYLAB_NETNS_H
#define COPYLAB_NETNS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NETNS_PREFIX "copylab-"
#define NETNS_DIR "/run/netns"

/*
 * Runs argv[0] (found on PATH) with argv, stdout and stderr captured.
 * 0 when it exits 0; otherwise -1 and err says "ip link add ...: <its
 * message>" (or why it could not run).  out (may be NULL) gets stdout.
 */
int netns_exec(char *const argv[], char *out, size_t outlen, char *err, size_t errlen);
/* The same, with the arguments as a NULL-terminated list. */
int netns_cmd(char *out, size_t outlen, char *err, size_t errlen, const char *arg0, ...)
	__attribute__((sentinel));

/*
 * 24 bits that tell this invocation's namespaces and links from those of
 * another run of the same pid (or of a pid reused after a killed run).
 */
uint32_t netns_unique_id(void);

/* An fd of /run/netns/NAME (O_CLOEXEC), or -errno. */
int netns_open(const char *name);
/*
 * Moves the calling thread into the namespace of nsfd; *saved gets an fd
 * of the namespace it was in (for netns_leave).  0 or -errno.
 */
int netns_enter(int nsfd, int *saved);
/* Back to the saved namespace, closing saved.  0 or -errno. */
int netns_leave(int saved);

/*
 * The pid in a name made by copylab: "copylab-<pid>-...".  0 when the name
 * carries none.
 */
pid_t netns_owner_pid(const char *name);
/* The owner of NAME is a live process (so NAME is in use, not left over). */
bool netns_owner_alive(const char *name);
/*
 * A run holds a shared flock on each of its namespaces' /run/netns files
 * for as long as it lives: true when someone holds one.  Unlike the pid,
 * this also sees a run in another pid namespace.
 */
bool netns_locked(const char *name);

/*
 * Features of interface ifname as `ethtool -k` names them
 * ({"tcp-segmentation-offload": true, ...}), read in the namespace of
 * nsfd (-1: the caller's).  NULL when the ioctl is refused.
 */
json_t *netns_features(int nsfd, const char *ifname);
/* Sets TSO, GSO and GRO of ifname on or off.  0 or -errno (err says which). */
int netns_set_offloads(int nsfd, const char *ifname, bool on, char *err, size_t errlen);
/* The driver of ifname (ETHTOOL_GDRVINFO): 0 or -errno. */
int netns_driver(const char *ifname, char *driver, size_t dlen, char *version, size_t vlen,
		 char *bus, size_t blen);

/*
 * Interface DEV's steering (RPS, XPS, IRQ affinity: envf_link_steering)
 * and its namespace's net sysctls (envf_net_sysctl), read inside the
 * namespace of nsfd (-1: the caller's), into o as "steering" and
 * "net_sysctl"; each null with a "_note" when the namespace cannot be read.
 */
void netns_link_facts(json_t *o, int nsfd, const char *dev);

#endif
