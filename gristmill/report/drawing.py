"""Drawing primitives of the report's Pillow charts: the font, round tick values, labels,
turned text and PNG encoding."""

from __future__ import annotations

import importlib.util
import io
import math
import os
from functools import cache

from PIL import Image, ImageDraw, ImageFont

COLORS = ["#3b6ea8", "#d9822b", "#4d9a5b", "#b04a5a", "#7b5ea7", "#8c6d46", "#5aa3a3"]


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans from matplotlib's data folder (found without importing matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "mpl-data", "fonts", "ttf", "DejaVuSans.ttf")
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``, about ``count`` of them (steps of 1, 2,
    2.5 or 5 times a power of ten)."""
    if not high > low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    value = first * step
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value = (first + len(ticks)) * step
    return ticks


def tick_label(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}"


def to_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def turned_text(text: str, size: int, degrees: float) -> Image.Image:
    """``text`` on a transparent image turned ``degrees`` anticlockwise (paste it with
    itself as the mask)."""
    face = font(size)
    strip = Image.new(
        "RGBA", (int(face.getlength(text)) + 2, int(size * 1.4) + 2), (255, 255, 255, 0)
    )
    ImageDraw.Draw(strip).text((1, 1), text, fill="black", font=face)
    return strip.rotate(degrees, expand=True, resample=Image.Resampling.BICUBIC)
