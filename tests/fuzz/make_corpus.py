#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into corpus/<target>/: small
valid inputs and the broken forms each parser must refuse. Run it again after
changing it; the files it writes are committed."""
import gzip
import struct
from pathlib import Path

root = Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    folder = root / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


images = idx(0x08, [2, 3, 3], bytes(range(18)))
write("idx", "ubyte_images", images)
write("idx", "ubyte_labels", idx(0x08, [4], bytes([0, 9, 3, 1])))
write("idx", "sbyte", idx(0x09, [3], bytes([0x80, 0x7F, 0])))
write("idx", "short", idx(0x0B, [2, 2], struct.pack(">4h", -1, 2, -300, 4)))
write("idx", "int", idx(0x0C, [2], struct.pack(">2i", -5, 70000)))
write("idx", "float", idx(0x0D, [1, 3], struct.pack(">3f", 0.5, -1.0, 3.25)))
write("idx", "double", idx(0x0E, [2], struct.pack(">2d", 1e300, -0.0)))
write("idx", "gzipped", gzip.compress(images, mtime=0))
write("idx", "gzip_trailer_cut", gzip.compress(images, mtime=0)[:-3])
write("idx", "gzip_data_cut", gzip.compress(images, mtime=0)[:20])
write("idx", "gzip_appended", gzip.compress(images, mtime=0) + b"xyz")
write("idx", "data_cut", images[:-5])
write("idx", "header_cut", images[:6])
write("idx", "trailing_bytes", images + b"\x01\x02")
write("idx", "bad_magic", b"\x01\x00\x08\x01" + images[4:])
write("idx", "unknown_type", b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
write("idx", "rank_zero", b"\x00\x00\x08\x00")
write("idx", "zero_dim", idx(0x08, [0, 1000000], b""))
write("idx", "huge_dims", idx(0x0D, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b"\x00" * 8))

record = bytes([3]) + bytes((i * 7) % 256 for i in range(3072))
write("cifar10", "one_record", bytes([0]) + record)
write("cifar10", "two_records_normalized", bytes([1]) + record + bytes([9]) + record[1:])
write("cifar10", "label_out_of_range", bytes([0]) + bytes([10]) + record[1:])
write("cifar10", "record_cut", bytes([0]) + record[:-1])
write("cifar10", "names_from_bytes", bytes([40 << 1]) + b"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n" + record[20:])
write("cifar10", "uniform_image", bytes([1]) + bytes([0]) + bytes(3072))
write("cifar10", "empty", bytes([0]))

alphabet = b"0123456789+ "
write("char_codec", "addition", bytes([len(alphabet)]) + alphabet + b"12+345")
write("char_codec", "duplicate", bytes([3]) + b"aba" + b"ab")
write("char_codec", "outside", bytes([2]) + b"01" + b"012")
write("char_codec", "all_bytes", bytes([255]) + bytes(range(1, 256)) + b"\x00\xff")
write("char_codec", "empty_alphabet", bytes([0]) + b"text")

# Edit programs (tests/fuzz/model_file.cpp): op, target, then the op's bytes.
write("model_file", "unedited", b"")
write("model_file", "delete_something", bytes([0, 5]))
write("model_file", "retype_an_attribute", bytes([1, 3, 1, 0, 3, 5]) + b"Dense")
write("model_file", "reshape_a_dataset", bytes([2, 9, 2, 3, 4, 0, 1]) + bytes(range(12)))
write("model_file", "flip_a_bit", bytes([3, 12]) + bytes(8) + bytes([30]))
write("model_file", "add_layers", bytes([4, 0, 2]) + b"99" + bytes([5, 7, 2]) + b"03" + bytes([1]))
