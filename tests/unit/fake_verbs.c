#include "fake_verbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define FAKE_QUEUE 4096

fake_verbs fake;

static struct rdma_cm_event cm_queue[FAKE_QUEUE];
static int cm_head, cm_tail;
static struct ibv_wc cq_queue[FAKE_QUEUE];
static int cq_head, cq_tail;
static unsigned cq_events_pending;
static struct rdma_event_channel *the_event_channel;
static struct ibv_comp_channel *the_completion_channel;
static struct ibv_cq *the_cq;
static struct rdma_cm_id *the_cm_id;
static uint32_t next_key = 0x100;

static int fake_poll_cq(struct ibv_cq *cq, int entries, struct ibv_wc *out)
{
    (void)cq;
    int count = 0;
    while (count < entries && cq_head != cq_tail)
        out[count++] = cq_queue[cq_head++ % FAKE_QUEUE];
    return count;
}

static int fake_req_notify_cq(struct ibv_cq *cq, int solicited_only)
{
    (void)cq, (void)solicited_only;
    fake.notify_calls++;
    return 0;
}

static int fake_post_send(struct ibv_qp *qp, struct ibv_send_wr *request, struct ibv_send_wr **bad)
{
    (void)qp, (void)bad;
    for (; request != NULL; request = request->next) {
        if (fake.send_count == FAKE_MAX_SENDS)
            return ENOMEM;
        fake_send *send = &fake.sends[fake.send_count++];
        memset(send, 0, sizeof(*send));
        send->wr_id = request->wr_id;
        send->opcode = request->opcode;
        send->signalled = request->send_flags & IBV_SEND_SIGNALED;
        send->imm_host_order = ntohl(request->imm_data);
        send->remote_addr = request->wr.rdma.remote_addr;
        send->rkey = request->wr.rdma.rkey;
        send->length = request->sg_list[0].length;
        send->local_addr = request->sg_list[0].addr;
        memcpy(send->control, (void *)(uintptr_t)request->sg_list[0].addr,
               send->length < 32 ? send->length : 32);
    }
    return 0;
}

static int fake_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *request, struct ibv_recv_wr **bad)
{
    (void)qp, (void)bad;
    for (; request != NULL; request = request->next) {
        uint64_t slot = request->wr_id % 1024;
        fake.receive_slot_addr[slot] = request->sg_list[0].addr;
        fake.receive_wr_id[slot] = request->wr_id;
        fake.receives_posted++;
        fake.receives_outstanding++;
    }
    return 0;
}

static struct ibv_context fake_context = {
    .ops = {.poll_cq = fake_poll_cq,
            .req_notify_cq = fake_req_notify_cq,
            .post_send = fake_post_send,
            .post_recv = fake_post_recv},
};

static void raise_fd(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof(one)) != sizeof(one))
        abort();
}

static void lower_fd(int fd)
{
    uint64_t value;
    if (read(fd, &value, sizeof(value)) < 0 && errno != EAGAIN)
        abort();
}

void fake_verbs_reset(void)
{
    memset(&fake, 0, sizeof(fake));
    cm_head = cm_tail = cq_head = cq_tail = 0;
    cq_events_pending = 0;
}

void fake_cm_event(enum rdma_cm_event_type type, int status)
{
    cm_queue[cm_tail % FAKE_QUEUE] =
        (struct rdma_cm_event){.id = the_cm_id, .event = type, .status = status};
    cm_tail++;
    raise_fd(the_event_channel->fd);
}

void fake_completion(const struct ibv_wc *completion)
{
    cq_queue[cq_tail++ % FAKE_QUEUE] = *completion;
    cq_events_pending++;
    raise_fd(the_completion_channel->fd);
}

void fake_receive_control(uint64_t slot, const void *bytes, uint32_t length)
{
    memcpy((void *)(uintptr_t)fake.receive_slot_addr[slot], bytes, length);
    fake.receives_outstanding--;
    fake_completion(&(struct ibv_wc){.wr_id = fake.receive_wr_id[slot],
                                     .status = IBV_WC_SUCCESS,
                                     .opcode = IBV_WC_RECV,
                                     .byte_len = length});
}

void fake_receive_imm(uint64_t slot, uint32_t bytes)
{
    fake.receives_outstanding--;
    fake_completion(&(struct ibv_wc){.wr_id = fake.receive_wr_id[slot],
                                     .status = IBV_WC_SUCCESS,
                                     .opcode = IBV_WC_RECV_RDMA_WITH_IMM,
                                     .wc_flags = IBV_WC_WITH_IMM,
                                     .imm_data = htonl(bytes)});
}

struct rdma_event_channel *__wrap_rdma_create_event_channel(void)
{
    if (fake.fail_create_event_channel) {
        errno = ENODEV;
        return NULL;
    }
    struct rdma_event_channel *channel = calloc(1, sizeof(*channel));
    channel->fd = eventfd(0, EFD_CLOEXEC);
    fake.event_channels++;
    the_event_channel = channel;
    return channel;
}

void __wrap_rdma_destroy_event_channel(struct rdma_event_channel *channel)
{
    close(channel->fd);
    free(channel);
    fake.event_channels--;
}

int __wrap_rdma_create_id(struct rdma_event_channel *channel, struct rdma_cm_id **id, void *context,
                          enum rdma_port_space space)
{
    *id = calloc(1, sizeof(**id));
    (*id)->channel = channel;
    (*id)->context = context;
    (*id)->ps = space;
    fake.cm_ids++;
    the_cm_id = *id;
    return 0;
}

