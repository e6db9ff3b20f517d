#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# stored-xz.py INPUT OUTPUT [BLOCK_MIB]
#
# Writes INPUT as a valid .xz file made of independent blocks (BLOCK_MIB each, default 8) whose
# LZMA2 chunks are all stored uncompressed, with CRC32 checks. That is what xz itself produces
# for incompressible data such as the benchmark's random image, but in seconds rather than the
# minutes `xz -T0` spends finding that nothing compresses. Several blocks with their sizes in
# the headers let multi-threaded decoders (xz -T0, lzma_stream_decoder_mt) work in parallel.

import struct
import sys
import zlib

CHUNK = 64 * 1024  # largest uncompressed LZMA2 chunk
STREAM_FLAGS = b"\x00\x01"  # check type CRC32


def vli(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def crc32(data):
    return struct.pack("<I", zlib.crc32(data) & 0xFFFFFFFF)


def pad4(n):
    return b"\x00" * (-n % 4)


def block(data):
    lzma2 = bytearray()
    for i in range(0, len(data), CHUNK):
        piece = data[i:i + CHUNK]
        # 1 = uncompressed chunk with dictionary reset, 2 = uncompressed chunk without.
        lzma2 += bytes([1 if i == 0 else 2]) + struct.pack(">H", len(piece) - 1) + piece
    lzma2 += b"\x00"
    # Flags: one filter, compressed and uncompressed sizes present. Filter: LZMA2 (0x21),
    # one property byte, dictionary 1 MiB (0x10).
    body = b"\xc0" + vli(len(lzma2)) + vli(len(data)) + b"\x21\x01\x10"
    size = 1 + len(body)
    size += -size % 4
    header = bytes([size // 4]) + body + b"\x00" * (size - 1 - len(body))
    header += crc32(header)
    unpadded = len(header) + len(lzma2) + 4
    return header + bytes(lzma2) + pad4(len(lzma2)) + crc32(data), unpadded


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: stored-xz.py INPUT OUTPUT [BLOCK_MIB]")
    block_size = int(sys.argv[3] if len(sys.argv) == 4 else 8) * 1024 * 1024
    records = []
    with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as out:
        out.write(b"\xfd7zXZ\x00" + STREAM_FLAGS + crc32(STREAM_FLAGS))
        while True:
            data = src.read(block_size)
            if not data:
                break
            encoded, unpadded = block(data)
            out.write(encoded)
            records.append((unpadded, len(data)))
        index = bytearray(b"\x00" + vli(len(records)))
        for unpadded, size in records:
            index += vli(unpadded) + vli(size)
        index += pad4(len(index))
        index += crc32(index)
        out.write(index)
        backward = struct.pack("<I", len(index) // 4 - 1) + STREAM_FLAGS
        out.write(crc32(backward) + backward + b"YZ")


if __name__ == "__main__":
    main()
