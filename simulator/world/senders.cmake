# The sending side of a world and its assembly: senders (the reference server's delivery
# engine on the scheduler), workloads, the world's DNS data and faults in
# mailsim_sim_senders; the world (world.hpp), which also needs the receivers and the DNSBL
# operators, in mailsim_sim_world.
mailsim_add_library(mailsim_sim_senders
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sender.cpp ${CMAKE_CURRENT_LIST_DIR}/workload.cpp
          ${CMAKE_CURRENT_LIST_DIR}/world_dns.cpp ${CMAKE_CURRENT_LIST_DIR}/world_faults.cpp
  DEPS mailsim_sim_dns mailsim_sim_network mailsim_sim_metrics mailsim_sim_engine
       mailsim_queue mailsim_auth mailsim_core)
if(TARGET mailsim_sim_receivers AND TARGET mailsim_sim_reputation)
  mailsim_add_library(mailsim_sim_world
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/world.cpp
    DEPS mailsim_sim_senders mailsim_sim_receivers mailsim_sim_reputation mailsim_sim_dns
         mailsim_sim_network mailsim_sim_metrics mailsim_queue)
endif()
