"""The portal's topics (CKAN groups): a spec's `topics` entry -> the group's name, title, description.

A spec names a topic either by its slug (`hanh-chinh`) or by free text (`Giao thông vận tải`). The
group's `name` is always the slug; its title is the topic's Vietnamese text: for a known slug the
title below, for free text the text itself (a slug not listed here keeps its own spelling, since
its accents cannot be guessed). Every group gets a Vietnamese description.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    title: str  # Vietnamese
    title_en: str
    description: str  # Vietnamese


# Topics a city portal's agencies publish under (slug -> title); a new one is one line here.
TOPICS: dict[str, Topic] = {
    "hanh-chinh": Topic("Hành chính", "Administration",
                        "Đơn vị hành chính (tỉnh, thành phố, phường, xã, đặc khu): mã và tên sau sắp xếp "
                        "từ ngày 01/07/2025."),
    "do-thi": Topic("Đô thị", "Urban affairs",
                    "Quản lý đô thị, trật tự đô thị, hạ tầng và phản ánh hiện trường của người dân."),
    "giao-thong": Topic("Giao thông", "Transport",
                        "Giao thông vận tải: tuyến đường, xe buýt, bến bãi, tình hình giao thông."),
    "moi-truong": Topic("Môi trường", "Environment",
                        "Chất lượng không khí, nước, rác thải, cây xanh và ngập nước."),
    "y-te": Topic("Y tế", "Health", "Cơ sở y tế, nhà thuốc, tiêm chủng và sức khỏe cộng đồng."),
    "giao-duc": Topic("Giáo dục", "Education", "Trường học, học sinh, giáo viên và tuyển sinh."),
    "dan-so": Topic("Dân số", "Population", "Dân số, hộ gia đình và lao động theo đơn vị hành chính."),
    "kinh-te": Topic("Kinh tế", "Economy", "Doanh nghiệp, đầu tư, thương mại, giá cả và ngân sách."),
    "dat-dai": Topic("Đất đai", "Land", "Quy hoạch, sử dụng đất và bản đồ địa chính."),
    "xay-dung": Topic("Xây dựng", "Construction", "Cấp phép xây dựng, công trình và nhà ở."),
    "nang-luong": Topic("Năng lượng", "Energy", "Điện, chiếu sáng công cộng và năng lượng tái tạo."),
    "van-hoa-du-lich": Topic("Văn hóa, du lịch", "Culture and tourism",
                             "Di tích, bảo tàng, lễ hội, cơ sở lưu trú và điểm du lịch."),
    "an-sinh-xa-hoi": Topic("An sinh xã hội", "Social welfare",
                            "Bảo trợ xã hội, người có công, hộ nghèo và việc làm."),
    "an-ninh-trat-tu": Topic("An ninh trật tự", "Public safety",
                             "Phòng cháy chữa cháy, an toàn giao thông và trật tự công cộng."),
}  # fmt: skip


def topic_for(slug: str, text: str) -> Topic:
    """The topic of a spec's `topics` entry `text` (its slug: `slug`)."""
    if slug in TOPICS:
        return TOPICS[slug]
    title = text.strip()
    return Topic(title, title, f"Dữ liệu mở của Thành phố Hồ Chí Minh về chủ đề: {title}.")
