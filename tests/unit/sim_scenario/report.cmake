# Unit tests of the reports: stable JSON bytes, valid JUnit XML, the text summary.
if(TARGET mailsim_sim_report)
  mailsim_add_test(sim_scenario_report_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/report_test.cpp
                   DEPS mailsim_sim_report)
endif()
