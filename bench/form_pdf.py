"""Benchmark: render the PDF of a filled 40-question form with 4 photos.

Measures wall time per render (median and max over several runs) and peak
memory: Python allocations with tracemalloc, and the process's peak RSS
growth (which also counts Pillow's and fpdf2's native buffers).

    PYTHONPATH=. python bench/form_pdf.py [--runs 10] [--photo 4032x3024]

Photos are synthetic JPEGs of the given size (default: a 12-megapixel phone
photo), noisy so they compress like real ones.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from pdf.forms import FilledForm, PdfItem, PdfTicket, prepare_image, render_form

KINDS = ["rating", "yes_no", "text", "choice", "number"]


def make_photo(path: Path, size: tuple[int, int], seed: int) -> None:
    noise = Image.effect_noise(size, 40 + seed).convert("RGB")
    draw = ImageDraw.Draw(noise)
    for i in range(12):
        x, y = (seed * 97 + i * 331) % size[0], (seed * 53 + i * 197) % size[1]
        draw.rectangle((x, y, x + size[0] // 6, y + size[1] // 8), fill=(30 * i % 255, 120, 200 - 10 * i))
    noise.filter(ImageFilter.GaussianBlur(1)).save(path, format="JPEG", quality=88)


def make_form(photos: list[tuple[str, bytes]]) -> FilledForm:
    items = []
    for n in range(40):
        kind = KINDS[n % len(KINDS)]
        answer = {
            "rating": f"{n % 5 + 1} / 5",
            "yes_no": "Ja" if n % 2 else "Nein",
            "text": f"Fensterbänke staubig, Papierkorb übervoll, Boden klebt (Raum {n}).",
            "choice": "mäßig",
            "number": str(n * 3),
        }[kind]
        items.append(
            PdfItem(
                label=f"Frage {n + 1}: Zustand Raum {n + 1} – Sauberkeit der Flächen",
                answer=answer,
                description="Bitte sorgfältig prüfen." if n % 4 == 0 else "",
            )
        )
    for i, (name, image) in enumerate(photos):
        items.append(PdfItem(label=f"Foto {i + 1}", answer=name, image=image))
    return FilledForm(
        template_name="Objektbegehung Großküche",
        version=3,
        object_name="Verwaltungsgebäude Hauptstraße",
        object_address="Hauptstraße 12, 12345 Musterstadt",
        filled_by="Jonas Weber",
        filled_at=datetime.now(UTC),
        items=items,
        tickets=[PdfTicket(1234, "Nachreinigung Sanitärräume", "Nachreinigung", "01.12.2026")],
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def make_photos(directory: str, size: tuple[int, int]) -> None:
    for i in range(4):
        make_photo(Path(directory) / f"foto_{i + 1}.jpg", size, i)


def timed(function, *args):
    tracemalloc.start()
    started = time.perf_counter()
    result = function(*args)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--photo", default="4032x3024", help="photo size WxH")
    args = parser.parse_args()
    width, height = (int(v) for v in args.photo.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        # Made in a child process, so this process's peak RSS shows only the PDF work.
        child = multiprocessing.get_context("spawn").Process(target=make_photos, args=(tmp, (width, height)))
        child.start()
        child.join()
        paths = sorted(Path(tmp).glob("foto_*.jpg"))
        photo_bytes = sum(p.stat().st_size for p in paths)
        rss_before = rss_mb()

        def prepare_all() -> list[tuple[str, bytes]]:
            return [(p.name, prepare_image(p)) for p in paths]

        photos, prepare_time, prepare_peak = timed(prepare_all)
        form = make_form(photos)
        data, first_time, render_peak = timed(render_form, form)
        rss_after = rss_mb()
        prepare_times, render_times = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            prepare_all()
            prepare_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            render_form(form)
            render_times.append(time.perf_counter() - started)

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"

    print(f"form: 40 questions + 4 photos, {width}x{height} JPEG ({photo_bytes / 1e6:.1f} MB together)")
    print(f"PDF: {len(data) / 1e6:.2f} MB")
    print(f"prepare 4 photos (decode, shrink to 1200 px, JPEG) over {args.runs} runs: {ms(prepare_times)}")
    print(f"render the PDF over {args.runs} runs: {ms(render_times)}")
    print(f"first run with tracemalloc: prepare {prepare_time * 1000:.0f} ms, render {first_time * 1000:.0f} ms")
    print(
        f"peak Python allocations (tracemalloc): prepare {prepare_peak / 1e6:.1f} MB, render {render_peak / 1e6:.1f} MB"
    )
    print(
        f"peak RSS growth over the first prepare + render: {rss_after - rss_before:.1f} MB "
        f"(process peak RSS {rss_mb():.0f} MB)"
    )


if __name__ == "__main__":
    main()
