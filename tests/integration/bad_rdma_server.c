/*
 * bad_rdma_server: a Valkey-over-RDMA server that breaks the protocol on purpose, on the
 * connections it is told to, so that a test can watch the driver meet a wrong peer over
 * real RDMA. Every connection does the handshake properly (RegisterXferMemory both ways);
 * then, at its first request, a connection planned as bad does one wrong thing and falls
 * silent, and a good one serves PING, SET and GET from memory for as long as it lives.
 *
 * Behaviours, by accept order (the plan is a comma-separated list; connections past its
 * end are good):
 *   good            answers every request correctly
 *   short-message   sends a control message of 16 bytes (a RegisterXferMemory cut short)
 *   long-message    sends a control message of 64 bytes, longer than any receive holds
 *   unknown-opcode  sends a 32-byte control message with opcode 127
 *   overflow        writes with an immediate that claims one byte more than is left in
 *                   the buffer the client advertised
 *
 * usage: bad_rdma_server ADDR PORT PLAN [LIFETIME_SECONDS]
 * It prints "listening" once it accepts connections, one line per connection as it
 * misbehaves or ends, and a summary when it stops: after LIFETIME_SECONDS (default 120),
 * or on SIGTERM or SIGINT. Exit: 0, 1 on a setup error, 2 on bad usage.
 */
#include "rdma_wire.h"
#include "resp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <rdma/rdma_cma.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LIFETIME_SECONDS 120
#define LOOP_WAIT_MS 100
/* As Valkey: 1024 receives and sends per queue pair, one CQ for both. */
#define QUEUE_DEPTH 1024
#define CONTROL_SEND_SLOTS 16
/* The receive buffer we advertise: small, so that requests recycle it now and then. */
#define RX_BUFFER_BYTES ((uint32_t)256 << 10)
/* A control message longer than any posted receive (each holds 32 bytes). */
#define LONG_MESSAGE_BYTES 64
#define SHORT_MESSAGE_BYTES 16
#define UNKNOWN_OPCODE 127
#define MAX_PLAN 64
#define MAX_STORED_KEYS 100000
#define BUFFER_ALIGNMENT 4096

typedef enum behaviour {
    GOOD,
    SHORT_MESSAGE,
    LONG_MESSAGE,
    UNKNOWN_OPCODE_MESSAGE,
    OVERFLOW,
    BEHAVIOUR_COUNT,
} behaviour;

static const char *const behaviour_names[BEHAVIOUR_COUNT] = {
    [GOOD] = "good",
    [SHORT_MESSAGE] = "short-message",
    [LONG_MESSAGE] = "long-message",
    [UNKNOWN_OPCODE_MESSAGE] = "unknown-opcode",
    [OVERFLOW] = "overflow",
};

/* What a work request was, in the top bits of its wr_id; the slot in the low bits. */
enum { WR_RECEIVE = 1, WR_CONTROL = 2, WR_DATA = 3, WR_BAD = 4 };
#define WR_ID(kind, slot) (((uint64_t)(kind) << 32) | (uint32_t)(slot))
#define WR_KIND(id) ((int)((id) >> 32))
#define WR_SLOT(id) ((uint32_t)(id))

typedef struct stored_value {
    char *key;
    size_t key_length;
    char *value;
    size_t value_length;
    struct stored_value *next;
} stored_value;

typedef struct peer {
    int number;
    behaviour behaviour;
    bool misbehaved;
    bool established;
    struct rdma_cm_id *id;
    struct ibv_cq *cq;
    bool qp_created;
    uint8_t *control; /* receive slots, control send slots, then room for a bad message */
    struct ibv_mr *control_mr;
    bool control_slot_busy[CONTROL_SEND_SLOTS];
    uint8_t *rx;
    struct ibv_mr *rx_mr;
    rdma_rx_window rx_window;
    uint8_t *tx;
    struct ibv_mr *tx_mr;
    rdma_tx_window tx_window;
    uint32_t sends_in_flight;
    resp_reader *reader;
    resp_buffer output;
    uint64_t requests;
    struct peer *next;
} peer;

