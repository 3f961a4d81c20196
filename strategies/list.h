/* SPDX-License-Identifier: MIT */
/*
 * Every strategy, once.  The includer defines STRATEGY(name); the registry
 * expands this list into its table.  Adding a strategy: one file, one line.
 * No include guard on purpose: the list is expanded more than once.
 */
STRATEGY(readwrite)
STRATEGY(mmap_write)
STRATEGY(sendfile)
STRATEGY(splice)
STRATEGY(tee)
STRATEGY(vmsplice)
STRATEGY(copy_file_range)
STRATEGY(msg_zerocopy)
STRATEGY(uring_rw)
STRATEGY(uring_splice)
STRATEGY(uring_send_zc)
STRATEGY(sockmap)
STRATEGY(nat)
STRATEGY(zerocopy_recv)
