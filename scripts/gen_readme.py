"""Generate the addon's README.rst and static/description/index.html from readme/.

OCA-style: readme/DESCRIPTION.rst, CONFIGURE.rst, USAGE.rst and CONTRIBUTORS.rst
are the sources; the generated files are committed. Run with the project's venv:

    .venv/bin/python scripts/gen_readme.py [--check]

``--check`` exits 1 when the committed files are out of date. Images are
named from the fragment (``../static/description/screenshots/x.png``) and must
exist; the screenshots are taken by tests/test_funnel_screenshots.py.
"""

import ast
import re
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "sales_funnel_method"
SECTIONS = [
    ("DESCRIPTION", None),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("CONTRIBUTORS", "Contributors"),
]
# The fragments name images from readme/ (``.. figure::
# ../static/description/screenshots/x.png``); README.rst sits in the addon's
# root and index.html in static/description/ (Odoo's app page serves relative
# image paths from there).
IMAGE = re.compile(r"^(\s*\.\. (?:image|figure):: )(?:\.\./)?static/description/", re.M)


def build_rst():
    manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))
    title = manifest["name"]
    lines = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        "..",
        "   This file is generated from readme/ by scripts/gen_readme.py: edit the fragments.",
        "",
        f"*{manifest['summary']}*",
        "",
        f"Version {manifest['version']} for Odoo 18.0 Community, license {manifest['license']}, "
        f"depends on: {', '.join(manifest['depends'])}.",
        "",
        ".. contents::",
        "   :local:",
        "",
    ]
    for fragment, heading in SECTIONS:
        path = ADDON / "readme" / f"{fragment}.rst"
        if not path.exists():
            continue
        if heading:
            lines += [heading, "=" * len(heading), ""]
        text = IMAGE.sub(r"\1static/description/", path.read_text(encoding="utf-8"))
        lines += [text.rstrip(), ""]
    return "\n".join(lines) + "\n"


def build_html(rst):
    from docutils.core import publish_string

    html = publish_string(
        IMAGE.sub(r"\1", rst),
        writer_name="html",
        settings_overrides={
            "embed_stylesheet": False,
            "stylesheet_path": "",
            "output_encoding": "unicode",
        },
    )
    # Odoo 17+ warns about an XML declaration in a module description
    return html.split("?>", 1)[1].lstrip() if html.startswith("<?xml") else html


def missing_images(rst):
    targets = re.findall(r"^\s*\.\. (?:image|figure):: (\S+)", rst, re.M)
    return [target for target in targets if not (ADDON / target).is_file()]


def main():
    rst = build_rst()
    missing = missing_images(rst)
    if missing:
        sys.stderr.write("images not found: " + ", ".join(missing) + "\n")
        return 1
    html = build_html(rst)
    targets = {
        ADDON / "README.rst": rst,
        ADDON / "static" / "description" / "index.html": html,
    }
    if "--check" in sys.argv:
        stale = [
            str(p)
            for p, text in targets.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        if stale:
            sys.stderr.write(
                "out of date, run scripts/gen_readme.py: " + ", ".join(stale) + "\n"
            )
            return 1
        return 0
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
