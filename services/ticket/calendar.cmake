# The working-day calendar that ticket deadlines count on; included by this folder's CMakeLists.

add_library(hotline_ticket_calendar STATIC working_calendar.cc)
target_compile_options(hotline_ticket_calendar PRIVATE ${HOTLINE_WARNINGS})
# nlohmann_json stays private: the header speaks absl types only.
target_link_libraries(hotline_ticket_calendar
  PUBLIC hotline_common
  PRIVATE nlohmann_json::nlohmann_json)

if(BUILD_TESTING)
  hotline_test(working_calendar_test working_calendar_test.cc)
  # The test rewrites a holiday-cn file to check that the version follows the data.
  target_link_libraries(working_calendar_test PRIVATE hotline_ticket_calendar
    nlohmann_json::nlohmann_json)
endif()
