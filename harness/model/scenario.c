/* SPDX-License-Identifier: MIT */
/* The scenario table and its names. */
#include "scenario.h"

#include <stdio.h>
#include <string.h>

static const struct scenario_def scenarios[SC_COUNT] = {
	[SC_SERVE] = { "serve", "file -> socket", "static file server",
		EP_FILE, EP_SOCKET, false, true, 2, { "server", "client" }, true },
	[SC_SEND] = { "send", "memory -> socket", "sender of application-generated data",
		EP_MEMORY, EP_SOCKET, false, true, 2, { "sender", "sink" } },
	[SC_RELAY] = { "relay", "socket -> socket", "TCP proxy",
		EP_SOCKET, EP_SOCKET, false, true, 3, { "relay", "source", "sink" }, true },
	[SC_FANOUT] = { "fanout", "socket -> socket + file", "proxy that also records the stream",
		EP_SOCKET, EP_SOCKET, true, true, 3, { "relay", "source", "sink" } },
	[SC_STORE] = { "store", "socket -> file", "upload receiver writing to disk",
		EP_SOCKET, EP_FILE, false, true, 2, { "receiver", "source" } },
	[SC_COPY] = { "copy", "file -> file", "file copier (like cp)",
		EP_FILE, EP_FILE, false, false, 1, { "copier" } },
	[SC_ECHO] = { "echo", "socket -> same socket", "echo server (request/response)",
		EP_SOCKET, EP_SOCKET, false, true, 2, { "server", "client" } },
	[SC_PIPE] = { "pipe", "memory -> pipe -> reader", "producer feeding a pipe",
		EP_MEMORY, EP_PIPE, false, false, 2, { "writer", "reader" } },
	[SC_RECV] = { "recv", "socket -> memory", "receiver using the bytes in its own memory",
		EP_SOCKET, EP_MEMORY, false, true, 2, { "receiver", "source" } },
};

const struct scenario_def *scenario_def(enum scenario sc)
{
	return sc < SC_COUNT ? &scenarios[sc] : NULL;
}

const char *scenario_name(enum scenario sc)
{
	return sc < SC_COUNT ? scenarios[sc].name : "?";
}

int scenario_find(const char *name)
{
	for (int i = 0; i < SC_COUNT; i++)
		if (strcmp(scenarios[i].name, name) == 0)
			return i;
	return -1;
}

const char *scenario_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < SC_COUNT && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", scenarios[i].name);
	return buf;
}
