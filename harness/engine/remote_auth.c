/* SPDX-License-Identifier: MIT */
/*
 * nic mode's key and challenge-response (remote_auth.h): the file checks
 * are ours, the HMAC and the constant-time comparison are libcrypto's.
 */
#include "remote_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* Binds the answer to this protocol and to the daemon's role: an answer seen by one daemon is no use to another. */
#define AUTH_CONTEXT "copylab-nic/1"

int remote_key_load(const char *path, struct remote_key *key, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), e;

	key->len = 0;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "key file %s: mode %04o lets group or others at it; the key must be the owner's alone (chmod 600 %s)",
			 path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -EPERM;
	}
	/* One byte more than the limit, to tell a file at the limit from a longer one. */
	static unsigned char buf[REMOTE_KEY_MAX + 1];
	size_t got = 0;

	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			snprintf(err, errlen, "key file %s: %s", path, strerror(e));
			close(fd);
			return -e;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got < REMOTE_KEY_MIN || got > REMOTE_KEY_MAX) {
		snprintf(err, errlen, "key file %s: %s%zu bytes; a key is %d to %d bytes (make one with `copylab sink --make-key FILE`)",
			 path, got > REMOTE_KEY_MAX ? "over " : "", got > REMOTE_KEY_MAX ? (size_t)REMOTE_KEY_MAX : got,
			 REMOTE_KEY_MIN, REMOTE_KEY_MAX);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(key->bytes, buf, got);
	key->len = got;
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int remote_key_make(const char *path, char *err, size_t errlen)
{
	unsigned char k[REMOTE_KEY_DEFAULT_LEN];
	int fd, e = 0;

	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "--make-key %s: getrandom: %s", path, strerror(e));
		return -e;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "--make-key %s: %s%s", path, strerror(e),
			 e == EEXIST ? " (an existing key is never overwritten: remove it first, or give another name)" : "");
		OPENSSL_cleanse(k, sizeof(k));
		return -e;
	}
	/* fchmod too: the umask may have taken bits from 0600 but never adds any; this keeps the mode exact. */
	if (write(fd, k, sizeof(k)) != (ssize_t)sizeof(k) || fchmod(fd, 0600) || fsync(fd)) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "--make-key %s: %s", path, strerror(e));
	}
	if (close(fd) && !e) {
		e = errno;
		snprintf(err, errlen, "--make-key %s: %s", path, strerror(e));
	}
	OPENSSL_cleanse(k, sizeof(k));
	if (e)
		unlink(path);	/* no half-written key left behind */
	return -e;
}

int remote_nonce(unsigned char nonce[CTL_NONCE_LEN])
{
	return getrandom(nonce, CTL_NONCE_LEN, 0) == CTL_NONCE_LEN ? 0 : -(errno ? errno : EIO);
}

int remote_auth_mac(const struct remote_key *key, const unsigned char nonce[CTL_NONCE_LEN], enum role_kind role,
		    unsigned char mac[CTL_MAC_LEN])
{
	const char *name = ctl_role_name(role);
	unsigned char msg[CTL_NONCE_LEN + sizeof(AUTH_CONTEXT) + 8];
	size_t len = 0, nlen = name ? strlen(name) : 0;
	unsigned int maclen = 0;

	if (!name || nlen > 8)
		return -EINVAL;
	memcpy(msg, nonce, CTL_NONCE_LEN);
	len += CTL_NONCE_LEN;
	memcpy(msg + len, AUTH_CONTEXT, sizeof(AUTH_CONTEXT) - 1);
	len += sizeof(AUTH_CONTEXT) - 1;
	memcpy(msg + len, name, nlen);
	len += nlen;
	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, msg, len, mac, &maclen) || maclen != CTL_MAC_LEN)
		return -EIO;
	return 0;
}

bool remote_auth_check(const struct remote_key *key, const unsigned char nonce[CTL_NONCE_LEN], enum role_kind role,
		       const unsigned char mac[CTL_MAC_LEN])
{
	unsigned char want[CTL_MAC_LEN];
	bool good = remote_auth_mac(key, nonce, role, want) == 0 && CRYPTO_memcmp(want, mac, CTL_MAC_LEN) == 0;

	OPENSSL_cleanse(want, sizeof(want));
	return good;
}
