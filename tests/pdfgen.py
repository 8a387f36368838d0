"""A tiny, dependency-free PDF writer for test fixtures and the sample site.

It writes small but real PDFs: pages of Helvetica text (WinAnsi encoding),
an optional document title, author, creation date and XMP packet, image-only pages, heavy vector pages, page
labels, RC4 (40-bit, revision 2) encryption with a user password, and
"inflation bombs": a small file whose content stream inflates to hundreds of
megabytes (``padding``), and files whose objects refer to each other in a loop
(``reference_loop_pdf``, ``self_length_pdf``, ``page_labels_loop_pdf``), and
forms drawing forms many times over (``form_tree_pdf``). Output is deterministic: the same call gives the same bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


@dataclass
class PageSpec:
    """One page: lines of text, or an image only, or a heavy vector drawing.

    ``padding`` appends that many bytes of ``filler`` repeated to the content
    stream; they are compressed in chunks, so the inflated stream is never
    held in memory here.
    """

    lines: Sequence[str] = ()
    image_only: bool = False
    vector_ops: int = 0
    font_size: float = 11.0
    line_sizes: Sequence[float] = ()
    """A font size per line (a cover's large title); ``font_size`` for lines beyond it."""
    padding: int = 0
    filler: bytes = b" "


@dataclass
class PdfSpec:
    pages: Sequence[PageSpec | Sequence[str]]
    title: str | None = None
    author: str | None = None
    user_password: str | None = None
    compress: bool = True
    page_labels: Sequence[tuple[int, str, str, int]] = field(default_factory=tuple)
    """``(first page index, style 'r'/'D'/..., prefix, start)`` ranges for /PageLabels."""
    created: str | None = None
    """A PDF date for /CreationDate, e.g. ``D:20190314120000Z``."""
    xmp: str | None = None
    """An XMP packet stored, uncompressed, as the catalog's /Metadata stream."""


def _content(page: PageSpec) -> bytes:
    if page.image_only:
        return b"q 400 0 0 300 100 400 cm /Im1 Do Q\n"
    parts: list[bytes] = []
    if page.vector_ops:
        ops = [
            f"{i % 500} {i % 700} m {(i * 7) % 500} {(i * 3) % 700} l S"
            for i in range(page.vector_ops)
        ]
        parts.append(("\n".join(ops) + "\n").encode())
    if page.lines:
        leading = page.font_size * 1.4
        parts.append(f"BT /F1 {page.font_size:g} Tf {leading:g} TL 72 770 Td\n".encode())
        for number, line in enumerate(page.lines):
            if page.line_sizes:
                size = page.line_sizes[number] if number < len(page.line_sizes) else page.font_size
                parts.append(f"/F1 {size:g} Tf {size * 1.4:g} TL\n".encode())
            parts.append(_pdf_string(line) + b" '\n")
        parts.append(b"ET\n")
    return b"".join(parts)


def make_pdf(spec: PdfSpec) -> bytes:
    """The bytes of a PDF built from ``spec``."""
    pages = [p if isinstance(p, PageSpec) else PageSpec(lines=tuple(p)) for p in spec.pages]
    objects: list[bytes | None] = [None]  # object numbers start at 1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects) - 1

    def reserve() -> int:
        objects.append(None)
        return len(objects) - 1

    catalog = reserve()
    pages_obj = reserve()
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = add(
        b"STREAM<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 >>\x00\x00\x80\xff"
    )
    kids: list[int] = []
    padding: dict[int, tuple[int, bytes]] = {}
    for page in pages:
        content = add(b"STREAM<< >>" + _content(page))
        if page.padding:
            padding[content] = (page.padding, page.filler)
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font} 0 R >> /XObject << /Im1 {image} 0 R >> >> "
                f"/Contents {content} 0 R >>".encode()
            )
        )
    objects[pages_obj] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    )
    labels = b""
    if spec.page_labels:
        nums = " ".join(
            f"{start} << /S /{style}" + (f" /P ({prefix})" if prefix else "") + f" /St {first} >>"
            for start, style, prefix, first in spec.page_labels
        )
        labels = f" /PageLabels << /Nums [{nums}] >>".encode()
    if spec.xmp is not None:
        metadata = add(b"RAWSTREAM<< /Type /Metadata /Subtype /XML >>" + spec.xmp.encode("utf-8"))
        labels += f" /Metadata {metadata} 0 R".encode()
    objects[catalog] = f"<< /Type /Catalog /Pages {pages_obj} 0 R".encode() + labels + b" >>"
    info_parts = []
    if spec.title is not None:
        info_parts.append(b"/Title " + _pdf_string(spec.title))
    if spec.author is not None:
        info_parts.append(b"/Author " + _pdf_string(spec.author))
    if spec.created is not None:
        info_parts.append(b"/CreationDate " + _pdf_string(spec.created))
    info = add(b"<< " + b" ".join(info_parts) + b" >>") if info_parts else None

    file_id = hashlib.md5(repr((spec.title, len(pages))).encode()).digest()
    encrypt_key = None
    encrypt_obj = None
    if spec.user_password is not None:
        user = (spec.user_password.encode("latin-1") + _PAD)[:32]
        owner = (b"owner-" + spec.user_password.encode("latin-1") + _PAD)[:32]
        owner_value = _rc4(hashlib.md5(owner).digest()[:5], user)
        permissions = -44
        encrypt_key = hashlib.md5(
            user + owner_value + permissions.to_bytes(4, "little", signed=True) + file_id
        ).digest()[:5]
        user_value = _rc4(encrypt_key, _PAD)
        encrypt_obj = add(
            f"<< /Filter /Standard /V 1 /R 2 /O <{owner_value.hex()}> /U <{user_value.hex()}> "
            f"/P {permissions} >>".encode()
        )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = [0] * len(objects)
    for number in range(1, len(objects)):
        body = objects[number]
        assert body is not None
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode()
        if body.startswith((b"STREAM", b"RAWSTREAM")):
            raw = body.startswith(b"RAW")
            body = body[3:] if raw else body
            dict_end = body.index(b">>") + 2
            head, data = body[6 : dict_end - 2], body[dict_end:]
            if spec.compress and not raw:
                data = _deflate(data, *padding.get(number, (0, b" ")))
                head += b" /Filter /FlateDecode"
            elif number in padding:
                raise ValueError("padding needs compress=True")
            if encrypt_key is not None:
                data = _rc4(_object_key(encrypt_key, number), data)
            out += head + f" /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"
        else:
            if encrypt_key is not None and number != encrypt_obj:
                body = _encrypt_strings(body, _object_key(encrypt_key, number))
            out += body
        out += b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects)}\n0000000000 65535 f \n".encode()
    for number in range(1, len(objects)):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects)} /Root {catalog} 0 R".encode()
    if info is not None:
        trailer += f" /Info {info} 0 R".encode()
    if encrypt_obj is not None:
        trailer += f" /Encrypt {encrypt_obj} 0 R".encode()
    trailer += f" /ID [<{file_id.hex()}> <{file_id.hex()}>] >>".encode()
    out += b"trailer\n" + trailer + f"\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _deflate(data: bytes, padding: int, filler: bytes) -> bytes:
    """``data`` then ``padding`` bytes of ``filler`` repeated, zlib level 9, in 1 MB chunks."""
    compressor = zlib.compressobj(9)
    out = [compressor.compress(data)]
    chunk = filler * ((1 << 20) // len(filler))
    while padding > 0:
        piece = chunk[:padding]
        out.append(compressor.compress(piece))
        padding -= len(piece)
    out.append(compressor.flush())
    return b"".join(out)


def _object_key(key: bytes, number: int) -> bytes:
    return hashlib.md5(key + number.to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]


def _encrypt_strings(body: bytes, key: bytes) -> bytes:
    """Encrypt the literal strings of an object (only simple, unnested ones occur here)."""
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i : i + 1] == b"(":
            j = i + 1
            raw = bytearray()
            while body[j : j + 1] != b")":
                if body[j : j + 1] == b"\\":
                    j += 1
                raw += body[j : j + 1]
                j += 1
            out += b"<" + _rc4(key, bytes(raw)).hex().encode() + b">"
            i = j + 1
        else:
            out += body[i : i + 1]
            i += 1
    return bytes(out)