typedef struct server {
    struct rdma_event_channel *events;
    struct rdma_cm_id *listener;
    struct ibv_comp_channel *completions;
    struct ibv_pd *pd; /* one for the device, made at the first connection */
    int epoll_fd;
    behaviour plan[MAX_PLAN];
    int plan_length;
    int accepted;
    int performed[BEHAVIOUR_COUNT];
    peer *peers;
    stored_value *store;
    size_t stored;
} server;

static volatile sig_atomic_t stop_requested;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

static int64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void *aligned_zeroed(size_t size)
{
    void *buffer = NULL;
    if (posix_memalign(&buffer, BUFFER_ALIGNMENT, size) != 0)
        return NULL;
    memset(buffer, 0, size);
    return buffer;
}

static uint8_t *receive_slot(peer *p, uint32_t slot)
{
    return p->control + (size_t)slot * RDMA_WIRE_MESSAGE_BYTES;
}

static uint8_t *bad_message_area(peer *p)
{
    return receive_slot(p, QUEUE_DEPTH + CONTROL_SEND_SLOTS);
}

static size_t control_bytes(void)
{
    return (size_t)(QUEUE_DEPTH + CONTROL_SEND_SLOTS) * RDMA_WIRE_MESSAGE_BYTES +
           LONG_MESSAGE_BYTES;
}

/* ---- the store behind SET and GET ---- */

static stored_value *store_find(server *s, const char *key, size_t key_length)
{
    for (stored_value *entry = s->store; entry != NULL; entry = entry->next) {
        if (entry->key_length == key_length && memcmp(entry->key, key, key_length) == 0)
            return entry;
    }
    return NULL;
}

static bool store_set(server *s, const resp_reply *key, const resp_reply *value)
{
    stored_value *entry = store_find(s, key->string, key->length);
    char *copy = malloc(value->length + 1);
    if (copy == NULL)
        return false;
    memcpy(copy, value->string, value->length);
    if (entry != NULL) {
        free(entry->value);
        entry->value = copy;
        entry->value_length = value->length;
        return true;
    }
    entry = calloc(1, sizeof(*entry));
    if (entry == NULL || s->stored >= MAX_STORED_KEYS ||
        (entry->key = malloc(key->length + 1)) == NULL) {
        free(entry);
        free(copy);
        return false;
    }
    memcpy(entry->key, key->string, key->length);
    entry->key_length = key->length;
    entry->value = copy;
    entry->value_length = value->length;
    entry->next = s->store;
    s->store = entry;
    s->stored++;
    return true;
}

/* ---- sending ---- */

static int post_send(peer *p, uint64_t wr_id, enum ibv_wr_opcode opcode, void *bytes,
                     uint32_t length, struct ibv_mr *mr, uint64_t remote_addr, uint32_t imm)
{
    if (p->sends_in_flight >= QUEUE_DEPTH)
        return -1;
    struct ibv_sge sge = {.addr = (uintptr_t)bytes, .length = length, .lkey = mr->lkey};
    struct ibv_send_wr request = {.wr_id = wr_id,
                                  .sg_list = &sge,
                                  .num_sge = 1,
                                  .opcode = opcode,
                                  .send_flags = IBV_SEND_SIGNALED};
    if (opcode == IBV_WR_RDMA_WRITE_WITH_IMM) {
        request.imm_data = htonl(imm);
        request.wr.rdma.remote_addr = remote_addr;
        request.wr.rdma.rkey = p->tx_window.rkey;
    }
    struct ibv_send_wr *bad = NULL;
    int rc = ibv_post_send(p->id->qp, &request, &bad);
    if (rc != 0) {
        fprintf(stderr, "bad_rdma_server: connection %d: ibv_post_send: %s\n", p->number,
                strerror(rc));
        return -1;
    }
    p->sends_in_flight++;
    return 0;
}

