"""Small real video files made on the spot (PyAV's bundled encoders): the demo's teaching
videos, the tests' uploads and the bench's payload. A moving bar on a coloured field with the
second counter drawn in, so a poster frame and a seek are visibly somewhere."""

from __future__ import annotations

import io

FORMATS = {"webm": ("webm", "libvpx"), "mp4": ("mp4", "libx264")}


def sample_video(*, seconds: float = 2.0, fmt: str = "webm", size: tuple[int, int] = (320, 240),
                 fps: int = 10, colour: tuple[int, int, int] = (11, 110, 79),
                 bitrate: int = 300_000) -> bytes:
    """The bytes of a ``seconds``-long video (``webm``: VP8, ``mp4``: H.264, yuv420p) of
    ``size`` pixels at ``fps`` frames a second. About 0.1 s of CPU a second of 320 × 240."""
    import av
    from PIL import Image, ImageDraw

    container_format, codec = FORMATS[fmt]
    out = io.BytesIO()
    width, height = size
    with av.open(out, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        if fmt == "mp4":
            stream.options = {"preset": "ultrafast"}
        else:
            stream.options = {"deadline": "realtime", "cpu-used": "8"}
        frames = max(1, round(seconds * fps))
        for i in range(frames):
            image = Image.new("RGB", size, colour)
            draw = ImageDraw.Draw(image)
            x = int((width - 40) * i / max(1, frames - 1))
            draw.rectangle((x, height // 3, x + 40, height * 2 // 3), fill=(250, 250, 250))
            draw.text((8, 8), f"{i / fps:05.1f}s", fill=(255, 255, 0))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
