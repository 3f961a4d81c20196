/* SPDX-License-Identifier: MIT */
/*
 * nic mode's shared secret: the key file both ends read, the daemon's
 * challenge, and the answer that proves the key without sending it.
 * The answer is HMAC-SHA256(key, nonce || "copylab-nic/1" || role), by
 * OpenSSL's libcrypto; docs/threat-model-nic.md says what it protects.
 */
#ifndef COPYLAB_REMOTE_AUTH_H
#define COPYLAB_REMOTE_AUTH_H

#include "control.h"

#include <stdbool.h>
#include <stddef.h>

#define REMOTE_KEY_MIN 16		/* bytes: shorter keys are guessable */
#define REMOTE_KEY_MAX 4096		/* bytes: a key, not a file of data */

struct remote_key {
	unsigned char bytes[REMOTE_KEY_MAX];
	size_t len;
};

/*
 * The key in path: its bytes as they are (32 random bytes is the
 * recommendation; a hex line works too, as long as both ends hold the same
 * file).  Refused, like ssh refuses a private key, when the file is not a
 * regular file, is readable or writable by group or others, or is shorter
 * than REMOTE_KEY_MIN or longer than REMOTE_KEY_MAX.  0, or -errno with a
 * sentence in err naming the file, what is wrong and what would be right.
 */
int remote_key_load(const char *path, struct remote_key *key, char *err, size_t errlen);

/*
 * A new key file: REMOTE_KEY_DEFAULT_LEN random bytes, mode 0600, never
 * over an existing file (O_EXCL), removed again if it cannot be written
 * whole.  0, or -errno with err.
 */
#define REMOTE_KEY_DEFAULT_LEN 32
int remote_key_make(const char *path, char *err, size_t errlen);

/* A fresh challenge from getrandom.  0, or -errno. */
int remote_nonce(unsigned char nonce[CTL_NONCE_LEN]);

/* The answer for the daemon playing role. 0, or -EIO when libcrypto fails. */
int remote_auth_mac(const struct remote_key *key, const unsigned char nonce[CTL_NONCE_LEN], enum role_kind role,
		    unsigned char mac[CTL_MAC_LEN]);

/* Whether mac answers nonce for role, compared in constant time. */
bool remote_auth_check(const struct remote_key *key, const unsigned char nonce[CTL_NONCE_LEN], enum role_kind role,
		       const unsigned char mac[CTL_MAC_LEN]);

#endif