static int send_control(peer *p, const rdma_wire_message *message)
{
    for (uint32_t slot = 0; slot < CONTROL_SEND_SLOTS; slot++) {
        if (p->control_slot_busy[slot])
            continue;
        uint8_t *bytes = receive_slot(p, QUEUE_DEPTH + slot);
        rdma_wire_encode(message, bytes);
        if (post_send(p, WR_ID(WR_CONTROL, slot), IBV_WR_SEND, bytes, RDMA_WIRE_MESSAGE_BYTES,
                      p->control_mr, 0, 0) != 0)
            return -1;
        p->control_slot_busy[slot] = true;
        return 0;
    }
    return -1;
}

static int advertise_receive_buffer(peer *p)
{
    rdma_wire_message message = {.opcode = RDMA_WIRE_REGISTER_XFER_MEMORY};
    message.body.memory.addr = (uintptr_t)p->rx;
    message.body.memory.length = p->rx_window.length;
    message.body.memory.rkey = p->rx_mr->rkey;
    return send_control(p, &message);
}

/* Writes as much pending output as the client's buffer and the send queue take now. */
static void flush_output(peer *p)
{
    while (resp_buffer_pending(&p->output) > 0 && p->tx != NULL) {
        uint32_t count = rdma_tx_window_writable(&p->tx_window, resp_buffer_pending(&p->output));
        if (count == 0)
            return; /* until the client's next RegisterXferMemory */
        uint32_t offset = p->tx_window.offset;
        memcpy(p->tx + offset, resp_buffer_pending_data(&p->output), count);
        if (post_send(p, WR_ID(WR_DATA, 0), IBV_WR_RDMA_WRITE_WITH_IMM, p->tx + offset, count,
                      p->tx_mr, p->tx_window.peer_addr + offset, count) != 0)
            return;
        rdma_tx_window_commit(&p->tx_window, count);
        resp_buffer_consume(&p->output, count);
    }
}

/* ---- misbehaving ---- */

static void misbehave(server *s, peer *p)
{
    p->misbehaved = true;
    uint8_t *area = bad_message_area(p);
    int rc = 0;
    switch (p->behaviour) {
    case SHORT_MESSAGE: {
        rdma_wire_message message = {.opcode = RDMA_WIRE_REGISTER_XFER_MEMORY};
        uint8_t whole[RDMA_WIRE_MESSAGE_BYTES];
        rdma_wire_encode(&message, whole);
        memcpy(area, whole, SHORT_MESSAGE_BYTES);
        rc = post_send(p, WR_ID(WR_BAD, 0), IBV_WR_SEND, area, SHORT_MESSAGE_BYTES, p->control_mr,
                       0, 0);
        break;
    }
    case LONG_MESSAGE:
        memset(area, 0, LONG_MESSAGE_BYTES);
        area[1] = RDMA_WIRE_KEEPALIVE;
        rc = post_send(p, WR_ID(WR_BAD, 0), IBV_WR_SEND, area, LONG_MESSAGE_BYTES, p->control_mr, 0,
                       0);
        break;
    case UNKNOWN_OPCODE_MESSAGE:
        memset(area, 0, RDMA_WIRE_MESSAGE_BYTES);
        area[1] = UNKNOWN_OPCODE;
        rc = post_send(p, WR_ID(WR_BAD, 0), IBV_WR_SEND, area, RDMA_WIRE_MESSAGE_BYTES,
                       p->control_mr, 0, 0);
        break;
    case OVERFLOW: {
        /* One real byte inside the buffer; the immediate claims the rest of it and one
         * more, so the client's accounting would pass the end. */
        uint32_t offset = p->tx_window.offset;
        uint32_t claimed = p->tx_window.length - offset + 1;
        p->tx[offset] = '+';
        rc = post_send(p, WR_ID(WR_DATA, 0), IBV_WR_RDMA_WRITE_WITH_IMM, p->tx + offset, 1,
                       p->tx_mr, p->tx_window.peer_addr + offset, claimed);
        break;
    }
    case GOOD:
    case BEHAVIOUR_COUNT:
        return;
    }
    if (rc == 0)
        s->performed[p->behaviour]++;
    printf("connection %d: %s%s\n", p->number, behaviour_names[p->behaviour],
           rc == 0 ? "" : " could not be sent");
}

