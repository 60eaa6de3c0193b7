"""The filled form as PDF: every visible answer, images embedded, any name readable, rendered off the loop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfReader

import pdf.forms
from models.customers import SiteObject
from tests.factories import make_employee
from tests.forms.conftest import (
    SUBMIT,
    create_template,
    download,
    pdf_images,
    pdf_text,
    png_bytes,
    submit_input,
    upload_submit,
)

NAMES = ["Jürgen Groß-Äßlinger", "Łukasz Żółkiewski", "Şükrü Çağlayan İnce", "Жанна Ковалёва"]


async def test_pdf_holds_every_answer_in_any_script_with_photos_and_signature(gql, company, client, settings):
    filler = await make_employee(settings, name=" / ".join(NAMES))
    site = await SiteObject.create(
        customer_id=company.customer.id, name="Świetlica Ölçek – Общежитие", address="Große Straße 5, 12345 Grünstadt"
    )
    elements = [
        {"key": "info", "kind": "INFO", "label": "Hinweis", "description": "Vor Ort ausfüllen."},
        {"key": "text", "kind": "TEXT", "label": "Bemerkung"},
        {"key": "count", "kind": "NUMBER", "label": "Anzahl Räume"},
        {"key": "ok", "kind": "YES_NO", "label": "Alles in Ordnung?"},
        {"key": "one", "kind": "SINGLE_CHOICE", "label": "Zustand", "options": ["gut", "mäßig", "schlecht"]},
        {"key": "many", "kind": "MULTIPLE_CHOICE", "label": "Mängel", "options": ["Staub", "Flecken", "Müll"]},
        {"key": "rating", "kind": "RATING", "label": "Gesamteindruck", "scale": 5},
        {"key": "day", "kind": "DATE", "label": "Nächste Begehung"},
        {"key": "photo1", "kind": "PHOTO", "label": "Foto Flur"},
        {"key": "photo2", "kind": "PHOTO", "label": "Foto Küche"},
        {"key": "sign", "kind": "SIGNATURE", "label": "Unterschrift Objektleitung"},
        {"key": "skipped", "kind": "TEXT", "label": "Nicht beantwortet"},
    ]
    template = await create_template(gql, company, elements, name="Begehung Ämter & Straßen")
    variables = submit_input(
        company,
        template,
        [
            {"key": "text", "text": "Грязный пол; żółte plamy; kırık kapı"},
            {"key": "count", "number": 12},
            {"key": "ok", "boolean": False},
            {"key": "one", "choices": ["mäßig"]},
            {"key": "many", "choices": ["Staub", "Müll"]},
            {"key": "rating", "number": 3},
            {"key": "day", "date": "2026-12-24"},
            {"key": "photo1", "upload": None},
            {"key": "photo2", "upload": None},
            {"key": "sign", "upload": None},
        ],
        site=site,
    )
    body = await upload_submit(
        gql,
        filler.token,
        SUBMIT,
        variables,
        {
            "variables.input.answers.7.upload": ("flur.png", png_bytes((640, 480), (10, 120, 200))),
            "variables.input.answers.8.upload": ("küche.png", png_bytes((300, 600), (90, 200, 10))),
            "variables.input.answers.9.upload": ("signatur.png", png_bytes((200, 60), (255, 255, 255))),
        },
    )
    assert not body.get("errors"), body
    data = await download(client, body["data"]["submitForm"]["pdfUrl"])
    assert data.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(data.content).split())  # long lines wrap at spaces
    for expected in [
        *NAMES,
        "Begehung Ämter & Straßen",
        "Version 1",
        "Świetlica Ölçek – Общежитие",
        "Große Straße 5, 12345 Grünstadt",
        "Hinweis",
        "Vor Ort ausfüllen.",
        "Грязный пол; żółte plamy; kırık kapı",
        "Anzahl Räume",
        "12",
        "Alles in Ordnung?",
        "Nein",
        "mäßig",
        "Staub, Müll",
        "3 / 5",
        "24.12.2026",
        "flur.png",
        "küche.png",
        "Unterschrift Objektleitung",
        "Nicht beantwortet",
    ]:
        assert expected in text, expected
    assert pdf_images(data.content) == 3


async def test_rendering_runs_in_a_worker_thread(monkeypatch):
    seen = []
    real = pdf.forms.render_form

    def spy(form):
        seen.append(threading.get_ident())
        return real(form)

    monkeypatch.setattr(pdf.forms, "render_form", spy)
    form = pdf.forms.FilledForm(
        "Feedback", 1, None, None, "Anonym", datetime.now(UTC), [pdf.forms.PdfItem("Frage", "Antwort")]
    )
    data = await pdf.forms.render_form_async(form)
    assert data.startswith(b"%PDF-")
    assert seen and seen[0] != threading.get_ident()


def test_fonts_ship_with_the_package():
    fonts = pdf.forms.FONTS
    assert (fonts / "DejaVuSans.ttf").is_file() and (fonts / "DejaVuSans-Bold.ttf").is_file()
    assert "Bitstream" in (fonts / "LICENSE").read_text()


@pytest.mark.parametrize(
    "mode, fmt",
    [("RGBA", "PNG"), ("P", "GIF"), ("LA", "PNG"), ("CMYK", "JPEG"), ("RGB", "WEBP"), ("I;16", "PNG"), ("L", "JPEG")],
)
@pytest.mark.parametrize("signature", [False, True])
def test_every_image_mode_embeds(tmp_path, mode, fmt, signature):
    path = tmp_path / f"image.{fmt.lower()}"
    Image.new(mode, (1600, 400)).save(path, format=fmt)
    prepared = pdf.forms.prepare_image(path, signature)
    with Image.open(BytesIO(prepared)) as image:
        assert max(image.size) == pdf.forms.MAX_IMAGE_PIXELS
    form = pdf.forms.FilledForm(
        "Bild",
        1,
        None,
        None,
        "Anonym",
        datetime.now(UTC),
        [pdf.forms.PdfItem("Bild", "image", image=prepared, is_signature=signature)],
    )
    assert len(PdfReader(BytesIO(pdf.forms.render_form(form))).pages[0].images) == 1


def test_photos_are_turned_upright(tmp_path):
    path = tmp_path / "gedreht.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    Image.new("RGB", (400, 300)).save(path, format="JPEG", exif=exif)
    with Image.open(BytesIO(pdf.forms.prepare_image(path))) as image:
        assert image.size == (300, 400)
