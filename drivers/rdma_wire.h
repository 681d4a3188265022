/*
 * rdma_wire.h: the pure parts of Valkey over RDMA, with no verbs in sight.
 *
 * Promises:
 * - The 32-byte control messages encode and decode with big-endian fields; a message
 *   of any other size, or with an opcode outside the four known ones, is refused.
 * - rdma_rx_window keeps the accounting of the buffer we advertise: the peer's writes
 *   advance `offset`, the application consumes `[pos, offset)`, and a fully consumed
 *   buffer resets both and asks for a new RegisterXferMemory.
 * - rdma_tx_window keeps the accounting of the buffer the peer advertises: we never
 *   write past its length and wait for its next RegisterXferMemory once it is full.
 * - rdma_send_queue counts send work requests so that selective signalling never lets
 *   unsignalled requests overflow the send queue.
 */
#ifndef RDMA_WIRE_H
#define RDMA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every control message on the wire is exactly this long; anything else is fatal. */
#define RDMA_WIRE_MESSAGE_BYTES 32
/* The largest receive buffer a peer may advertise. A Valkey server's rdma-rx-size is at
 * most 16 MiB (VALKEY_RDMA_MAX_RX_SIZE); a larger claim is a confused or hostile peer. */
#define RDMA_WIRE_MAX_PEER_BUFFER_BYTES ((uint32_t)16 << 20)

typedef enum rdma_wire_opcode {
    RDMA_WIRE_GET_SERVER_FEATURE = 0,
    RDMA_WIRE_SET_CLIENT_FEATURE = 1,
    RDMA_WIRE_KEEPALIVE = 2,
    RDMA_WIRE_REGISTER_XFER_MEMORY = 3,
} rdma_wire_opcode;

typedef struct rdma_wire_message {
    rdma_wire_opcode opcode;
    union {
        struct { /* GetServerFeature, SetClientFeature */
            uint16_t select;
            uint64_t features;
        } feature;
        struct { /* RegisterXferMemory: the sender's receive buffer */
            uint64_t addr;
            uint32_t length;
            uint32_t rkey;
        } memory;
    } body;
} rdma_wire_message;

typedef enum rdma_wire_result {
    RDMA_WIRE_OK = 0,
    RDMA_WIRE_BAD_SIZE,
    RDMA_WIRE_UNKNOWN_OPCODE,
} rdma_wire_result;

/* Writes exactly RDMA_WIRE_MESSAGE_BYTES; reserved bytes are zero. */
void rdma_wire_encode(const rdma_wire_message *message, uint8_t out[RDMA_WIRE_MESSAGE_BYTES]);
/* Reserved bytes are ignored, as the server ignores them. */
rdma_wire_result rdma_wire_decode(const void *bytes, size_t size, rdma_wire_message *out);
const char *rdma_wire_result_text(rdma_wire_result result);

/* The buffer we advertise: the peer writes into it, we read out of it. */
typedef struct rdma_rx_window {
    uint32_t length; /* as advertised in our RegisterXferMemory */
    uint32_t offset; /* end of what the peer has written */
    uint32_t pos;    /* end of what the application has consumed */
} rdma_rx_window;

void rdma_rx_window_init(rdma_rx_window *window, uint32_t length);
/* The peer wrote `bytes` more (the imm of a WRITE_WITH_IMM). False, and no change, when
 * that would pass the end of the buffer: a protocol violation. */
bool rdma_rx_window_on_imm(rdma_rx_window *window, uint32_t bytes);
/* Bytes written by the peer and not yet consumed; they start at `pos`. */
uint32_t rdma_rx_window_readable(const rdma_rx_window *window);
/* Marks `bytes` (at most readable) consumed. True when the whole buffer has now been
 * consumed: both offsets are back at 0 and a RegisterXferMemory must be sent now. */
bool rdma_rx_window_consume(rdma_rx_window *window, uint32_t bytes);

/* The buffer the peer advertises: we write into it. */
typedef struct rdma_tx_window {
    uint64_t peer_addr;
    uint32_t length; /* 0 until the peer's first RegisterXferMemory */
    uint32_t rkey;
    uint32_t offset; /* where our next write lands */
} rdma_tx_window;

void rdma_tx_window_init(rdma_tx_window *window);
/* A RegisterXferMemory from the peer. False, and no change, for a zero-length buffer or
 * one longer than RDMA_WIRE_MAX_PEER_BUFFER_BYTES. */
bool rdma_tx_window_on_register(rdma_tx_window *window, uint64_t addr, uint32_t length,
                                uint32_t rkey);
/* How much of `pending` may be written now: min(pending, length - offset). */
uint32_t rdma_tx_window_writable(const rdma_tx_window *window, size_t pending);
/* `bytes` (at most writable) were posted at `offset`. */
void rdma_tx_window_commit(rdma_tx_window *window, uint32_t bytes);
/* True while nothing may be written until the peer's next RegisterXferMemory. */
bool rdma_tx_window_awaiting_peer(const rdma_tx_window *window);

/*
 * Send queue occupancy under selective signalling. An unsignalled request frees its
 * slot only when a later signalled one completes (RC completes in order), so each
 * request gets a sequence number and a signalled completion retires everything up to it.
 */
typedef struct rdma_send_queue {
    uint64_t posted;   /* sequence number of the last request posted */
    uint64_t retired;  /* sequence number of the last request known complete */
    uint32_t depth;    /* max_send_wr of the queue pair */
    uint32_t reserved; /* slots that data writes leave for control messages */
    uint32_t signal_every;
} rdma_send_queue;

void rdma_send_queue_init(rdma_send_queue *queue, uint32_t depth, uint32_t reserved,
                          uint32_t signal_every);
uint32_t rdma_send_queue_in_flight(const rdma_send_queue *queue);
bool rdma_send_queue_can_post(const rdma_send_queue *queue, bool is_control);
/* Takes a slot; returns the request's sequence number (its wr_id) and whether it is
 * signalled: every signal_every-th request, and any the caller must have signalled
 * (control messages, whose buffer is reused after). */
uint64_t rdma_send_queue_post(rdma_send_queue *queue, bool must_signal, bool *signalled);
/* A signalled request with this sequence number completed. */
void rdma_send_queue_on_completion(rdma_send_queue *queue, uint64_t sequence);

#endif