int __wrap_rdma_destroy_id(struct rdma_cm_id *id)
{
    free(id);
    fake.cm_ids--;
    return 0;
}

int __wrap_rdma_resolve_addr(struct rdma_cm_id *id, struct sockaddr *source,
                             struct sockaddr *destination, int timeout_ms)
{
    (void)source, (void)destination, (void)timeout_ms;
    id->verbs = &fake_context;
    return 0;
}

int __wrap_rdma_resolve_route(struct rdma_cm_id *id, int timeout_ms)
{
    (void)id, (void)timeout_ms;
    fake.resolve_route_calls++;
    return 0;
}

int __wrap_rdma_connect(struct rdma_cm_id *id, struct rdma_conn_param *parameters)
{
    (void)id;
    fake.connect_calls++;
    fake.connect_parameters = *parameters;
    return 0;
}

int __wrap_rdma_disconnect(struct rdma_cm_id *id)
{
    (void)id;
    fake.disconnect_calls++;
    return 0;
}

int __wrap_rdma_get_cm_event(struct rdma_event_channel *channel, struct rdma_cm_event **event)
{
    if (cm_head == cm_tail) {
        lower_fd(channel->fd);
        errno = EAGAIN;
        return -1;
    }
    *event = malloc(sizeof(**event));
    **event = cm_queue[cm_head++ % FAKE_QUEUE];
    fake.cm_events_unacked++;
    return 0;
}

int __wrap_rdma_ack_cm_event(struct rdma_cm_event *event)
{
    free(event);
    fake.cm_events_unacked--;
    return 0;
}

int __wrap_rdma_create_qp(struct rdma_cm_id *id, struct ibv_pd *pd,
                          struct ibv_qp_init_attr *attributes)
{
    (void)pd;
    fake.qp_attributes = *attributes;
    id->qp = calloc(1, sizeof(*id->qp));
    id->qp->context = &fake_context;
    fake.qps++;
    return 0;
}

void __wrap_rdma_destroy_qp(struct rdma_cm_id *id)
{
    free(id->qp);
    id->qp = NULL;
    fake.qps--;
}

struct ibv_pd *__wrap_ibv_alloc_pd(struct ibv_context *context)
{
    struct ibv_pd *pd = calloc(1, sizeof(*pd));
    pd->context = context;
    fake.pds++;
    return pd;
}

int __wrap_ibv_dealloc_pd(struct ibv_pd *pd)
{
    free(pd);
    fake.pds--;
    return 0;
}

struct ibv_mr *__wrap_ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access)
{
    struct ibv_mr *mr = calloc(1, sizeof(*mr));
    mr->pd = pd;
    mr->addr = addr;
    mr->length = length;
    mr->lkey = next_key++;
    mr->rkey = next_key++;
    if (fake.registrations < 16) {
        fake.registered_length[fake.registrations] = length;
        fake.registered_addr[fake.registrations] = (uintptr_t)addr;
        fake.registered_access[fake.registrations] = access;
    }
    fake.registrations++;
    fake.mrs++;
    return mr;
}

/* verbs.h turns ibv_reg_mr into ibv_reg_mr_iova2 unless the compiler proves the access
 * flags constant, which it does only when optimizing (a -O0 or coverage build calls
 * this one). Both must reach the fake. */
struct ibv_mr *__wrap_ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length, uint64_t iova,
                                       unsigned int access)
{
    (void)iova;
    return __wrap_ibv_reg_mr(pd, addr, length, (int)access);
}

int __wrap_ibv_dereg_mr(struct ibv_mr *mr)
{
    free(mr);
    fake.mrs--;
    return 0;
}

struct ibv_comp_channel *__wrap_ibv_create_comp_channel(struct ibv_context *context)
{
    struct ibv_comp_channel *channel = calloc(1, sizeof(*channel));
    channel->context = context;
    channel->fd = eventfd(0, EFD_CLOEXEC);
    fake.completion_channels++;
    the_completion_channel = channel;
    return channel;
}

int __wrap_ibv_destroy_comp_channel(struct ibv_comp_channel *channel)
{
    close(channel->fd);
    free(channel);
    fake.completion_channels--;
    return 0;
}

struct ibv_cq *__wrap_ibv_create_cq(struct ibv_context *context, int entries, void *cq_context,
                                    struct ibv_comp_channel *channel, int vector)
{
    (void)vector;
    struct ibv_cq *cq = calloc(1, sizeof(*cq));
    cq->context = context;
    cq->channel = channel;
    cq->cq_context = cq_context;
    cq->cqe = entries;
    fake.cq_entries = entries;
    fake.cqs++;
    the_cq = cq;
    return cq;
}

int __wrap_ibv_destroy_cq(struct ibv_cq *cq)
{
    /* The real one blocks forever if an event was taken and never acknowledged. */
    if (fake.cq_events_unacked != 0)
        abort();
    free(cq);
    fake.cqs--;
    return 0;
}

int __wrap_ibv_get_cq_event(struct ibv_comp_channel *channel, struct ibv_cq **cq, void **cq_context)
{
    if (cq_events_pending == 0) {
        lower_fd(channel->fd);
        errno = EAGAIN;
        return -1;
    }
    cq_events_pending--;
    fake.cq_events_unacked++;
    *cq = the_cq;
    *cq_context = the_cq->cq_context;
    return 0;
}

void __wrap_ibv_ack_cq_events(struct ibv_cq *cq, unsigned int events)
{
    (void)cq;
    fake.cq_events_unacked -= events;
}
