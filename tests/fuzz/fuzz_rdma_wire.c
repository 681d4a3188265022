/*
 * fuzz_rdma_wire: the RDMA control messages and buffer accounting (drivers/rdma_wire.h).
 *
 * The input is a message-size byte, a message of that many bytes (any size, so the size
 * check is exercised too), then a program: each operation is one opcode byte and a
 * 32-bit argument, driving the receive window, the transmit window and the send queue.
 * After every operation the module's promises are checked against a small model.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdma_wire.h"

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition))                                                                          \
            abort();                                                                               \
    } while (0)

/* Signalled requests whose completion has not been reported yet, oldest first. The
 * queue depths the program picks stay below this. */
#define MAX_TRACKED_SIGNALLED 4096
/* Queue depths from the program are taken modulo this, to stay small and meaningful. */
#define MAX_FUZZ_QUEUE_DEPTH 2048

typedef struct program {
    const uint8_t *data;
    size_t size;
    size_t at;
} program;

static bool take_u8(program *p, uint8_t *out)
{
    if (p->at >= p->size)
        return false;
    *out = p->data[p->at++];
    return true;
}

static uint32_t take_u32(program *p)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t byte = 0;
        take_u8(p, &byte);
        value = value << 8 | byte;
    }
    return value;
}

static void check_message(const uint8_t *bytes, size_t size)
{
    rdma_wire_message message;
    rdma_wire_result result = rdma_wire_decode(bytes, size, &message);
    CHECK(rdma_wire_result_text(result) != NULL);
    if (size != RDMA_WIRE_MESSAGE_BYTES) {
        CHECK(result == RDMA_WIRE_BAD_SIZE);
        return;
    }
    uint16_t opcode = (uint16_t)(bytes[0] << 8 | bytes[1]);
    CHECK((result == RDMA_WIRE_OK) == (opcode <= RDMA_WIRE_REGISTER_XFER_MEMORY));
    if (result != RDMA_WIRE_OK)
        return;
    /* encode(decode(x)) keeps every field, and decodes to the same message. */
    uint8_t encoded[RDMA_WIRE_MESSAGE_BYTES];
    rdma_wire_encode(&message, encoded);
    rdma_wire_message again;
    CHECK(rdma_wire_decode(encoded, sizeof(encoded), &again) == RDMA_WIRE_OK);
    CHECK(again.opcode == message.opcode);
    CHECK(memcmp(encoded, bytes, 2) == 0);
    switch (message.opcode) {
    case RDMA_WIRE_GET_SERVER_FEATURE:
    case RDMA_WIRE_SET_CLIENT_FEATURE:
        CHECK(again.body.feature.select == message.body.feature.select);
        CHECK(again.body.feature.features == message.body.feature.features);
        CHECK(memcmp(encoded + 2, bytes + 2, 2) == 0);
        CHECK(memcmp(encoded + 24, bytes + 24, 8) == 0);
        break;
    case RDMA_WIRE_REGISTER_XFER_MEMORY:
        CHECK(again.body.memory.addr == message.body.memory.addr);
        CHECK(again.body.memory.length == message.body.memory.length);
        CHECK(again.body.memory.rkey == message.body.memory.rkey);
        CHECK(memcmp(encoded + 16, bytes + 16, 16) == 0);
        break;
    case RDMA_WIRE_KEEPALIVE:
        break;
    }
}

static void check_rx(const rdma_rx_window *rx)
{
    CHECK(rx->offset <= rx->length);
    CHECK(rx->pos <= rx->offset);
    CHECK(rdma_rx_window_readable(rx) == rx->offset - rx->pos);
}

static void check_tx(const rdma_tx_window *tx)
{
    CHECK(tx->offset <= tx->length);
    CHECK(rdma_tx_window_awaiting_peer(tx) == (tx->offset == tx->length));
}

typedef struct send_model {
    uint64_t signalled[MAX_TRACKED_SIGNALLED];
    size_t head, count;
    uint64_t data_in_flight_limit;
} send_model;

static void check_send_queue(const rdma_send_queue *queue, const send_model *model)
{
    CHECK(queue->retired <= queue->posted);
    CHECK(queue->signal_every >= 1);
    CHECK(rdma_send_queue_in_flight(queue) <= queue->depth);
    /* No deadlock: when data writes are blocked, a signalled request is still in flight
     * whose completion will free slots. */
    uint64_t in_flight = queue->posted - queue->retired;
    if (in_flight > 0 && in_flight >= model->data_in_flight_limit)
        CHECK(model->count > 0);
}

enum operation {
    OP_RX_IMM,
    OP_RX_CONSUME,
    OP_RX_RESET,
    OP_TX_REGISTER,
    OP_TX_WRITE,
    OP_SEND_DATA,
    OP_SEND_CONTROL,
    OP_SEND_COMPLETE,
    OP_SEND_BOGUS_COMPLETION,
    OP_COUNT,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t message_size = data[0];
    if (message_size > size - 1)
        message_size = size - 1;
    check_message(data + 1, message_size);

