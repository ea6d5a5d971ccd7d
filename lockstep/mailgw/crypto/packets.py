"""OpenPGP packet framing (RFC 9580 section 4.2) and MPIs (section 3.2), as plain bytes.

pysequoia parses whole messages, but its `PacketPile` inflates compressed packets as it goes
(with no bound) and cannot be handed a decrypted packet stream of our own. `unwrap.py` and
`keygen.py` need exactly that, so this module frames packets itself:

- new-format headers (one-, two- and five-octet lengths, and partial body lengths, which
  GnuPG uses for data it streams: literal, compressed and encrypted packets);
- old-format (legacy) headers, including the indeterminate length GnuPG writes for the
  compressed packet inside encryption;
- writing new-format headers with a definite length.

Everything here is pure; a damaged stream raises `PacketError` (a ValueError).
"""

from __future__ import annotations

from dataclasses import dataclass

# Packet tags (RFC 9580 section 5).
PKESK = 1
SIGNATURE = 2
ONE_PASS_SIGNATURE = 4
SECRET_KEY = 5
SECRET_SUBKEY = 7
COMPRESSED = 8
LITERAL = 11
USER_ID = 13
SEIPD = 18
MDC = 19
# Only packets that carry streamed data may use partial body lengths (section 4.2.1.4):
# the legacy encrypted packet (9), compressed, literal, SEIPD and the OCB packet (20).
_STREAMED = frozenset({9, COMPRESSED, LITERAL, SEIPD, 20})

_NEW_FORMAT = 0x40
_PARTIAL_MIN, _PARTIAL_MAX = 224, 254
_TWO_OCTET_MIN, _TWO_OCTET_MAX = 192, 223
_TWO_OCTET_END = (_TWO_OCTET_MAX - _TWO_OCTET_MIN) * 256 + 255 + _TWO_OCTET_MIN + 1  # 8384
_FIVE_OCTET = 255
_OLD_LENGTH_OCTETS = (1, 2, 4)  # old-format length types 0, 1, 2; type 3 is indeterminate


class PacketError(ValueError):
    """The bytes are not well-framed OpenPGP packets."""


@dataclass(frozen=True)
class RawPacket:
    tag: int
    body: bytes


def _take(data: bytes, pos: int, count: int) -> bytes:
    if count < 0 or pos + count > len(data):
        msg = "truncated OpenPGP packet"
        raise PacketError(msg)
    return data[pos : pos + count]


def _new_length(data: bytes, pos: int) -> tuple[int, int, bool]:
    """(length, position after the length, whether it is a partial length)."""
    first = _take(data, pos, 1)[0]
    if first < _TWO_OCTET_MIN:
        return first, pos + 1, False
    if first <= _TWO_OCTET_MAX:
        second = _take(data, pos + 1, 1)[0]
        return ((first - _TWO_OCTET_MIN) << 8) + second + _TWO_OCTET_MIN, pos + 2, False
    if first == _FIVE_OCTET:
        return int.from_bytes(_take(data, pos + 1, 4), "big"), pos + 5, False
    return 1 << (first & 0x1F), pos + 1, True


def _new_body(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """A new-format body at `pos`, joining partial body lengths; (body, end)."""
    chunks = []
    while True:
        length, pos, partial = _new_length(data, pos)
        if partial and tag not in _STREAMED:
            msg = f"packet tag {tag} may not use partial body lengths"
            raise PacketError(msg)
        chunks.append(_take(data, pos, length))
        pos += length
        if not partial:
            return b"".join(chunks), pos


def _old_body(data: bytes, pos: int, length_type: int) -> tuple[bytes, int]:
    if length_type == len(_OLD_LENGTH_OCTETS):  # indeterminate: up to the end of the data
        return data[pos:], len(data)
    octets = _OLD_LENGTH_OCTETS[length_type]
    length = int.from_bytes(_take(data, pos, octets), "big")
    return _take(data, pos + octets, length), pos + octets + length


def read_packet(data: bytes, pos: int = 0) -> tuple[RawPacket, int]:
    """The packet that starts at `pos`, and the position after it."""
    ctb = _take(data, pos, 1)[0]
    if not ctb & 0x80:
        msg = "not an OpenPGP packet header"
        raise PacketError(msg)
    if ctb & _NEW_FORMAT:
        tag = ctb & 0x3F
        body, end = _new_body(data, pos + 1, tag)
    else:
        tag = (ctb >> 2) & 0x0F
        body, end = _old_body(data, pos + 1, ctb & 0x03)
    return RawPacket(tag, body), end


def split_packets(data: bytes) -> list[RawPacket]:
    """Every packet in `data`, which must hold whole packets and nothing else."""
    packets = []
    pos = 0
    while pos < len(data):
        packet, pos = read_packet(data, pos)
        packets.append(packet)
    return packets


def encode_packet(tag: int, body: bytes) -> bytes:
    """A new-format packet with a definite length (RFC 9580 section 4.2.1)."""
    size = len(body)
    if size < _TWO_OCTET_MIN:
        length = bytes([size])
    elif size < _TWO_OCTET_END:
        rest = size - _TWO_OCTET_MIN
        length = bytes([(rest >> 8) + _TWO_OCTET_MIN, rest & 0xFF])
    else:
        length = bytes([_FIVE_OCTET]) + size.to_bytes(4, "big")
    return bytes([0x80 | _NEW_FORMAT | tag]) + length + body


def literal_data(body: bytes) -> bytes:
    """The content of a literal data packet's body: after format, file name and date."""
    name_length = _take(body, 1, 1)[0]
    _take(body, 2 + name_length, 4)  # the date must be there
    return body[6 + name_length :]


def read_mpi(data: bytes, pos: int) -> tuple[bytes, int]:
    """The big-endian value of the MPI at `pos` (without its bit count), and the end."""
    bits = int.from_bytes(_take(data, pos, 2), "big")
    octets = (bits + 7) // 8
    return _take(data, pos + 2, octets), pos + 2 + octets


def encode_mpi(value: bytes) -> bytes:
    """`value` (big-endian) as an MPI: leading zero octets dropped, then its bit count."""
    value = value.lstrip(b"\0")
    bits = (len(value) - 1) * 8 + value[0].bit_length() if value else 0
    return bits.to_bytes(2, "big") + value
