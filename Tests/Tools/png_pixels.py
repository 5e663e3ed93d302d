"""Decodes a PNG with Pillow (a reader independent of the libpng writer under test) and writes
its pixels as raw RGB bytes, rows top to bottom.

    png_pixels.py IMAGE.png OUT.raw          a PNG file
    png_pixels.py PAGE.html#ID OUT.raw       the <img id="ID"> embedded in a page as PNG data

Prints JSON: width, height, mode (Pillow's, before conversion), and for a page's image its
data-plane mapping (world point of the first pixel's centre, steps per column and row).
"""
import base64
import html.parser
import io
import json
import sys

from PIL import Image


class ImageFinder(html.parser.HTMLParser):
    def __init__(self, wanted):
        super().__init__()
        self.wanted = wanted
        self.found = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("id") == self.wanted:
            self.found = attrs


def main():
    source, out = sys.argv[1], sys.argv[2]
    plane = None
    if "#" in source:
        page, wanted = source.split("#", 1)
        finder = ImageFinder(wanted)
        with open(page, encoding="utf-8") as f:
            finder.feed(f.read())
        if finder.found is None:
            sys.exit(f"{page}: no <img id=\"{wanted}\">")
        prefix = "data:image/png;base64,"
        src = finder.found["src"]
        if not src.startswith(prefix):
            sys.exit(f"{page}#{wanted}: not embedded PNG data")
        data = base64.b64decode(src[len(prefix):])
        plane = json.loads(finder.found["data-plane"])
    else:
        with open(source, "rb") as f:
            data = f.read()
    image = Image.open(io.BytesIO(data))
    if image.format != "PNG":
        sys.exit(f"{source}: {image.format}, not PNG")
    mode = image.mode
    rgb = image.convert("RGB")
    with open(out, "wb") as f:
        f.write(rgb.tobytes())
    print(json.dumps({"width": rgb.width, "height": rgb.height, "mode": mode, "plane": plane}))


if __name__ == "__main__":
    main()
