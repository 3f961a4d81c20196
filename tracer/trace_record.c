/* SPDX-License-Identifier: MIT */
/*
 * One process's record (copytrace.h, docs/tracer.md): formatted and
 * appended to $COPYTRACE_OUT by libcopytrace.so when the process exits or
 * execs.
 */
#include "trace_record.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct outbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void put_str(struct outbuf *o, const char *s)
{
	while (*s) {
		if (o->len + 1 >= o->cap) {
			o->overflow = true;
			return;
		}
		o->p[o->len++] = *s++;
	}
}

static void put_u64(struct outbuf *o, uint64_t v)
{
	char d[24];
	int i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_str(o, &d[i]);
}

/* A JSON string: comm is any 15 bytes the process chose. */
static void put_json_str(struct outbuf *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_str(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0' };
		char one[2] = { (char)c, '\0' };

		if (c == '"' || c == '\\') {
			char e[3] = { '\\', (char)c, '\0' };
			put_str(o, e);
		} else if (c < 0x20 || c >= 0x7f) {
			put_str(o, esc);	/* bytes above ASCII, too: the result stays valid UTF-8 */
		} else {
			put_str(o, one);
		}
	}
	put_str(o, "\"");
}

static void put_calls_bytes(struct outbuf *o, const char *key, uint64_t calls, uint64_t bytes)
{
	put_json_str(o, key);
	put_str(o, ":{\"calls\":");
	put_u64(o, calls);
	put_str(o, ",\"bytes\":");
	put_u64(o, bytes);
	put_str(o, "}");
}

/* comm, read with the raw syscalls so the tracer does not count itself. */
static void read_comm(char *buf, size_t len)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = syscall(SYS_read, fd, buf, len - 1);
		syscall(SYS_close, fd);
	}
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void format_record(struct outbuf *o, const struct copytrace_ledger *s, const char *event)
{
	char comm[64];
	bool first;

	read_comm(comm, sizeof(comm));
	put_str(o, "{\"version\":");
	put_u64(o, COPYTRACE_RECORD_VERSION);
	put_str(o, ",\"event\":");
	put_json_str(o, event);
	put_str(o, ",\"pid\":");
	put_u64(o, (uint64_t)getpid());
	put_str(o, ",\"ppid\":");
	put_u64(o, (uint64_t)getppid());
	put_str(o, ",\"comm\":");
	put_json_str(o, comm);
	for (int f = 0; f < CT_FAMILIES; f++) {
		put_str(o, ",");
		put_json_str(o, copytrace_family_names[f]);
		put_str(o, ":{");
		for (int k = 0; k < CT_KINDS; k++) {
			if (k)
				put_str(o, ",");
			put_calls_bytes(o, copytrace_kind_names[k], s->calls[f][k], s->bytes[f][k]);
		}
		put_str(o, "}");
	}
	put_str(o, ",\"splice_routes\":{");
	first = true;
	for (int a = 0; a < CT_KINDS; a++)
		for (int b = 0; b < CT_KINDS; b++) {
			char key[32] = "";
			struct outbuf k = { key, 0, sizeof(key), false };

			if (!s->route_calls[a][b])
				continue;
			put_str(&k, copytrace_kind_names[a]);
			put_str(&k, ">");
			put_str(&k, copytrace_kind_names[b]);
			key[k.len] = '\0';
			if (!first)
				put_str(o, ",");
			first = false;
			put_calls_bytes(o, key, s->route_calls[a][b], s->route_bytes[a][b]);
		}
	put_str(o, "},\"vmsplice\":{\"calls\":");
	put_u64(o, s->vms_calls);
	put_str(o, ",\"bytes\":");
	put_u64(o, s->vms_bytes);
	put_str(o, ",\"read_calls\":");
	put_u64(o, s->vms_read_calls);
	put_str(o, ",\"read_bytes\":");
	put_u64(o, s->vms_read_bytes);
	put_str(o, "},");
	put_calls_bytes(o, "mmap", s->mmap_calls, s->mmap_bytes);
	put_str(o, "}\n");
}

/*
 * report() (copytrace.c) takes this with a flag; a second reporter at the
 * same moment (two threads in _exit at once) gives up rather than wait.
 */
static char record_buf[8192];

bool trace_record_append(const char *path, const struct copytrace_ledger *s, const char *event)
{
	struct outbuf o = { record_buf, 0, sizeof(record_buf), false };
	bool ok = false;
	int fd;

	format_record(&o, s, event);
	if (o.overflow)
		return false;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		ok = syscall(SYS_write, fd, o.p, o.len) == (long)o.len;
		syscall(SYS_close, fd);
	}
	return ok;
}
