"""How long a sheet of 1,000 badges takes to render, cold and with the QR cache warm."""

import time
from io import BytesIO

from pypdf import PdfReader

from app.badges.pdf import BadgeData, render_badge_sheet
from app.badges.qr import qr_matrix
from app.models import new_badge_code

COUNT = 1000
FIRST_NAMES = ["Ňurgeldi", "Aýna", "Gulnara", "Merdan", "Jeren", "Döwlet", "Çary", "Ýazgül"]
LAST_NAMES = ["Şükürow", "Orazowa", "Аманова", "Gurbanow", "Öwezowa", "Annaýew", "Nurmyradow"]


def sample_badges(count: int = COUNT) -> list[BadgeData]:
    return [
        BadgeData(
            name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i % len(LAST_NAMES)]} {i}",
            organization="Institute of State, Law and Democracy of Turkmenistan",
            position="Head of department" if i % 2 else "Researcher",
            participation=["Ashgabat main venue", "Ahal information centre"][i % 2],
            event_title="The Constitution of Turkmenistan: the guarantee of human rights "
            "and freedoms",
            event_when="Friday, 12 June 2026 · 10:00–14:00",
            code=new_badge_code(),
        )
        for i in range(count)
    ]


def main() -> None:
    badges = sample_badges()
    started = time.perf_counter()
    data = render_badge_sheet(badges)
    cold = time.perf_counter() - started
    pages = len(PdfReader(BytesIO(data)).pages)
    started = time.perf_counter()
    render_badge_sheet(badges)
    warm = time.perf_counter() - started
    info = qr_matrix.cache_info()
    print(f"badges: {COUNT}, pages: {pages}, size: {len(data) / 1e6:.1f} MB")
    print(f"first render (QR codes generated): {cold:.2f} s")
    print(f"second render (QR codes cached):   {warm:.2f} s")
    print(f"QR cache: {info.hits} hits, {info.misses} misses")


if __name__ == "__main__":
    main()
