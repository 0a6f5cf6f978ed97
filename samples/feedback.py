"""Synthetic citizen feedback (phản ánh hiện trường) for the text-labeling sample. Not real data."""

from __future__ import annotations

import random
from datetime import date, timedelta

TOPICS = {
    "giao_thong": [
        "Kẹt xe kéo dài trên đường {street} vào giờ cao điểm",
        "Đèn giao thông ở ngã tư {street} không hoạt động",
        "Ổ gà lớn trên đường {street} gây nguy hiểm cho xe máy",
        "Xe đậu trái phép chiếm lòng đường {street}",
    ],
    "moi_truong": [
        "Rác thải chưa được thu gom ở hẻm {n} {street}",
        "Đường {street} bị ngập sâu sau cơn mưa chiều nay",
        "Cây xanh đổ chắn lối đi trên đường {street}",
        "Khói bụi từ công trình xây dựng trên đường {street}",
    ],
    "trat_tu_do_thi": [
        "Lấn chiếm vỉa hè để buôn bán trên đường {street}",
        "Tiếng ồn từ quán karaoke ở số {n} {street} sau 22 giờ",
        "Quảng cáo rao vặt dán trên cột điện đường {street}",
    ],
}
STREETS = [
    "Nguyễn Huệ",
    "Lê Lợi",
    "Hai Bà Trưng",
    "Điện Biên Phủ",
    "Cộng Hòa",
    "Võ Văn Kiệt",
    "Phan Xích Long",
]
WARDS = ["Phường Sài Gòn", "Phường Bến Thành", "Phường Tân Định", "Phường Xuân Hòa", "Phường Gia Định"]


def feedback(rows: int = 300, seed: int = 575) -> list[dict[str, str]]:
    rng = random.Random(seed)  # noqa: S311 - synthetic sample data
    start = date(2025, 7, 1)
    out = []
    for i in range(rows):
        topic = rng.choice(list(TOPICS))
        text = rng.choice(TOPICS[topic]).format(street=rng.choice(STREETS), n=rng.randint(1, 300))
        out.append(
            {
                "ma_phan_anh": f"PA{i + 1:05d}",
                "ngay_tiep_nhan": (start + timedelta(days=rng.randint(0, 120))).strftime("%d/%m/%Y"),
                "phuong": rng.choice(WARDS),
                "noi_dung": text,
                "kenh": rng.choice(["Ứng dụng Công dân số", "Tổng đài 1022", "Cổng thông tin"]),
            }
        )
    return out
