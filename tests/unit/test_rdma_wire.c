#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rdma_wire.h"

static void register_xfer_memory_encodes_big_endian_fields(void **state)
{
    (void)state;
    rdma_wire_message message = {.opcode = RDMA_WIRE_REGISTER_XFER_MEMORY};
    message.body.memory.addr = 0x0102030405060708u;
    message.body.memory.length = 0x00100000u;
    message.body.memory.rkey = 0xa1b2c3d4u;
    const uint8_t expected[RDMA_WIRE_MESSAGE_BYTES] = {
        0x00, 0x03, 0,    0,    0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
        0x07, 0x08, 0x00, 0x10, 0x00, 0x00, 0xa1, 0xb2, 0xc3, 0xd4,
    };
    uint8_t out[RDMA_WIRE_MESSAGE_BYTES];
    rdma_wire_encode(&message, out);
    assert_memory_equal(out, expected, sizeof(expected));
}

static void keepalive_encodes_as_opcode_two_and_zeros(void **state)
{
    (void)state;
    rdma_wire_message message = {.opcode = RDMA_WIRE_KEEPALIVE};
    uint8_t expected[RDMA_WIRE_MESSAGE_BYTES] = {0x00, 0x02};
    uint8_t out[RDMA_WIRE_MESSAGE_BYTES];
    memset(out, 0xee, sizeof(out));
    rdma_wire_encode(&message, out);
    assert_memory_equal(out, expected, sizeof(expected));
}

static void feature_messages_put_select_at_two_and_bits_at_twenty_four(void **state)
{
    (void)state;
    rdma_wire_message message = {.opcode = RDMA_WIRE_SET_CLIENT_FEATURE};
    message.body.feature.select = 0xbeef;
    message.body.feature.features = 0x8000000000000001u;
    uint8_t expected[RDMA_WIRE_MESSAGE_BYTES] = {0x00, 0x01, 0xbe, 0xef};
    expected[24] = 0x80;
    expected[31] = 0x01;
    uint8_t out[RDMA_WIRE_MESSAGE_BYTES];
    rdma_wire_encode(&message, out);
    assert_memory_equal(out, expected, sizeof(expected));

    rdma_wire_message decoded;
    assert_int_equal(rdma_wire_decode(out, sizeof(out), &decoded), RDMA_WIRE_OK);
    assert_int_equal(decoded.opcode, RDMA_WIRE_SET_CLIENT_FEATURE);
    assert_int_equal(decoded.body.feature.select, 0xbeef);
    assert_true(decoded.body.feature.features == 0x8000000000000001u);
}

static void register_xfer_memory_decodes_hand_written_bytes(void **state)
{
    (void)state;
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES] = {0x00, 0x03};
    /* Reserved bytes are not checked, as the server does not check them. */
    bytes[5] = 0x7f;
    const uint8_t addr[8] = {0x00, 0x00, 0x7f, 0x12, 0x34, 0x56, 0x70, 0x00};
    memcpy(bytes + 16, addr, sizeof(addr));
    bytes[24] = 0x00, bytes[25] = 0x01, bytes[26] = 0x00, bytes[27] = 0x00; /* 65536 */
    bytes[28] = 0x00, bytes[29] = 0x00, bytes[30] = 0x12, bytes[31] = 0x34;
    rdma_wire_message decoded;
    assert_int_equal(rdma_wire_decode(bytes, sizeof(bytes), &decoded), RDMA_WIRE_OK);
    assert_int_equal(decoded.opcode, RDMA_WIRE_REGISTER_XFER_MEMORY);
    assert_true(decoded.body.memory.addr == 0x00007f1234567000u);
    assert_int_equal(decoded.body.memory.length, 65536);
    assert_int_equal(decoded.body.memory.rkey, 0x1234);
}

static void decode_refuses_a_message_that_is_not_32_bytes(void **state)
{
    (void)state;
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES + 1] = {0x00, 0x02};
    rdma_wire_message decoded;
    assert_int_equal(rdma_wire_decode(bytes, 31, &decoded), RDMA_WIRE_BAD_SIZE);
    assert_int_equal(rdma_wire_decode(bytes, 33, &decoded), RDMA_WIRE_BAD_SIZE);
    assert_int_equal(rdma_wire_decode(bytes, 0, &decoded), RDMA_WIRE_BAD_SIZE);
}

