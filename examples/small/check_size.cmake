# Fails when an example in NAMES (a ;-list) has 80 lines or more.
foreach(name IN LISTS NAMES)
  file(READ ${DIR}/${name}.cpp text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines count)
  if(count GREATER_EQUAL 80)
    message(FATAL_ERROR "examples/small/${name}.cpp has ${count} lines; keep it under 80")
  endif()
endforeach()
