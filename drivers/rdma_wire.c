#include "rdma_wire.h"

#include <string.h>

/* Field offsets inside a control message, from the Valkey RDMA protocol. */
enum {
    OPCODE_AT = 0,
    FEATURE_SELECT_AT = 2,
    FEATURE_BITS_AT = 24,
    MEMORY_ADDR_AT = 16,
    MEMORY_LENGTH_AT = 24,
    MEMORY_RKEY_AT = 28,
};

static void put_u16(uint8_t *at, uint16_t value)
{
    at[0] = (uint8_t)(value >> 8);
    at[1] = (uint8_t)value;
}

static void put_u32(uint8_t *at, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(value >> (24 - 8 * i));
}

static void put_u64(uint8_t *at, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)(value >> (56 - 8 * i));
}

static uint16_t get_u16(const uint8_t *at)
{
    return (uint16_t)((at[0] << 8) | at[1]);
}

static uint32_t get_u32(const uint8_t *at)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value = (value << 8) | at[i];
    return value;
}

static uint64_t get_u64(const uint8_t *at)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | at[i];
    return value;
}

void rdma_wire_encode(const rdma_wire_message *message, uint8_t out[RDMA_WIRE_MESSAGE_BYTES])
{
    memset(out, 0, RDMA_WIRE_MESSAGE_BYTES);
    put_u16(out + OPCODE_AT, (uint16_t)message->opcode);
    switch (message->opcode) {
    case RDMA_WIRE_GET_SERVER_FEATURE:
    case RDMA_WIRE_SET_CLIENT_FEATURE:
        put_u16(out + FEATURE_SELECT_AT, message->body.feature.select);
        put_u64(out + FEATURE_BITS_AT, message->body.feature.features);
        break;
    case RDMA_WIRE_REGISTER_XFER_MEMORY:
        put_u64(out + MEMORY_ADDR_AT, message->body.memory.addr);
        put_u32(out + MEMORY_LENGTH_AT, message->body.memory.length);
        put_u32(out + MEMORY_RKEY_AT, message->body.memory.rkey);
        break;
    case RDMA_WIRE_KEEPALIVE:
        break;
    }
}

rdma_wire_result rdma_wire_decode(const void *bytes, size_t size, rdma_wire_message *out)
{
    const uint8_t *in = bytes;
    if (size != RDMA_WIRE_MESSAGE_BYTES)
        return RDMA_WIRE_BAD_SIZE;
    memset(out, 0, sizeof(*out));
    uint16_t opcode = get_u16(in + OPCODE_AT);
    switch (opcode) {
    case RDMA_WIRE_GET_SERVER_FEATURE:
    case RDMA_WIRE_SET_CLIENT_FEATURE:
        out->body.feature.select = get_u16(in + FEATURE_SELECT_AT);
        out->body.feature.features = get_u64(in + FEATURE_BITS_AT);
        break;
    case RDMA_WIRE_REGISTER_XFER_MEMORY:
        out->body.memory.addr = get_u64(in + MEMORY_ADDR_AT);
        out->body.memory.length = get_u32(in + MEMORY_LENGTH_AT);
        out->body.memory.rkey = get_u32(in + MEMORY_RKEY_AT);
        break;
    case RDMA_WIRE_KEEPALIVE:
        break;
    default:
        return RDMA_WIRE_UNKNOWN_OPCODE;
    }
    out->opcode = (rdma_wire_opcode)opcode;
    return RDMA_WIRE_OK;
}

const char *rdma_wire_result_text(rdma_wire_result result)
{
    switch (result) {
    case RDMA_WIRE_OK:
        return "ok";
    case RDMA_WIRE_BAD_SIZE:
        return "control message is not 32 bytes";
    case RDMA_WIRE_UNKNOWN_OPCODE:
        return "control message has an unknown opcode";
    }
    return "unknown result";
}

void rdma_rx_window_init(rdma_rx_window *window, uint32_t length)
{
    window->length = length;
    window->offset = 0;
    window->pos = 0;
}

bool rdma_rx_window_on_imm(rdma_rx_window *window, uint32_t bytes)
{
    if (bytes > window->length - window->offset)
        return false;
    window->offset += bytes;
    return true;
}

uint32_t rdma_rx_window_readable(const rdma_rx_window *window)
{
    return window->offset - window->pos;
}

bool rdma_rx_window_consume(rdma_rx_window *window, uint32_t bytes)
{
    uint32_t readable = rdma_rx_window_readable(window);
    window->pos += bytes < readable ? bytes : readable;
    if (window->length == 0 || window->pos != window->length)
        return false;
    window->pos = 0;
    window->offset = 0;
    return true;
}

void rdma_tx_window_init(rdma_tx_window *window)
{
    memset(window, 0, sizeof(*window));
}

bool rdma_tx_window_on_register(rdma_tx_window *window, uint64_t addr, uint32_t length,
                                uint32_t rkey)
{
    if (length == 0 || length > RDMA_WIRE_MAX_PEER_BUFFER_BYTES)
        return false;
    window->peer_addr = addr;
    window->length = length;
    window->rkey = rkey;
    window->offset = 0;
    return true;
}

uint32_t rdma_tx_window_writable(const rdma_tx_window *window, size_t pending)
{
    uint32_t room = window->length - window->offset;
    return pending < room ? (uint32_t)pending : room;
}

void rdma_tx_window_commit(rdma_tx_window *window, uint32_t bytes)
{
    uint32_t room = window->length - window->offset;
    window->offset += bytes < room ? bytes : room;
}

bool rdma_tx_window_awaiting_peer(const rdma_tx_window *window)
{
    return window->offset == window->length;
}

void rdma_send_queue_init(rdma_send_queue *queue, uint32_t depth, uint32_t reserved,
                          uint32_t signal_every)
{
    queue->posted = 0;
    queue->retired = 0;
    queue->depth = depth;
    queue->reserved = reserved < depth ? reserved : depth;
    /* Progress needs a signalled request inside every full window of data writes. */
    uint32_t data_limit = queue->depth - queue->reserved;
    if (signal_every == 0 || signal_every > data_limit)
        signal_every = data_limit ? data_limit : 1;
    queue->signal_every = signal_every;
}

uint32_t rdma_send_queue_in_flight(const rdma_send_queue *queue)
{
    return (uint32_t)(queue->posted - queue->retired);
}

bool rdma_send_queue_can_post(const rdma_send_queue *queue, bool is_control)
{
    uint32_t limit = is_control ? queue->depth : queue->depth - queue->reserved;
    return rdma_send_queue_in_flight(queue) < limit;
}

uint64_t rdma_send_queue_post(rdma_send_queue *queue, bool must_signal, bool *signalled)
{
    uint64_t sequence = ++queue->posted;
    *signalled = must_signal || sequence % queue->signal_every == 0;
    return sequence;
}

void rdma_send_queue_on_completion(rdma_send_queue *queue, uint64_t sequence)
{
    if (sequence > queue->retired && sequence <= queue->posted)
        queue->retired = sequence;
}