static void decode_refuses_an_unknown_opcode(void **state)
{
    (void)state;
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES] = {0x00, 0x04};
    rdma_wire_message decoded;
    assert_int_equal(rdma_wire_decode(bytes, sizeof(bytes), &decoded), RDMA_WIRE_UNKNOWN_OPCODE);
    /* A little-endian Keepalive (0x0200) is not a Keepalive. */
    bytes[0] = 0x02, bytes[1] = 0x00;
    assert_int_equal(rdma_wire_decode(bytes, sizeof(bytes), &decoded), RDMA_WIRE_UNKNOWN_OPCODE);
    bytes[0] = 0xff, bytes[1] = 0xff;
    assert_int_equal(rdma_wire_decode(bytes, sizeof(bytes), &decoded), RDMA_WIRE_UNKNOWN_OPCODE);
    assert_string_equal(rdma_wire_result_text(RDMA_WIRE_UNKNOWN_OPCODE),
                        "control message has an unknown opcode");
}

static void receiver_accepts_an_imm_that_fills_the_buffer_exactly(void **state)
{
    (void)state;
    rdma_rx_window window;
    rdma_rx_window_init(&window, 100);
    assert_true(rdma_rx_window_on_imm(&window, 60));
    assert_true(rdma_rx_window_on_imm(&window, 40));
    assert_int_equal(rdma_rx_window_readable(&window), 100);
    assert_true(rdma_rx_window_on_imm(&window, 0));
}

static void receiver_refuses_an_imm_past_the_end_and_keeps_its_offset(void **state)
{
    (void)state;
    rdma_rx_window window;
    rdma_rx_window_init(&window, 100);
    assert_true(rdma_rx_window_on_imm(&window, 90));
    assert_false(rdma_rx_window_on_imm(&window, 11));
    assert_int_equal(window.offset, 90);
    /* An imm large enough to wrap 32-bit arithmetic is refused too. */
    assert_false(rdma_rx_window_on_imm(&window, UINT32_MAX));
    assert_int_equal(window.offset, 90);
}

static void receiver_consumes_in_pieces_without_recycling_early(void **state)
{
    (void)state;
    rdma_rx_window window;
    rdma_rx_window_init(&window, 100);
    assert_true(rdma_rx_window_on_imm(&window, 50));
    assert_false(rdma_rx_window_consume(&window, 20));
    assert_int_equal(window.pos, 20);
    assert_int_equal(rdma_rx_window_readable(&window), 30);
    /* Consuming everything written so far does not recycle a half-full buffer. */
    assert_false(rdma_rx_window_consume(&window, 30));
    assert_int_equal(rdma_rx_window_readable(&window), 0);
    /* Consuming more than is readable is clamped. */
    assert_false(rdma_rx_window_consume(&window, 10));
    assert_int_equal(window.pos, 50);
}

static void receiver_recycles_when_the_whole_buffer_is_consumed(void **state)
{
    (void)state;
    rdma_rx_window window;
    rdma_rx_window_init(&window, 100);
    assert_true(rdma_rx_window_on_imm(&window, 100));
    assert_false(rdma_rx_window_consume(&window, 99));
    assert_true(rdma_rx_window_consume(&window, 1));
    assert_int_equal(window.pos, 0);
    assert_int_equal(window.offset, 0);
    /* After the recycle the full length is available again. */
    assert_true(rdma_rx_window_on_imm(&window, 100));
}

static void sender_writes_nothing_before_the_peer_registers(void **state)
{
    (void)state;
    rdma_tx_window window;
    rdma_tx_window_init(&window);
    assert_int_equal(rdma_tx_window_writable(&window, 10), 0);
    assert_true(rdma_tx_window_awaiting_peer(&window));
    assert_false(rdma_tx_window_on_register(&window, 0x1000, 0, 7));
}

/* Found by fuzz_rdma_peer (tests/fuzz/regressions/rdma_peer/): a peer advertising a
 * 3.9 GB buffer made the transport allocate a send buffer that long. */
static void sender_refuses_a_peer_buffer_longer_than_any_server_offers(void **state)
{
    (void)state;
    rdma_tx_window window;
    rdma_tx_window_init(&window);
    assert_true(rdma_tx_window_on_register(&window, 0x1000, RDMA_WIRE_MAX_PEER_BUFFER_BYTES, 7));
    assert_false(
        rdma_tx_window_on_register(&window, 0x2000, RDMA_WIRE_MAX_PEER_BUFFER_BYTES + 1, 9));
    assert_false(rdma_tx_window_on_register(&window, 0x2000, UINT32_MAX, 9));
    /* The refused advertisement changed nothing. */
    assert_int_equal(window.peer_addr, 0x1000);
    assert_int_equal(window.length, RDMA_WIRE_MAX_PEER_BUFFER_BYTES);
    assert_int_equal(window.rkey, 7);
}

