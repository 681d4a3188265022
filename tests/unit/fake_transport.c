/*
 * fake_transport.c: the in-process server promised by fake_transport.h. Each connection
 * signals readiness through an eventfd registered level-triggered in the engine's epoll
 * set, so the engine's event loop is exercised as with a real wire.
 */
#include "fake_transport.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "resp.h"

#define STORE_SLOTS 4096
#define FAKE_ERROR_BYTES 160

typedef struct stored_value {
    char *key;
    char *value;
    size_t length;
} stored_value;

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static stored_value store[STORE_SLOTS];
static fake_server_behaviour behaviour;
static uint64_t commands_seen;
static uint64_t short_writes;               /* under store_lock */
static int connecting_now, connecting_peak; /* under store_lock */
static int connections_opened;

struct transport_connection {
    transport_watch watch;
    int event_fd;
    transport_state state;
    char error[FAKE_ERROR_BYTES];
    resp_reader *requests;
    resp_buffer replies;
    transport_counters counters;
    int64_t replies_made;
    int connecting_ticks_left;
    int number; /* from 1, in order of opening */
    bool broke_wire_protocol;
    int64_t last_trickle_ms; /* CLOCK_MONOTONIC of the last trickled read; 0: none yet */
};

fake_server_behaviour fake_server_well_behaved(void)
{
    fake_server_behaviour well_behaved = {
        .corrupt_get_at_offset = -1,
        .stop_replying_after = -1,
        .garbage_after = -1,
        .close_after = -1,
    };
    return well_behaved;
}

void fake_server_reset(const fake_server_behaviour *new_behaviour)
{
    pthread_mutex_lock(&store_lock);
    for (size_t i = 0; i < STORE_SLOTS; i++) {
        free(store[i].key);
        free(store[i].value);
        store[i] = (stored_value){0};
    }
    behaviour = *new_behaviour;
    commands_seen = 0;
    short_writes = 0;
    connecting_now = connecting_peak = 0;
    connections_opened = 0;
    pthread_mutex_unlock(&store_lock);
}

int fake_server_connecting_peak(void)
{
    pthread_mutex_lock(&store_lock);
    int peak = connecting_peak;
    pthread_mutex_unlock(&store_lock);
    return peak;
}

static void connecting_changed(int change)
{
    pthread_mutex_lock(&store_lock);
    connecting_now += change;
    if (connecting_now > connecting_peak)
        connecting_peak = connecting_now;
    pthread_mutex_unlock(&store_lock);
}

uint64_t fake_server_short_writes(void)
{
    pthread_mutex_lock(&store_lock);
    uint64_t count = short_writes;
    pthread_mutex_unlock(&store_lock);
    return count;
}

uint64_t fake_server_commands_seen(void)
{
    pthread_mutex_lock(&store_lock);
    uint64_t seen = commands_seen;
    pthread_mutex_unlock(&store_lock);
    return seen;
}

/* Open addressing on a small table: tests use far fewer keys than slots. */
static stored_value *slot_for(const char *key, size_t length)
{
    uint64_t hash = 1469598103934665603ull;
    for (size_t i = 0; i < length; i++) {
        hash = (hash ^ (uint8_t)key[i]) * 1099511628211ull;
    }
    for (size_t probe = 0; probe < STORE_SLOTS; probe++) {
        stored_value *slot = &store[(hash + probe) % STORE_SLOTS];
        if (slot->key == NULL ||
            (strlen(slot->key) == length && memcmp(slot->key, key, length) == 0)) {
            return slot;
        }
    }
    abort(); /* a test with more keys than slots is a broken test */
}

static void signal_readable(transport_connection *connection)
{
    uint64_t one = 1;
    if (write(connection->event_fd, &one, sizeof(one)) < 0) {
        /* the counter is already high: still readable */
    }
}

static void clear_readable(transport_connection *connection)
{
    uint64_t count;
    if (read(connection->event_fd, &count, sizeof(count)) < 0) {
        /* already clear */
    }
}

static void append_text(resp_buffer *out, const char *text)
{
    resp_buffer_append(out, text, strlen(text));
}

