#!/usr/bin/env python3
# Writes an ISO image as a seed of fuzz-iso-reader in its sparse form (see
# fuzz-iso-reader.c): one record per sector that is not all zeros, trailing
# zeros cut, with the tag fix-up flag on sectors that start with a UDF
# descriptor tag, and an empty record for the last sector if it is not
# written otherwise, which keeps the image's size. --drop FIRST-LAST leaves
# sectors out. The seeds in corpus/iso-reader/ came from genisoimage 1.1.11:
#   mkdir -p udf/sources udf/efi/microsoft/boot
#   printf 'bootmgr\n' > udf/bootmgr; printf hi > udf/efi/microsoft/boot/bcd
#   printf wim > udf/sources/boot.wim
#   genisoimage -quiet -udf -V RDUDF -o udf.iso udf
#   genisoimage -quiet -J -V RDJOL -o joliet.iso udf
#   mkdir -p link/boot; printf 'bootmgr\n' > link/bootmgr; printf x > link/boot/bcd
#   ln link/bootmgr link/boot/bootmgr.bak
#   genisoimage -quiet -J -R -cache-inodes -V RDLINK -o link.iso link
#   iso-to-sparse.py --drop 48-53 --drop 284-434 udf.iso udf.sparse
# (the UDF reserve volume descriptor sequence and the anchors after the data
# are not needed), and iso-to-sparse.py joliet.iso joliet.sparse, and so on.
import argparse
import struct

SECTOR = 2048
FIX_TAGS = 0x8000


def is_udf_tag(sector):
    if len(sector) < 16:
        return False
    ident = struct.unpack_from('<H', sector)[0]
    if not (1 <= ident <= 9 or 256 <= ident <= 266):
        return False
    return sum(sector[:4] + sector[5:16]) & 0xff == sector[4]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--drop', action='append', default=[], metavar='FIRST-LAST')
    parser.add_argument('iso')
    parser.add_argument('seed')
    args = parser.parse_args()
    dropped = set()
    for span in args.drop:
        first, last = (int(n) for n in span.split('-'))
        dropped.update(range(first, last + 1))

    with open(args.iso, 'rb') as f:
        image = f.read()
    n_sectors = (len(image) + SECTOR - 1) // SECTOR
    if n_sectors > 0x10000:
        parser.error('the image has more than 65536 sectors')
    out = bytearray(b'RDSPARSE')
    last = -1
    for i in range(n_sectors):
        sector = image[i * SECTOR:(i + 1) * SECTOR].rstrip(b'\0')
        if not sector or i in dropped:
            continue
        flags = len(sector) | (FIX_TAGS if is_udf_tag(sector) else 0)
        out += struct.pack('<HH', i, flags) + sector
        last = i
    if last != n_sectors - 1:
        out += struct.pack('<HH', n_sectors - 1, 0)
    with open(args.seed, 'wb') as f:
        f.write(out)


if __name__ == '__main__':
    main()
