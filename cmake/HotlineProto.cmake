# hotline_proto_library(NAME PROTOS a.proto b.proto ROOT dir [DEPS targets...])
#
# Runs protoc with the gRPC plugin through an explicit custom command: protobuf_generate()
# mishandles nested import paths on Debian 12. Each .proto path is relative to ROOT, and the
# generated files land under the build tree with the same relative path so that
# `#include "hotline/ticket/v1/ticket.grpc.pb.h"` works everywhere.
function(hotline_proto_library name)
  cmake_parse_arguments(ARG "" "ROOT" "PROTOS;DEPS" ${ARGN})
  set(gen_dir ${CMAKE_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${gen_dir})
  set(srcs)
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(outs ${gen_dir}/${stem}.pb.cc ${gen_dir}/${stem}.pb.h
             ${gen_dir}/${stem}.grpc.pb.cc ${gen_dir}/${stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc
        -I ${ARG_ROOT} -I ${CMAKE_SOURCE_DIR}/proto -I /usr/include
        --cpp_out=${gen_dir} --grpc_out=${gen_dir}
        --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
        ${ARG_ROOT}/${proto}
      DEPENDS ${ARG_ROOT}/${proto} protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${gen_dir})
  target_link_libraries(${name} PUBLIC gRPC::grpc++ protobuf::libprotobuf ${ARG_DEPS})
endfunction()
