import Foundation

/// A file size limit of 1 MiB (a POSIX sh counts `ulimit -f` in 512-byte blocks). No `trap '' XFSZ`:
/// tracker ignores SIGXFSZ itself, so a write past the limit fails with EFBIG, as on a full disk.
let fileSizeLimitPrelude = "ulimit -f 2048"

