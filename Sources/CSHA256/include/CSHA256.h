#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

// SHA-256 with the x86 SHA extensions (SHA-NI), for checkpoint digests: about 1.5 GB/s where the portable
// Swift implementation in Learning runs at about 260 MB/s. Callers check csha256_hardware_available()
// first and use the portable implementation where it returns 0 (other CPUs, other architectures).
int csha256_hardware_available(void);

// The 32-byte digest of `count` bytes at `bytes`. Only call when csha256_hardware_available() is 1.
void csha256_hardware(const void *bytes, size_t count, uint8_t digest[32]);

#endif
