/* SPDX-License-Identifier: MIT */
/*
 * nic mode's key (remote_auth.c): the file checks a daemon and a driver
 * make before trusting a key, and the challenge's answer, against HMAC
 * values computed independently (Python's hmac module).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/engine/remote_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[128], err[400];
static struct remote_key key;

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/copylab-test-auth-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	unlink(path);
	return rmdir(dir);
}

static void write_key(const void *bytes, size_t len, mode_t mode)
{
	int fd;

	snprintf(path, sizeof(path), "%s/key", dir);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_key_file(void **state)
{
	unsigned char bytes[64];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)i;
	write_key(bytes, 32, 0600);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), 0);
	assert_int_equal(key.len, 32);
	assert_memory_equal(key.bytes, bytes, 32);
	write_key(bytes, 32, 0400);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), 0);

	/* Readable by the group or by others: refused, saying how to fix it. */
	write_key(bytes, 32, 0640);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0640"));
	assert_non_null(strstr(err, "chmod 600"));
	write_key(bytes, 32, 0604);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), -EPERM);

	write_key(bytes, REMOTE_KEY_MIN - 1, 0600);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "15 bytes; a key is 16 to 4096 bytes"));
	write_key(bytes, REMOTE_KEY_MIN, 0600);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), 0);

	assert_int_equal(remote_key_load(dir, &key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(remote_key_load("/nonexistent/key", &key, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/key"));
}

static void test_make_key(void **state)
{
	struct stat st;

	snprintf(path, sizeof(path), "%s/key", dir);
	unlink(path);
	assert_int_equal(remote_key_make(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, REMOTE_KEY_DEFAULT_LEN);
	assert_int_equal(remote_key_load(path, &key, err, sizeof(err)), 0);
	/* Never over an existing key. */
	assert_int_equal(remote_key_make(path, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "never overwritten"));
}

static void hex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

static void test_mac(void **state)
{
	unsigned char nonce[CTL_NONCE_LEN], mac[CTL_MAC_LEN], want[CTL_MAC_LEN];

	for (int i = 0; i < 32; i++)
		key.bytes[i] = (unsigned char)i;
	key.len = 32;
	memset(nonce, 0xa5, sizeof(nonce));
	/* hmac.new(bytes(range(32)), b'\xa5'*32 + b'copylab-nic/1' + b'sink', sha256) */
	hex("50c6765122310670059403450b5ebbf130a25601508bc3c4438ad57fe4354374", want, sizeof(want));
	assert_int_equal(remote_auth_mac(&key, nonce, RK_SINK, mac), 0);
	assert_memory_equal(mac, want, sizeof(mac));
	assert_true(remote_auth_check(&key, nonce, RK_SINK, want));
	/* The same key and nonce answer differently for the source: no replay across roles. */
	hex("e73e66a5c84d7ad9ef26867ff04857c9dbc85e2a30945ee9d38b0a127c2d7803", want, sizeof(want));
	assert_int_equal(remote_auth_mac(&key, nonce, RK_SOURCE, mac), 0);
	assert_memory_equal(mac, want, sizeof(mac));
	assert_false(remote_auth_check(&key, nonce, RK_SINK, want));
	/* Any other nonce, key or answer: refused. */
	nonce[31] ^= 1;
	assert_false(remote_auth_check(&key, nonce, RK_SOURCE, want));
	nonce[31] ^= 1;
	key.bytes[0] ^= 1;
	assert_false(remote_auth_check(&key, nonce, RK_SOURCE, want));
	key.bytes[0] ^= 1;
	want[0] ^= 0x80;
	assert_false(remote_auth_check(&key, nonce, RK_SOURCE, want));
	assert_int_equal(remote_auth_mac(&key, nonce, RK_ECHO_CLIENT, mac), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_make_key),
		cmocka_unit_test(test_mac),
	};

	return cmocka_run_group_tests_name("control_auth", tests, make_dir, remove_dir);
}