/* ---- serving ---- */

static void append_text(peer *p, const char *text)
{
    resp_buffer_append(&p->output, text, strlen(text));
}

static bool is_command(const resp_reply *argument, const char *name)
{
    return argument->type == RESP_BULK_STRING && strlen(name) == argument->length &&
           strncasecmp(argument->string, name, argument->length) == 0;
}

static void serve_command(server *s, peer *p, const resp_reply *request)
{
    p->requests++;
    if (request->type != RESP_ARRAY || request->element_count == 0 || request->elements == NULL) {
        append_text(p, "-ERR expected an array of bulk strings\r\n");
        return;
    }
    resp_reply **arguments = request->elements;
    size_t count = request->element_count;
    if (is_command(arguments[0], "PING") && count == 1) {
        append_text(p, "+PONG\r\n");
    } else if (is_command(arguments[0], "SET") && count == 3 &&
               arguments[1]->type == RESP_BULK_STRING && arguments[2]->type == RESP_BULK_STRING) {
        append_text(p, store_set(s, arguments[1], arguments[2]) ? "+OK\r\n"
                                                                : "-ERR out of memory\r\n");
    } else if (is_command(arguments[0], "GET") && count == 2 &&
               arguments[1]->type == RESP_BULK_STRING) {
        stored_value *entry = store_find(s, arguments[1]->string, arguments[1]->length);
        if (entry == NULL)
            append_text(p, "$-1\r\n");
        else
            resp_buffer_append_bulk(&p->output, entry->value, entry->value_length);
    } else {
        append_text(p, "-ERR this server knows PING, SET and GET\r\n");
    }
}

static void on_data(server *s, peer *p)
{
    uint32_t readable = rdma_rx_window_readable(&p->rx_window);
    if (p->misbehaved) {
        /* Silent from now on: take the bytes so the client is not held up, answer nothing. */
        if (rdma_rx_window_consume(&p->rx_window, readable))
            advertise_receive_buffer(p);
        return;
    }
    if (p->behaviour != GOOD) {
        misbehave(s, p);
        if (rdma_rx_window_consume(&p->rx_window, readable))
            advertise_receive_buffer(p);
        return;
    }
    int fed = resp_reader_feed(p->reader, p->rx + p->rx_window.pos, readable);
    if (rdma_rx_window_consume(&p->rx_window, readable))
        advertise_receive_buffer(p);
    resp_reply *request = NULL;
    while (resp_reader_next(p->reader, &request) == RESP_STATUS_REPLY) {
        serve_command(s, p, request);
        resp_reply_free(request);
    }
    if (fed != 0)
        append_text(p, "-ERR Protocol error\r\n");
    flush_output(p);
}

static int post_receive(peer *p, uint32_t slot)
{
    struct ibv_sge sge = {.addr = (uintptr_t)receive_slot(p, slot),
                          .length = RDMA_WIRE_MESSAGE_BYTES,
                          .lkey = p->control_mr->lkey};
    struct ibv_recv_wr request = {.wr_id = WR_ID(WR_RECEIVE, slot), .sg_list = &sge, .num_sge = 1};
    struct ibv_recv_wr *bad = NULL;
    return ibv_post_recv(p->id->qp, &request, &bad);
}

static void on_client_buffer(peer *p, const rdma_wire_message *message)
{
    uint32_t length = message->body.memory.length;
    if (!rdma_tx_window_on_register(&p->tx_window, message->body.memory.addr, length,
                                    message->body.memory.rkey)) {
        fprintf(stderr, "bad_rdma_server: connection %d: the client advertised %u bytes\n",
                p->number, length);
        return;
    }
    if (p->tx == NULL) {
        p->tx = aligned_zeroed(length);
        p->tx_mr = p->tx ? ibv_reg_mr(p->id->pd, p->tx, length, IBV_ACCESS_LOCAL_WRITE) : NULL;
        if (p->tx_mr == NULL) {
            fprintf(stderr, "bad_rdma_server: connection %d: no %u-byte send buffer\n", p->number,
                    length);
            free(p->tx);
            p->tx = NULL;
            return;
        }
    }
    flush_output(p);
}

