# The runner: a scenario on a fresh world; expectations judged over the recorder.
if(TARGET mailsim_sim_world AND TARGET mailsim_sim_scenario_loader AND TARGET mailsim_sim_report)
  mailsim_add_library(mailsim_sim_scenario
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/runner.cpp
    DEPS mailsim_sim_world mailsim_sim_scenario_loader mailsim_sim_report mailsim_sim_metrics)
endif()
