"""Synthetic scanned paper forms (phiếu phản ánh, đơn đề nghị) for the image-labeling sample. Not real data.

Each form is rendered with Pillow in DejaVu (Debian `fonts-dejavu-core`, which covers Vietnamese
diacritics), then "scanned": shifted a few pixels, on slightly grey paper, with specks. Annotators
box the handwritten-style fields (họ tên, số điện thoại, địa chỉ, nội dung, ngày) to build training
data for form understanding / OCR. The generator knows where it wrote each field: those boxes
(percent of the image, Label Studio's unit) ship with each row as the pre-annotation.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from samples.feedback import WARDS  # the same wards as the feedback sample

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FIELDS = ["ho_ten", "so_dien_thoai", "dia_chi", "noi_dung", "ngay"]
WIDTH, HEIGHT = 850, 1100  # about A4 at 100 dpi

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hoàng", "Minh", "Ngọc", "Thanh", "Quốc", "Thu"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hạnh", "Khoa", "Lan", "Phúc", "Quỳnh", "Tâm", "Vy", "Đức"]
STREETS = [
    "Nguyễn Huệ",
    "Lê Lợi",
    "Hai Bà Trưng",
    "Điện Biên Phủ",
    "Cộng Hòa",
    "Võ Văn Kiệt",
    "Trần Hưng Đạo",
]
COMPLAINTS = [
    "Đề nghị sửa ổ gà trước nhà số {n} đường {street}, xe máy nhiều lần bị té ngã.",
    "Rác thải tồn đọng nhiều ngày ở đầu hẻm {n} {street}, gây mùi hôi.",
    "Đèn chiếu sáng công cộng trên đường {street} bị hư, ban đêm rất tối.",
    "Quán ăn lấn chiếm vỉa hè trước số {n} {street}, người đi bộ phải xuống lòng đường.",
    "Cống thoát nước trên đường {street} bị nghẹt, mưa là ngập tới gối.",
]
FORM_TYPES = {
    "phieu-phan-anh": "PHIẾU TIẾP NHẬN PHẢN ÁNH, KIẾN NGHỊ",
    "don-de-nghi": "ĐƠN ĐỀ NGHỊ",
}


@dataclass(frozen=True)
class FormScan:
    row: dict[str, str]  # the dataset row: ma_phieu, anh (S3 key), loai_phieu, ngay_quet, phuong, vung_goi_y
    png: bytes
    boxes: list[dict[str, float | str]]  # {x, y, width, height (percent), label}


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: apt-get install -y fonts-dejavu-core")
    return ImageFont.truetype(str(path), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _render(
    kind: str, values: dict[str, str], rng: random.Random
) -> tuple[bytes, list[dict[str, float | str]]]:
    paper = rng.randint(236, 250)
    img = Image.new("L", (WIDTH, HEIGHT), paper)
    draw = ImageDraw.Draw(img)
    bold, regular = _font("DejaVuSerif-Bold.ttf", 17), _font("DejaVuSerif.ttf", 16)
    hand = _font("DejaVuSans-Oblique.ttf", rng.randint(17, 20))  # the filled-in values
    dx, dy = rng.randint(-12, 12), rng.randint(-12, 12)  # the sheet sits a little off on the scanner
    ink = rng.randint(10, 60)
    boxes: list[dict[str, float | str]] = []

    def text(x: int, y: int, s: str, font: ImageFont.FreeTypeFont, fill: int = 0) -> tuple[int, ...]:
        draw.text((x + dx, y + dy), s, font=font, fill=fill)
        return tuple(int(v) for v in draw.textbbox((x + dx, y + dy), s, font=font))

    def field(label: str, x: int, y: int, caption: str, value: str, width: int = 560) -> int:
        """Caption, then the value in 'handwriting' on dotted lines; returns the next free y."""
        cap = text(x, y, caption, regular)
        vx = cap[2] + 14
        lines = _wrap(draw, value, hand, x + width - vx + 120)
        left, top, right, bottom = WIDTH, HEIGHT, 0, 0
        for i, line in enumerate(lines):
            lx = vx if i == 0 else x
            ly = y + i * 34
            draw.line((lx + dx, ly + 26 + dy, x + width + 120 + dx, ly + 26 + dy), fill=150, width=1)
            b = text(lx, ly - 2, line, hand, fill=ink)
            left, top, right, bottom = min(left, b[0]), min(top, b[1]), max(right, b[2]), max(bottom, b[3])
        boxes.append(_percent(left - 3, top - 3, right + 3, bottom + 3, label))
        return y + 34 * len(lines) + 18

    text(60, 50, "ỦY BAN NHÂN DÂN", bold)
    text(60, 74, values["phuong"].upper(), bold)
    text(405, 50, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold)
    text(480, 74, "Độc lập - Tự do - Hạnh phúc", regular)
    title = FORM_TYPES[kind]
    tw = draw.textlength(title, font=_font("DejaVuSerif-Bold.ttf", 22))
    text(int((WIDTH - tw) / 2), 150, title, _font("DejaVuSerif-Bold.ttf", 22))
    y = 230
    if kind == "don-de-nghi":
        text(80, y, f"Kính gửi: Ủy ban nhân dân {values['phuong']}", regular)
        y += 50
        y = field("ho_ten", 80, y, "Tôi tên là:", values["ho_ten"])
        y = field("dia_chi", 80, y, "Địa chỉ thường trú:", values["dia_chi"])
        y = field("so_dien_thoai", 80, y, "Điện thoại liên hệ:", values["so_dien_thoai"])
        y = field("noi_dung", 80, y + 10, "Nội dung đề nghị:", values["noi_dung"])
    else:
        y = field("ho_ten", 80, y, "Họ và tên người phản ánh:", values["ho_ten"])
        y = field("so_dien_thoai", 80, y, "Số điện thoại:", values["so_dien_thoai"])
        y = field("dia_chi", 80, y, "Địa chỉ:", values["dia_chi"])
        y = field("noi_dung", 80, y + 10, "Nội dung phản ánh:", values["noi_dung"])
    y = max(y + 40, 760)
    field("ngay", 360, y, "TP. Hồ Chí Minh,", values["ngay"], width=330)
    text(540, y + 60, "Người viết", bold)
    for _ in range(rng.randint(150, 400)):  # scanner specks
        sx, sy = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        draw.point((sx, sy), fill=rng.randint(90, 200))
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue(), boxes


def _percent(left: int, top: int, right: int, bottom: int, label: str) -> dict[str, float | str]:
    return {
        "x": round(100 * left / WIDTH, 2),
        "y": round(100 * top / HEIGHT, 2),
        "width": round(100 * (right - left) / WIDTH, 2),
        "height": round(100 * (bottom - top) / HEIGHT, 2),
        "label": label,
    }


def form_scans(prefix: str, count: int = 24, seed: int = 575) -> list[FormScan]:
    """`count` synthetic scans; each row's `anh` is `<prefix><ma_phieu>.png`, a key in the labeling bucket."""
    rng = random.Random(seed)  # noqa: S311 - synthetic sample data
    start = date(2025, 7, 1)
    out = []
    for i in range(count):
        kind = list(FORM_TYPES)[i % len(FORM_TYPES)]
        signed = start + timedelta(days=rng.randint(0, 120))
        ward = rng.choice(WARDS)
        street = rng.choice(STREETS)
        values = {
            "phuong": ward,
            "ho_ten": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "so_dien_thoai": "09{:02d} {:03d} {:03d}".format(*(rng.randint(0, n) for n in (99, 999, 999))),
            "dia_chi": f"{rng.randint(1, 300)} {street}, {ward}",
            "noi_dung": rng.choice(COMPLAINTS).format(n=rng.randint(1, 300), street=street),
            "ngay": f"ngày {signed.day:02d} tháng {signed.month:02d} năm {signed.year}",
        }
        png, boxes = _render(kind, values, rng)
        code = f"PH{i + 1:04d}"
        row = {
            "ma_phieu": code,
            "anh": f"{prefix}{code}.png",
            "loai_phieu": kind,
            "ngay_quet": (signed + timedelta(days=rng.randint(1, 5))).strftime("%d/%m/%Y"),
            "phuong": ward,
            "vung_goi_y": json.dumps(boxes, ensure_ascii=False),
        }
        out.append(FormScan(row, png, boxes))
    return out