static void on_completion(server *s, peer *p, const struct ibv_wc *completion)
{
    int kind = WR_KIND(completion->wr_id);
    if (completion->status != IBV_WC_SUCCESS) {
        /* Expected once a bad connection has done its thing and the client hangs up. */
        if (kind != WR_RECEIVE || completion->status != IBV_WC_WR_FLUSH_ERR)
            printf("connection %d: work completion: %s\n", p->number,
                   ibv_wc_status_str(completion->status));
        if (kind != WR_RECEIVE && p->sends_in_flight > 0)
            p->sends_in_flight--;
        return;
    }
    switch (completion->opcode) {
    case IBV_WC_RECV: {
        rdma_wire_message message;
        if (rdma_wire_decode(receive_slot(p, WR_SLOT(completion->wr_id)), completion->byte_len,
                             &message) == RDMA_WIRE_OK &&
            message.opcode == RDMA_WIRE_REGISTER_XFER_MEMORY)
            on_client_buffer(p, &message);
        post_receive(p, WR_SLOT(completion->wr_id));
        break;
    }
    case IBV_WC_RECV_RDMA_WITH_IMM:
        if (!rdma_rx_window_on_imm(&p->rx_window, ntohl(completion->imm_data)))
            fprintf(stderr, "bad_rdma_server: connection %d: the client wrote past our buffer\n",
                    p->number);
        post_receive(p, WR_SLOT(completion->wr_id));
        on_data(s, p);
        break;
    case IBV_WC_SEND:
    case IBV_WC_RDMA_WRITE:
        if (p->sends_in_flight > 0)
            p->sends_in_flight--;
        if (kind == WR_CONTROL)
            p->control_slot_busy[WR_SLOT(completion->wr_id)] = false;
        flush_output(p);
        break;
    default:
        break;
    }
}

static void drain_completions(server *s)
{
    for (;;) {
        struct ibv_cq *cq = NULL;
        void *context = NULL;
        if (ibv_get_cq_event(s->completions, &cq, &context) != 0)
            return; /* EAGAIN: the channel is non-blocking */
        ibv_ack_cq_events(cq, 1);
        peer *p = context;
        ibv_req_notify_cq(cq, 0);
        struct ibv_wc completions[32];
        int count;
        while ((count = ibv_poll_cq(cq, 32, completions)) > 0) {
            for (int i = 0; i < count; i++)
                on_completion(s, p, &completions[i]);
        }
    }
}

/* ---- connection life cycle ---- */

static void destroy_peer(server *s, peer *p)
{
    for (peer **link = &s->peers; *link != NULL; link = &(*link)->next) {
        if (*link == p) {
            *link = p->next;
            break;
        }
    }
    if (p->qp_created)
        rdma_destroy_qp(p->id);
    if (p->tx_mr)
        ibv_dereg_mr(p->tx_mr);
    if (p->rx_mr)
        ibv_dereg_mr(p->rx_mr);
    if (p->control_mr)
        ibv_dereg_mr(p->control_mr);
    if (p->cq)
        ibv_destroy_cq(p->cq);
    free(p->tx);
    free(p->rx);
    free(p->control);
    resp_reader_destroy(p->reader);
    resp_buffer_free(&p->output);
    if (p->id)
        rdma_destroy_id(p->id);
    free(p);
}

