"""The filled form as PDF: built from plain data, rendered off the event loop.

The renderer knows nothing of the database: the caller hands it a
`FilledForm` (texts and image paths), so it can run in a worker thread and
before the transaction that stores the submission.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image, ImageOps

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
PHOTO_WIDTH_MM = 90
SIGNATURE_WIDTH_MM = 60
MAX_IMAGE_HEIGHT_MM = 110
# 90 mm at about 300 dpi: sharp in print, a fraction of a phone photo's pixels.
MAX_IMAGE_PIXELS = 1200
# Refuse to decode more than this (a 60-megapixel photo), whatever the file size.
MAX_SOURCE_PIXELS = 60_000_000


@dataclass
class PdfItem:
    """One visible element: an info text, a question with its answer, or a ticket element."""

    label: str
    answer: str | None = None  # None: an info text, no answer line
    description: str = ""
    image: bytes | None = None  # as `prepare_image` made it
    is_signature: bool = False


@dataclass
class PdfTicket:
    number: int
    title: str
    ticket_type: str
    due_date: str | None = None


@dataclass
class FilledForm:
    template_name: str
    version: int
    object_name: str | None
    object_address: str | None
    filled_by: str
    filled_at: datetime
    items: list[PdfItem] = field(default_factory=list)
    tickets: list[PdfTicket] = field(default_factory=list)


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.set_text_color(120)
        self.cell(0, 6, f"Seite {self.page_no()} / {{nb}}", align="C")


def prepare_image(path: Path | BinaryIO, signature: bool = False) -> bytes:
    """An uploaded image made ready to embed: upright, at most `MAX_IMAGE_PIXELS` wide or high.

    Photos become JPEG (fpdf2 embeds those as they are), signatures PNG (to keep
    thin strokes and transparency). Blocking: run it in a worker thread.
    """
    with Image.open(path) as source:
        if source.width * source.height > MAX_SOURCE_PIXELS:
            raise ValueError("image too large")
        # JPEG decodes straight at a reduced scale: far less time and memory.
        source.draft("RGB", (MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS))
        image = ImageOps.exif_transpose(source)
        image.thumbnail((MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS))
        out = io.BytesIO()
        if signature:
            image.convert("RGBA").save(out, format="PNG")
        else:
            image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def _image_height(data: bytes, width_mm: float) -> float:
    with Image.open(io.BytesIO(data)) as image:
        w, h = image.size
    return width_mm * h / w if w else width_mm


def render_form(form: FilledForm) -> bytes:
    """The PDF bytes of a filled form (blocking CPU work: call it in a worker thread)."""
    pdf = _Document(format="A4")
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{form.template_name} (Version {form.version})")
    pdf.set_creator("Sitedesk")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float = 10, bold: bool = False, gap: float = 5.5, grey: bool = False) -> None:
        pdf.set_font(FAMILY, "B" if bold else "", size)
        pdf.set_text_color(110 if grey else 0)
        pdf.multi_cell(width, gap, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(form.template_name, size=16, bold=True, gap=8)
    line(f"Version {form.version}", size=9, grey=True)
    pdf.ln(3)
    facts = []
    if form.object_name:
        facts.append(("Objekt", form.object_name))
        facts.append(("Adresse", form.object_address or "—"))
    facts.append(("Ausgefüllt von", form.filled_by))
    facts.append(("Ausgefüllt am", form.filled_at.strftime("%d.%m.%Y %H:%M UTC")))
    for name, value in facts:
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_text_color(0)
        pdf.cell(38, 6, name + ":")
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(width - 38, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_draw_color(180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(4)

    for item in form.items:
        line(item.label, size=11, bold=True, gap=6)
        if item.description:
            line(item.description, size=9, grey=True, gap=5)
        if item.answer is not None:
            line(item.answer or "—", size=10.5, gap=6)
        if item.image is not None:
            image_width: float = SIGNATURE_WIDTH_MM if item.is_signature else PHOTO_WIDTH_MM
            height = _image_height(item.image, image_width)
            if height > MAX_IMAGE_HEIGHT_MM:
                image_width *= MAX_IMAGE_HEIGHT_MM / height
                height = MAX_IMAGE_HEIGHT_MM
            if pdf.will_page_break(height + 2):
                pdf.add_page()
            pdf.image(io.BytesIO(item.image), x=pdf.l_margin, y=pdf.get_y() + 1, w=image_width, h=height)
            pdf.set_y(pdf.get_y() + height + 2)
        pdf.ln(3)

    if form.tickets:
        pdf.ln(2)
        line("Erstellte Tickets", size=12, bold=True, gap=7)
        for ticket in form.tickets:
            text = f"#{ticket.number}  {ticket.title}  ({ticket.ticket_type})"
            if ticket.due_date:
                text += f", fällig am {ticket.due_date}"
            line(text, size=10.5, gap=6)
    return bytes(pdf.output())


async def render_form_async(form: FilledForm) -> bytes:
    """`render_form` in a worker thread, so the event loop keeps serving requests."""
    return await asyncio.to_thread(render_form, form)