static void sender_writes_at_most_the_room_left(void **state)
{
    (void)state;
    rdma_tx_window window;
    rdma_tx_window_init(&window);
    assert_true(rdma_tx_window_on_register(&window, 0x1000, 100, 7));
    assert_int_equal(rdma_tx_window_writable(&window, 30), 30);
    rdma_tx_window_commit(&window, 30);
    assert_int_equal(rdma_tx_window_writable(&window, 500), 70);
    rdma_tx_window_commit(&window, 70);
    assert_int_equal(window.offset, 100);
    assert_int_equal(rdma_tx_window_writable(&window, 1), 0);
    assert_true(rdma_tx_window_awaiting_peer(&window));
}

static void sender_resumes_at_zero_after_the_peer_registers_again(void **state)
{
    (void)state;
    rdma_tx_window window;
    rdma_tx_window_init(&window);
    assert_true(rdma_tx_window_on_register(&window, 0x1000, 100, 7));
    rdma_tx_window_commit(&window, 100);
    assert_true(rdma_tx_window_on_register(&window, 0x2000, 200, 9));
    assert_false(rdma_tx_window_awaiting_peer(&window));
    assert_int_equal(window.offset, 0);
    assert_true(window.peer_addr == 0x2000);
    assert_int_equal(window.rkey, 9);
    assert_int_equal(rdma_tx_window_writable(&window, 1000), 200);
}

static void send_queue_signals_every_nth_and_every_control_message(void **state)
{
    (void)state;
    rdma_send_queue queue;
    rdma_send_queue_init(&queue, 16, 2, 4);
    bool signalled;
    for (uint64_t i = 1; i <= 8; i++) {
        assert_true(rdma_send_queue_post(&queue, false, &signalled) == i);
        assert_int_equal(signalled, i % 4 == 0);
    }
    rdma_send_queue_post(&queue, true, &signalled);
    assert_true(signalled);
}

static void send_queue_keeps_reserved_slots_for_control_messages(void **state)
{
    (void)state;
    rdma_send_queue queue;
    rdma_send_queue_init(&queue, 8, 2, 4);
    bool signalled;
    for (int i = 0; i < 6; i++) {
        assert_true(rdma_send_queue_can_post(&queue, false));
        rdma_send_queue_post(&queue, false, &signalled);
    }
    assert_false(rdma_send_queue_can_post(&queue, false));
    assert_true(rdma_send_queue_can_post(&queue, true));
    rdma_send_queue_post(&queue, true, &signalled);
    rdma_send_queue_post(&queue, true, &signalled);
    assert_false(rdma_send_queue_can_post(&queue, true));
    /* A signalled completion retires every request up to it. */
    rdma_send_queue_on_completion(&queue, 4);
    assert_int_equal(rdma_send_queue_in_flight(&queue), 4);
    assert_true(rdma_send_queue_can_post(&queue, false));
    /* A stale or bogus sequence number changes nothing. */
    rdma_send_queue_on_completion(&queue, 2);
    rdma_send_queue_on_completion(&queue, 99);
    assert_int_equal(rdma_send_queue_in_flight(&queue), 4);
}

static void send_queue_never_signals_less_often_than_its_data_window(void **state)
{
    (void)state;
    rdma_send_queue queue;
    rdma_send_queue_init(&queue, 8, 2, 512);
    assert_int_equal(queue.signal_every, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(register_xfer_memory_encodes_big_endian_fields),
        cmocka_unit_test(keepalive_encodes_as_opcode_two_and_zeros),
        cmocka_unit_test(feature_messages_put_select_at_two_and_bits_at_twenty_four),
        cmocka_unit_test(register_xfer_memory_decodes_hand_written_bytes),
        cmocka_unit_test(decode_refuses_a_message_that_is_not_32_bytes),
        cmocka_unit_test(decode_refuses_an_unknown_opcode),
        cmocka_unit_test(receiver_accepts_an_imm_that_fills_the_buffer_exactly),
        cmocka_unit_test(receiver_refuses_an_imm_past_the_end_and_keeps_its_offset),
        cmocka_unit_test(receiver_consumes_in_pieces_without_recycling_early),
        cmocka_unit_test(receiver_recycles_when_the_whole_buffer_is_consumed),
        cmocka_unit_test(sender_writes_nothing_before_the_peer_registers),
        cmocka_unit_test(sender_writes_at_most_the_room_left),
        cmocka_unit_test(sender_resumes_at_zero_after_the_peer_registers_again),
        cmocka_unit_test(sender_refuses_a_peer_buffer_longer_than_any_server_offers),
        cmocka_unit_test(send_queue_signals_every_nth_and_every_control_message),
        cmocka_unit_test(send_queue_keeps_reserved_slots_for_control_messages),
        cmocka_unit_test(send_queue_never_signals_less_often_than_its_data_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