static void on_connect_request(server *s, struct rdma_cm_id *id)
{
    peer *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        rdma_reject(id, NULL, 0);
        rdma_destroy_id(id);
        return;
    }
    p->number = s->accepted++;
    p->behaviour = p->number < s->plan_length ? s->plan[p->number] : GOOD;
    p->id = id;
    id->context = p;
    p->next = s->peers;
    s->peers = p;
    resp_buffer_init(&p->output);
    rdma_rx_window_init(&p->rx_window, RX_BUFFER_BYTES);
    rdma_tx_window_init(&p->tx_window);
    if (s->pd == NULL)
        s->pd = ibv_alloc_pd(id->verbs);
    p->reader = resp_reader_create(NULL);
    p->control = aligned_zeroed(control_bytes());
    p->rx = aligned_zeroed(RX_BUFFER_BYTES);
    bool ok = s->pd != NULL && p->reader != NULL && p->control != NULL && p->rx != NULL;
    if (ok) {
        p->control_mr = ibv_reg_mr(s->pd, p->control, control_bytes(), IBV_ACCESS_LOCAL_WRITE);
        p->rx_mr = ibv_reg_mr(s->pd, p->rx, RX_BUFFER_BYTES,
                              IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
        p->cq = ibv_create_cq(id->verbs, 2 * QUEUE_DEPTH, p, s->completions, 0);
        ok = p->control_mr != NULL && p->rx_mr != NULL && p->cq != NULL &&
             ibv_req_notify_cq(p->cq, 0) == 0;
    }
    if (ok) {
        struct ibv_qp_init_attr attributes = {
            .send_cq = p->cq,
            .recv_cq = p->cq,
            .qp_type = IBV_QPT_RC,
            .cap = {.max_send_wr = QUEUE_DEPTH,
                    .max_recv_wr = QUEUE_DEPTH,
                    .max_send_sge = 1,
                    .max_recv_sge = 1},
        };
        ok = rdma_create_qp(id, s->pd, &attributes) == 0;
        p->qp_created = ok;
    }
    for (uint32_t slot = 0; ok && slot < QUEUE_DEPTH; slot++)
        ok = post_receive(p, slot) == 0;
    struct rdma_conn_param parameters = {
        .responder_resources = 1, .initiator_depth = 1, .rnr_retry_count = 7};
    if (!ok || rdma_accept(id, &parameters) != 0) {
        fprintf(stderr, "bad_rdma_server: connection %d: cannot set it up: %s\n", p->number,
                strerror(errno));
        rdma_reject(id, NULL, 0);
        destroy_peer(s, p);
    }
}