def text_pdf(pages: Sequence[Sequence[str]], title: str | None = None, **options: object) -> bytes:
    """Shorthand: a PDF whose pages hold the given lines of text."""
    specs = [PageSpec(lines=tuple(p)) for p in pages]
    return make_pdf(PdfSpec(pages=specs, title=title, **options))  # type: ignore[arg-type]


def inflating_pdf(
    inflated_mb: int = 200, lines: Sequence[str] = ("Inflation bomb",), filler: bytes = b"q Q\n"
) -> bytes:
    """A small PDF whose one page's content stream inflates to ``inflated_mb`` MB.

    The text comes first, then ``filler`` repeated (by default a harmless
    save/restore of the graphics state): about 0.2 MB on disk for 200 MB.
    """
    page = PageSpec(lines=tuple(lines), padding=inflated_mb << 20, filler=filler)
    return make_pdf(PdfSpec(pages=[page], title="Bomb"))


def _assemble(bodies: Sequence[bytes]) -> bytes:
    """A PDF of the given object bodies (object 1 is the catalog), with an exact xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def reference_loop_pdf(where: str = "Contents") -> bytes:
    """A one-page PDF in which object 5 is ``6 0 R`` and object 6 is ``5 0 R``: a
    reference loop, named by the page's ``where``: its ``Contents``, its
    ``Resources``, or its font (``Font``). Otherwise the page says "Looped".

    About 700 bytes; pdfminer's ``resolve1`` follows such a chain for ever.
    """
    contents, resources, font = {
        "Contents": ("5 0 R", "4 0 R", "8 0 R"),
        "Resources": ("7 0 R", "5 0 R", "8 0 R"),
        "Font": ("7 0 R", "4 0 R", "5 0 R"),
    }[where]
    text = b"BT /F1 11 Tf 72 770 Td (Looped) Tj ET"
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources {resources} "
            f"/Contents {contents} >>".encode(),
            f"<< /Font << /F1 {font} >> >>".encode(),
            b"6 0 R",
            b"5 0 R",
            f"<< /Length {len(text)} >>\nstream\n".encode() + text + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _text_stream(text: str, extra: bytes = b"") -> bytes:
    content = f"BT /F1 11 Tf 72 770 Td ({text}) Tj ET".encode() + extra
    return f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"


def form_tree_pdf(levels: int, repeats: int, text: str = "Forms", last: str = "Leaf") -> bytes:
    """A one-page PDF whose page says ``text`` and draws form 1 once; form n draws
    form n + 1 ``repeats`` times, and the last of ``levels`` forms says ``last``.

    No loop, but ``repeats ** (levels - 1)`` drawings of the last form: 9
    levels of 8 is 16.7 million from 2.5 KB.
    """
    first_form = 6
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> /XObject << /X 6 0 R >> >> /Contents 5 0 R >>",
        _FONT,
        _text_stream(text, b" /X Do"),
    ]
    for level in range(levels):
        number = first_form + level
        if level < levels - 1:
            content = b"/X Do " * repeats
            xobjects = f"/XObject << /X {number + 1} 0 R >> ".encode()
        else:
            content = f"BT /F1 11 Tf 72 700 Td ({last}) Tj ET".encode()
            xobjects = b""
        bodies.append(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> "
            + xobjects
            + f">> /Length {len(content)} >>\nstream\n".encode()
            + content
            + b"\nendstream"
        )
    return _assemble(bodies)


def self_length_pdf(text: str = "Self length") -> bytes:
    """A one-page PDF whose content stream, object 5, gives ``/Length 5 0 R``: its
    length is itself, so reading the stream needs the stream first."""
    content = f"BT /F1 11 Tf 72 770 Td ({text}) Tj ET".encode()
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            _FONT,
            b"<< /Length 5 0 R >>\nstream\n" + content + b"\nendstream",
        ]
    )


def page_labels_loop_pdf(text: str = "Labelled") -> bytes:
    """A one-page PDF whose ``/PageLabels`` tree, object 6, is its own only kid."""
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R /PageLabels 6 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            _FONT,
            _text_stream(text),
            b"<< /Kids [6 0 R] >>",
        ]
    )
