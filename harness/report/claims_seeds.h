/* SPDX-License-Identifier: MIT */
/*
 * The five articles copylab was made from, as each names itself (title,
 * date, site where the piece gives them), and the cells their claims add
 * to cell_specs (claims_table.c); the claims are in claims_seeds.c.
 */
#ifndef COPYLAB_CLAIMS_SEEDS_H
#define COPYLAB_CLAIMS_SEEDS_H

#define SEED_SPLICE_PROXY "\"splice系统调用实现的TCP代理\" (A TCP proxy built on the splice system call; blog post, 2013-12-01)"
/* The piece gives no title, author or date: it is named by its subject and its first words. */
#define SEED_SPLICE_FAMILY "an untitled, undated blog post on the splice family (splice, tee, vmsplice), opening " \
			   "\"关注splice系列系统调用\""
#define SEED_ZERO_COPY "\"什么是 'Zero-copy' 传输:深入 sendfile 与 splice 如何在内核空间直接把数据从磁盘推向网卡?\" " \
		       "(What is zero-copy transfer: sendfile and splice from disk to NIC in kernel space; undated article)"
#define SEED_USERSTACK "\"Linux系统中间件的巧妙实现--以用户空间的tcp协议栈为例\" (A user-space TCP stack as Linux " \
		       "middleware; WeChat account FPGA之家, undated)"
#define SEED_SOCKET_OFFLOAD "\"用Linux内核的瑞士军刀-eBPF实现socket转发offload\" (Socket forwarding offload with eBPF) " \
			    "and \"Linux本机端口转发配置\" (Port forwarding on the local Linux host), excerpts on one " \
			    "developer-community page, undated"

/*
 * The seed claims' cells, inserted into cell_specs.  Non-blocking splice
 * with small socket buffers: partial moves and EAGAIN on every chunk.  The
 * small serve cell: a transfer the size of one 64 KiB chunk.
 */
#define SEED_CELL_SPECS \
	[CELL_SPLICE_NONBLOCK] = { .scenario = "relay", .strategies = "splice", \
		.args = (const char *const[]){ "--nonblock", "--sndbuf", "16K", "--rcvbuf", "16K", NULL } }, \
	[CELL_SPLICE_MOVE] = { .scenario = "relay", .strategies = "readwrite,splice,splice:move" }, \
	[CELL_VMSPLICE_PIPE] = { .scenario = "pipe", .strategies = "readwrite,vmsplice", \
		.args = (const char *const[]){ "--pipe-size", "1M", NULL } }, \
	[CELL_ECHO] = { .scenario = "echo", .strategies = "readwrite,splice" }, \
	[CELL_SERVE_SMALL] = { .scenario = "serve", .strategies = "readwrite,sendfile,splice", .size = "64K" }, \
	[CELL_USERSTACK] = { \
		.scenario = "send", .strategies = "readwrite", .transport = "userstack", .may_refuse = true, \
		.privilege = RUN_ROOT_ONLY, \
		.root_why = "transport userstack starts copylab stackd in a network namespace of its own, with a TAP: root", \
		.unrun = "copylab run --scenario send --strategy readwrite --transport userstack (not run)", \
	}, \
	[CELL_REDIRECT] = { \
		.scenario = "relay", .strategies = "readwrite", .uses = "redirect", \
		.privilege = RUN_AS_ITS_STRATEGY, \
		.unrun = "copylab run --scenario relay --strategy readwrite,redirect (not run)", \
	},

#endif
