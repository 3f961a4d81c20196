/* SPDX-License-Identifier: MIT */
/*
 * env.json's facts that can turn a verdict around (envfacts.c): the CPU
 * frequency governor and boost, the kernel's mitigations, the network
 * sysctls that size socket buffers and MSG_ZEROCOPY's notifications, and
 * a link's RPS, XPS and IRQ affinity.  The parsers take file contents as
 * strings (no I/O); the collectors read them under a root directory, so a
 * test can hand them a made-up tree.  A fact that cannot be read is null
 * with a sibling "<key>_note" saying why; nothing here is ever guessed.
 */
#ifndef COPYLAB_ENVFACTS_H
#define COPYLAB_ENVFACTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* "4096\t131072\t6291456\n" (tcp_rmem, tcp_wmem): 0, or -EINVAL unless exactly three integers >= 0. */
int envf_parse_triple(const char *text, long long v[3]);
/* One integer >= 0 with optional surrounding whitespace: 0, or -EINVAL. */
int envf_parse_integer(const char *text, long long *v);
/* "0" or "1" (with optional whitespace) as 0 or 1; -1 for anything else. */
int envf_parse_flag(const char *text);
/*
 * The value of the kernel command line's mitigations= (the last one, as
 * the kernel takes it; arguments after " -- " are init's, not the
 * kernel's) into out.  false when there is none.
 */
bool envf_cmdline_mitigations(const char *cmdline, char *out, size_t len);
/*
 * A CPU mask as sysfs prints it ("00000000,0000000f": hex words, most
 * significant first) as a CPU list ("0-3", "1,4-5"; "none" for an empty
 * mask).  0, or -EINVAL when it is not a mask (or out is too small).
 */
int envf_mask_cpus(const char *mask, char *out, size_t len);
/* Whether a directory entry names an IRQ (a decimal number), and which. */
bool envf_irq_name(const char *name, unsigned *irq);
/*
 * How a vulnerabilities/NAME text reads: "not affected", "mitigated",
 * "vulnerable" or "unknown" (the kernel's "Unknown: ..." and anything else).
 */
const char *envf_vuln_state(const char *text);

/*
 * The collectors: root "" reads the running system.  Each returns an
 * object (never NULL but on allocation failure).
 */
/* {"governor": {"policy0": ...} | null, "boost": bool | null, "boost_source", notes}. */
json_t *envf_cpufreq(const char *root);
/* {"vulnerabilities": {name: text} | null, "cmdline": "auto,nosmt" | null, notes}. */
json_t *envf_mitigations(const char *root);
/*
 * tcp_rmem and tcp_wmem ({min, default, max}), optmem_max, rmem_max,
 * wmem_max from /proc/sys/net, as the calling thread's network namespace
 * sees them.
 */
json_t *envf_net_sysctl(const char *root);
/*
 * Interface DEV's steering, from /sys/class/net/DEV as the sysfs mounted
 * at root/sys shows it: "rps" (rx queue -> CPU list), "xps" (tx queue ->
 * CPU list) and "irqs" (IRQ -> its smp_affinity_list, for the IRQs the
 * device's msi_irqs lists; a device with no backing device has none).
 */
json_t *envf_link_steering(const char *root, const char *dev);

#endif
