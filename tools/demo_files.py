"""Small real files the demo's fake provider serves for its messages' media.

Standard library only: a PNG picture (a suitcase with a crack), a WAV voice note (a
short two-tone chime), a one-page PDF. Each is made from the media id, so a file is
the same on every download.
"""
import io
import math
import struct
import wave
import zlib

__all__ = ['demo_file']


def _png(width, height, pixel):
    """A truecolour PNG of ``pixel(x, y) -> (r, g, b)``."""
    rows = b''.join(b'\x00' + b''.join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(rows, 6)) + chunk(b'IEND', b''))


def suitcase_picture(seed=0, width=360, height=270):
    """A blue suitcase on a floor, with a crack across it."""
    colour = ((40, 90, 160), (160, 60, 50), (60, 120, 80))[seed % 3]

    def pixel(x, y):
        if y > height * 0.8:
            return (170, 140, 110)                      # floor
        body = 70 <= x <= 290 and 80 <= y <= 220
        handle = (140 <= x <= 220 and 55 <= y <= 62) or ((140 <= x <= 147 or 213 <= x <= 220) and 55 <= y <= 80)
        crack = abs((y - 90) - (x - 150) * 0.9 - 8 * math.sin(x / 6.0)) < 2.2 and 150 <= x <= 260
        if crack and body:
            return (30, 30, 30)
        if body:
            shade = 30 if (x - 70) % 55 < 3 else 0      # ribs of the shell
            return tuple(channel - shade for channel in colour)
        if handle:
            return (40, 40, 40)
        return (235 - y // 6, 235 - y // 6, 240 - y // 8)  # wall
    return _png(width, height, pixel)


def voice_note(seed=0, seconds=2.0, rate=8000):
    """A mono 16-bit WAV: a falling two-tone chime, like a short spoken phrase's rhythm."""
    buffer = io.BytesIO()
    with wave.open(buffer, 'wb') as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        base = 330 + 40 * (seed % 5)
        for n in range(int(seconds * rate)):
            t = n / float(rate)
            tone = base if t < seconds / 2 else base * 0.75
            envelope = math.exp(-3 * (t % (seconds / 2)))
            frames += struct.pack('<h', int(9000 * envelope * math.sin(2 * math.pi * tone * t)))
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def pdf_document(title):
    """A one-page PDF showing ``title``."""
    text = title.replace('\\', '').replace('(', '').replace(')', '')
    stream = 'BT /F1 24 Tf 72 720 Td (%s) Tj ET' % text
    objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
               '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
               '/Resources << /Font << /F1 5 0 R >> >> >>',
               '<< /Length %d >>\nstream\n%s\nendstream' % (len(stream), stream),
               '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']
    body = '%PDF-1.4\n'
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += '%d 0 obj\n%s\nendobj\n' % (number, content)
    xref = len(body)
    body += 'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    body += ''.join('%010d 00000 n \n' % offset for offset in offsets)
    body += 'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objects) + 1, xref)
    return body.encode('latin-1')


def demo_file(media_id, file_name=None):
    """``(bytes, content type)`` of a demo media id (``<extension>-<hex>``), or None."""
    extension = media_id.split('-', 1)[0]
    seed = zlib.crc32(media_id.encode('utf-8'))
    if extension in ('jpg', 'webp'):
        size = (360, 270) if extension == 'jpg' else (160, 160)
        return suitcase_picture(seed, *size), 'image/png'
    if extension in ('ogg', 'mp3'):
        return voice_note(seed), 'audio/wav'
    if extension == 'pdf':
        return pdf_document(file_name or 'Document %s' % media_id[-6:]), 'application/pdf'
    if extension == 'mp4':
        return b'\x00\x00\x00\x18ftypmp42' + bytes(2000), 'video/mp4'
    return None