static void answer(transport_connection *connection, const resp_reply *command)
{
    resp_buffer *out = &connection->replies;
    pthread_mutex_lock(&store_lock);
    commands_seen++;
    fake_server_behaviour now = behaviour;
    if (now.stop_replying_after >= 0 && connection->replies_made >= now.stop_replying_after) {
        pthread_mutex_unlock(&store_lock);
        return;
    }
    if (connection->state != TRANSPORT_READY) {
        pthread_mutex_unlock(&store_lock);
        return; /* closed: whatever else arrived is dropped, as by a real server */
    }
    if (now.close_after >= 0 && connection->replies_made >= now.close_after) {
        connection->state = TRANSPORT_CLOSED;
        snprintf(connection->error, sizeof(connection->error), "closed by the fake server");
        signal_readable(connection);
        pthread_mutex_unlock(&store_lock);
        return;
    }
    connection->replies_made++;
    const resp_reply *const *arguments = (const resp_reply *const *)command->elements;
    bool is_set = command->element_count == 3 && strcmp(arguments[0]->string, "SET") == 0;
    bool is_get = command->element_count == 2 && strcmp(arguments[0]->string, "GET") == 0;
    if (now.garbage_after >= 0 && connection->replies_made > now.garbage_after) {
        append_text(out, "!garbage\r\n");
    } else if (is_set && now.refuse_sets) {
        append_text(out, "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    } else if (is_set && now.forget_sets) {
        append_text(out, "+OK\r\n");
    } else if (is_set) {
        stored_value *slot = slot_for(arguments[1]->string, arguments[1]->length);
        if (slot->key == NULL) {
            slot->key = strdup(arguments[1]->string);
        }
        free(slot->value);
        slot->value = malloc(arguments[2]->length + 1);
        memcpy(slot->value, arguments[2]->string, arguments[2]->length);
        slot->length = arguments[2]->length;
        append_text(out, "+OK\r\n");
    } else if (is_get) {
        stored_value *slot = slot_for(arguments[1]->string, arguments[1]->length);
        if (slot->key == NULL) {
            append_text(out, "$-1\r\n");
        } else {
            char *room = resp_buffer_append_bulk_space(out, slot->length);
            memcpy(room, slot->value, slot->length);
            if (now.corrupt_get_at_offset >= 0 &&
                (size_t)now.corrupt_get_at_offset < slot->length) {
                room[now.corrupt_get_at_offset] ^= 0x01;
            }
        }
    } else {
        append_text(out, "-ERR unknown command\r\n");
    }
    pthread_mutex_unlock(&store_lock);
}

static transport_connection *fake_open(const transport_options *options, int epoll_fd, char *error,
                                       size_t error_size)
{
    if (behaviour.refuse_connections) {
        snprintf(error, error_size, "connect to %s:%d: connection refused (fake)", options->host,
                 options->port);
        return NULL;
    }
    transport_connection *connection = calloc(1, sizeof(*connection));
    pthread_mutex_lock(&store_lock);
    connection->number = ++connections_opened;
    pthread_mutex_unlock(&store_lock);
    connection->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    connection->requests = resp_reader_create(NULL);
    resp_buffer_init(&connection->replies);
    connection->state = TRANSPORT_READY;
    if (behaviour.connecting_ticks > 0) {
        connection->state = TRANSPORT_CONNECTING;
        connection->connecting_ticks_left = behaviour.connecting_ticks;
        connecting_changed(1);
    }
    connection->watch = (transport_watch){.transport = &fake_transport,
                                          .connection = connection,
                                          .owner = options->owner,
                                          .fd = connection->event_fd};
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = &connection->watch};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connection->event_fd, &event);
    return connection;
}

static int fake_handle_event(transport_connection *connection, transport_watch *watch,
                             uint32_t events)
{
    (void)watch;
    (void)events;
    return connection->state == TRANSPORT_READY ? 0 : -1;
}

static int fake_tick(transport_connection *connection, int64_t now_ns)
{
    (void)now_ns;
    if (connection->state == TRANSPORT_CONNECTING && --connection->connecting_ticks_left == 0) {
        connection->state = TRANSPORT_READY;
        connecting_changed(-1);
    }
    return connection->state == TRANSPORT_READY ? 0 : -1;
}

