/*
 * fake_transport.h: an in-process stand-in for a Valkey server behind the transport
 * table, for engine tests that need no network. It understands SET and GET, keeps one
 * store shared by all connections, and can be told to misbehave in the ways the engine
 * must survive: corrupt values, stop replying, send garbage, refuse to connect, break
 * the wire's own protocol on one connection, and hand bytes over in tiny pieces in both
 * directions.
 */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

typedef struct fake_server_behaviour {
    int64_t corrupt_get_at_offset; /* flip a bit of this byte of every GET value; -1: off */
    int64_t stop_replying_after;   /* per connection; -1: never */
    int64_t garbage_after;         /* send one bad type byte after this many replies; -1 */
    int64_t close_after;           /* per connection: close it (as CLIENT KILL) after this
                                      many replies; -1: never */
    int refuse_connections;        /* open fails */
    int forget_sets;               /* answer +OK but store nothing */
    int refuse_sets;               /* answer every SET with an -OOM error */
    size_t largest_read;           /* bytes per read at most; 0: no limit */
    size_t largest_write;          /* bytes accepted per write at most; 0: no limit */
    int connecting_ticks;          /* a new connection is ready after this many ticks */
    /* The Nth connection opened (from 1) fails at its first write as a peer that broke the
     * wire's protocol (transport_failure PROTOCOL); 0: none. */
    int break_wire_protocol_on_connection;
    /* Replies trickle: a connection hands out bytes at most once per this many
     * milliseconds (with largest_read, a slow but moving stream); 0: off. */
    int trickle_interval_ms;
    /* Closing a connection takes this long, as an RDMA teardown may; 0: at once. */
    int close_delay_ms;
} fake_server_behaviour;

extern const transport fake_transport;

/* Resets the store and sets the behaviour; call before load_engine_start. */
void fake_server_reset(const fake_server_behaviour *behaviour);
/* A well-behaved server. */
fake_server_behaviour fake_server_well_behaved(void);
/* Commands the fake has answered or swallowed, over all connections. */
uint64_t fake_server_commands_seen(void);
/* Writes offered fewer bytes than largest_write since the reset: over RDMA each is one
 * more write (and one more event on the server) for the same bytes. */
uint64_t fake_server_short_writes(void);
/* The most connections that were connecting at the same time since the reset. */
int fake_server_connecting_peak(void);

#endif
