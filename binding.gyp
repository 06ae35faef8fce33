{
  "targets": [
    {
      "target_name": "reset_bench_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/netlink.cc",
        "src/native/uring_engine.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-luring", "-lpthread"]
    }
  ]
}
