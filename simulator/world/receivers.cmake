# mailsim_sim_receivers: the simulated receiving providers (receiver.hpp), their profiles,
# mailbox populations and throttles, and the senders' bounce sinks (bounce_sink.hpp, which
# share the providers' SMTP session driver). include()d by simulator/world/CMakeLists.txt.
# mailsim_queue builds and delivers the providers' accept-then-bounce reports.
mailsim_add_library(mailsim_sim_receivers
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/spec.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/population.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/profiles.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/throttle.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver_session.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver_message.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver_fcrdns.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/bounce_sink.cpp
  DEPS mailsim_sim_engine mailsim_sim_network mailsim_sim_metrics mailsim_smtp mailsim_policy
       mailsim_queue mailsim_core)
# The reputation book (reputation.hpp) is another part of simulator/world.
if(TARGET mailsim_sim_reputation)
  target_link_libraries(mailsim_sim_receivers PUBLIC mailsim_sim_reputation)
endif()
