# Links a target against the fake verbs (tests/unit/fake_verbs.c): every librdmacm and
# libibverbs entry point the RDMA transport calls is redirected to the fake at link time.
set(FAKE_VERBS_SOURCE ${CMAKE_CURRENT_LIST_DIR}/unit/fake_verbs.c)
set(FAKE_VERBS_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/unit)
function(link_fake_verbs target)
  target_sources(${target} PRIVATE ${FAKE_VERBS_SOURCE})
  target_include_directories(${target} PRIVATE ${FAKE_VERBS_INCLUDE_DIR})
  foreach(symbol rdma_create_event_channel rdma_destroy_event_channel rdma_create_id
                 rdma_destroy_id rdma_resolve_addr rdma_resolve_route rdma_connect
                 rdma_disconnect rdma_get_cm_event rdma_ack_cm_event rdma_create_qp
                 rdma_destroy_qp ibv_alloc_pd ibv_dealloc_pd ibv_reg_mr ibv_reg_mr_iova2 ibv_dereg_mr
                 ibv_create_comp_channel ibv_destroy_comp_channel ibv_create_cq ibv_destroy_cq
                 ibv_get_cq_event ibv_ack_cq_events)
    target_link_options(${target} PRIVATE "LINKER:--wrap=${symbol}")
  endforeach()
endfunction()