    program p = {.data = data, .size = size, .at = 1 + message_size};
    rdma_rx_window rx;
    rdma_rx_window_init(&rx, take_u32(&p));
    rdma_tx_window tx;
    rdma_tx_window_init(&tx);
    CHECK(tx.length == 0 && rdma_tx_window_awaiting_peer(&tx));
    uint32_t depth = take_u32(&p) % MAX_FUZZ_QUEUE_DEPTH;
    uint32_t reserved = take_u32(&p) % (MAX_FUZZ_QUEUE_DEPTH + 1);
    uint32_t signal_every = take_u32(&p);
    rdma_send_queue queue;
    rdma_send_queue_init(&queue, depth, reserved, signal_every);
    static send_model model;
    model.head = model.count = 0;
    model.data_in_flight_limit = queue.depth - queue.reserved;
    CHECK(queue.reserved <= queue.depth);
    CHECK(queue.signal_every >= 1 &&
          (model.data_in_flight_limit == 0 || queue.signal_every <= model.data_in_flight_limit));

    uint8_t opcode;
    while (take_u8(&p, &opcode)) {
        uint32_t argument = take_u32(&p);
        switch (opcode % OP_COUNT) {
        case OP_RX_IMM: {
            rdma_rx_window before = rx;
            bool fits = argument <= rx.length - rx.offset;
            CHECK(rdma_rx_window_on_imm(&rx, argument) == fits);
            if (fits)
                CHECK(rx.offset == before.offset + argument && rx.pos == before.pos);
            else
                CHECK(memcmp(&rx, &before, sizeof(rx)) == 0);
            break;
        }
        case OP_RX_CONSUME: {
            uint32_t readable = rdma_rx_window_readable(&rx);
            uint32_t bytes = (uint32_t)(argument % ((uint64_t)readable + 1));
            rdma_rx_window before = rx;
            bool recycled = rdma_rx_window_consume(&rx, bytes);
            bool full = before.length != 0 && before.pos + bytes == before.length;
            CHECK(recycled == full);
            if (recycled)
                CHECK(rx.pos == 0 && rx.offset == 0);
            else
                CHECK(rx.pos == before.pos + bytes && rx.offset == before.offset);
            break;
        }
        case OP_RX_RESET:
            rdma_rx_window_init(&rx, argument);
            break;
        case OP_TX_REGISTER: {
            uint64_t addr = (uint64_t)take_u32(&p) << 32 | take_u32(&p);
            uint32_t rkey = take_u32(&p);
            rdma_tx_window before = tx;
            bool accepted = rdma_tx_window_on_register(&tx, addr, argument, rkey);
            CHECK(accepted == (argument != 0 && argument <= RDMA_WIRE_MAX_PEER_BUFFER_BYTES));
            if (accepted)
                CHECK(tx.peer_addr == addr && tx.length == argument && tx.rkey == rkey &&
                      tx.offset == 0);
            else
                CHECK(memcmp(&tx, &before, sizeof(tx)) == 0);
            break;
        }
        case OP_TX_WRITE: {
            size_t pending = argument;
            uint32_t writable = rdma_tx_window_writable(&tx, pending);
            CHECK(writable <= pending && writable <= tx.length - tx.offset);
            CHECK(writable == pending || writable == tx.length - tx.offset);
            uint32_t before = tx.offset;
            rdma_tx_window_commit(&tx, writable);
            CHECK(tx.offset == before + writable);
            break;
        }
        case OP_SEND_DATA:
        case OP_SEND_CONTROL: {
            bool is_control = opcode % OP_COUNT == OP_SEND_CONTROL;
            if (!rdma_send_queue_can_post(&queue, is_control))
                break;
            CHECK(model.count < MAX_TRACKED_SIGNALLED);
            bool signalled = false;
            uint64_t sequence = rdma_send_queue_post(&queue, is_control, &signalled);
            CHECK(sequence == queue.posted);
            CHECK(!is_control || signalled);
            if (signalled)
                model.signalled[(model.head + model.count++) % MAX_TRACKED_SIGNALLED] = sequence;
            break;
        }
        case OP_SEND_COMPLETE:
            /* A reliable connection completes in order: the oldest signalled request. */
            if (model.count > 0) {
                uint64_t sequence = model.signalled[model.head];
                model.head = (model.head + 1) % MAX_TRACKED_SIGNALLED;
                model.count--;
                rdma_send_queue_on_completion(&queue, sequence);
                CHECK(queue.retired == sequence);
            }
            break;
        case OP_SEND_BOGUS_COMPLETION: {
            /* A stale or unknown wr_id never moves the accounting backwards or ahead. */
            uint64_t retired = queue.retired;
            rdma_send_queue_on_completion(&queue, (uint64_t)argument);
            CHECK(queue.retired >= retired && queue.retired <= queue.posted);
            /* It may have retired signalled requests; forget those the model held. */
            while (model.count > 0 && model.signalled[model.head] <= queue.retired) {
                model.head = (model.head + 1) % MAX_TRACKED_SIGNALLED;
                model.count--;
            }
            break;
        }
        }
        check_rx(&rx);
        check_tx(&tx);
        check_send_queue(&queue, &model);
    }
    return 0;
}
