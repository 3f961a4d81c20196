/* SPDX-License-Identifier: MIT */
/* libc's copy routines in this process, bounded by libc's debug symbols (libc_copies.h). */
#include "libc_copies.h"

#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#ifdef HAVE_BPF	/* the only user is the CPU sampler; libelf comes with libbpf */

#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

/* The GNU build-id of an ELF file as hex, or "" when it has none. */
static void build_id_hex(Elf *e, char *hex, size_t len)
{
	Elf_Scn *scn = NULL;

	hex[0] = '\0';
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + name_off, "GNU", 4) || nh.n_descsz * 2 + 1 > len)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(hex + 2 * i, "%02x", ((unsigned char *)d->d_buf + desc_off)[i]);
			return;
		}
	}
}

/* Opens path as ELF for reading: 0 with *fd and *e, or -1. */
static int elf_open(const char *path, int *fd, Elf **e)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	*e = elf_begin(*fd, ELF_C_READ, NULL);
	if (!*e) {
		close(*fd);
		return -1;
	}
	return 0;
}

static void elf_done(int fd, Elf *e)
{
	elf_end(e);
	close(fd);
}

/* The function symbol holding offset `off` in the debug file's .symtab. */
static int find_function(Elf *e, uint64_t off, uint64_t *start, uint64_t *size, char *name, size_t namelen)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 1); i++) {
			GElf_Sym sym;

			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    off < sym.st_value || off >= sym.st_value + sym.st_size)
				continue;
			*start = sym.st_value;
			*size = sym.st_size;
			snprintf(name, namelen, "%s", elf_strptr(e, sh.sh_link, sym.st_name));
			return 0;
		}
	}
	return -1;
}

int libc_copy_ranges(struct libc_copy_range *out, char *why, size_t whylen)
{
	static const char *const names[] = { "memcpy", "memmove", "mempcpy" };
	char hex[128], debug[256];
	int n = 0, lfd, dfd;
	Elf *libc, *dbg;
	Dl_info info;
	void *p = dlsym(RTLD_DEFAULT, "memcpy");

	if (elf_version(EV_CURRENT) == EV_NONE || !p || !dladdr(p, &info) || !info.dli_fname) {
		snprintf(why, whylen, "cannot find libc's memcpy in this process");
		return -1;
	}
	if (elf_open(info.dli_fname, &lfd, &libc)) {
		snprintf(why, whylen, "cannot read %s", info.dli_fname);
		return -1;
	}
	build_id_hex(libc, hex, sizeof(hex));
	elf_done(lfd, libc);
	snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex[0] ? hex + 2 : "");
	if (!hex[0] || elf_open(debug, &dfd, &dbg)) {
		snprintf(why, whylen, "no debug symbols for %s (Debian package libc6-dbg)", info.dli_fname);
		return -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < LIBC_COPY_MAX; i++) {
		Dl_info fi;
		uint64_t start, size;
		char name[48];
		bool seen = false;

		p = dlsym(RTLD_DEFAULT, names[i]);
		if (!p || !dladdr(p, &fi) || fi.dli_fbase != info.dli_fbase ||
		    find_function(dbg, (uint64_t)((char *)p - (char *)fi.dli_fbase), &start, &size, name, sizeof(name)))
			continue;
		start += (uint64_t)fi.dli_fbase;
		for (int k = 0; k < n; k++)
			seen |= out[k].lo == start;
		if (seen)
			continue;
		out[n].lo = start;
		out[n].hi = start + size;
		snprintf(out[n].name, sizeof(out[n].name), "%s", name);
		n++;
	}
	elf_done(dfd, dbg);
	if (n == 0)
		snprintf(why, whylen, "libc's debug symbols name no function at memcpy's address");
	return n ? n : -1;
}

#else

int libc_copy_ranges(struct libc_copy_range *out, char *why, size_t whylen)
{
	snprintf(why, whylen, "built without BPF");
	return -1;
}

#endif
