"""A4 PDF from a document's HTML: the same template makes both, so a user's edit shows in the PDF too.

The HTML a template makes is read as a small set of elements laid out with reportlab's platypus: h1-h3, p, div,
address, br, b/strong, i/em, span, hr, ul/li, and table (thead rows repeat on every page; a cell of class `num`
is right-aligned; a row of class `total` is bold with a rule above; a cell of class `tall` leaves room to sign
and stamp); `div.slip` is a reply slip in a box below a cut line, `div.page-break` starts a new page. Styles
(CSS) are for the browser and not read here. Every page has its number ("第 1 页 / 共 3 页").

Chinese text is set in STSong-Light, one of the standard CJK fonts that PDF viewers supply (Adobe-GB1), so
nothing is embedded and the file stays small; Latin text and figures in Helvetica.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (HRFlowable, KeepTogether, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer,
                                Table, TableStyle)

CJK = "STSong-Light"
LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
_CJK_RUN = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef\uf900-\ufaff]+")
# Characters beyond the Basic Multilingual Plane (emoji): STSong-Light's UCS-2 encoding has no code for them, and one
# set in it put every later character of its run one byte off (上海 Party 😀 北京 came out as 㷞 …京); drawn as □.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SLIP_INSET = 18  # points: the reply slip box's padding (8 + 8) and border
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))
        pdfmetrics.registerFontFamily(CJK, normal=CJK, bold=CJK, italic=CJK, boldItalic=CJK)
        _registered = True


@dataclass
class Node:
    tag: str
    attrs: dict = field(default_factory=dict)
    children: list = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else ("\n" if c.tag == "br" else c.text()) for c in self.children)


_VOID = {"br", "hr", "meta", "link", "img", "col", "input"}
_SKIP = {"head", "style", "script", "title"}
_BLOCKS = {"h1", "h2", "h3", "p", "div", "table", "hr", "ul", "ol", "address", "section", "header", "footer"}


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):  # forgiving: close up to the matching element
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html_text: str) -> Node:
    tree = _Tree()
    tree.feed(html_text)
    tree.close()
    return tree.root


# --- inline text -------------------------------------------------------------------------------------------------


def _runs(text: str) -> str:
    """Escaped paragraph markup with Chinese runs in the CJK font."""
    out, last = [], 0
    for m in _CJK_RUN.finditer(text):
        out.append(escape(text[last:m.start()], quote=False))
        out.append(f'<font name="{CJK}">{escape(m.group(), quote=False)}</font>')
        last = m.end()
    out.append(escape(text[last:], quote=False))
    return "".join(out)


def _inline(node: Node) -> str:
    parts = []
    for child in node.children:
        if isinstance(child, str):
            parts.append(_runs(" ".join(child.split()) if child.strip() else (" " if child else "")))
        elif child.tag == "br":
            parts.append("<br/>")
        elif child.tag in _SKIP:
            continue
        elif child.tag in ("b", "strong", "th"):
            parts.append(f"<b>{_inline(child)}</b>")
        elif child.tag in ("i", "em"):
            parts.append(f"<i>{_inline(child)}</i>")
        elif child.tag == "span" and "company" in child.classes:  # the letterhead's name
            parts.append(f'<font size="13"><b>{_inline(child)}</b></font>')
        else:
            parts.append(_inline(child))
    return "".join(parts).strip()


# --- styles ------------------------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("p", fontName=LATIN, fontSize=9.5, leading=13.5, spaceAfter=4, wordWrap="CJK")
    return {
        "p": base,
        "h1": ParagraphStyle("h1", parent=base, fontName=LATIN_BOLD, fontSize=16, leading=21, alignment=TA_CENTER,
                             spaceBefore=2, spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base, fontName=LATIN_BOLD, fontSize=12, leading=16, spaceBefore=8,
                             spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontName=LATIN_BOLD, fontSize=10.5, leading=14, spaceBefore=6),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11, spaceAfter=0),
        "cell_num": ParagraphStyle("cell_num", parent=base, fontSize=8.5, leading=11, spaceAfter=0,
                                   alignment=TA_RIGHT),
    }


# --- layout ------------------------------------------------------------------------------------------------------


class _Layout:
    def __init__(self, width: float):
        self.width = width
        self.styles = _styles()

    def paragraph(self, node: Node, style: str) -> Paragraph | None:
        markup = _inline(node)
        if not markup:
            return None
        st = self.styles["small" if "small" in node.classes else style]
        align = {"right": TA_RIGHT, "center": TA_CENTER}.get(next(
            (c for c in ("right", "center") if c in node.classes), ""), None)
        if align is not None:
            st = ParagraphStyle(f"{st.name}-{align}", parent=st, alignment=align)
        return Paragraph(markup, st)

    def blocks(self, node: Node) -> list:
        out: list = []
        inline: list = []

        def flush():
            if inline:
                holder = Node("p", {}, list(inline))
                para = self.paragraph(holder, "p")
                if para is not None:
                    out.append(para)
                inline.clear()

        for child in node.children:
            if isinstance(child, str) or child.tag not in _BLOCKS and child.tag not in _SKIP:
                inline.append(child)
                continue
            flush()
            if child.tag in _SKIP:
                continue
            out.extend(self.block(child))
        flush()
        return out

    def block(self, node: Node) -> list:
        tag = node.tag
        if tag in ("h1", "h2", "h3"):
            para = self.paragraph(node, tag)
            return [para] if para is not None else []
        if tag == "hr":
            return [HRFlowable(width="100%", thickness=0.5, color=colors.grey, spaceBefore=3, spaceAfter=3)]
        if tag == "table":
            return [self.table(node)]
        if tag in ("ul", "ol"):
            items = [c for c in node.children if isinstance(c, Node) and c.tag == "li"]
            return [p for p in (self.paragraph(Node("p", {}, ["• ", *li.children]), "p") for li in items) if p]
        if tag == "div" and "page-break" in node.classes:
            return [PageBreak()]
        if "slip" in node.classes:  # laid out inside the box's padding and border
            self.width -= _SLIP_INSET
            try:
                return self.slip(self.blocks(node))
            finally:
                self.width += _SLIP_INSET
        inner = self.blocks(node) if any(isinstance(c, Node) and c.tag in _BLOCKS for c in node.children) else \
            [p for p in [self.paragraph(node, "p")] if p is not None]
        if "letterhead" in node.classes:
            return [*inner, HRFlowable(width="100%", thickness=1.2, color=colors.black, spaceBefore=1, spaceAfter=6)]
        if "space" in node.classes:
            inner.append(Spacer(1, 12 * mm))
        if "keep" in node.classes:
            return [KeepTogether(inner)]
        return inner

    def slip(self, inner: list) -> list:
        """A reply slip: a dashed cut line, then the slip in a box, kept on one page."""
        cut = HRFlowable(width="100%", thickness=0.6, color=colors.black, dash=(3, 2), spaceBefore=8, spaceAfter=6)
        box = Table([[inner]], colWidths=[self.width + _SLIP_INSET])
        box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                                 ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
        return [KeepTogether([cut, box])]

    def table(self, node: Node):
        head_rows, body_rows = [], []
        for part in node.children:
            if not isinstance(part, Node):
                continue
            if part.tag == "tr":
                body_rows.append(part)
            elif part.tag in ("thead", "tbody", "tfoot"):
                rows = [r for r in part.children if isinstance(r, Node) and r.tag == "tr"]
                (head_rows if part.tag == "thead" else body_rows).extend(rows)
        rows = head_rows + body_rows
        grid: list[list] = []
        cells_meta = []  # (row, col, span, node)
        ncols = 0
        for r, tr in enumerate(rows):
            col = 0
            for cell in (c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")):
                span = max(1, int(cell.attrs.get("colspan") or 1)) if str(cell.attrs.get("colspan") or "1").isdigit() \
                    else 1
                cells_meta.append((r, col, span, cell))
                col += span
            ncols = max(ncols, col)
        if ncols == 0:
            return Spacer(1, 0)
        grid = [["" for _ in range(ncols)] for _ in rows]
        plain = [["" for _ in range(ncols)] for _ in rows]
        commands = [("FONTNAME", (0, 0), (-1, -1), LATIN), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                    ("LEADING", (0, 0), (-1, -1), 11)]
        numeric = [False] * ncols
        for r, c, span, cell in cells_meta:
            if ("num" in cell.classes or "num" in rows[r].classes) and span == 1 and r >= len(head_rows):
                numeric[c] = True
            plain[r][c] = cell.text().strip() if span == 1 else ""
        widths = self._widths(plain, numeric, bold_rows=len(head_rows))
        tall = set()
        for r, c, span, cell in cells_meta:
            num = "num" in cell.classes or "num" in rows[r].classes
            text = cell.text().strip()
            bold = cell.tag == "th" or "total" in rows[r].classes
            if "tall" in cell.classes:
                tall.add(r)
            if span > 1:
                commands.append(("SPAN", (c, r), (c + span - 1, r)))
            if not text:
                continue
            simple = not bold and "\n" not in text and all(isinstance(ch, str) for ch in cell.children)
            if simple and _text_width(text, 8.5) + 6 <= sum(widths[c:c + span]):
                # one line that fits: a plain string is drawn without a paragraph's line breaking (a 2,000-line
                # statement takes seconds instead of a minute)
                grid[r][c] = text
                if _CJK_RUN.search(text):
                    commands.append(("FONTNAME", (c, r), (c, r), CJK))
                if num:
                    commands.append(("ALIGN", (c, r), (c, r), "RIGHT"))
                continue
            markup = _inline(cell)
            grid[r][c] = Paragraph(f"<b>{markup}</b>" if bold else markup, self.styles["cell_num" if num else "cell"])
        heights = [22 * mm if r in tall else None for r in range(len(rows))]
        klass = node.classes
        style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 3),
                 ("RIGHTPADDING", (0, 0), (-1, -1), 3), ("TOPPADDING", (0, 0), (-1, -1), 2),
                 ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
        if "grid" in klass:
            style.append(("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#777777")))
        elif "plain" not in klass:
            style.append(("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")))
        if head_rows:
            style += [("BACKGROUND", (0, 0), (-1, len(head_rows) - 1), colors.HexColor("#eeeeee")),
                      ("LINEBELOW", (0, len(head_rows) - 1), (-1, len(head_rows) - 1), 0.8, colors.black)]
        for r, tr in enumerate(rows):
            if "total" in tr.classes:
                style.append(("LINEABOVE", (0, r), (-1, r), 0.8, colors.black))
        table = LongTable(grid, colWidths=widths, rowHeights=heights, repeatRows=len(head_rows), hAlign="LEFT")
        table.setStyle(TableStyle(style + commands))
        table.spaceBefore, table.spaceAfter = 2, 6
        return table

    def _widths(self, plain: list[list[str]], numeric: list[bool], bold_rows: int = 0) -> list[float]:
        """Figures get the width they need; text columns share the rest in proportion to what they hold."""
        ncols = len(numeric)
        natural = [0.0] * ncols
        for r, row in enumerate(plain):
            for c, text in enumerate(row):
                if text:
                    natural[c] = max(natural[c], _text_width(text, 8.5, bold=r < bold_rows) + 8)
        natural = [max(n, 14 * mm / 2) for n in natural]
        if sum(natural) <= self.width:
            extra = self.width - sum(natural)
            texts = [c for c in range(ncols) if not numeric[c]] or list(range(ncols))
            share = sum(natural[c] for c in texts)
            return [n + (extra * n / share if c in texts else 0) for c, n in enumerate(natural)]
        fixed = sum(min(n, 40 * mm) for c, n in enumerate(natural) if numeric[c])
        rest = max(self.width - fixed, self.width * 0.3)
        texts = [c for c in range(ncols) if not numeric[c]]
        share = sum(natural[c] for c in texts) or 1
        out = []
        for c, n in enumerate(natural):
            out.append(min(n, 40 * mm) if numeric[c] else max(rest * n / share, 12 * mm))
        scale = self.width / sum(out)
        return [w * scale for w in out] if scale < 1 else out


def _text_width(text: str, size: float, bold: bool = False) -> float:
    width = 0.0
    font = LATIN_BOLD if bold else LATIN
    for line in text.split("\n"):
        w, last = 0.0, 0
        for m in _CJK_RUN.finditer(line):
            w += pdfmetrics.stringWidth(line[last:m.start()], font, size) + len(m.group()) * size
            last = m.end()
        w += pdfmetrics.stringWidth(line[last:], font, size)
        width = max(width, w)
    return width


def _numbered_canvas(footer: str, left: str):
    """A canvas that numbers its pages "page of pages" (the total is known only at the end)."""
    class Numbered(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int):
            text = footer.format(page=self._pageNumber, pages=total)
            self.setFillColor(colors.HexColor("#555555"))
            for x, line, align in ((A4[0] - 18 * mm, text, "right"), (18 * mm, left, "left")):
                if not line:
                    continue
                width = _text_width(line, 8)
                start = x - width if align == "right" else x
                last = 0
                for m in list(_CJK_RUN.finditer(line)) + [None]:
                    chunk = line[last:m.start()] if m else line[last:]
                    if chunk:
                        self.setFont(LATIN, 8)
                        self.drawString(start, 10 * mm, chunk)
                        start += pdfmetrics.stringWidth(chunk, LATIN, 8)
                    if m:
                        self.setFont(CJK, 8)
                        self.drawString(start, 10 * mm, m.group())
                        start += len(m.group()) * 8
                        last = m.end()
    return Numbered


def to_pdf(html_text: str, *, title: str, author: str, footer: str = "{page} / {pages}",
           footer_left: str = "") -> bytes:
    """The document as A4 PDF bytes."""
    _fonts()
    html_text, title, author, footer, footer_left = (_ASTRAL.sub("\u25a1", text) for text in
                                                     (html_text, title, author, footer, footer_left))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=title, author=author, creator="Duly")
    root = parse(html_text)
    body = _find(root, "body") or root
    story = _Layout(doc.width).blocks(body) or [Spacer(1, 1)]
    doc.build(story, canvasmaker=_numbered_canvas(footer, footer_left))
    return buf.getvalue()


def _find(node: Node, tag: str) -> Node | None:
    for child in node.children:
        if isinstance(child, Node):
            if child.tag == tag:
                return child
            found = _find(child, tag)
            if found is not None:
                return found
    return None
