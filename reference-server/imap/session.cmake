# The IMAP server session (session.hpp) and its command handlers; included by CMakeLists.txt.
target_sources(mailsim_imap PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/session.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/session_util.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cmd_auth.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cmd_select.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cmd_mailbox.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cmd_fetch.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cmd_copy.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cmd_search.cpp)
target_link_libraries(mailsim_imap PUBLIC mailsim_message mailsim_sasl)
