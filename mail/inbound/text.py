"""The new text of a reply: HTML turned into text, the quoted original, the attribution line
("Am … schrieb …:", "On … wrote:"), Outlook's header block and the signature removed.

Two passes. Markers mail clients leave in HTML (Gmail's `gmail_quote`, Apple Mail's and
Thunderbird's `blockquote type=cite`, Outlook's `divRplyFwdMsg` and the border line above its
header block, signature containers) cut the HTML before it becomes text. The text then goes
through `mail-parser-reply` (German and English header, attribution and signature patterns)
and a few rules of our own for what it leaves: wrapped attribution lines, separator lines,
mobile footers and a trailing quoted block.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mailparser_reply.parser import EmailMessage

LANGUAGES = ["de", "en"]
BLOCKS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "section",
    "article", "header", "footer", "blockquote", "dd", "dt", "address",
}  # fmt: skip
SKIPPED = {"head", "style", "script", "title", "template", "noscript"}
VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
# Containers whose content is the quoted original or a signature (class or id, lower-cased).
QUOTE_MARKERS = ("gmail_quote", "gmail_extra", "moz-cite-prefix", "moz-signature", "gmail_signature", "yahoo_quoted")
# Where Outlook (desktop and web) starts the original below a reply: everything after goes.
STOP_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")
OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s+#(?:e1e1e1|b5c4df)", re.IGNORECASE)


class _TextOfHtml(HTMLParser):
    """Text of an HTML body: blocks on lines of their own, quotes and signatures left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, whether it opened a skipped region)
        self.skipping = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        values = {name: (value or "") for name, value in attrs}
        marker = f"{values.get('class', '')} {values.get('id', '')}".lower()
        if values.get("id", "").lower() in STOP_IDS or (
            tag == "div" and OUTLOOK_BORDER.search(values.get("style", "")) and not self.skipping
        ):
            self.stopped = True
            return
        skip = (
            tag in SKIPPED
            or (tag == "blockquote")
            or any(m in marker for m in QUOTE_MARKERS)
            or values.get("data-marker") == "__QUOTED_TEXT__"
        )
        if tag in BLOCKS:
            self.parts.append("\n")
        if tag in VOID:
            return
        self.stack.append((tag, skip))
        if skip:
            self.skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if self.stopped or tag in VOID:
            return
        # Close up to the matching tag (HTML in mail is often unbalanced).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for _, skipped in self.stack[index:]:
                    if skipped:
                        self.skipping -= 1
                del self.stack[index:]
                break
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skipping:
            return
        self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).replace("\xa0", " ").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The visible text of an HTML mail body without its quoted original and signature containers."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return parser.text()


# A line that starts what is quoted below a reply (checked line by line, top down).
CUT_LINES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^-{3,}\s*(original message|ursprüngliche nachricht|originalnachricht|forwarded message|"
        r"weitergeleitete nachricht)\s*-{3,}\s*$",
        r"^_{20,}\s*$",  # Outlook web, above its header block
        r"^(>\s*)*on\b.{4,300}\bwrote:\s*$",
        r"^(>\s*)*am\b.{4,300}\bschrieb\b.{0,300}:\s*$",
        r"^(>\s*)*(von|from):\s.*$",  # with a second header line right below (checked in `_cut`)
    )
]
HEADER_NEXT = re.compile(r"^\s*\*?(gesendet|sent|an|to|datum|date|betreff|subject)\s*:?\*?\s*:", re.IGNORECASE)
# A first line of an attribution wrapped by the client ("Am Mo., 7. Dez. 2026 um 10:15 Uhr schrieb X <" / "x@y>:").
WRAPPED_START = re.compile(r"^(>\s*)*(am|on)\b.{4,200}$", re.IGNORECASE)
WRAPPED_END = re.compile(r"^.{0,200}\b(schrieb|wrote)\b.{0,200}:\s*$|^.{0,200}>:\s*$", re.IGNORECASE)
MOBILE_FOOTERS = re.compile(
    r"^(sent from my .{1,40}|von meinem .{1,40} gesendet|gesendet von meinem .{1,40}|get outlook for .{1,40}|"
    r"outlook für .{1,40} beziehen|gesendet mit der .{1,40} app|sent from (mail|outlook) for .{1,40})$",
    re.IGNORECASE,
)
INTERNAL_LINE = re.compile(r"^#(intern|internal)\s*$", re.IGNORECASE)


def _cut(lines: list[str]) -> list[str]:
    """The lines above the first mark of a quoted original."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        following = next((candidate for candidate in lines[index + 1 : index + 3] if candidate.strip()), "")
        if any(pattern.match(stripped) for pattern in CUT_LINES[:4]):
            return lines[:index]
        if CUT_LINES[4].match(stripped) and HEADER_NEXT.match(following.lstrip("> ")):
            return lines[:index]
        if WRAPPED_START.match(stripped) and index + 1 < len(lines) and WRAPPED_END.match(lines[index + 1].strip()):
            return lines[:index]
    return lines


def _without_trailing_quote(lines: list[str]) -> list[str]:
    """Drop a block of `>` lines (and blank lines) at the end: the original quoted below the reply."""
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    return lines[:end]


def reply_text(text: str) -> str:
    """The new text of a reply's plain-text body (quote, attribution, header block, signature removed)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _without_trailing_quote(_cut(lines))
    cleaned = "\n".join(line.rstrip() for line in lines).strip()
    if not cleaned:
        return ""
    message = EmailMessage(text=cleaned, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    first = message.replies[0] if message.replies else None
    if first is not None:
        body = first.content
        if first.signatures:
            body = body.replace(first.signatures, "")
        cleaned = body.replace(first.headers or "", "").strip() if first.headers else body.strip()
    lines = [line for line in cleaned.split("\n")]
    while lines and (not lines[-1].strip() or MOBILE_FOOTERS.match(lines[-1].strip())):
        lines.pop()
    # An unmarked signature ("-- " was the library's; a lone name line stays: it may be the text).
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def split_internal_marker(text: str) -> tuple[str, bool]:
    """(text without it, True) when the text begins with a line "#intern" or "#internal"."""
    lines = text.split("\n")
    if lines and INTERNAL_LINE.match(lines[0].strip()):
        return "\n".join(lines[1:]).strip(), True
    return text, False