static void drain_cm_events(server *s)
{
    for (;;) {
        struct rdma_cm_event *event = NULL;
        if (rdma_get_cm_event(s->events, &event) != 0)
            return; /* EAGAIN: the channel is non-blocking */
        enum rdma_cm_event_type type = event->event;
        struct rdma_cm_id *id = event->id;
        rdma_ack_cm_event(event);
        peer *p = id->context;
        switch (type) {
        case RDMA_CM_EVENT_CONNECT_REQUEST:
            on_connect_request(s, id);
            break;
        case RDMA_CM_EVENT_ESTABLISHED:
            if (p != NULL) {
                p->established = true;
                advertise_receive_buffer(p);
            }
            break;
        case RDMA_CM_EVENT_DISCONNECTED:
        case RDMA_CM_EVENT_CONNECT_ERROR:
        case RDMA_CM_EVENT_UNREACHABLE:
        case RDMA_CM_EVENT_REJECTED:
            if (p != NULL) {
                printf("connection %d (%s): ended, %llu requests seen\n", p->number,
                       behaviour_names[p->behaviour], (unsigned long long)p->requests);
                rdma_disconnect(id);
                destroy_peer(s, p);
            }
            break;
        default:
            break;
        }
    }
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int parse_plan(const char *text, server *s)
{
    char copy[1024];
    if (snprintf(copy, sizeof(copy), "%s", text) >= (int)sizeof(copy))
        return -1;
    char *saveptr = NULL;
    for (char *item = strtok_r(copy, ",", &saveptr); item; item = strtok_r(NULL, ",", &saveptr)) {
        int found = -1;
        for (int b = 0; b < BEHAVIOUR_COUNT; b++) {
            if (strcmp(item, behaviour_names[b]) == 0)
                found = b;
        }
        if (found < 0 || s->plan_length == MAX_PLAN)
            return -1;
        s->plan[s->plan_length++] = (behaviour)found;
    }
    return 0;
}

static int start_listening(server *s, const char *address, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_INET,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *resolved = NULL;
    if (getaddrinfo(address, port, &hints, &resolved) != 0) {
        fprintf(stderr, "bad_rdma_server: %s:%s is not a numeric IPv4 address and port\n", address,
                port);
        return -1;
    }
    s->events = rdma_create_event_channel();
    int rc = s->events == NULL ? -1 : 0;
    if (rc == 0)
        rc = set_nonblocking(s->events->fd);
    if (rc == 0)
        rc = rdma_create_id(s->events, &s->listener, NULL, RDMA_PS_TCP);
    if (rc == 0)
        rc = rdma_bind_addr(s->listener, resolved->ai_addr);
    if (rc == 0)
        rc = rdma_listen(s->listener, MAX_PLAN);
    freeaddrinfo(resolved);
    if (rc != 0 || s->listener->verbs == NULL) {
        fprintf(stderr, "bad_rdma_server: cannot listen on RDMA %s:%s: %s\n", address, port,
                strerror(errno));
        return -1;
    }
    s->completions = ibv_create_comp_channel(s->listener->verbs);
    if (s->completions == NULL || set_nonblocking(s->completions->fd) != 0) {
        fprintf(stderr, "bad_rdma_server: ibv_create_comp_channel: %s\n", strerror(errno));
        return -1;
    }
    struct epoll_event cm = {.events = EPOLLIN, .data.u32 = 0};
    struct epoll_event cq = {.events = EPOLLIN, .data.u32 = 1};
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->events->fd, &cm) != 0 ||
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->completions->fd, &cq) != 0) {
        fprintf(stderr, "bad_rdma_server: epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void shut_down(server *s)
{
    while (s->peers != NULL) {
        if (s->peers->established)
            rdma_disconnect(s->peers->id);
        destroy_peer(s, s->peers);
    }
    if (s->listener)
        rdma_destroy_id(s->listener);
    if (s->pd)
        ibv_dealloc_pd(s->pd);
    if (s->completions)
        ibv_destroy_comp_channel(s->completions);
    if (s->events)
        rdma_destroy_event_channel(s->events);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    while (s->store != NULL) {
        stored_value *next = s->store->next;
        free(s->store->key);
        free(s->store->value);
        free(s->store);
        s->store = next;
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    server s = {.epoll_fd = -1};
    char *end = NULL;
    long lifetime = argc > 4 ? strtol(argv[4], &end, 10) : DEFAULT_LIFETIME_SECONDS;
    if (argc < 4 || argc > 5 || parse_plan(argv[3], &s) != 0 ||
        (argc > 4 && (*end != '\0' || lifetime < 1 || lifetime > 3600))) {
        fprintf(stderr, "usage: bad_rdma_server ADDR PORT PLAN [LIFETIME_SECONDS]\n"
                        "  PLAN: comma-separated good|short-message|long-message|"
                        "unknown-opcode|overflow, one per connection in accept order\n");
        return 2;
    }
    struct sigaction action = {.sa_handler = on_signal};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (s.epoll_fd < 0 || start_listening(&s, argv[1], argv[2]) != 0) {
        shut_down(&s);
        return 1;
    }
    printf("listening on RDMA %s:%s, plan %s, for at most %ld s\n", argv[1], argv[2], argv[3],
           lifetime);
    int64_t deadline = now_ms() + lifetime * 1000;
    while (!stop_requested && now_ms() < deadline) {
        struct epoll_event ready[4];
        int count = epoll_wait(s.epoll_fd, ready, 4, LOOP_WAIT_MS);
        for (int i = 0; i < count; i++) {
            if (ready[i].data.u32 == 0)
                drain_cm_events(&s);
            else
                drain_completions(&s);
        }
    }
    printf("stopping: %d connections accepted;", s.accepted);
    for (int b = 1; b < BEHAVIOUR_COUNT; b++)
        printf(" %s %d", behaviour_names[b], s.performed[b]);
    printf("\n");
    shut_down(&s);
    return 0;
}