static transport_state fake_state(const transport_connection *connection)
{
    return connection->state;
}

static ssize_t fake_read(transport_connection *connection, void *buffer, size_t size)
{
    size_t available = resp_buffer_pending(&connection->replies);
    if (behaviour.largest_read != 0 && size > behaviour.largest_read) {
        size = behaviour.largest_read;
    }
    size_t count = available < size ? available : size;
    if (count == 0) {
        clear_readable(connection);
        return 0;
    }
    if (behaviour.trickle_interval_ms > 0) {
        /* Still readable, so the engine comes back; nothing until the interval is over. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        if (connection->last_trickle_ms != 0 &&
            now_ms - connection->last_trickle_ms < behaviour.trickle_interval_ms) {
            return 0;
        }
        connection->last_trickle_ms = now_ms;
    }
    memcpy(buffer, resp_buffer_pending_data(&connection->replies), count);
    resp_buffer_consume(&connection->replies, count);
    connection->counters.bytes_in += count;
    if (resp_buffer_pending(&connection->replies) == 0) {
        clear_readable(connection);
    }
    return (ssize_t)count;
}

static ssize_t fake_write(transport_connection *connection, const void *buffer, size_t size)
{
    if (connection->state != TRANSPORT_READY) {
        return -1;
    }
    if (connection->number == behaviour.break_wire_protocol_on_connection) {
        connection->state = TRANSPORT_FAILED;
        connection->broke_wire_protocol = true;
        snprintf(connection->error, sizeof(connection->error),
                 "fake server: control message has an unknown opcode");
        return -1;
    }
    if (behaviour.largest_write != 0 && size > behaviour.largest_write) {
        size = behaviour.largest_write;
    } else if (behaviour.largest_write != 0 && size < behaviour.largest_write) {
        pthread_mutex_lock(&store_lock);
        short_writes++;
        pthread_mutex_unlock(&store_lock);
    }
    if (resp_reader_feed(connection->requests, buffer, size) != 0) {
        connection->state = TRANSPORT_FAILED;
        snprintf(connection->error, sizeof(connection->error), "fake server: %s",
                 resp_reader_error(connection->requests));
        return -1;
    }
    connection->counters.bytes_out += size;
    resp_reply *command = NULL;
    while (resp_reader_next(connection->requests, &command) == RESP_STATUS_REPLY) {
        answer(connection, command);
        resp_reply_free(command);
    }
    if (resp_buffer_pending(&connection->replies) > 0) {
        signal_readable(connection);
    }
    return (ssize_t)size;
}

static const char *fake_error(const transport_connection *connection)
{
    return connection->error;
}

static transport_failure fake_failure(const transport_connection *connection)
{
    if (connection->state != TRANSPORT_FAILED)
        return TRANSPORT_FAILURE_NONE;
    return connection->broke_wire_protocol ? TRANSPORT_FAILURE_PROTOCOL : TRANSPORT_FAILURE_WIRE;
}

static void fake_counters(const transport_connection *connection, transport_counters *out)
{
    *out = connection->counters;
}

static void fake_close(transport_connection *connection)
{
    if (behaviour.close_delay_ms > 0) {
        struct timespec delay = {.tv_sec = behaviour.close_delay_ms / 1000,
                                 .tv_nsec = (long)(behaviour.close_delay_ms % 1000) * 1000000L};
        nanosleep(&delay, NULL);
    }
    close(connection->event_fd); /* also removes it from the epoll set */
    resp_reader_destroy(connection->requests);
    resp_buffer_free(&connection->replies);
    free(connection);
}

const transport fake_transport = {
    .name = "fake",
    .open = fake_open,
    .handle_event = fake_handle_event,
    .tick = fake_tick,
    .state = fake_state,
    .read = fake_read,
    .write = fake_write,
    .error = fake_error,
    .failure = fake_failure,
    .counters = fake_counters,
    .close = fake_close,
};

/* The real lookup lives with the real transports, which are not in this build; a weak
 * stand-in lets the engine link, and yields to the real one once it is. */
__attribute__((weak)) const transport *transport_by_name(const char *name)
{
    (void)name;
    return NULL;
}
