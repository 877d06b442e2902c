# Seeds a corpus and runs one fuzzer for SECONDS; fails on any crash or sanitizer report.
file(MAKE_DIRECTORY ${CORPUS})
if(KIND STREQUAL "fuzz_replay")
  file(GLOB scenarios ${SCENARIOS}/*.jsonl)
  file(COPY ${scenarios} DESTINATION ${CORPUS})
elseif(KIND STREQUAL "fuzz_restore")
  execute_process(COMMAND ${MAKE_SEEDS} ${SCENARIOS} ${CORPUS} COMMAND_ERROR_IS_FATAL ANY)
endif()
execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 ${CORPUS}
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${KIND} failed (exit ${status})")
endif()
